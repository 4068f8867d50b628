// Package catalog is CreatorFlow's list of what it sells: the shops (with the
// cipher the TikTok Shop API wants for each), their SKUs with the starting
// stock the inventory processors count down from and how they are
// reordered, the suppliers they are reordered from, and the content items
// (TikTok videos) that promote those SKUs, which the content-metric poller
// polls.
//
// A catalog comes from a CSV or JSON file (Parse, see docs/catalog.md for the
// formats), is checked as a whole (every problem reported with its line or
// entry, so a file is fixed in one go) and is written to PostgreSQL in one
// transaction (Import). Load, ActiveContent and Replenishment read it back.
package catalog

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Catalog is a set of shops, suppliers, SKUs and content items that refer
// to one another: a SKU's shop and a content item's shop and SKUs are in
// the same catalog. A SKU's supplier is in the catalog or, when it is
// imported, in the database: suppliers serve several shops and may be
// imported from a file of their own.
type Catalog struct {
	Shops     []Shop     `json:"shops,omitempty"`
	Suppliers []Supplier `json:"suppliers,omitempty"`
	SKUs      []SKU      `json:"skus,omitempty"`
	Content   []Content  `json:"content,omitempty"`
}

// Supplier is who a SKU is reordered from.
type Supplier struct {
	ID   string `json:"supplier_id"`
	Name string `json:"name,omitempty"`
	// LeadTimeHours is how long an order takes to arrive, unless a SKU
	// says otherwise.
	LeadTimeHours float64 `json:"lead_time_hours"`
	// Email receives purchase orders when the supplier has no API.
	Email string `json:"email,omitempty"`
}

// Shop is a TikTok shop.
type Shop struct {
	ID string `json:"shop_id"`
	// Cipher is what the TikTok Shop API calls the shop in requests; it
	// defaults to ID.
	Cipher string `json:"shop_cipher"`
	Name   string `json:"name,omitempty"`
}

// SKU is a sellable variant of a product of a shop.
type SKU struct {
	ID        string `json:"sku_id"`
	ShopID    string `json:"shop_id"`
	ProductID string `json:"product_id"`
	SellerSKU string `json:"seller_sku,omitempty"`
	Title     string `json:"title,omitempty"`
	// StartingStock is the stock the inventory processors start from.
	StartingStock int `json:"starting_stock"`
	// UnitPrice is a decimal amount with two decimals ("24.99"), a string
	// like TikTok's prices so no float rounds it; empty when unknown.
	UnitPrice string `json:"unit_price,omitempty"`
	// SupplierID is who the SKU is reordered from; empty: it is not
	// reordered automatically.
	SupplierID string `json:"supplier_id,omitempty"`
	// LeadTimeHours overrides the supplier's lead time for this SKU (0:
	// the supplier's).
	LeadTimeHours float64 `json:"lead_time_hours,omitempty"`
	// ServiceLevel is the probability of not running out during a lead
	// time that reorder quantities aim at (0: DefaultServiceLevel).
	ServiceLevel float64 `json:"service_level,omitempty"`
	// ReviewPeriodHours is how long a reorder must last beyond its lead
	// time (0: DefaultReviewPeriodHours).
	ReviewPeriodHours float64 `json:"review_period_hours,omitempty"`
	// MinOrderQty is the supplier's smallest order (0: 1).
	MinOrderQty int `json:"min_order_qty,omitempty"`
}

// Defaults of a SKU's replenishment settings.
const (
	DefaultServiceLevel      = 0.95
	DefaultReviewPeriodHours = 24.0
)

// Content is a content item (a TikTok video) of a shop and the SKUs it
// promotes.
type Content struct {
	ID     string `json:"content_id"`
	ShopID string `json:"shop_id"`
	// Active content is polled for metrics. Files default it to true; in
	// Go the zero value is false, so set it.
	Active bool `json:"active"`
	// SKUIDs are sorted, without repeats, and all of the item's shop.
	SKUIDs []string `json:"sku_ids,omitempty"`
}

// Links counts the content-to-SKU links of the catalog.
func (c Catalog) Links() int {
	n := 0
	for _, ct := range c.Content {
		n += len(ct.SKUIDs)
	}
	return n
}

// The file formats Parse reads.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Format guesses the format of a catalog file from its extension.
func Format(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV, nil
	case ".json":
		return FormatJSON, nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its extension: name it .csv or .json, or give the format", path)
}

// Parse reads a catalog file in format (FormatCSV or FormatJSON) and checks
// it as Validate does. A file that is readable but wrong yields every
// problem found, up to MaxErrors, joined with errors.Join, each naming its
// line (CSV; JSON syntax) or entry (JSON, e.g. "skus[2]").
func Parse(r io.Reader, format string) (Catalog, error) {
	switch format {
	case FormatCSV:
		return parseCSV(r)
	case FormatJSON:
		return parseJSON(r)
	}
	return Catalog{}, fmt.Errorf("unknown catalog format %q: want %s or %s", format, FormatCSV, FormatJSON)
}

// Validate checks a catalog and returns it as Import writes it: entries
// named more than once merged (they must agree), shop ciphers defaulted to
// the shop id, prices written with two decimals, each content item's SKU
// list sorted. Its errors are Parse's, with places such as "skus[2]". It
// does not look for a SKU's supplier outside the catalog: Import does.
func Validate(c Catalog) (Catalog, error) {
	var (
		raw rawCatalog
		pos int // problems in the order of the lists, as in a JSON file
	)
	for i, s := range c.Shops {
		raw.shops = append(raw.shops, rawShop{Shop: s, at: entry("shops", i, pos), nameField: "name"})
		pos++
	}
	for i, s := range c.Suppliers {
		raw.suppliers = append(raw.suppliers, rawSupplier{Supplier: s, at: entry("suppliers", i, pos)})
		pos++
	}
	for i, s := range c.SKUs {
		raw.skus = append(raw.skus, rawSKU{SKU: s, at: entry("skus", i, pos)})
		pos++
	}
	for i, ct := range c.Content {
		raw.content = append(raw.content, rawContent{Content: ct, at: entry("content", i, pos)})
		pos++
	}
	var p problems
	out := build(raw, &p)
	if err := p.err(); err != nil {
		return Catalog{}, err
	}
	return out, nil
}
