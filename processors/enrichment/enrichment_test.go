package enrichment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/sandbox"
	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

func TestMinorUnits(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12.99", 1299, true}, {"12.9", 1290, true}, {"12", 1200, true}, {"0.05", 5, true},
		{"", 0, false}, {"12.", 0, false}, {".5", 0, false}, {"1.999", 0, false}, {"-1.00", 0, false},
		{"1e3", 0, false}, {"12.3a", 0, false}, {"99999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, err := minorUnits(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("minorUnits(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzMinorUnits checks that any accepted amount prints back to itself.
func FuzzMinorUnits(f *testing.F) {
	for _, s := range []string{"12.99", "0", "1.5", "x", "1.234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := minorUnits(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("%q gave %d", s, n)
		}
		whole, frac, _ := strings.Cut(s, ".")
		frac += strings.Repeat("0", 2-len(frac))
		w, _ := strconv.ParseInt(whole, 10, 64)
		c, _ := strconv.ParseInt(frac, 10, 64)
		if n != w*100+c {
			t.Fatalf("%q gave %d", s, n)
		}
	})
}

// fakeOrders is an Order API that knows every order id except those
// starting with "missing-", and fails its first calls (an outage the
// processor must ride out without losing or dead-lettering anything).
type fakeOrders struct {
	failFirst atomic.Int64
	calls     atomic.Int64
}

func (f *fakeOrders) Orders(_ context.Context, shop string, ids []string) ([]tiktok.Order, error) {
	f.calls.Add(1)
	if f.failFirst.Add(-1) >= 0 {
		return nil, errors.New("HTTP 503: outage")
	}
	if shop == "shop-refused" {
		return nil, &tiktok.APIError{Status: 200, Code: tiktok.CodeBadRequest, Message: "invalid shop_cipher"}
	}
	var out []tiktok.Order
	for _, id := range ids {
		if strings.HasPrefix(id, "missing-") {
			continue
		}
		out = append(out, tiktok.Order{ID: id, Status: "AWAITING_SHIPMENT", CreateTime: 1764000000, UpdateTime: 1764000000,
			UserID: "buyer-" + id, LineItems: []tiktok.LineItem{{ID: id + "-1", SKUID: "sku-1", SellerSKU: "SERUM-30",
				ProductID: "p-1", ProductName: "Serum", SalePrice: "24.50"}},
			RecipientAddress: tiktok.Address{Name: "A", PostalCode: "94107", RegionCode: "US", AddressDetail: "1 Main St"},
			Payment:          tiktok.Payment{Currency: "USD", TotalAmount: "24.50"}})
	}
	return out, nil
}

// webhook is a signed-off TikTok order status webhook as the ingest stores it.
func webhook(topic, shop, notification, order, status string, updated int64) *kgo.Record {
	body := fmt.Sprintf(`{"type":1,"tts_notification_id":%q,"shop_id":%q,"timestamp":%d,"data":{"order_id":%q,"order_status":%q,"is_on_hold_order":false,"update_time":%d}}`,
		notification, shop, updated, order, status, updated)
	at := time.Unix(updated, 0).UTC()
	env := schemas.Envelope{ID: schemas.EventID(at, shop, notification), Type: "tiktok.webhook", SchemaVersion: 1,
		Source: "tiktok-shop/" + shop, Time: at, IngestTime: at}
	return &kgo.Record{Topic: topic, Key: []byte(order), Value: []byte(body), Headers: env.Headers()}
}

// TestEnrichmentExactlyOnce feeds webhooks with duplicates, stale updates, an
// unknown order and garbage, through an API outage and processor restarts:
// every order's events in orders.v1 are exactly its status changes in order,
// each once, with details; the unknown order and the garbage are in the DLQ.
func TestEnrichmentExactlyOnce(t *testing.T) {
	t.Parallel()
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	in, out, dlq := k.Topic("webhooks"), k.Topic("orders"), k.Topic("dlq")
	k.CreateTopics(ctx, t, 4, in, out, dlq)
	rng := rand.New(rand.NewPCG(7, 8))
	var recs []*kgo.Record
	want := map[string][]string{}
	dupes := 0
	statuses := []string{"AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"}
	for i := range 1500 {
		order := fmt.Sprint(576000000 + i)
		shop := fmt.Sprint("shop-", i%7)
		n := 1 + rng.IntN(len(statuses))
		for s := range n {
			updated := int64(1764000000 + i + s*3600)
			rec := webhook(in, shop, fmt.Sprintf("n-%d-%d", i, s), order, statuses[s], updated)
			recs = append(recs, rec)
			want[order] = append(want[order], statuses[s])
			if rng.IntN(5) == 0 { // TikTok retries the notification
				dupes++
				recs = append(recs, webhook(in, shop, fmt.Sprintf("n-%d-%d", i, s), order, statuses[s], updated))
			}
		}
		if n > 1 && rng.IntN(4) == 0 { // a late, older update: must not move the order back
			recs = append(recs, webhook(in, shop, fmt.Sprintf("late-%d", i), order, "UNPAID", int64(1764000000+i-60)))
		}
	}
	recs = append(recs, webhook(in, "shop-1", "n-missing", "missing-1", "AWAITING_SHIPMENT", 1764000000),
		webhook(in, "shop-refused", "n-refused", "577999999", "AWAITING_SHIPMENT", 1764000000),
		&kgo.Record{Topic: in, Key: []byte("junk"), Value: []byte(`{"type":1}`)})
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	api := &fakeOrders{}
	api.failFirst.Store(3)
	app := k.Prefix + "enrichment"
	reg := prometheus.NewRegistry()
	topo := Topology(Config{Application: app, Webhooks: in, OrdersTopic: out, API: api, Registerer: reg})
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "e", DLQ: dlq, MaxPollRecords: 300}
	// Stop and restart the processor at random moments until it has
	// consumed everything.
	stops := 0
	for ; !k.Consumed(ctx, t, app, in); stops++ {
		if ctx.Err() != nil {
			t.Fatal("did not finish")
		}
		runCtx, stop := context.WithTimeout(ctx, time.Duration(200+rng.IntN(800))*time.Millisecond)
		if err := stream.Run(runCtx, topo, cfg); err != nil {
			t.Fatalf("run: %v", err)
		}
		stop()
	}

	got := map[string][]string{}
	for _, r := range k.ReadCommitted(ctx, t, out) {
		var ev schemas.OrderEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if len(ev.LineItems) != 1 || ev.LineItems[0].SalePrice != 2450 || ev.BuyerID != "buyer-"+ev.OrderID || string(r.Key) != ev.OrderID {
			t.Fatalf("event without its details: %+v", ev)
		}
		if prev := got[ev.OrderID]; len(prev) > 0 && string(ev.PreviousStatus) != prev[len(prev)-1] {
			t.Fatalf("order %s: previous status %s, want %s", ev.OrderID, ev.PreviousStatus, prev[len(prev)-1])
		}
		got[ev.OrderID] = append(got[ev.OrderID], string(ev.Status))
	}
	if len(got) != len(want) {
		t.Fatalf("events for %d orders, want %d", len(got), len(want))
	}
	for order, statuses := range want {
		if !slices.Equal(got[order], statuses) {
			t.Fatalf("order %s: events %v, want %v exactly once each", order, got[order], statuses)
		}
	}
	dead := k.ReadCommitted(ctx, t, dlq)
	var reasons []string
	for _, r := range dead {
		for _, h := range r.Headers {
			if h.Key == stream.HeaderDLQError {
				reasons = append(reasons, string(h.Value))
			}
		}
	}
	if all := strings.Join(reasons, "|"); len(dead) != 3 || !strings.Contains(all, "missing-1") || !strings.Contains(all, "invalid shop_cipher") {
		t.Fatalf("DLQ: %q, want the unknown order, the order the API refused and the invalid webhook", reasons)
	}
	skipped := map[string]float64{}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			skipped[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if skipped["duplicate_notification"] < float64(dupes) || skipped["stale_update"] < 1 {
		t.Fatalf("skipped %v; want at least the %d duplicate notifications and some stale updates", skipped, dupes)
	}
	if stops < 2 || api.calls.Load() < 4 {
		t.Fatalf("%d restarts and %d API calls: the test did not exercise restarts and the outage", stops, api.calls.Load())
	}
}

// TestEnrichmentWithSandbox runs the processor with the real client against
// the sandbox, which fails a fifth of the requests and throttles a tenth:
// every order arrives with the sandbox's details, in batched reads.
func TestEnrichmentWithSandbox(t *testing.T) {
	t.Parallel()
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb, err := sandbox.New(sandbox.Config{Seed: 3, ErrorRate: 0.2, ThrottleRate: 0.1, Synthesize: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	def := sandbox.DefaultConfig()
	api, err := tiktok.New(tiktok.Config{BaseURL: srv.URL, AppKey: def.AppKey, AppSecret: def.AppSecret,
		AccessToken: def.AccessToken, RefreshToken: def.RefreshToken, BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond,
		Breaker: tiktok.BreakerConfig{Failures: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	in, out, dlq := k.Topic("webhooks"), k.Topic("orders"), k.Topic("dlq")
	k.CreateTopics(ctx, t, 3, in, out, dlq)
	var recs []*kgo.Record
	for i := range 400 {
		recs = append(recs, webhook(in, fmt.Sprint("shop-", i%3), fmt.Sprint("n-", i), fmt.Sprint(577000000+i), "AWAITING_SHIPMENT", int64(1764000000+i)))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	app := k.Prefix + "enrichment"
	topo := Topology(Config{Application: app, Webhooks: in, OrdersTopic: out, API: api})
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "e", DLQ: dlq}
	stacktest.RunUntil(ctx, t, func(ctx context.Context) error { return stream.Run(ctx, topo, cfg) },
		func() bool { return k.Consumed(ctx, t, app, in) })
	events := k.ReadCommitted(ctx, t, out)
	if len(events) != 400 {
		t.Fatalf("%d order events, want 400", len(events))
	}
	for _, r := range events {
		var ev schemas.OrderEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		st, err := sb.Order(ev.OrderID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.BuyerID != st.Order.UserID || len(ev.LineItems) != len(st.Order.LineItems) || ev.RecipientAddress.PostalCode != st.Order.RecipientAddress.PostalCode {
			t.Fatalf("event %+v does not carry the sandbox's order %+v", ev, st.Order)
		}
	}
	reads, failed := 0, 0
	for _, r := range sb.Requests() {
		if r.Path == tiktok.PathOrders {
			reads++
			if r.Outcome != "ok" {
				failed++
			}
		}
	}
	if failed == 0 || reads-failed > 400/10 {
		t.Fatalf("%d order reads (%d failed) for 400 orders: want batched reads, and injected failures ridden out", reads, failed)
	}
}

// TestEnrichmentForgets checks that an order's state goes once it has not
// been updated for ForgetAfter of event time, so the store stays bounded.
func TestEnrichmentForgets(t *testing.T) {
	t.Parallel()
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, out, dlq := k.Topic("webhooks"), k.Topic("orders"), k.Topic("dlq")
	k.CreateTopics(ctx, t, 1, in, out, dlq)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, webhook(in, "shop-1", "n-a", "576000001", "AWAITING_SHIPMENT", 1764000000),
		webhook(in, "shop-1", "n-b", "576000002", "AWAITING_SHIPMENT", 1764000000+2*3600)).FirstErr(); err != nil {
		t.Fatal(err)
	}
	app := k.Prefix + "enrichment"
	reg := prometheus.NewRegistry()
	topo := Topology(Config{Application: app, Webhooks: in, OrdersTopic: out, API: &fakeOrders{}, ForgetAfter: time.Hour})
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "e", DLQ: dlq, Registerer: reg}
	// Order A forgotten, B kept: one entry (a test that times out here
	// found the store still holding both).
	stacktest.RunUntil(ctx, t, func(ctx context.Context) error { return stream.Run(ctx, topo, cfg) },
		func() bool { return k.Consumed(ctx, t, app, in) && storeEntries(t, reg, "orders") == 1 })
}

func storeEntries(t *testing.T, reg *prometheus.Registry, store string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "creatorflow_stream_store_entries" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "store" && l.GetValue() == store {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
