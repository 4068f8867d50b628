package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidationError reports why an outside payload was rejected. Field is the
// JSON path of the offending member ("shop_id", "data.order_status"), empty
// when the body as a whole is at fault. Parsers return it as *ValidationError
// (possibly wrapped with %w), so an HTTP handler can answer 400 with the
// reason:
//
//	var verr *schemas.ValidationError
//	if errors.As(err, &verr) { ... 400, verr.Error() ... }
type ValidationError struct {
	Field  string
	Reason string
}

// Error returns "field: reason", or just the reason when Field is empty.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Limits shared by the parsers of outside payloads and their JSON Schemas
// (schemas/jsonschema/*.json): keep both in step, jsonschema_test.go checks it.
const (
	// maxIDLength bounds identifiers (shop, order, notification, tracking
	// number), in Unicode code points as JSON Schema's maxLength counts.
	maxIDLength = 128
	// maxUnixSeconds is 9999-12-31T23:59:59Z: later instants cannot be
	// written as RFC 3339 (ce_time), so no outside timestamp may exceed it.
	maxUnixSeconds = 253402300799
	// maxWebhookType bounds the TikTok webhook type.
	maxWebhookType = 1<<31 - 1
)

func validationErrorf(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// fieldPath joins a parent path and a member name with a dot.
func fieldPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// jsonObject is one JSON object, member names and raw values in order, with
// the path of the object itself for error messages. Webhook objects have a
// handful of members, so names are found by a scan, without allocating;
// an index is built only for objects with many members, which keeps the
// duplicate check of a hostile body from growing quadratically.
type jsonObject struct {
	path  string
	names [][]byte // unquoted member names
	vals  []json.RawMessage
	index map[string]int // only beyond indexFrom members
}

const indexFrom = 16

// lookup returns the value of member name.
func (o *jsonObject) lookup(name string) (json.RawMessage, bool) {
	if o.index != nil {
		i, ok := o.index[name]
		if !ok {
			return nil, false
		}
		return o.vals[i], true
	}
	for i, n := range o.names {
		if string(n) == name {
			return o.vals[i], true
		}
	}
	return nil, false
}

// add appends a member; false if the name is already there.
func (o *jsonObject) add(name []byte, val json.RawMessage) bool {
	if _, dup := o.lookup(string(name)); dup {
		return false
	}
	o.names = append(o.names, name)
	o.vals = append(o.vals, val)
	if o.index != nil {
		o.index[string(name)] = len(o.vals) - 1
	} else if len(o.names) > indexFrom {
		o.index = make(map[string]int, 2*len(o.names))
		for i, n := range o.names {
			o.index[string(n)] = i
		}
	}
	return true
}

// parseBody checks that body is exactly one well-formed JSON object in UTF-8
// (no trailing data) and returns its members.
func parseBody(body []byte) (jsonObject, error) {
	if skipSpace(body, 0) == len(body) {
		return jsonObject{}, validationErrorf("", "body is empty")
	}
	if !utf8.Valid(body) {
		return jsonObject{}, validationErrorf("", "body is not valid UTF-8")
	}
	if end := scanValue(body, skipSpace(body, 0)); end < 0 || skipSpace(body, end) != len(body) {
		var raw json.RawMessage
		err := json.Unmarshal(body, &raw) // only for the position of the syntax error
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return jsonObject{}, validationErrorf("", "body is not valid JSON: %s (offset %d)", syn.Error(), syn.Offset)
		}
		return jsonObject{}, validationErrorf("", "body is not valid JSON")
	}
	return parseObject(body, "")
}

// parseObject reads a JSON object from data, which must be one valid JSON
// value (parseBody checks the body; a member value of it is one too). It
// rejects anything but an object, duplicate member names (which parsers
// disagree on) and trailing data. Member values are subslices of data.
func parseObject(data []byte, path string) (jsonObject, error) {
	malformed := func() (jsonObject, error) { // only if data was not valid JSON
		if path == "" {
			return jsonObject{}, validationErrorf("", "body is not valid JSON")
		}
		return jsonObject{}, validationErrorf(path, "is not valid JSON")
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		if path == "" {
			return jsonObject{}, validationErrorf("", "body must be a JSON object")
		}
		return jsonObject{}, validationErrorf(path, "must be a JSON object")
	}
	obj := jsonObject{path: path, names: make([][]byte, 0, 8), vals: make([]json.RawMessage, 0, 8)}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			if i >= len(data) || data[i] != '"' {
				return malformed()
			}
			end := skipString(data, i)
			if end < 0 {
				return malformed()
			}
			key, ok := unquoteBytes(data[i:end])
			if !ok {
				return malformed()
			}
			i = skipSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return malformed()
			}
			i = skipSpace(data, i+1)
			end = skipValue(data, i)
			if end < 0 {
				return malformed()
			}
			if !obj.add(key, data[i:end:end]) {
				return jsonObject{}, validationErrorf(fieldPath(path, displayName(string(key))), "appears more than once")
			}
			i = skipSpace(data, end)
			if i < len(data) && data[i] == ',' {
				i = skipSpace(data, i+1)
				continue
			}
			if i < len(data) && data[i] == '}' {
				i++
				break
			}
			return malformed()
		}
	}
	if skipSpace(data, i) != len(data) {
		if path == "" {
			return jsonObject{}, validationErrorf("", "body has data after the JSON object")
		}
		return jsonObject{}, validationErrorf(path, "has data after the JSON object")
	}
	return obj, nil
}

// displayName is a member name fit for an error message: itself when short
// and printable, else quoted and cut.
func displayName(key string) string {
	const limit = 64
	if len(key) <= limit && key != "" && strings.IndexFunc(key, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return key
	}
	if len(key) > limit {
		return strconv.Quote(strings.ToValidUTF8(key[:limit], "")) + "..."
	}
	return strconv.Quote(key)
}

// skipSpace returns the index of the first non-whitespace byte at or after i.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// maxNesting is encoding/json's limit on nested arrays and objects, which
// scanValue keeps so that both agree on every input.
const maxNesting = 10000

// scanValue returns the index after the JSON value starting at data[i], or -1
// when there is no valid JSON value there. It accepts exactly what
// encoding/json does (FuzzScanValue checks it against json.Valid), in one
// pass and without allocating for up to 64 levels of nesting: it replaced
// json.Valid, which was a third of the cost of parsing a webhook.
func scanValue(data []byte, i int) int {
	var open [64]byte
	stack := open[:0] // '{' or '[' per open container
	for {
		// A value starts at i.
		if i >= len(data) {
			return -1
		}
		switch c := data[i]; c {
		case '"':
			i = scanString(data, i)
		case '{', '[':
			if len(stack) == maxNesting {
				return -1
			}
			end := byte('}')
			if c == '[' {
				end = ']'
			}
			i = skipSpace(data, i+1)
			if i < len(data) && data[i] == end {
				i++
				break
			}
			stack = append(stack, c)
			if c == '{' {
				i = scanMemberName(data, i)
			}
			if i < 0 {
				return -1
			}
			continue
		case 't':
			i = scanLiteral(data, i, "true")
		case 'f':
			i = scanLiteral(data, i, "false")
		case 'n':
			i = scanLiteral(data, i, "null")
		default:
			i = scanNumber(data, i)
		}
		if i < 0 {
			return -1
		}
		// A value ended at i: close the containers it ends, then go on to
		// the next value or stop after the outermost one.
		for {
			if len(stack) == 0 {
				return i
			}
			i = skipSpace(data, i)
			if i >= len(data) {
				return -1
			}
			top := stack[len(stack)-1]
			if data[i] == ',' {
				i = skipSpace(data, i+1)
				if top == '{' {
					if i = scanMemberName(data, i); i < 0 {
						return -1
					}
				}
				break
			}
			if (top == '{' && data[i] == '}') || (top == '[' && data[i] == ']') {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			return -1
		}
	}
}

// scanMemberName checks a member name and its colon at data[i] and returns
// the index of the value after them, or -1.
func scanMemberName(data []byte, i int) int {
	if i >= len(data) || data[i] != '"' {
		return -1
	}
	if i = scanString(data, i); i < 0 {
		return -1
	}
	if i = skipSpace(data, i); i >= len(data) || data[i] != ':' {
		return -1
	}
	return skipSpace(data, i+1)
}

// scanString returns the index after the valid JSON string starting at
// data[i] (a quote), or -1. Like encoding/json, it leaves UTF-8 alone.
func scanString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch c := data[j]; {
		case c == '"':
			return j + 1
		case c < 0x20:
			return -1
		case c == '\\':
			j++
			if j >= len(data) {
				return -1
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(data) {
					return -1
				}
				for _, h := range data[j+1 : j+5] {
					if !isHex(h) {
						return -1
					}
				}
				j += 4
			default:
				return -1
			}
		}
	}
	return -1
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanLiteral returns the index after lit at data[i], or -1.
func scanLiteral(data []byte, i int, lit string) int {
	if len(data)-i < len(lit) || string(data[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanNumber returns the index after the JSON number at data[i], or -1:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) int {
	digits := func(i int) int { // at least one digit
		j := i
		for j < len(data) && '0' <= data[j] && data[j] <= '9' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(data) && data[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		return digits(i)
	}
	return i
}

// skipString returns the index after the JSON string starting at data[i]
// (a quote), or -1.
func skipString(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// skipValue returns the index after the JSON value starting at data[i], or
// -1.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end := skipString(data, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return j
			}
			j++
		}
		return j
	}
}

// unquoteBytes decodes a JSON string literal, sharing lit's memory when it
// has no escapes.
func unquoteBytes(lit []byte) ([]byte, bool) {
	if len(lit) < 2 {
		return nil, false
	}
	if bytes.IndexByte(lit, '\\') < 0 {
		return lit[1 : len(lit)-1], true
	}
	s, ok := unquote(lit)
	return []byte(s), ok
}

// unquote decodes a JSON string literal.
func unquote(lit []byte) (string, bool) {
	if len(lit) < 2 {
		return "", false
	}
	if bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1]), true // valid JSON: no escapes, no raw control characters
	}
	var s string
	if err := json.Unmarshal(lit, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonKind names the JSON type of a raw value.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// raw returns the raw value of member name; a missing required member is an
// error.
func (o jsonObject) raw(name string, required bool) (json.RawMessage, bool, error) {
	v, ok := o.lookup(name)
	if !ok {
		if required {
			return nil, false, validationErrorf(fieldPath(o.path, name), "is required")
		}
		return nil, false, nil
	}
	return v, true, nil
}

// str reads a string member.
func (o jsonObject) str(name string, required bool) (string, error) {
	v, ok, err := o.raw(name, required)
	if !ok {
		return "", err
	}
	if k := jsonKind(v); k != "string" {
		return "", validationErrorf(fieldPath(o.path, name), "must be a string, not %s", k)
	}
	s, ok := unquote(v)
	if !ok {
		return "", validationErrorf(fieldPath(o.path, name), "must be a string")
	}
	return s, nil
}

// text reads a string member of at most maxLen code points; a required one
// must not be empty.
func (o jsonObject) text(name string, required bool, maxLen int) (string, error) {
	s, err := o.str(name, required)
	if err != nil {
		return "", err
	}
	if required && s == "" {
		return "", validationErrorf(fieldPath(o.path, name), "must not be empty")
	}
	if n := utf8.RuneCountInString(s); n > maxLen {
		return "", validationErrorf(fieldPath(o.path, name), "is %d characters long, the limit is %d", n, maxLen)
	}
	return s, nil
}

// id reads an identifier: a non-empty string of at most maxLen code points
// without control characters (it becomes a Kafka key, a log field, a
// database key).
func (o jsonObject) id(name string, required bool, maxLen int) (string, error) {
	s, err := o.text(name, required, maxLen)
	if err != nil {
		return "", err
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return "", validationErrorf(fieldPath(o.path, name), "must not contain control characters (found %U at byte %d)", r, i)
	}
	return s, nil
}

// boolean reads a boolean member.
func (o jsonObject) boolean(name string, required bool) (bool, error) {
	v, ok, err := o.raw(name, required)
	if !ok {
		return false, err
	}
	if k := jsonKind(v); k != "boolean" {
		return false, validationErrorf(fieldPath(o.path, name), "must be a boolean, not %s", k)
	}
	return string(v) == "true", nil
}

// integer reads an integer member within [lo, hi]. As in JSON Schema, a
// number with a zero fractional part (1.0, 1e3) is an integer.
func (o jsonObject) integer(name string, required bool, lo, hi int64) (int64, error) {
	v, ok, err := o.raw(name, required)
	if !ok {
		return 0, err
	}
	if k := jsonKind(v); k != "number" {
		return 0, validationErrorf(fieldPath(o.path, name), "must be an integer, not %s", k)
	}
	n, isInt, inRange := jsonInteger(string(v))
	if !isInt {
		return 0, validationErrorf(fieldPath(o.path, name), "must be an integer")
	}
	if !inRange || n < lo || n > hi {
		return 0, validationErrorf(fieldPath(o.path, name), "must be between %d and %d", lo, hi)
	}
	return n, nil
}

// jsonInteger evaluates a JSON number literal exactly. isInt reports whether
// its value is an integer; inRange whether that integer has at most 18
// digits (so fits an int64, which all our bounds do).
func jsonInteger(lit string) (n int64, isInt, inRange bool) {
	neg := strings.HasPrefix(lit, "-")
	lit = strings.TrimPrefix(lit, "-")
	mant, exp := lit, ""
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		mant, exp = lit[:i], lit[i+1:]
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, true, true // zero, whatever the exponent
	}
	trimmed := strings.TrimRight(digits, "0")
	zeros := len(digits) - len(trimmed)
	digits = trimmed

	expNeg := strings.HasPrefix(exp, "-")
	expDigits := strings.TrimLeft(strings.TrimLeft(exp, "+-"), "0")
	if len(expDigits) > 9 { // |exponent| >= 1e9: nothing in the body can balance it
		if expNeg {
			return 0, false, false
		}
		return 0, true, false
	}
	e := 0
	if expDigits != "" {
		e, _ = strconv.Atoi(expDigits) // at most 9 digits of 0-9: cannot fail
		if expNeg {
			e = -e
		}
	}
	// value = digits * 10^scale
	scale := int64(e) - int64(len(frac)) + int64(zeros)
	if scale < 0 {
		return 0, false, false
	}
	if int64(len(digits))+scale > 18 {
		return 0, true, false
	}
	n, err := strconv.ParseInt(digits+strings.Repeat("0", int(scale)), 10, 64)
	if err != nil {
		return 0, true, false
	}
	if neg {
		n = -n
	}
	return n, true, true
}
