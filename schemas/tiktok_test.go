package schemas

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const validOrderWebhook = `{"type":1,"tts_notification_id":"7327112393057371910","shop_id":"7494049642642441621",` +
	`"timestamp":1718035200,"data":{"order_id":"576461413038785752","order_status":"AWAITING_SHIPMENT",` +
	`"is_on_hold_order":false,"update_time":1718035199}}`

// withMember returns base (a JSON object) with the member at path ("shop_id",
// "data.order_id") set to the raw JSON value raw, or removed when raw is "".
func withMember(t testing.TB, base, path, raw string) []byte {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(base))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("base: %v", err)
	}
	obj := doc
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := obj[p].(map[string]any)
		if !ok {
			t.Fatalf("base has no object at %q", p)
		}
		obj = next
	}
	last := parts[len(parts)-1]
	if raw == "" {
		delete(obj, last)
	} else {
		obj[last] = json.RawMessage(raw)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("mutate %s=%s: %v", path, raw, err)
	}
	return out
}

func TestParseTikTokWebhookOrderStatus(t *testing.T) {
	w, err := ParseTikTokWebhook([]byte(validOrderWebhook))
	if err != nil {
		t.Fatal(err)
	}
	if w.Type != WebhookTypeOrderStatus || w.NotificationID != "7327112393057371910" ||
		w.ShopID != "7494049642642441621" || w.Timestamp != 1718035200 {
		t.Errorf("envelope = %+v", w)
	}
	if got, want := w.Key(), "576461413038785752"; got != want {
		t.Errorf("Key() = %q, want the order id %q", got, want)
	}
	if got, want := w.EventTime(), time.Date(2024, 6, 10, 16, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("EventTime() = %v, want %v in UTC", got, want)
	}
	d, ok := w.OrderStatusChange()
	want := OrderStatusData{OrderID: "576461413038785752", OrderStatus: OrderStatusAwaitingShipment, UpdateTime: 1718035199}
	if !ok || d != want {
		t.Errorf("OrderStatusChange() = %+v, %v; want %+v, true", d, ok, want)
	}
	var data map[string]any
	if err := json.Unmarshal(w.Data, &data); err != nil || data["order_id"] != "576461413038785752" {
		t.Errorf("Data = %s (%v)", w.Data, err)
	}
}

func TestParseTikTokWebhookCancelIsCancelled(t *testing.T) {
	w, err := ParseTikTokWebhook(withMember(t, validOrderWebhook, "data.order_status", `"CANCEL"`))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := w.OrderStatusChange(); d.OrderStatus != OrderStatusCancelled {
		t.Errorf("status = %q, want CANCELLED", d.OrderStatus)
	}
}

func TestParseTikTokWebhookOtherTypeKeyedByShop(t *testing.T) {
	body := withMember(t, validOrderWebhook, "type", "2")
	body = withMember(t, string(body), "data", `{"reverse_order_id":"4035215671458945111","whatever":[1,2,{}]}`)
	w, err := ParseTikTokWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	if w.Key() != "7494049642642441621" {
		t.Errorf("Key() = %q, want the shop id", w.Key())
	}
	if _, ok := w.OrderStatusChange(); ok {
		t.Error("OrderStatusChange() reports data for a type 2 webhook")
	}
}

func TestParseTikTokWebhookToleratesUnknownMembers(t *testing.T) {
	body := withMember(t, validOrderWebhook, "region", `"GB"`)
	body = withMember(t, string(body), "data.package_id", `{"nested":[null,true]}`)
	body = withMember(t, string(body), "data.is_on_hold_order", "")
	w, err := ParseTikTokWebhook(body)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := w.OrderStatusChange(); !ok || d.IsOnHoldOrder {
		t.Errorf("OrderStatusChange() = %+v, %v", d, ok)
	}
}

func TestParseTikTokWebhookIntegralNumbers(t *testing.T) {
	body := `{"type":1.0,"tts_notification_id":"n","shop_id":"s","timestamp":1.7180352e9,` +
		`"data":{"order_id":"o","order_status":"UNPAID","update_time":17180352000e-1}}`
	w, err := ParseTikTokWebhook([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := w.OrderStatusChange()
	if w.Type != 1 || w.Timestamp != 1718035200 || d.UpdateTime != 1718035200 {
		t.Errorf("got type %d timestamp %d update_time %d", w.Type, w.Timestamp, d.UpdateTime)
	}
}

// TestParseTikTokWebhookRejects covers every rejection, and that the error is
// a *ValidationError naming the field at fault.
func TestParseTikTokWebhookRejects(t *testing.T) {
	m := func(path, raw string) string { return string(withMember(t, validOrderWebhook, path, raw)) }
	cases := []struct {
		name, body, field string
	}{
		{"empty body", "", ""},
		{"whitespace body", " \r\n\t", ""},
		{"invalid UTF-8", strings.Replace(validOrderWebhook, "7494049642642441621", "7494\xff", 1), ""},
		{"not JSON", "type=1&shop_id=1", ""},
		{"truncated", validOrderWebhook[:len(validOrderWebhook)-2], ""},
		{"null", "null", ""},
		{"number", "1", ""},
		{"string", `"{}"`, ""},
		{"array", "[" + validOrderWebhook + "]", ""},
		{"trailing object", validOrderWebhook + "{}", ""},
		{"trailing garbage", validOrderWebhook + " x", ""},
		{"two objects", validOrderWebhook + "\n" + validOrderWebhook, ""},
		{"duplicate member", `{"type":1,"type":2}`, "type"},
		{"duplicate shop_id", strings.Replace(validOrderWebhook, `"timestamp"`, `"shop_id":"other","timestamp"`, 1), "shop_id"},
		{"duplicate data member", strings.Replace(validOrderWebhook, `"update_time"`, `"order_id":"other","update_time"`, 1), "data.order_id"},
		{"empty object", "{}", "type"},

		{"type missing", m("type", ""), "type"},
		{"type zero", m("type", "0"), "type"},
		{"type negative", m("type", "-1"), "type"},
		{"type fraction", m("type", "1.5"), "type"},
		{"type too large", m("type", "2147483648"), "type"},
		{"type beyond int64", m("type", "1e30"), "type"},
		{"type string", m("type", `"1"`), "type"},
		{"type null", m("type", "null"), "type"},
		{"type bool", m("type", "true"), "type"},

		{"notification id missing", m("tts_notification_id", ""), "tts_notification_id"},
		{"notification id empty", m("tts_notification_id", `""`), "tts_notification_id"},
		{"notification id number", m("tts_notification_id", "7327112393057371910"), "tts_notification_id"},
		{"notification id null", m("tts_notification_id", "null"), "tts_notification_id"},
		{"notification id too long", m("tts_notification_id", `"`+strings.Repeat("9", 129)+`"`), "tts_notification_id"},
		{"notification id control char", m("tts_notification_id", `"73\u000127"`), "tts_notification_id"},

		{"shop id missing", m("shop_id", ""), "shop_id"},
		{"shop id empty", m("shop_id", `""`), "shop_id"},
		{"shop id number", m("shop_id", "7494049642642441621"), "shop_id"},
		{"shop id array", m("shop_id", `["7494049642642441621"]`), "shop_id"},
		{"shop id too long in characters", m("shop_id", `"`+strings.Repeat("é", 129)+`"`), "shop_id"},
		{"shop id newline", m("shop_id", `"7494\n"`), "shop_id"},
		{"shop id NUL", m("shop_id", `"7494\u0000"`), "shop_id"},
		{"shop id DEL", m("shop_id", "\"7494\x7f\""), "shop_id"},
		{"shop id C1 control", m("shop_id", "\"7494\u0085\""), "shop_id"},

		{"timestamp missing", m("timestamp", ""), "timestamp"},
		{"timestamp zero", m("timestamp", "0"), "timestamp"},
		{"timestamp negative", m("timestamp", "-1718035200"), "timestamp"},
		{"timestamp fraction", m("timestamp", "1718035200.5"), "timestamp"},
		{"timestamp tiny fraction", m("timestamp", "1718035200.0000000000000000001"), "timestamp"},
		{"timestamp after year 9999", m("timestamp", "253402300800"), "timestamp"},
		{"timestamp huge exponent", m("timestamp", "1e999999999999"), "timestamp"},
		{"timestamp string", m("timestamp", `"1718035200"`), "timestamp"},
		{"timestamp RFC 3339", m("timestamp", `"2024-06-10T16:00:00Z"`), "timestamp"},

		{"data missing", m("data", ""), "data"},
		{"data null", m("data", "null"), "data"},
		{"data array", m("data", "[]"), "data"},
		{"data string", m("data", `"{}"`), "data"},
		{"data number", m("data", "1"), "data"},
		{"data empty for type 1", m("data", "{}"), "data.order_id"},

		{"order id missing", m("data.order_id", ""), "data.order_id"},
		{"order id empty", m("data.order_id", `""`), "data.order_id"},
		{"order id number", m("data.order_id", "576461413038785752"), "data.order_id"},
		{"order id tab", m("data.order_id", `"5764\t61"`), "data.order_id"},
		{"order id too long", m("data.order_id", `"`+strings.Repeat("5", 129)+`"`), "data.order_id"},
		{"order status missing", m("data.order_status", ""), "data.order_status"},
		{"order status unknown", m("data.order_status", `"SHIPPED"`), "data.order_status"},
		{"order status lowercase", m("data.order_status", `"awaiting_shipment"`), "data.order_status"},
		{"order status empty", m("data.order_status", `""`), "data.order_status"},
		{"order status number", m("data.order_status", "111"), "data.order_status"},
		{"on hold string", m("data.is_on_hold_order", `"false"`), "data.is_on_hold_order"},
		{"on hold number", m("data.is_on_hold_order", "0"), "data.is_on_hold_order"},
		{"on hold null", m("data.is_on_hold_order", "null"), "data.is_on_hold_order"},
		{"update time missing", m("data.update_time", ""), "data.update_time"},
		{"update time zero", m("data.update_time", "0"), "data.update_time"},
		{"update time string", m("data.update_time", `"1718035199"`), "data.update_time"},
		{"update time after year 9999", m("data.update_time", "1e12"), "data.update_time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseTikTokWebhook([]byte(tc.body))
			if err == nil {
				t.Fatalf("accepted %q as %+v", tc.body, w)
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			if verr.Field != tc.field {
				t.Errorf("field = %q, want %q (error %q)", verr.Field, tc.field, err)
			}
			if verr.Reason == "" {
				t.Error("empty reason")
			}
			if w.Type != 0 || w.ShopID != "" || w.Data != nil {
				t.Errorf("a rejected parse returned a partial webhook %+v", w)
			}
		})
	}
}

func TestParseOrderStatus(t *testing.T) {
	for _, s := range []OrderStatus{
		OrderStatusUnpaid, OrderStatusOnHold, OrderStatusAwaitingShipment, OrderStatusPartiallyShipping,
		OrderStatusAwaitingCollection, OrderStatusInTransit, OrderStatusDelivered, OrderStatusCompleted,
		OrderStatusCancelled,
	} {
		if got, err := ParseOrderStatus(string(s)); err != nil || got != s {
			t.Errorf("ParseOrderStatus(%q) = %q, %v", s, got, err)
		}
	}
	if got, err := ParseOrderStatus("CANCEL"); err != nil || got != OrderStatusCancelled {
		t.Errorf("ParseOrderStatus(CANCEL) = %q, %v; want CANCELLED", got, err)
	}
	for _, s := range []string{"", "cancelled", "SHIPPED", " UNPAID", "UNPAID ", strings.Repeat("X", 1000)} {
		_, err := ParseOrderStatus(s)
		var verr *ValidationError
		if !errors.As(err, &verr) || verr.Field != "order_status" {
			t.Errorf("ParseOrderStatus(%.20q) error = %v, want a *ValidationError on order_status", s, err)
		} else if len(verr.Reason) > 200 {
			t.Errorf("reason echoes too much input: %d bytes", len(verr.Reason))
		}
	}
}

func TestTikTokWebhookUnmarshalJSON(t *testing.T) {
	var rec struct {
		Webhook TikTokWebhook `json:"webhook"`
	}
	if err := json.Unmarshal([]byte(`{"webhook":`+validOrderWebhook+`}`), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Webhook.Key() != "576461413038785752" {
		t.Errorf("Key() after json.Unmarshal = %q, want the order id", rec.Webhook.Key())
	}
	var w TikTokWebhook
	err := json.Unmarshal(withMember(t, validOrderWebhook, "data.order_status", `"NOPE"`), &w)
	var verr *ValidationError
	if !errors.As(err, &verr) || verr.Field != "data.order_status" {
		t.Errorf("json.Unmarshal of an invalid webhook: %v, want a *ValidationError on data.order_status", err)
	}
	w = TikTokWebhook{ShopID: "kept"}
	if err := json.Unmarshal([]byte("null"), &w); err != nil || w.ShopID != "kept" {
		t.Errorf("null: %v, %+v", err, w)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	if got := (&ValidationError{Field: "shop_id", Reason: "is required"}).Error(); got != "shop_id: is required" {
		t.Errorf("got %q", got)
	}
	if got := (&ValidationError{Reason: "body is empty"}).Error(); got != "body is empty" {
		t.Errorf("got %q", got)
	}
	wrapped := errors.Join(errors.New("ingest"), &ValidationError{Field: "f", Reason: "r"})
	var verr *ValidationError
	if !errors.As(wrapped, &verr) || verr.Field != "f" {
		t.Error("errors.As through a wrap")
	}
}

func TestJSONInteger(t *testing.T) {
	cases := []struct {
		lit            string
		n              int64
		isInt, inRange bool
	}{
		{"0", 0, true, true},
		{"-0", 0, true, true},
		{"0.0e-999999999999", 0, true, true},
		{"1", 1, true, true},
		{"-17", -17, true, true},
		{"1.0", 1, true, true},
		{"1.50", 0, false, false},
		{"1e3", 1000, true, true},
		{"1E+3", 1000, true, true},
		{"12.5e1", 125, true, true},
		{"1250e-1", 125, true, true},
		{"1255e-1", 0, false, false},
		{"1e-1", 0, false, false},
		{"100", 100, true, true},
		{"0.001e3", 1, true, true},
		{"999999999999999999", 999999999999999999, true, true},
		{"1000000000000000000", 0, true, false},
		{"1e18", 0, true, false},
		{"1e9999999999", 0, true, false},
		{"1e-9999999999", 0, false, false},
		{"123456789012345678901234567890", 0, true, false},
		{"1.0000000000000000000000001", 0, false, false},
	}
	for _, tc := range cases {
		n, isInt, inRange := jsonInteger(tc.lit)
		if n != tc.n || isInt != tc.isInt || inRange != tc.inRange {
			t.Errorf("jsonInteger(%q) = %d, %v, %v; want %d, %v, %v", tc.lit, n, isInt, inRange, tc.n, tc.isInt, tc.inRange)
		}
	}
}

// readFixtures returns the bodies of the files under testdata/dir.
func readFixtures(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/%s: %v", dir, err)
	}
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = b
	}
	return out
}

func FuzzParseTikTokWebhook(f *testing.F) {
	for _, b := range readFixtures(f, "tiktok-webhook") {
		f.Add(b)
	}
	for _, s := range []string{
		validOrderWebhook,
		`{"type":1,"type":1}`,
		`{"type":3,"tts_notification_id":"n","shop_id":"s","timestamp":1,"data":{"a":[{"b":null}]}}`,
		`{"type":1e0,"tts_notification_id":"\u00e9","shop_id":"\ud83d\ude00","timestamp":9e9,"data":{"order_id":"<&>","order_status":"CANCEL","update_time":1}}`,
		"{\"type\":1,\"shop_id\":\"\xff\"}",
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseTikTokWebhook(body)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if w.Type <= 0 || w.Timestamp <= 0 || w.NotificationID == "" || w.ShopID == "" || w.Key() == "" {
			t.Fatalf("accepted an insane webhook %+v", w)
		}
		if _, ok := w.OrderStatusChange(); ok != (w.Type == WebhookTypeOrderStatus) {
			t.Fatalf("OrderStatusChange() ok = %v for type %d", ok, w.Type)
		}
		again, err := json.Marshal(w)
		if err != nil {
			t.Fatalf("marshal %+v: %v", w, err)
		}
		w2, err := ParseTikTokWebhook(again)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", again, err)
		}
		if w2.Key() != w.Key() || !w2.EventTime().Equal(w.EventTime()) {
			t.Fatalf("round trip changed key %q -> %q or time %v -> %v", w.Key(), w2.Key(), w.EventTime(), w2.EventTime())
		}
		d1, _ := w.OrderStatusChange()
		d2, _ := w2.OrderStatusChange()
		if d1 != d2 || w.Type != w2.Type || w.NotificationID != w2.NotificationID || w.ShopID != w2.ShopID {
			t.Fatalf("round trip changed %+v into %+v", w, w2)
		}
	})
}

func BenchmarkParseTikTokWebhook(b *testing.B) {
	body := []byte(validOrderWebhook)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := ParseTikTokWebhook(body); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseObjectMalformed feeds parseObject, which expects valid JSON,
// every prefix of valid bodies: it must report an error, never panic.
func TestParseObjectMalformed(t *testing.T) {
	for _, body := range []string{validOrderWebhook, `{"a":[{"b":"}\"]"},[]],"c":{"d":{}},"e":-1.5e3,"f":true,"g\n":null}`} {
		if _, err := parseObject([]byte(body), ""); err != nil {
			t.Fatalf("full body %s: %v", body, err)
		}
		for i := range len(body) {
			if obj, err := parseObject([]byte(body[:i]), "data"); err == nil {
				t.Errorf("prefix %q accepted as %v", body[:i], obj.names)
			}
			if obj, err := parseObject([]byte(body[i+1:]), ""); err == nil {
				t.Errorf("suffix %q accepted as %v", body[i+1:], obj.names)
			}
		}
	}
}

func TestDuplicateMemberNameInErrorIsSafe(t *testing.T) {
	long := strings.Repeat("k", 10000)
	for key, want := range map[string]string{
		"type":   "type",
		"a\x01b": `"a\x01b"`,
		"":       `""`,
		long:     `"` + long[:64] + `"...`,
	} {
		k, _ := json.Marshal(key)
		_, err := ParseTikTokWebhook([]byte(`{` + string(k) + `:1,` + string(k) + `:2}`))
		var verr *ValidationError
		if !errors.As(err, &verr) || verr.Field != want {
			t.Errorf("duplicate %.20q: error %v, want field %s", key, err, want)
		}
	}
}

// FuzzScanValue checks that scanValue accepts exactly what json.Valid
// accepts: parseBody relies on it instead of json.Valid.
func FuzzScanValue(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":1}`, `[1,2.5,-0.1e+3,"x\u00e9\n",true,false,null,{"b":[{}]}]`,
		` {"a" : [ ] , "b" : { } } `, `01`, `1.`, `-`, `1e`, `"\x"`, `"\u12"`, "\"\x01\"", `{"a"}`, `{,}`,
		`[1,]`, `{"a":1,}`, `tru`, `nul`, `{"a":1}x`, `[[[[[[]]]]]]`, "\"\xff\"", strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		end := scanValue(data, skipSpace(data, 0))
		got := end >= 0 && skipSpace(data, end) == len(data)
		if want := json.Valid(data); got != want {
			t.Fatalf("scanValue says valid=%v, json.Valid says %v, for %q", got, want, data)
		}
	})
}
