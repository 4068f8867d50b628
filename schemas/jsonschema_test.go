package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The Go parsers and the JSON Schemas must accept exactly the same documents
// (the parsers also reject non-UTF-8 bodies and repeated member names, which
// JSON Schema cannot see). These tests keep either from drifting silently.

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// compiledSchemas compiles every document in JSONSchemas, by file name.
func compiledSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	compileOnce.Do(func() {
		names, err := fs.Glob(JSONSchemas, "*.json")
		if err != nil {
			compileErr = err
			return
		}
		c := jsonschema.NewCompiler()
		ids := map[string]string{}
		for _, name := range names {
			b, err := fs.ReadFile(JSONSchemas, name)
			if err != nil {
				compileErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				compileErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			id, _ := doc.(map[string]any)["$id"].(string)
			if err := c.AddResource(id, doc); err != nil {
				compileErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			ids[name] = id
		}
		compiled = map[string]*jsonschema.Schema{}
		for name, id := range ids {
			s, err := c.Compile(id)
			if err != nil {
				compileErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			compiled[name] = s
		}
	})
	if compileErr != nil {
		t.Fatalf("compiling the JSON Schemas: %v", compileErr)
	}
	return compiled
}

// schemaAccepts validates body as JSON against the schema in file name.
func schemaAccepts(t testing.TB, name string, body []byte) (bool, error) {
	t.Helper()
	s := compiledSchemas(t)[name]
	if s == nil {
		t.Fatalf("no schema %s", name)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	err = s.Validate(doc)
	return err == nil, err
}

// schemaDoc reads the schema document in file name as plain JSON.
func schemaDoc(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(JSONSchemas, name)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return doc
}

// external describes an outside payload: its schema, Go type, parser, and a
// valid body holding every property, with the path of the object in it.
type external struct {
	schema string
	goType reflect.Type
	parse  func([]byte) error
	base   string
	path   string // "" for the body itself, "data" for the TikTok data
	enums  map[string][]string
}

func externals() []external {
	parseTikTok := func(b []byte) error { _, err := ParseTikTokWebhook(b); return err }
	parseCarrier := func(b []byte) error { _, err := ParseCarrierWebhook(b); return err }
	var orderStatuses, tracking []string
	for s := range orderStatusAliases {
		orderStatuses = append(orderStatuses, s)
	}
	for s := range trackingStatuses {
		tracking = append(tracking, string(s))
	}
	return []external{
		{TikTokWebhookSchemaFile, reflect.TypeFor[TikTokWebhook](), parseTikTok, validOrderWebhook, "", nil},
		{TikTokOrderStatusDataSchemaFile, reflect.TypeFor[OrderStatusData](), parseTikTok, validOrderWebhook, "data",
			map[string][]string{"order_status": orderStatuses}},
		{CarrierWebhookSchemaFile, reflect.TypeFor[CarrierWebhook](), parseCarrier, validCarrierWebhook, "",
			map[string][]string{"status": tracking}},
	}
}

// envelopeSchema is the schema that validates whole bodies of e.
func (e external) envelopeSchema() string {
	if e.schema == TikTokOrderStatusDataSchemaFile {
		return TikTokWebhookSchemaFile
	}
	return e.schema
}

func TestJSONSchemasEmbedded(t *testing.T) {
	names, err := fs.Glob(JSONSchemas, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{CarrierWebhookSchemaFile, TikTokOrderStatusDataSchemaFile, TikTokWebhookSchemaFile}
	if !slices.Equal(names, want) {
		t.Errorf("JSONSchemas holds %v, want %v", names, want)
	}
	for _, name := range names {
		doc := schemaDoc(t, name)
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema = %v, want draft 2020-12", name, doc["$schema"])
		}
		if id, _ := doc["$id"].(string); !strings.HasSuffix(id, "/"+name) {
			t.Errorf("%s: $id %q does not end with the file name", name, id)
		}
	}
	compiledSchemas(t) // compiling also validates each against the 2020-12 meta-schema
}

// jsonTypeOf is the JSON Schema type a Go field type encodes as.
func jsonTypeOf(t reflect.Type) string {
	if t == reflect.TypeFor[json.RawMessage]() {
		return "object" // TikTokWebhook.Data: the parser requires an object
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// TestJSONSchemaMatchesGoType checks, by reflection, that every JSON member
// of the Go type is a schema property of the same JSON type and vice versa,
// that the enumerations agree, and that the schema requires exactly what
// the parser requires.
func TestJSONSchemaMatchesGoType(t *testing.T) {
	for _, e := range externals() {
		t.Run(e.schema, func(t *testing.T) {
			doc := schemaDoc(t, e.schema)
			props, _ := doc["properties"].(map[string]any)

			goFields := map[string]reflect.StructField{}
			for i := range e.goType.NumField() {
				f := e.goType.Field(i)
				if !f.IsExported() {
					continue
				}
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if name == "" || name == "-" {
					t.Errorf("%s.%s has no JSON name", e.goType.Name(), f.Name)
					continue
				}
				goFields[name] = f
			}
			for name, f := range goFields {
				p, ok := props[name].(map[string]any)
				if !ok {
					t.Errorf("Go field %s.%s (%q) is not a schema property", e.goType.Name(), f.Name, name)
					continue
				}
				if got, want := p["type"], jsonTypeOf(f.Type); got != want {
					t.Errorf("property %q has type %v in the schema, %s (%s) in Go", name, got, want, f.Type)
				}
			}
			for name := range props {
				if _, ok := goFields[name]; !ok {
					t.Errorf("schema property %q has no field in %s", name, e.goType.Name())
				}
			}

			for name, want := range e.enums {
				var got []string
				enum, _ := props[name].(map[string]any)["enum"].([]any)
				for _, v := range enum {
					got = append(got, fmt.Sprint(v))
				}
				sort.Strings(got)
				sort.Strings(want)
				if !slices.Equal(got, want) {
					t.Errorf("enum of %q: schema %v, Go %v", name, got, want)
				}
			}

			var schemaRequired []string
			req, _ := doc["required"].([]any)
			for _, r := range req {
				schemaRequired = append(schemaRequired, fmt.Sprint(r))
			}
			if err := e.parse([]byte(e.base)); err != nil {
				t.Fatalf("the base body is invalid: %v", err)
			}
			var parserRequired []string
			canonical := withMember(t, e.base, "no_such_member", "")
			for name := range props {
				body := withMember(t, e.base, fieldPath(e.path, name), "")
				if bytes.Equal(body, canonical) {
					t.Fatalf("base body has no %q: cannot tell whether it is required", name)
				}
				err := e.parse(body)
				var verr *ValidationError
				if errors.As(err, &verr) && verr.Field == fieldPath(e.path, name) {
					parserRequired = append(parserRequired, name)
				} else if err != nil {
					t.Errorf("removing %q fails on another field: %v", name, err)
				}
			}
			sort.Strings(schemaRequired)
			sort.Strings(parserRequired)
			if !slices.Equal(schemaRequired, parserRequired) {
				t.Errorf("schema requires %v, the parser requires %v", schemaRequired, parserRequired)
			}
		})
	}
}

// TestJSONSchemaFixturesAgree checks that the schema and the parser accept
// every fixture under testdata/*/valid and reject every one under invalid.
func TestJSONSchemaFixturesAgree(t *testing.T) {
	for dir, e := range map[string]external{
		"tiktok-webhook":  externals()[0],
		"carrier-webhook": externals()[2],
	} {
		for path, body := range readFixtures(t, dir) {
			t.Run(filepath.ToSlash(path), func(t *testing.T) {
				want := filepath.Base(filepath.Dir(path)) == "valid"
				schemaOK, schemaErr := schemaAccepts(t, e.schema, body)
				goErr := e.parse(body)
				if schemaOK != want {
					t.Errorf("JSON Schema accepted = %v, want %v (%v)", schemaOK, want, schemaErr)
				}
				if (goErr == nil) != want {
					t.Errorf("Go parser accepted = %v, want %v (%v)", goErr == nil, want, goErr)
				}
			})
		}
	}
}

// probes returns raw JSON values that sit on and around the limits the
// schema property p states, plus values of every JSON type.
func probes(p map[string]any) []string {
	out := []string{"", "null", "true", "false", "0", "-1", "1", "1.5", `""`, `"x"`, "[]", "{}", `{"a":1}`, `["x"]`}
	str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	num := func(k string) (int64, bool) {
		n, ok := p[k].(json.Number)
		if !ok {
			return 0, false
		}
		v, err := n.Int64()
		return v, err == nil
	}
	switch p["type"] {
	case "string":
		for _, k := range []string{"minLength", "maxLength"} {
			if n, ok := num(k); ok {
				for _, l := range []int64{n - 1, n, n + 1} {
					if l < 0 {
						continue
					}
					for _, unit := range []string{"a", "é", "😀"} {
						out = append(out, str(strings.Repeat(unit, int(l))))
					}
				}
			}
		}
		for _, s := range []string{"\x00", "a\x1fb", "\x7f", "a\u0080", "\u0085", "\u009f", "\u00a0", "\t", "a b", "\u2028", "\ufeff"} {
			out = append(out, str(s), str("id"+s))
		}
		if enum, ok := p["enum"].([]any); ok {
			for _, v := range enum {
				s := fmt.Sprint(v)
				out = append(out, str(s), str(strings.ToLower(s)), str(s+" "), str(" "+s))
			}
		}
	case "integer":
		for _, k := range []string{"minimum", "maximum"} {
			if n, ok := num(k); ok {
				for _, v := range []int64{n - 1, n, n + 1} {
					out = append(out, fmt.Sprint(v), fmt.Sprintf("%d.0", v), fmt.Sprintf("%d.5", v), fmt.Sprintf(`"%d"`, v))
				}
			}
		}
		out = append(out, "1e3", "1.0e3", "1.23e2", "1.234e2", "-0", "0.0", "1e400", "1e-400", "9223372036854775808")
	}
	return out
}

// TestJSONSchemaBoundariesAgree derives probe values from each schema
// property's limits and checks that the schema and the parser agree on
// every body built from a valid one by changing that property.
func TestJSONSchemaBoundariesAgree(t *testing.T) {
	for _, e := range externals() {
		doc := schemaDoc(t, e.schema)
		props, _ := doc["properties"].(map[string]any)
		for name, p := range props {
			for _, raw := range probes(p.(map[string]any)) {
				body := withMember(t, e.base, fieldPath(e.path, name), raw)
				schemaOK, schemaErr := schemaAccepts(t, e.envelopeSchema(), body)
				goErr := e.parse(body)
				if schemaOK != (goErr == nil) {
					t.Errorf("%s %s=%.60s: JSON Schema accepts = %v (%v), Go parser accepts = %v (%v)",
						e.schema, name, raw, schemaOK, schemaErr, goErr == nil, goErr)
				}
			}
		}
	}
}

// bigExponent matches a number exponent too large for a quick big.Rat.
var bigExponent = regexp.MustCompile(`[eE][+-]?0*[0-9]{5,}`)

// FuzzJSONSchemaAgreement feeds the same bodies to the JSON Schemas and the
// Go parsers and fails when they disagree.
func FuzzJSONSchemaAgreement(f *testing.F) {
	for _, dir := range []string{"tiktok-webhook", "carrier-webhook"} {
		for _, b := range readFixtures(f, dir) {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8.Valid(body) || bigExponent.Match(body) || len(body) > 1<<16 {
			return // JSON Schema sees decoded text; big.Rat is slow on huge exponents
		}
		for _, e := range []external{externals()[0], externals()[2]} {
			goErr := e.parse(body)
			var verr *ValidationError
			if errors.As(goErr, &verr) && verr.Reason == "appears more than once" {
				continue // JSON Schema sees the last of repeated members
			}
			schemaOK, schemaErr := schemaAccepts(t, e.schema, body)
			if schemaOK != (goErr == nil) {
				t.Fatalf("%s: JSON Schema accepts = %v (%v), Go parser accepts = %v (%v) for %q",
					e.schema, schemaOK, schemaErr, goErr == nil, goErr, body)
			}
		}
	})
}
