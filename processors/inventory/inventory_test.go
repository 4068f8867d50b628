package inventory

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/velocity"
	"github.com/creatorflow/creatorflow/schemas"
)

// stages drives the order-lines stage and the SKU stage in process, the
// lines stage's output piped into the SKU stage as the broker would.
type stages struct {
	t          *testing.T
	cfg        Config
	lines, sku *stream.Driver
	out        map[string][]*kgo.Record // by topic
	orders     int
}

func newStages(t *testing.T, plans map[string]Plan) *stages {
	t.Helper()
	cfg := Config{Application: "test-inventory", Orders: schemas.TopicOrders, Inventory: schemas.TopicInventoryEvents,
		ReorderResults: schemas.TopicReorderResults, Signals: SignalsTopic("test-inventory"),
		ViralAlerts: schemas.TopicViralAlerts, StockAlerts: schemas.TopicStockAlerts, Reorders: schemas.TopicReorderActions,
		TikTokSync: schemas.TopicTikTokSyncActions,
		Plans:      func(sku string) (Plan, bool) { p, ok := plans[sku]; return p, ok }}
	topos, err := Topologies(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &stages{t: t, cfg: cfg, out: map[string][]*kgo.Record{}}
	if s.lines, err = stream.NewDriver(topos[0], stream.DriverConfig{Partitions: 12}); err != nil {
		t.Fatal(err)
	}
	if s.sku, err = stream.NewDriver(topos[1], stream.DriverConfig{Partitions: 6}); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *stages) pipe(d *stream.Driver, topic, key string, at time.Time, value any) {
	s.t.Helper()
	b, err := json.Marshal(value)
	if err != nil {
		s.t.Fatal(err)
	}
	env := schemas.Envelope{ID: schemas.EventID(at, topic, key), Type: "test", SchemaVersion: 1, Source: "test", Time: at, IngestTime: at}
	s.route(d, &kgo.Record{Topic: topic, Key: []byte(key), Value: b, Headers: env.Headers(), Timestamp: at})
}

// route pipes r into d and what comes out of it on into the SKU stage,
// keeping the outputs.
func (s *stages) route(d *stream.Driver, r *kgo.Record) {
	s.t.Helper()
	out, err := d.Pipe(r)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, r := range out {
		if r.Topic == s.cfg.Signals.Name || r.Topic == LinesTopic(s.cfg.Application).Name {
			s.route(s.sku, r)
			continue
		}
		s.out[r.Topic] = append(s.out[r.Topic], r)
	}
}

// order places (and makes shippable) an order of n units of sku at at.
func (s *stages) order(sku string, n int64, at time.Time) {
	s.orders++
	s.pipe(s.lines, schemas.TopicOrders, fmt.Sprint("o", s.orders), at, schemas.OrderEvent{OrderID: fmt.Sprint("o", s.orders),
		Status: schemas.OrderStatusAwaitingShipment, UpdateTime: at, CreateTime: at, LineItems: []schemas.LineItem{{SKUID: sku, Quantity: n}}})
}

func decode[T any](t *testing.T, recs []*kgo.Record) []T {
	t.Helper()
	out := make([]T, len(recs))
	for i, r := range recs {
		if err := json.Unmarshal(r.Value, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestStockAlertsAndReorders(t *testing.T) {
	s := newStages(t, map[string]Plan{"sku-1": {StartingStock: 100, SupplierID: "sup", LeadTime: 24 * time.Hour,
		ReviewPeriod: 24 * time.Hour, ServiceLevel: 0.95, MinOrderQty: 10}})
	// 2 units an hour: 100 units last 50 h. Cover falls by 2 h an hour
	// (1 h of time, 1 h less stock... both): warning below 24 h, a reorder
	// below 24 + 12 h, critical below 6 h.
	at := t0
	for i := 0; i < 50 && s.out[schemas.TopicStockAlerts] == nil || len(s.out[schemas.TopicStockAlerts]) < 2; i++ {
		s.order("sku-1", 1, at)
		at = at.Add(30 * time.Minute)
		if i > 200 {
			t.Fatal("no alerts")
		}
	}
	alerts := decode[schemas.StockAlert](t, s.out[schemas.TopicStockAlerts])
	if alerts[0].Level != schemas.StockWarning || alerts[0].HoursOfCover >= 24 || alerts[1].Level != schemas.StockCritical || alerts[1].HoursOfCover >= 6 {
		t.Fatalf("alerts %+v", alerts)
	}
	reorders := decode[schemas.ReorderCommand](t, s.out[schemas.TopicReorderActions])
	if len(reorders) != 1 {
		t.Fatalf("%d reorders, want 1 while one is on order: %+v", len(reorders), reorders)
	}
	r := reorders[0]
	// Demand over 48 h at 2/h is 96, plus safety stock, minus what is left.
	if r.SupplierID != "sup" || r.Quantity < 60 || r.Quantity > 140 || r.CommandID == "" {
		t.Fatalf("reorder %+v", r)
	}
	// The supplier refuses: a new reorder may go out after a pause.
	s.pipe(s.sku, schemas.TopicReorderResults, "sku-1", at, schemas.ReorderResult{CommandID: r.CommandID, SKU: "sku-1", Status: schemas.CommandFailed})
	s.order("sku-1", 1, at.Add(time.Minute))
	if n := len(s.out[schemas.TopicReorderActions]); n != 1 {
		t.Fatalf("%d reorders a minute after a failure, want 1", n)
	}
	s.order("sku-1", 1, at.Add(16*time.Minute))
	if n := len(s.out[schemas.TopicReorderActions]); n != 2 {
		t.Fatalf("%d reorders after the pause, want 2", n)
	}
	// Stock arrives: cover recovers, and the alert says so once.
	s.pipe(s.sku, schemas.TopicInventoryEvents, "sku-1", at.Add(2*time.Minute), schemas.InventoryEvent{SKU: "sku-1", Kind: schemas.InventoryReceipt, Quantity: 500})
	alerts = decode[schemas.StockAlert](t, s.out[schemas.TopicStockAlerts])
	if last := alerts[len(alerts)-1]; last.Level != schemas.StockRecovered {
		t.Fatalf("after the receipt: %+v", alerts)
	}
}

func TestViralAlertsAndEmergencyReorder(t *testing.T) {
	s := newStages(t, map[string]Plan{"sku-v": {StartingStock: 1000, SupplierID: "sup", LeadTime: 48 * time.Hour,
		ReviewPeriod: 24 * time.Hour, ServiceLevel: 0.95, MinOrderQty: 1}})
	at := t0
	// A day at 4 units an hour: a regular reorder is not due (250 h of cover).
	for i := 0; i < 96; i++ {
		s.order("sku-v", 1, at)
		at = at.Add(15 * time.Minute)
	}
	if n := len(s.out[schemas.TopicReorderActions]); n != 0 {
		t.Fatalf("%d reorders before the episode", n)
	}
	signal := func(phase velocity.Phase, score float64) {
		s.pipe(s.sku, s.cfg.Signals.Name, "sku-v", at, velocity.ContentSignal{ContentID: "c1", SKU: "sku-v", Phase: phase.String(), Score: score, Velocity: 1e5, At: at})
	}
	signal(velocity.Started, 30)
	viral := decode[schemas.ViralAlert](t, s.out[schemas.TopicViralAlerts])
	if len(viral) != 1 || viral[0].Phase != schemas.ViralStarted || viral[0].DemandMultiplier != 30 || viral[0].ContentIDs[0] != "c1" {
		t.Fatalf("viral alerts %+v", viral)
	}
	// 4/h x 30 = 120/h: 1000 units last about 8 h, less than the 48 h
	// lead time: a reorder at once, with the stock alert.
	reorders := decode[schemas.ReorderCommand](t, s.out[schemas.TopicReorderActions])
	if len(reorders) != 1 || reorders[0].Quantity < 120*72-1000 {
		t.Fatalf("reorders at the start of the episode %+v", reorders)
	}
	// The episode doubles: what is on order is too little, an emergency
	// reorder follows (30 minutes after nothing: none spaced yet).
	at = at.Add(time.Minute)
	signal(velocity.Updated, 60)
	reorders = decode[schemas.ReorderCommand](t, s.out[schemas.TopicReorderActions])
	if len(reorders) != 2 || reorders[1].Reason[:9] != "emergency" {
		t.Fatalf("reorders after the episode doubled %+v", reorders)
	}
	signal(velocity.Ended, 1)
	viral = decode[schemas.ViralAlert](t, s.out[schemas.TopicViralAlerts])
	// A content episode that stops being reported (the video went
	// private) ends after ContentTimeout, with no record of the SKU.
	signal(velocity.Started, 10)
	at = at.Add(ContentTimeout + time.Minute)
	s.pipe(s.sku, schemas.TopicInventoryEvents, "sku-v", at, schemas.InventoryEvent{SKU: "sku-v", Kind: schemas.InventoryAdjustment})
	if all := decode[schemas.ViralAlert](t, s.out[schemas.TopicViralAlerts]); all[len(all)-1].Phase != schemas.ViralEnded || len(all) != 5 {
		t.Fatalf("after the timeout: %+v", all)
	}
	if phases := []schemas.ViralPhase{viral[0].Phase, viral[1].Phase, viral[2].Phase}; phases[1] != schemas.ViralUpdated || phases[2] != schemas.ViralEnded ||
		viral[2].EpisodeID != viral[0].EpisodeID {
		t.Fatalf("viral alerts %+v", viral)
	}
}

func TestListedStock(t *testing.T) {
	s := newStages(t, map[string]Plan{"sku-l": {StartingStock: 20}})
	at := t0
	for i := 0; i < 20; i++ {
		s.order("sku-l", 1, at)
		at = at.Add(10 * time.Second)
	}
	// Past the last sync's throttle, a timer sends what waited.
	s.pipe(s.sku, schemas.TopicInventoryEvents, "sku-other", at.Add(time.Minute), schemas.InventoryEvent{SKU: "sku-other", Kind: schemas.InventoryAdjustment, Quantity: 0})
	var qty []int64
	for _, c := range decode[schemas.TikTokSyncCommand](t, s.out[schemas.TopicTikTokSyncActions]) {
		if c.SKU == "sku-l" {
			qty = append(qty, c.Quantity)
		}
	}
	// 19 available after the first order: 19 - ceil(1.9) = 17 listed;
	// every fall goes out at once, down to 0.
	if len(qty) < 10 || qty[0] != 17 || qty[len(qty)-1] != 0 {
		t.Fatalf("listed stock %v", qty)
	}
	// A receipt lifts it once; the next rise within SyncEvery waits for
	// the timer.
	s.pipe(s.sku, schemas.TopicInventoryEvents, "sku-l", at.Add(2*time.Minute), schemas.InventoryEvent{SKU: "sku-l", Kind: schemas.InventoryReceipt, Quantity: 100})
	s.pipe(s.sku, schemas.TopicInventoryEvents, "sku-l", at.Add(2*time.Minute+time.Second), schemas.InventoryEvent{SKU: "sku-l", Kind: schemas.InventoryReceipt, Quantity: 100})
	n := len(s.out[schemas.TopicTikTokSyncActions])
	s.pipe(s.sku, schemas.TopicInventoryEvents, "sku-l", at.Add(3*time.Minute), schemas.InventoryEvent{SKU: "sku-l", Kind: schemas.InventoryAdjustment})
	rises := decode[schemas.TikTokSyncCommand](t, s.out[schemas.TopicTikTokSyncActions][n-1:])
	if len(rises) != 2 || rises[0].Quantity != 90 || rises[1].Quantity != 180 {
		t.Fatalf("rises %+v", rises)
	}
}

// TestSKUJoinsCatalogLate: a SKU first seen before the catalog knows it is
// tracked once it does, its starting stock added to what moved meanwhile.
func TestSKUJoinsCatalogLate(t *testing.T) {
	plans := map[string]Plan{}
	s := newStages(t, plans)
	s.order("sku-late", 2, t0)
	plans["sku-late"] = Plan{StartingStock: 10}
	s.order("sku-late", 1, t0.Add(time.Minute))
	got := decode[schemas.TikTokSyncCommand](t, s.out[schemas.TopicTikTokSyncActions])
	// 10 - 3 reserved = 7 available, 7 - ceil(0.7) = 6 listed.
	if len(got) != 1 || got[0].Quantity != 6 {
		t.Fatalf("listing once the catalog knows the SKU: %+v", got)
	}
}
