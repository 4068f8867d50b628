package catalog

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The CSV format: a header naming the columns, in any order, then one row
// per SKU, which also names the SKU's shop, its supplier (supplier_id; the
// supplier_ columns describe the supplier) and the content items that
// promote it (content_ids, separated by ";").
var (
	csvColumns = []string{"shop_id", "shop_cipher", "shop_name", "sku_id", "product_id", "seller_sku", "title", "starting_stock", "unit_price",
		"supplier_id", "lead_time_hours", "service_level", "review_period_hours", "min_order_qty",
		"supplier_name", "supplier_lead_time_hours", "supplier_email", "content_ids"}
	csvRequired = []string{"shop_id", "sku_id", "product_id"}
)

// utf8BOM starts the CSV files some spreadsheets save.
const utf8BOM = "\uFEFF"

func parseCSV(r io.Reader) (Catalog, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // rows of the wrong width are reported with the other problems
	cr.TrimLeadingSpace = true

	var p problems
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return Catalog{}, errors.New("the file is empty: a CSV catalog starts with a header row naming its columns")
	}
	if err != nil {
		return Catalog{}, csvError(err)
	}
	n, _ := cr.FieldPos(0) // blank lines before the header are skipped
	at := line(n)
	col := map[string]int{}
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(name))
		switch _, dup := col[name]; {
		case name == "":
			p.add(at, "column %d has no name", i+1)
		case !slices.Contains(csvColumns, name):
			p.add(at, "unknown column %q (the columns are %s)", name, strings.Join(csvColumns, ", "))
		case dup:
			p.add(at, "column %q appears twice", name)
		default:
			col[name] = i
		}
	}
	for _, name := range csvRequired {
		if _, ok := col[name]; !ok {
			p.add(at, "column %s is missing", name)
		}
	}
	if err := p.err(); err != nil {
		return Catalog{}, err
	}

	var raw rawCatalog
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Past a broken quote the reader cannot find the rows again.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				p.add(line(pe.Line), "%v", pe.Err)
			} else {
				return Catalog{}, csvError(err)
			}
			break
		}
		if blank(rec) {
			continue
		}
		n, _ := cr.FieldPos(0)
		at := line(n)
		if len(rec) != len(header) {
			p.add(at, "%d fields, but the header has %d", len(rec), len(header))
			continue
		}
		cell := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		shopID, skuID := cell("shop_id"), cell("sku_id")
		raw.shops = append(raw.shops, rawShop{Shop: Shop{ID: shopID, Cipher: cell("shop_cipher"), Name: cell("shop_name")},
			at: at, nameField: "shop_name"})
		supplierID := cell("supplier_id")
		sku := SKU{ID: skuID, ShopID: shopID, ProductID: cell("product_id"), SellerSKU: cell("seller_sku"),
			Title: cell("title"), UnitPrice: cell("unit_price"), SupplierID: supplierID}
		// An empty or unreadable number is 0, the default, so an
		// unreadable one causes no further problem.
		sku.StartingStock, _ = parseCount(&p, at, "starting_stock", cell("starting_stock"), MaxStartingStock)
		sku.LeadTimeHours, _ = parseNumber(&p, at, "lead_time_hours", cell("lead_time_hours"))
		sku.ServiceLevel, _ = parseNumber(&p, at, "service_level", cell("service_level"))
		sku.ReviewPeriodHours, _ = parseNumber(&p, at, "review_period_hours", cell("review_period_hours"))
		sku.MinOrderQty, _ = parseCount(&p, at, "min_order_qty", cell("min_order_qty"), MaxMinOrderQty)
		raw.skus = append(raw.skus, rawSKU{SKU: sku, at: at})
		// A row describes its supplier when it fills a supplier_ column;
		// one that gives only supplier_id names a supplier described on
		// another row, or imported before.
		sup := Supplier{ID: supplierID, Name: cell("supplier_name"), Email: cell("supplier_email")}
		if lead := cell("supplier_lead_time_hours"); sup.Name != "" || sup.Email != "" || lead != "" {
			var ok bool
			sup.LeadTimeHours, ok = parseNumber(&p, at, "supplier_lead_time_hours", lead)
			raw.suppliers = append(raw.suppliers, rawSupplier{Supplier: sup, at: at, prefix: "supplier_", leadUnread: !ok})
		}
		// A bad sku_id is reported once, by the SKU, not again by each
		// content item that would link it.
		if idProblem("sku_id", skuID, true) == "" {
			for _, id := range strings.Split(cell("content_ids"), ";") {
				if id = strings.TrimSpace(id); id != "" && checkID(&p, at, "content_ids", id, false) {
					raw.content = append(raw.content, rawContent{Content: Content{ID: id, ShopID: shopID, Active: true, SKUIDs: []string{skuID}}, at: at})
				}
			}
		}
	}
	c := build(raw, &p)
	if err := p.err(); err != nil {
		return Catalog{}, err
	}
	return c, nil
}

// blank reports a row of empty cells, which spreadsheets write below the
// data.
func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// parseCount reads a cell of a whole number, reporting anything but digits
// (a sign, a decimal point) and values beyond limit. An empty cell is 0.
// It returns false when it reported a problem.
func parseCount(p *problems, at place, field, v string, limit int64) (int, bool) {
	if v == "" {
		return 0, true
	}
	if strings.TrimLeft(v, "0123456789") != "" {
		p.add(at, "%s: %q is not a whole number >= 0", field, v)
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > limit {
		p.add(at, "%s: %q is more than %d", field, v, limit)
		return 0, false
	}
	return int(n), true
}

// decimalSyntax is a number as spreadsheets write it: digits with a
// decimal point or not. No sign, exponent, "Inf" or "NaN", which
// strconv.ParseFloat would take.
var decimalSyntax = regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$`)

// parseNumber reads a cell of a number >= 0; its range is checked with the
// entry's other values. An empty cell is 0. It returns false when it
// reported a problem.
func parseNumber(p *problems, at place, field, v string) (float64, bool) {
	if v == "" {
		return 0, true
	}
	if !decimalSyntax.MatchString(v) {
		p.add(at, "%s: %q is not a number >= 0", field, v)
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil { // beyond 1e308, which a float64 cannot hold
		p.add(at, "%s: %q is too large", field, v)
		return 0, false
	}
	return f, true
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %w", pe.Line, pe.Err)
	}
	return fmt.Errorf("read catalog: %w", err)
}
