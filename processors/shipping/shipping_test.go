package shipping

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func newStage(t *testing.T) (*stream.Driver, Config) {
	t.Helper()
	files, _ := filepath.Glob("../../deploy/ratecards/*.json")
	cards, err := carrier.ReadFiles(files...)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Application: "test-shipping", Orders: schemas.TopicOrders, Prioritized: schemas.TopicOrdersPrioritized,
		Labels: schemas.TopicLabelActions, Health: schemas.TopicCarrierHealth, Origin: "10001",
		Cards: func(at time.Time) []carrier.RateCard { return carrier.Current(cards, at) }}
	topo, err := Topology(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := stream.NewDriver(topo, stream.DriverConfig{Partitions: 12})
	if err != nil {
		t.Fatal(err)
	}
	return d, cfg
}

func record(topic, key string, at time.Time, v any) *kgo.Record {
	b, _ := json.Marshal(v)
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: b, Timestamp: at}
}

func order(id string, status schemas.OrderStatus, at time.Time) schemas.OrderEvent {
	return schemas.OrderEvent{OrderID: id, Status: status, CreateTime: t0, UpdateTime: at, ShippingDueTime: t0.Add(48 * time.Hour),
		LineItems:        []schemas.LineItem{{SKUID: "s1", Quantity: 2, SalePrice: 1999}},
		RecipientAddress: schemas.RecipientAddress{PostalCode: "94107", RegionCode: "US", AddressDetail: "1 Main St"}}
}

func prioritized(id string, class schemas.PriorityClass) schemas.PrioritizedOrder {
	return schemas.PrioritizedOrder{OrderID: id, Class: class, Score: 10, Reasons: []string{"test"}, DecidedAt: t0}
}

func TestLabelCommands(t *testing.T) {
	type in struct {
		prioritized bool
		status      schemas.OrderStatus
		class       schemas.PriorityClass
	}
	tests := []struct {
		name  string
		steps []in
		want  int // label commands
	}{
		{"order then priority", []in{{status: schemas.OrderStatusAwaitingShipment}, {prioritized: true, class: schemas.PriorityStandard}}, 1},
		{"priority then order", []in{{prioritized: true, class: schemas.PriorityHigh}, {status: schemas.OrderStatusAwaitingShipment}}, 1},
		{"unpaid first waits for shippable", []in{{status: schemas.OrderStatusUnpaid}, {prioritized: true, class: schemas.PriorityStandard},
			{status: schemas.OrderStatusAwaitingShipment}}, 1},
		{"manual review gets none", []in{{status: schemas.OrderStatusAwaitingShipment}, {prioritized: true, class: schemas.PriorityManualReview}}, 0},
		{"cancelled first gets none", []in{{status: schemas.OrderStatusAwaitingShipment}, {status: schemas.OrderStatusCancelled},
			{prioritized: true, class: schemas.PriorityHigh}}, 0},
		{"repeats get one", []in{{status: schemas.OrderStatusAwaitingShipment}, {prioritized: true, class: schemas.PriorityStandard},
			{prioritized: true, class: schemas.PriorityStandard}, {status: schemas.OrderStatusAwaitingShipment}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, cfg := newStage(t)
			var cmds []schemas.LabelCommand
			for i, s := range tc.steps {
				at := t0.Add(time.Duration(i) * time.Minute)
				r := record(cfg.Orders, "o1", at, order("o1", s.status, at))
				if s.prioritized {
					r = record(cfg.Prioritized, "o1", at, prioritized("o1", s.class))
				}
				out, err := d.Pipe(r)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range out {
					var c schemas.LabelCommand
					if o.Topic != cfg.Labels || json.Unmarshal(o.Value, &c) != nil {
						t.Fatalf("emitted %s: %s", o.Topic, o.Value)
					}
					cmds = append(cmds, c)
				}
			}
			if len(cmds) != tc.want {
				t.Fatalf("%d label commands, want %d: %+v", len(cmds), tc.want, cmds)
			}
			for _, c := range cmds {
				if c.Action != schemas.LabelBuy || c.CommandID == "" || len(c.Options) == 0 || c.Reason == "" {
					t.Fatalf("command %+v", c)
				}
			}
		})
	}
}

// TestOpenCircuit: a carrier whose circuit the label executor opened is not
// among the options.
func TestOpenCircuit(t *testing.T) {
	d, cfg := newStage(t)
	d.PipeGlobal(record(cfg.Health, "ups", t0, schemas.CarrierHealth{Carrier: "ups", State: schemas.CircuitOpen, Since: t0, At: t0}))
	if _, err := d.Pipe(record(cfg.Orders, "o1", t0, order("o1", schemas.OrderStatusAwaitingShipment, t0))); err != nil {
		t.Fatal(err)
	}
	out, err := d.Pipe(record(cfg.Prioritized, "o1", t0, prioritized("o1", schemas.PriorityHigh)))
	if err != nil || len(out) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	var c schemas.LabelCommand
	if err := json.Unmarshal(out[0].Value, &c); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(c.Options, func(o schemas.CarrierOption) bool { return o.Carrier == "ups" }) || len(c.Options) == 0 {
		t.Fatalf("options %+v", c.Options)
	}
}
