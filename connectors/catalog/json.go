package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode"
)

// jsonFile is the JSON format's outline; each entry is decoded on its own,
// so that a problem in one is reported with its place and the others are
// still checked.
type jsonFile struct {
	Shops     []json.RawMessage `json:"shops"`
	Suppliers []json.RawMessage `json:"suppliers"`
	SKUs      []json.RawMessage `json:"skus"`
	Content   []json.RawMessage `json:"content"`
}

// jsonSKU is a SKU whose price may be written as a number. The shallower
// UnitPrice shadows the embedded one.
type jsonSKU struct {
	SKU
	UnitPrice jsonPrice `json:"unit_price"`
}

// jsonContent is a content item that is active unless it says otherwise.
type jsonContent struct {
	Content
	Active *bool `json:"active"`
}

// jsonPrice accepts 24.99 as well as "24.99". It keeps a number's text as
// written, so no float rounds it, and anything else as written too, for
// the price check to report.
type jsonPrice string

func (p *jsonPrice) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*p = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = jsonPrice(s)
	default:
		*p = jsonPrice(b)
	}
	return nil
}

func parseJSON(r io.Reader) (Catalog, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Catalog{}, fmt.Errorf("read catalog: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f jsonFile
	if err := dec.Decode(&f); err != nil {
		return Catalog{}, jsonError(data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Catalog{}, fmt.Errorf("line %d: more after the catalog's closing brace", lineAt(data, dec.InputOffset()))
	}

	// Problems are ordered as the entries are listed: shops, suppliers,
	// SKUs, content.
	var (
		raw rawCatalog
		p   problems
		pos int
	)
	for i, b := range f.Shops {
		var s Shop
		at := entry("shops", i, pos)
		pos++
		decodeEntry(&p, at, b, &s)
		raw.shops = append(raw.shops, rawShop{Shop: s, at: at, nameField: "name"})
	}
	for i, b := range f.Suppliers {
		var s Supplier
		at := entry("suppliers", i, pos)
		pos++
		decodeEntry(&p, at, b, &s)
		raw.suppliers = append(raw.suppliers, rawSupplier{Supplier: s, at: at})
	}
	for i, b := range f.SKUs {
		var s jsonSKU
		at := entry("skus", i, pos)
		pos++
		decodeEntry(&p, at, b, &s)
		s.SKU.UnitPrice = string(s.UnitPrice)
		raw.skus = append(raw.skus, rawSKU{SKU: s.SKU, at: at})
	}
	for i, b := range f.Content {
		var ct jsonContent
		at := entry("content", i, pos)
		pos++
		decodeEntry(&p, at, b, &ct)
		ct.Content.Active = ct.Active == nil || *ct.Active
		raw.content = append(raw.content, rawContent{Content: ct.Content, at: at})
	}
	c := build(raw, &p)
	if err := p.err(); err != nil {
		return Catalog{}, err
	}
	return c, nil
}

// decodeEntry decodes one entry into v, reporting an unknown field or a
// value of the wrong type. The decoder goes on past those, so v holds the
// rest of the entry, for the checks of other entries that refer to it;
// the entry's own further problems are not reported, as they may only be
// echoes of the value that did not decode.
func decodeEntry(p *problems, at place, b json.RawMessage, v any) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return
	case errors.As(err, &typ):
		p.add(at, "%sexpected %s, found %s", fieldPath(typ.Field), jsonKind(typ.Type), typ.Value)
	default:
		p.add(at, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	p.mute(at)
}

// fieldPath returns the JSON field path of a decoding error with a colon,
// without the names of the embedded Go types the decoder puts in it (the
// format's fields are all lower case).
func fieldPath(goPath string) string {
	var out []string
	for _, f := range strings.Split(goPath, ".") {
		if f != "" && !unicode.IsUpper([]rune(f)[0]) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, ".") + ": "
}

// jsonError turns an error decoding the file's outline into a message with
// a line number and the catalog's words instead of Go's.
func jsonError(data []byte, err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return errors.New(`the file is empty: a JSON catalog is an object {"shops": [...], "suppliers": [...], "skus": [...], "content": [...]}`)
	case errors.As(err, &syntax):
		return fmt.Errorf("line %d: %w", lineAt(data, syntax.Offset), err)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the catalog"
		}
		return fmt.Errorf("line %d: %s: expected %s, found %s", lineAt(data, typ.Offset), field, jsonKind(typ.Type), typ.Value)
	}
	// An unknown field: the decoder says which, not where.
	return fmt.Errorf("%s: a catalog has shops, suppliers, skus and content", strings.TrimPrefix(err.Error(), "json: "))
}

func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// jsonKind names a Go type the way the format's documentation does.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return jsonKind(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Int:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list [...]"
	case reflect.Struct:
		return "an object {...}"
	}
	return t.String()
}
