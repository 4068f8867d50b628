package catalog

import (
	"errors"
	"fmt"
	"math"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of what a catalog may hold. Ids are bounded so that a column of
// a spreadsheet pasted into the wrong cell is caught, not stored.
const (
	// MaxErrors is how many problems Parse and Validate report; the rest
	// are only counted, because past that the file is wrong as a whole.
	MaxErrors = 20
	// MaxIDLength is the most characters of an id or a cipher.
	MaxIDLength = 128
	// MaxTextLength is the most characters of a name or a title.
	MaxTextLength = 500
	// MaxStartingStock is the largest starting stock (the column is a
	// PostgreSQL integer).
	MaxStartingStock = math.MaxInt32
	// MaxMinOrderQty is the largest minimum order quantity (an integer
	// column too).
	MaxMinOrderQty = math.MaxInt32
	// MaxHours is the longest lead time or review period: a year. Longer
	// is a unit mistaken (days or minutes written as hours), not a plan.
	MaxHours = 8760.0
	// MinServiceLevel and MaxServiceLevel bound a service level other than
	// 0 (the default). Below one half the safety stock would be negative;
	// at 1 it would be infinite.
	MinServiceLevel = 0.5
	MaxServiceLevel = 0.9999
)

// place is where an entry comes from, for error messages.
type place struct {
	name string // "line 7", "skus[2]"; empty for the file as a whole
	pos  int    // orders the problems as they appear in the file
}

func line(n int) place { return place{name: "line " + strconv.Itoa(n), pos: n} }

func entry(list string, i, pos int) place {
	return place{name: fmt.Sprintf("%s[%d]", list, i), pos: pos}
}

// problems collects what is wrong with a file.
type problems struct {
	list  []problem
	muted map[int]bool // positions whose further problems are not reported
}

type problem struct {
	pos int
	msg string
}

func (p *problems) add(at place, format string, args ...any) {
	if p.muted[at.pos] {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if at.name != "" {
		msg = at.name + ": " + msg
	}
	p.list = append(p.list, problem{pos: at.pos, msg: msg})
}

// mute drops the problems reported for at from now on.
func (p *problems) mute(at place) {
	if p.muted == nil {
		p.muted = map[int]bool{}
	}
	p.muted[at.pos] = true
}

// err returns the first MaxErrors problems in file order, or nil. A CSV row
// yields its shop, its supplier, its SKU and its content items from the
// same cells, so a bad shop_id or supplier_id is found more than once, not
// always in a row: identical messages of one place are reported once.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b problem) int { return a.pos - b.pos })
	seen := map[problem]bool{}
	p.list = slices.DeleteFunc(p.list, func(pr problem) bool {
		dup := seen[pr]
		seen[pr] = true
		return dup
	})
	var errs []error
	for i, pr := range p.list {
		if i == MaxErrors {
			errs = append(errs, fmt.Errorf("... and %d more problems (only the first %d are shown)", len(p.list)-MaxErrors, MaxErrors))
			break
		}
		errs = append(errs, errors.New(pr.msg))
	}
	return errors.Join(errs...)
}

// rawCatalog holds a file's entries before they are checked and merged.
type rawCatalog struct {
	shops     []rawShop
	suppliers []rawSupplier
	skus      []rawSKU
	content   []rawContent
}

type rawShop struct {
	Shop
	at        place
	nameField string // the shop name's column: "shop_name" in CSV
}

type rawSupplier struct {
	Supplier
	at place
	// prefix starts the names of the supplier's fields other than
	// supplier_id: "supplier_" in CSV, whose rows are SKUs.
	prefix string
	// leadUnread is set when a CSV cell of the lead time was reported as
	// not a number: its value, 0, is not reported again as missing.
	leadUnread bool
}

type rawSKU struct {
	SKU
	at place
}

type rawContent struct {
	Content
	at place
}

// build checks every entry, merges those with the same id and checks that
// the references resolve within the catalog. An entry whose id is unusable
// or that contradicts an earlier one is left out, so it does not cause
// further, derived problems.
func build(raw rawCatalog, p *problems) Catalog {
	var c Catalog
	shopAt := map[string]int{}
	var shopPlace []place
	for _, s := range raw.shops {
		if !checkID(p, s.at, "shop_id", s.ID, true) {
			continue
		}
		checkID(p, s.at, "shop_cipher", s.Cipher, false)
		checkText(p, s.at, s.nameField, s.Name)
		i, dup := shopAt[s.ID]
		if !dup {
			shopAt[s.ID] = len(c.Shops)
			shopPlace = append(shopPlace, s.at)
			c.Shops = append(c.Shops, s.Shop)
			continue
		}
		// A shop on several CSV rows gives its cipher and name on any of
		// them; where more than one gives them they must agree.
		prev := &c.Shops[i]
		agree(p, s.at, shopPlace[i], "shop", s.ID, "shop_cipher", &prev.Cipher, s.Cipher)
		agree(p, s.at, shopPlace[i], "shop", s.ID, s.nameField, &prev.Name, s.Name)
	}
	for i := range c.Shops {
		if c.Shops[i].Cipher == "" {
			c.Shops[i].Cipher = c.Shops[i].ID
		}
	}

	c.Suppliers = buildSuppliers(raw.suppliers, p)

	skuAt := map[string]int{}
	var skuPlace []place
	for _, s := range raw.skus {
		if !checkID(p, s.at, "sku_id", s.ID, true) {
			continue
		}
		shopOK := checkID(p, s.at, "shop_id", s.ShopID, true)
		checkID(p, s.at, "product_id", s.ProductID, true)
		checkID(p, s.at, "seller_sku", s.SellerSKU, false)
		checkText(p, s.at, "title", s.Title)
		switch {
		case s.StartingStock < 0:
			p.add(s.at, "starting_stock: %d is not a whole number >= 0", s.StartingStock)
		case s.StartingStock > MaxStartingStock:
			p.add(s.at, "starting_stock: %d is more than %d", s.StartingStock, MaxStartingStock)
		}
		if s.UnitPrice != "" {
			price, msg := normalPrice(s.UnitPrice)
			if msg != "" {
				p.add(s.at, "%s", msg)
			}
			s.UnitPrice = price
		}
		checkReplenishment(p, s.at, &s.SKU)
		if i, dup := skuAt[s.ID]; dup {
			if f, here, there := differ(skuFields(s.SKU), skuFields(c.SKUs[i])); f != "" {
				p.add(s.at, "SKU %q has %s %q here but %q at %s", s.ID, f, here, there, skuPlace[i].name)
			}
			continue
		}
		if shopOK {
			if _, ok := shopAt[s.ShopID]; !ok {
				p.add(s.at, "shop %q is not in the catalog", s.ShopID)
			}
		}
		skuAt[s.ID] = len(c.SKUs)
		skuPlace = append(skuPlace, s.at)
		c.SKUs = append(c.SKUs, s.SKU)
	}

	contentAt := map[string]int{}
	var contentPlace []place
	for _, ct := range raw.content {
		if !checkID(p, ct.at, "content_id", ct.ID, true) {
			continue
		}
		shopOK := checkID(p, ct.at, "shop_id", ct.ShopID, true)
		var skus []string
		for _, id := range ct.SKUIDs {
			if id == "" {
				p.add(ct.at, "sku_ids: an id is empty")
				continue
			}
			if !checkID(p, ct.at, "sku_ids", id, false) {
				continue
			}
			skus = append(skus, id)
			sku, ok := skuAt[id]
			switch {
			case !ok:
				p.add(ct.at, "SKU %q is not in the catalog", id)
			case shopOK && c.SKUs[sku].ShopID != ct.ShopID:
				p.add(ct.at, "SKU %q belongs to shop %q, not to the content item's shop %q", id, c.SKUs[sku].ShopID, ct.ShopID)
			}
		}
		i, dup := contentAt[ct.ID]
		if !dup {
			if shopOK {
				if _, ok := shopAt[ct.ShopID]; !ok {
					p.add(ct.at, "shop %q is not in the catalog", ct.ShopID)
				}
			}
			ct.SKUIDs = skus
			contentAt[ct.ID] = len(c.Content)
			contentPlace = append(contentPlace, ct.at)
			c.Content = append(c.Content, ct.Content)
			continue
		}
		// A content item named again (on another CSV row) promotes the
		// SKUs of every mention.
		prev := &c.Content[i]
		switch {
		case prev.ShopID != ct.ShopID:
			p.add(ct.at, "content item %q has shop_id %q here but %q at %s", ct.ID, ct.ShopID, prev.ShopID, contentPlace[i].name)
		case prev.Active != ct.Active:
			p.add(ct.at, "content item %q has active %t here but %t at %s", ct.ID, ct.Active, prev.Active, contentPlace[i].name)
		default:
			prev.SKUIDs = append(prev.SKUIDs, skus...)
		}
	}
	for i := range c.Content {
		ids := c.Content[i].SKUIDs
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if len(ids) == 0 {
			ids = nil
		}
		c.Content[i].SKUIDs = ids
	}

	// A file of suppliers alone is a catalog: SKUs of other files name
	// them.
	if len(c.Shops) == 0 && len(c.Suppliers) == 0 && len(p.list) == 0 {
		p.add(place{}, "the catalog is empty: it has no shops and no suppliers")
	}
	return c
}

// buildSuppliers checks the suppliers and merges those named more than
// once. A SKU's supplier is not looked up here: it may be one imported
// before, which only Import can see.
func buildSuppliers(raw []rawSupplier, p *problems) []Supplier {
	var (
		out        []Supplier
		at         = map[string]int{}
		first      []rawSupplier // where each supplier is first named
		leadUnread []bool
	)
	for _, s := range raw {
		if !checkID(p, s.at, "supplier_id", s.ID, true) {
			continue
		}
		checkText(p, s.at, s.prefix+"name", s.Name)
		checkEmail(p, s.at, s.prefix+"email", s.Email)
		s.LeadTimeHours = positiveZero(s.LeadTimeHours)
		// 0 is "not given here", as an empty cell of a CSV row naming a
		// supplier already described on another row; a supplier given
		// no lead time anywhere is reported below.
		if v := s.LeadTimeHours; v != 0 && !(v > 0 && v <= MaxHours) {
			p.add(s.at, "%slead_time_hours: %s is not a number of hours more than 0 and at most %s", s.prefix, number(v), number(MaxHours))
		}
		i, dup := at[s.ID]
		if !dup {
			at[s.ID] = len(out)
			first = append(first, s)
			leadUnread = append(leadUnread, s.leadUnread)
			out = append(out, s.Supplier)
			continue
		}
		// As with shops, a supplier on several CSV rows gives its details
		// on any of them; where more than one does they must agree.
		prev, prevAt := &out[i], first[i].at
		agree(p, s.at, prevAt, "supplier", s.ID, s.prefix+"name", &prev.Name, s.Name)
		agree(p, s.at, prevAt, "supplier", s.ID, s.prefix+"lead_time_hours", &prev.LeadTimeHours, s.LeadTimeHours)
		agree(p, s.at, prevAt, "supplier", s.ID, s.prefix+"email", &prev.Email, s.Email)
		leadUnread[i] = leadUnread[i] || s.leadUnread
	}
	for i, s := range out {
		if s.LeadTimeHours == 0 && !leadUnread[i] {
			p.add(first[i].at, "%slead_time_hours is required for supplier %q: hours, more than 0 and at most %s", first[i].prefix, s.ID, number(MaxHours))
		}
	}
	return out
}

// checkReplenishment checks a SKU's replenishment settings, each of which
// is 0 for its default, and turns -0 into 0 so it is stored and compared
// as the default it means.
func checkReplenishment(p *problems, at place, s *SKU) {
	checkID(p, at, "supplier_id", s.SupplierID, false)
	for _, h := range []struct {
		field string
		v     *float64
	}{{"lead_time_hours", &s.LeadTimeHours}, {"review_period_hours", &s.ReviewPeriodHours}} {
		*h.v = positiveZero(*h.v)
		if !(*h.v >= 0 && *h.v <= MaxHours) {
			p.add(at, "%s: %s is not a number of hours from 0 to %s", h.field, number(*h.v), number(MaxHours))
		}
	}
	s.ServiceLevel = positiveZero(s.ServiceLevel)
	if v := s.ServiceLevel; v != 0 && !(v >= MinServiceLevel && v <= MaxServiceLevel) {
		p.add(at, "service_level: %s is not from %s to %s (or 0 for the default, %s)",
			number(v), number(MinServiceLevel), number(MaxServiceLevel), number(DefaultServiceLevel))
	}
	switch {
	case s.MinOrderQty < 0:
		p.add(at, "min_order_qty: %d is not a whole number >= 0", s.MinOrderQty)
	case s.MinOrderQty > MaxMinOrderQty:
		p.add(at, "min_order_qty: %d is more than %d", s.MinOrderQty, MaxMinOrderQty)
	}
}

// positiveZero turns -0, which JSON and Go can hold, into 0, so it means
// the default as 0 does and prints as 0.
func positiveZero(v float64) float64 {
	if v == 0 {
		return 0
	}
	return v
}

// number writes a float as Go and JSON read it back, without a trailing
// ".0" or an exponent for the values a catalog holds.
func number(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// agree merges an optional value of a shop or supplier named again: a zero
// value takes the other, two values must be equal.
func agree[T comparable](p *problems, at, prevAt place, kind, id, field string, prev *T, v T) {
	var zero T
	switch {
	case v == zero || v == *prev:
	case *prev == zero:
		*prev = v
	default:
		p.add(at, "%s %q has %s %q here but %q at %s", kind, id, field, fmt.Sprint(v), fmt.Sprint(*prev), prevAt.name)
	}
}

func skuFields(s SKU) [][2]string {
	return [][2]string{{"shop_id", s.ShopID}, {"product_id", s.ProductID}, {"seller_sku", s.SellerSKU}, {"title", s.Title},
		{"starting_stock", strconv.Itoa(s.StartingStock)}, {"unit_price", s.UnitPrice},
		{"supplier_id", s.SupplierID}, {"lead_time_hours", number(s.LeadTimeHours)}, {"service_level", number(s.ServiceLevel)},
		{"review_period_hours", number(s.ReviewPeriodHours)}, {"min_order_qty", strconv.Itoa(s.MinOrderQty)}}
}

// differ returns the first field whose values differ, or "".
func differ(a, b [][2]string) (field, va, vb string) {
	for i := range a {
		if a[i][1] != b[i][1] {
			return a[i][0], a[i][1], b[i][1]
		}
	}
	return "", "", ""
}

// checkID reports an id that is malformed, or empty when required.
func checkID(p *problems, at place, field, v string, required bool) bool {
	msg := idProblem(field, v, required)
	if msg != "" {
		p.add(at, "%s", msg)
	}
	return msg == ""
}

// idProblem describes what is wrong with an id, or is "".
func idProblem(field, v string, required bool) string {
	switch {
	case v == "" && required:
		return field + " is required"
	case v == "":
		return ""
	}
	if msg := textProblem(v, MaxIDLength); msg != "" {
		return field + ": " + msg
	}
	// Surrounding spaces are invisible in a spreadsheet and would make
	// "A1 " a different SKU from "A1".
	if strings.TrimSpace(v) != v {
		return fmt.Sprintf("%s: %q starts or ends with white space", field, v)
	}
	return ""
}

func checkText(p *problems, at place, field, v string) {
	if msg := textProblem(v, MaxTextLength); msg != "" {
		p.add(at, "%s: %s", field, msg)
	}
}

// checkEmail reports an optional email address that is not a bare address
// (a@b.example): purchase orders are sent to it, and a name around it
// ("Ann <a@b.example>") or a list of addresses would be taken for one.
func checkEmail(p *problems, at place, field, v string) {
	if v == "" {
		return
	}
	if msg := textProblem(v, MaxTextLength); msg != "" {
		p.add(at, "%s: %s", field, msg)
		return
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
		p.add(at, "%s: %q is not an email address such as orders@supplier.example", field, v)
	}
}

// textProblem describes what makes v unfit for a text column, or "".
// PostgreSQL refuses invalid UTF-8 and NUL; other control characters are
// refused because they garble every table the catalog is shown in.
func textProblem(v string, max int) string {
	switch {
	case !utf8.ValidString(v):
		return fmt.Sprintf("%q is not valid UTF-8", v)
	case utf8.RuneCountInString(v) > max:
		return fmt.Sprintf("%q... has %d characters, more than %d", string([]rune(v)[:20]), utf8.RuneCountInString(v), max)
	case strings.ContainsFunc(v, unicode.IsControl):
		return fmt.Sprintf("%q contains a control character", v)
	}
	return ""
}

var priceSyntax = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]{1,2}))?$`)

// maxPriceDigits is the most digits before the decimal point of a price
// (the column is numeric(12, 2)).
const maxPriceDigits = 10

// normalPrice writes a price as PostgreSQL prints the column, with two
// decimals and no leading zeros, so a file and what Load reads back agree;
// it returns a message instead when the price is malformed.
func normalPrice(v string) (string, string) {
	m := priceSyntax.FindStringSubmatch(v)
	if m == nil {
		return v, fmt.Sprintf("unit_price: %q is not an amount >= 0 with at most 2 decimals", v)
	}
	whole := strings.TrimLeft(m[1], "0")
	if len(whole) > maxPriceDigits {
		return v, fmt.Sprintf("unit_price: %q is more than %s.99", v, strings.Repeat("9", maxPriceDigits))
	}
	if whole == "" {
		whole = "0"
	}
	return whole + "." + (m[2] + "00")[:2], ""
}
