package catalog

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// The CSV format: a header naming the columns, in any order, then one row
// per SKU, which also names the SKU's shop and the content items that
// promote it (content_ids, separated by ";").
var (
	csvColumns  = []string{"shop_id", "shop_cipher", "shop_name", "sku_id", "product_id", "seller_sku", "title", "starting_stock", "unit_price", "content_ids"}
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
		sku := SKU{ID: skuID, ShopID: shopID, ProductID: cell("product_id"), SellerSKU: cell("seller_sku"),
			Title: cell("title"), UnitPrice: cell("unit_price")}
		if v := cell("starting_stock"); v != "" {
			sku.StartingStock = parseStock(&p, at, v)
		}
		raw.skus = append(raw.skus, rawSKU{SKU: sku, at: at})
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

// parseStock reads a starting stock cell, reporting anything but digits
// (a sign, a decimal point) and values beyond MaxStartingStock.
func parseStock(p *problems, at place, v string) int {
	if strings.TrimLeft(v, "0123456789") != "" {
		p.add(at, "starting_stock: %q is not a whole number >= 0", v)
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n > MaxStartingStock {
		p.add(at, "starting_stock: %q is more than %d", v, MaxStartingStock)
		return 0
	}
	return int(n)
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %w", pe.Line, pe.Err)
	}
	return fmt.Errorf("read catalog: %w", err)
}
