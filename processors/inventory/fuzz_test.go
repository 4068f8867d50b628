package inventory

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/velocity"
	"github.com/creatorflow/creatorflow/schemas"
)

// FuzzRecords feeds arbitrary records to every input of the velocity
// processor and both inventory stages: whatever the bytes, a record is
// processed or goes to the DLQ, and nothing panics or is emitted that does
// not decode.
func FuzzRecords(f *testing.F) {
	f.Add(uint8(0), []byte("c1"), []byte(`{"content_id":"c1","sku_ids":["s1"],"views":10,"polled_at":"2026-01-05T00:00:00Z"}`))
	f.Add(uint8(1), []byte("o1"), []byte(`{"order_id":"o1","status":"AWAITING_SHIPMENT","update_time":"2026-01-05T00:00:00Z","line_items":[{"sku_id":"s1","quantity":2}]}`))
	f.Add(uint8(2), []byte("s1"), []byte(`{"sku":"s1","kind":"RECEIPT","quantity":5}`))
	f.Add(uint8(3), []byte("s1"), []byte(`{"command_id":"x","sku":"s1","status":"DONE","quantity":5}`))
	f.Add(uint8(4), []byte("s1"), []byte(`{"content_id":"c1","sku":"s1","phase":"STARTED","score":3}`))
	f.Add(uint8(5), []byte("s1"), []byte(`{"sku":"s1","order_id":"o1","demand":1,"reserved":1}`))
	f.Add(uint8(2), []byte(""), []byte(`{"kind":"SNAPSHOT","quantity":-1}`))
	f.Add(uint8(0), []byte("c1"), []byte(`{"content_id":"c1","views":-5,"polled_at":"0001-01-01T00:00:00Z"}`))
	app := "fuzz-inventory"
	cfg := Config{Application: app, Orders: schemas.TopicOrders, Inventory: schemas.TopicInventoryEvents,
		ReorderResults: schemas.TopicReorderResults, Signals: SignalsTopic(app), ViralAlerts: schemas.TopicViralAlerts,
		StockAlerts: schemas.TopicStockAlerts, Reorders: schemas.TopicReorderActions, TikTokSync: schemas.TopicTikTokSyncActions,
		Plans: func(string) (Plan, bool) {
			return Plan{StartingStock: 10, SupplierID: "sup", LeadTime: time.Hour, ReviewPeriod: time.Hour, ServiceLevel: 0.95, MinOrderQty: 1}, true
		}}
	f.Fuzz(func(t *testing.T, input uint8, key, value []byte) {
		topos, err := Topologies(cfg)
		if err != nil {
			t.Fatal(err)
		}
		vt, err := velocity.Topology(velocity.Config{Application: "fuzz-velocity", Metrics: schemas.TopicContentMetrics, Signals: cfg.Signals})
		if err != nil {
			t.Fatal(err)
		}
		topo, topic := topos[1], []string{schemas.TopicContentMetrics, schemas.TopicOrders, schemas.TopicInventoryEvents,
			schemas.TopicReorderResults, cfg.Signals.Name, LinesTopic(app).Name}[input%6]
		switch topic {
		case schemas.TopicContentMetrics:
			topo = vt
		case schemas.TopicOrders:
			topo = topos[0]
		}
		d, err := stream.NewDriver(topo, stream.DriverConfig{})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		for i := range 2 { // twice: the second sees the state the first left
			out, err := d.Pipe(&kgo.Record{Topic: topic, Key: key, Value: value, Timestamp: at.Add(time.Duration(i) * time.Minute)})
			if err != nil {
				t.Fatalf("pipe: %v", err)
			}
			for _, r := range out {
				if r.Topic == "dlq.v1" {
					continue
				}
				if !slices.Contains(topo.Outputs, r.Topic) || !json.Valid(r.Value) {
					t.Fatalf("emitted to %s: %q", r.Topic, r.Value)
				}
			}
		}
	})
}
