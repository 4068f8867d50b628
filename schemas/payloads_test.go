package schemas

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

const validCarrierWebhook = `{"carrier":"ups","tracking_number":"1Z999AA10123456784","status":"IN_TRANSIT",` +
	`"description":"Departed from facility","location":"Louisville, KY, US","occurred_at":1718035200}`

func TestParseCarrierWebhook(t *testing.T) {
	c, err := ParseCarrierWebhook([]byte(validCarrierWebhook))
	if err != nil {
		t.Fatal(err)
	}
	want := CarrierWebhook{
		Carrier: "ups", TrackingNumber: "1Z999AA10123456784", Status: TrackingStatusInTransit,
		Description: "Departed from facility", Location: "Louisville, KY, US", OccurredAt: 1718035200,
	}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	minimal := `{"carrier":"dhl","tracking_number":"JD014600006281230704","status":"DELIVERED","occurred_at":1,"extra":{"a":1}}`
	if c, err := ParseCarrierWebhook([]byte(minimal)); err != nil || c.Description != "" || c.Status != TrackingStatusDelivered {
		t.Errorf("minimal: %+v, %v", c, err)
	}
	for s := range trackingStatuses {
		if _, err := ParseCarrierWebhook(withMember(t, validCarrierWebhook, "status", `"`+string(s)+`"`)); err != nil {
			t.Errorf("status %s: %v", s, err)
		}
	}
}

func TestParseCarrierWebhookRejects(t *testing.T) {
	m := func(path, raw string) string { return string(withMember(t, validCarrierWebhook, path, raw)) }
	cases := []struct {
		name, body, field string
	}{
		{"empty body", "", ""},
		{"invalid UTF-8", strings.Replace(validCarrierWebhook, "Louisville", "Louis\xc3ville", 1), ""},
		{"not JSON", "<xml/>", ""},
		{"array", "[" + validCarrierWebhook + "]", ""},
		{"trailing data", validCarrierWebhook + "]", ""},
		{"duplicate member", strings.Replace(validCarrierWebhook, `"occurred_at"`, `"status":"DELIVERED","occurred_at"`, 1), "status"},

		{"carrier missing", m("carrier", ""), "carrier"},
		{"carrier empty", m("carrier", `""`), "carrier"},
		{"carrier number", m("carrier", "1"), "carrier"},
		{"carrier too long", m("carrier", `"`+strings.Repeat("c", 65)+`"`), "carrier"},
		{"carrier control char", m("carrier", `"u\u001bps"`), "carrier"},
		{"tracking number missing", m("tracking_number", ""), "tracking_number"},
		{"tracking number empty", m("tracking_number", `""`), "tracking_number"},
		{"tracking number number", m("tracking_number", "123456784"), "tracking_number"},
		{"tracking number too long", m("tracking_number", `"`+strings.Repeat("T", 129)+`"`), "tracking_number"},
		{"tracking number newline", m("tracking_number", `"1Z\n"`), "tracking_number"},
		{"status missing", m("status", ""), "status"},
		{"status unknown", m("status", `"LOST"`), "status"},
		{"status lowercase", m("status", `"in_transit"`), "status"},
		{"status null", m("status", "null"), "status"},
		{"description number", m("description", "42"), "description"},
		{"description null", m("description", "null"), "description"},
		{"description too long", m("description", `"`+strings.Repeat("d", 1025)+`"`), "description"},
		{"location object", m("location", `{"city":"Louisville"}`), "location"},
		{"location too long", m("location", `"`+strings.Repeat("L", 257)+`"`), "location"},
		{"occurred at missing", m("occurred_at", ""), "occurred_at"},
		{"occurred at zero", m("occurred_at", "0"), "occurred_at"},
		{"occurred at negative", m("occurred_at", "-5"), "occurred_at"},
		{"occurred at fraction", m("occurred_at", "1718035200.25"), "occurred_at"},
		{"occurred at RFC 3339", m("occurred_at", `"2024-06-10T16:00:00Z"`), "occurred_at"},
		{"occurred at after year 9999", m("occurred_at", "253402300800"), "occurred_at"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCarrierWebhook([]byte(tc.body))
			if err == nil {
				t.Fatalf("accepted %q as %+v", tc.body, c)
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			if verr.Field != tc.field {
				t.Errorf("field = %q, want %q (error %q)", verr.Field, tc.field, err)
			}
			if c != (CarrierWebhook{}) {
				t.Errorf("a rejected parse returned a partial webhook %+v", c)
			}
		})
	}
}

func FuzzParseCarrierWebhook(f *testing.F) {
	for _, b := range readFixtures(f, "carrier-webhook") {
		f.Add(b)
	}
	f.Add([]byte(validCarrierWebhook))
	f.Add([]byte(`{"carrier":"a","tracking_number":"b","status":"RETURNED","occurred_at":1e2,"description":"\u2028<>&"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := ParseCarrierWebhook(body)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			return
		}
		if !json.Valid(body) || c.Carrier == "" || c.TrackingNumber == "" || !trackingStatuses[c.Status] || c.OccurredAt <= 0 {
			t.Fatalf("accepted %q as %+v", body, c)
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseCarrierWebhook(again)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", again, err)
		}
		if c2 != c {
			t.Fatalf("round trip changed %+v into %+v", c, c2)
		}
	})
}

// TestPayloadsRoundTrip marshals a value of every payload type with every
// member set, checks its JSON member names against the contract, and that
// unmarshalling gives the value back.
func TestPayloadsRoundTrip(t *testing.T) {
	at := time.Date(2024, 6, 10, 16, 0, 0, 123456789, time.UTC)
	later := at.Add(90 * time.Minute)
	cases := []struct {
		name  string
		value any
		keys  string // the contract's top-level members, space-separated
	}{
		{"CarrierWebhook", &CarrierWebhook{
			Carrier: "ups", TrackingNumber: "1Z999AA10123456784", Status: TrackingStatusOutForDelivery,
			Description: "Out for delivery", Location: "Leeds, GB", OccurredAt: 1718035200,
		}, "carrier tracking_number status description location occurred_at"},
		{"ContentMetrics", &ContentMetrics{
			ContentID: "7380000000000000001", ShopID: "7494049642642441621", SKUIDs: []string{"1729767803962038562", "1729767803962038563"},
			Views: 1_250_000, Likes: 98_000, Comments: 4_100, Shares: 12_345, PolledAt: at,
		}, "content_id shop_id sku_ids views likes comments shares polled_at"},
		{"InventoryEvent", &InventoryEvent{
			SKU: "1729767803962038562", ShopID: "7494049642642441621", Kind: InventoryAdjustment,
			Quantity: -3, Reason: "damaged in warehouse", OccurredAt: at,
		}, "sku shop_id kind quantity reason occurred_at"},
		{"OrderEvent", &OrderEvent{
			OrderID: "576461413038785752", ShopID: "7494049642642441621", Status: OrderStatusAwaitingShipment,
			PreviousStatus: OrderStatusOnHold, BuyerID: "7494000000000000001",
			CreateTime: at, UpdateTime: later, RTSSLATime: later.Add(24 * time.Hour), ShippingDueTime: later.Add(48 * time.Hour),
			LineItems: []LineItem{{
				ID: "576859029223217553", SKUID: "1729767803962038562", SellerSKU: "Matcha_box", ProductID: "1729767804772456738",
				ProductName: "Matcha kit — bowl, whisk & spoon", Quantity: 2, SalePrice: 3597, Currency: "EUR",
			}},
			RecipientAddress: RecipientAddress{
				Name: "Ada Lovelace", PostalCode: "75001", RegionCode: "FR", AddressDetail: "1 rue de Rivoli",
				DistrictInfo: []DistrictInfo{
					{AddressLevelName: "country", AddressName: "France", AddressLevel: "L0"},
					{AddressLevelName: "city", AddressName: "Paris", AddressLevel: "L2"},
				},
			},
		}, "order_id shop_id status previous_status buyer_id create_time update_time rts_sla_time shipping_due_time line_items recipient_address"},
		{"PrioritizedOrder", &PrioritizedOrder{
			OrderID: "576461413038785752", Class: PriorityHigh, Score: 0.87,
			Reasons: []string{"viral SKU", "ships within 6 h"}, DecidedAt: at,
		}, "order_id class score reasons decided_at"},
		{"ViralAlert", &ViralAlert{
			SKU: "1729767803962038562", EpisodeID: "2hVZxQ7Yk1bJ0n4yQ9a8b7c6d5e", Phase: ViralStarted, Score: 4.2,
			Velocity: 5400.5, DemandMultiplier: 6.5, ContentIDs: []string{"7380000000000000001"}, At: at,
		}, "sku episode_id phase score velocity demand_multiplier content_ids at"},
		{"StockAlert", &StockAlert{
			SKU: "1729767803962038562", Level: StockCritical, OnHand: 40, Reserved: 25, Available: 15,
			BurnRatePerHour: 12.5, HoursOfCover: 1.2, At: at,
		}, "sku level on_hand reserved available burn_rate_per_hour hours_of_cover at"},
		{"LabelCommand", &LabelCommand{
			CommandID: "2hVZxQ7Yk1bJ0n4yQ9a8b7c6d5e", OrderID: "576461413038785752", Action: LabelBuy,
			Options: []CarrierOption{
				{Carrier: "ups", Service: "express", Rate: 1299, Currency: "USD", EstimatedDays: 1, Score: 0.9},
				{Carrier: "usps", Service: "ground", Rate: 699, Currency: "USD", EstimatedDays: 3, Score: 0.7},
			},
			Priority: PriorityHigh, Reason: "cheapest that meets the promise", IssuedAt: at,
		}, "command_id order_id action options priority reason issued_at"},
		{"ReorderCommand", &ReorderCommand{
			CommandID: "2hVZxQ7Yk1bJ0n4yQ9a8b7c6d5f", SKU: "1729767803962038562", SupplierID: "acme",
			Quantity: 500, Reason: "18 h of cover at the viral burn rate", IssuedAt: at,
		}, "command_id sku supplier_id quantity reason issued_at"},
		{"TikTokSyncCommand", &TikTokSyncCommand{
			CommandID: "2hVZxQ7Yk1bJ0n4yQ9a8b7c6d60", Kind: SyncShippingInfo, OrderID: "576461413038785752",
			SKU: "1729767803962038562", Carrier: "ups", TrackingNumber: "1Z999AA10123456784", Quantity: 7, IssuedAt: at,
		}, "command_id kind order_id sku carrier tracking_number quantity issued_at"},
		{"LabelResult", &LabelResult{
			CommandID: "2hVZxQ7Yk1bJ0n4yQ9a8b7c6d5e", OrderID: "576461413038785752", Status: CommandDone,
			Carrier: "usps", Service: "ground", TrackingNumber: "9400100000000000000000", Cost: 699, Currency: "USD",
			Attempts: 2, Reasons: []string{"ups: circuit open"}, FinishedAt: later,
		}, "command_id order_id status carrier service tracking_number cost currency attempts reasons finished_at"},
		{"ReorderResult", &ReorderResult{
			CommandID: "2hVZxQ7Yk1bJ0n4yQ9a8b7c6d5f", SKU: "1729767803962038562", Status: CommandFailed,
			SupplierID: "acme", SupplierReference: "PO-2024-0001", Quantity: 500, Reasons: []string{"supplier 503"}, FinishedAt: later,
		}, "command_id sku status supplier_id supplier_reference quantity reasons finished_at"},
		{"CarrierHealth", &CarrierHealth{
			Carrier: "ups", State: CircuitHalfOpen, FailureRate: 0.35, WindowSeconds: 60, Since: at, At: later,
		}, "carrier state failure_rate window_seconds since at"},
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := reflect.ValueOf(tc.value).Elem()
			if v.Type().Name() != tc.name {
				t.Fatalf("case %s holds a %s", tc.name, v.Type().Name())
			}
			assertAllSet(t, v, tc.name)
			b, err := json.Marshal(tc.value)
			if err != nil {
				t.Fatal(err)
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal(b, &members); err != nil {
				t.Fatal(err)
			}
			var got []string
			for k := range members {
				got = append(got, k)
			}
			want := strings.Fields(tc.keys)
			sort.Strings(got)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("JSON members %v, want %v", got, want)
			}
			checkNames(t, b, snake)
			back := reflect.New(v.Type())
			if err := json.Unmarshal(b, back.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Elem().Interface(), v.Interface()) {
				t.Errorf("round trip:\n got %+v\nwant %+v\njson %s", back.Elem().Interface(), v.Interface(), b)
			}
		})
	}
}

// TestPayloadsOptionalMembers checks that zero optional members are left out
// and still round-trip.
func TestPayloadsOptionalMembers(t *testing.T) {
	o := OrderEvent{OrderID: "1", Status: OrderStatusUnpaid, CreateTime: time.Unix(1, 0).UTC(), UpdateTime: time.Unix(2, 0).UTC()}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"previous_status", "rts_sla_time", "shipping_due_time"} {
		if strings.Contains(string(b), `"`+absent+`"`) {
			t.Errorf("%s present in %s", absent, b)
		}
	}
	var back OrderEvent
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, o) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	s := TikTokSyncCommand{CommandID: "c", Kind: SyncStock, SKU: "s", Quantity: 0, IssuedAt: time.Unix(3, 0).UTC()}
	if b, _ := json.Marshal(s); !strings.Contains(string(b), `"quantity":0`) {
		t.Errorf("stock quantity 0 must be written: %s", b)
	}
}

// assertAllSet fails when a field of v (recursively, through structs and
// the first element of slices) is zero, so the round trip exercises it.
func assertAllSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if v.IsZero() {
				t.Errorf("%s is zero", path)
			}
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.IsExported() {
				assertAllSet(t, v.Field(i), path+"."+f.Name)
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("%s is empty", path)
			return
		}
		assertAllSet(t, v.Index(0), path+"[0]")
	default:
		if v.IsZero() {
			t.Errorf("%s is zero", path)
		}
	}
}

// checkNames fails on a JSON object member name, at any depth, that is not
// snake_case.
func checkNames(t *testing.T, b []byte, snake *regexp.Regexp) {
	t.Helper()
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				if !snake.MatchString(k) {
					t.Errorf("member %q is not snake_case", k)
				}
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	walk(doc)
}
