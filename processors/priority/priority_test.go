package priority

import (
	"encoding/json"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// TestStage pipes shippable orders of one buyer through the stage with a
// viral SKU in the global table: the buyer's tier grows with each order, an
// order counts once, and the viral SKU makes its orders HIGH.
func TestStage(t *testing.T) {
	cfg := StageConfig{Application: "test-priority", Shippable: ShippableTopic("test-priority"), Prioritized: schemas.TopicOrdersPrioritized,
		ViralAlerts: schemas.TopicViralAlerts, StockAlerts: schemas.TopicStockAlerts}
	topo, err := Topology(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := stream.NewDriver(topo, stream.DriverConfig{Partitions: 12})
	if err != nil {
		t.Fatal(err)
	}
	alert, _ := json.Marshal(schemas.ViralAlert{SKU: "hot", Phase: schemas.ViralStarted, DemandMultiplier: 10})
	d.PipeGlobal(&kgo.Record{Topic: schemas.TopicViralAlerts, Key: []byte("hot"), Value: alert})
	pipe := func(id string, skus ...string) (schemas.PrioritizedOrder, bool) {
		t.Helper()
		o := order(good, skus...)
		o.OrderID = id
		b, _ := json.Marshal(o)
		out, err := d.Pipe(&kgo.Record{Topic: cfg.Shippable.Name, Key: []byte("buyer-1"), Value: b, Timestamp: t0})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) == 0 {
			return schemas.PrioritizedOrder{}, false
		}
		var p schemas.PrioritizedOrder
		if len(out) != 1 || out[0].Topic != cfg.Prioritized || string(out[0].Key) != id || json.Unmarshal(out[0].Value, &p) != nil {
			t.Fatalf("emitted %v", out)
		}
		return p, true
	}
	steps := []struct {
		id    string
		skus  []string
		class schemas.PriorityClass
		score float64
	}{
		{"o1", []string{"plain"}, schemas.PriorityStandard, 0},
		{"o2", []string{"plain"}, schemas.PriorityStandard, 10}, // repeat buyer
		{"o3", []string{"hot", "plain"}, schemas.PriorityHigh, 70},
		{"o4", []string{"plain"}, schemas.PriorityStandard, 10},
		{"o5", []string{"plain"}, schemas.PriorityStandard, 10},
		{"o6", []string{"plain"}, schemas.PriorityStandard, 30}, // VIP after 5 orders
	}
	for _, s := range steps {
		p, ok := pipe(s.id, s.skus...)
		if !ok || p.Class != s.class || p.Score != s.score {
			t.Fatalf("%s: %+v, want %s %.0f", s.id, p, s.class, s.score)
		}
	}
	if _, ok := pipe("o3", "hot"); ok {
		t.Fatal("an order decided twice")
	}
	// A record that is not an order goes to the DLQ.
	out, err := d.Pipe(&kgo.Record{Topic: cfg.Shippable.Name, Key: []byte("b"), Value: []byte("{"), Timestamp: t0})
	if err != nil || len(out) != 1 || out[0].Topic != "dlq.v1" {
		t.Fatalf("a bad record: %v %v", out, err)
	}
}
