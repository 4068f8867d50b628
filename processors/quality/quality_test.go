package quality

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/scenario"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/inventory"
	"github.com/creatorflow/creatorflow/processors/velocity"
	"github.com/creatorflow/creatorflow/schemas"
)

func plansOf(s *scenario.Scenario) func(string) (inventory.Plan, bool) {
	m := map[string]inventory.Plan{}
	for _, p := range s.Catalog.Plans() {
		m[p.SKU] = inventory.Plan{StartingStock: int64(p.StartingStock), SupplierID: p.SupplierID, LeadTime: p.LeadTime,
			ReviewPeriod: p.ReviewPeriod, ServiceLevel: p.ServiceLevel, MinOrderQty: int64(p.MinOrderQty)}
	}
	return func(sku string) (inventory.Plan, bool) { p, ok := m[sku]; return p, ok }
}

// TestEvaluate scores a small scenario: a regression guard on the
// detector's quality (make eval-viral measures the full set), and on the
// evaluation being deterministic.
func TestEvaluate(t *testing.T) {
	s, err := scenario.Generate(scenario.Config{Seed: 7, Items: 60, Shops: 3, Duration: 6 * time.Hour, Warmup: 90 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(s, Options{Plans: plansOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("content %+v, SKUs %+v, possible %d, early enough %d, false alarms %d", rep.Content, rep.SKUs, rep.Possible, rep.EarlyEnough, rep.FalseAlarms)
	if rep.Content.Viral == 0 || rep.Possible == 0 {
		t.Fatalf("the scenario has %d viral items and %d preventable stock-outs: nothing to measure", rep.Content.Viral, rep.Possible)
	}
	if rep.Content.Recall < 0.9 || rep.Content.Precision < 0.9 || rep.SKUs.Recall < 0.9 || rep.Prevented < 0.8 || rep.Content.DelayP95 > 180 {
		t.Errorf("below the guard: %+v\nmisses: %v", rep, rep.Misses)
	}
	again, err := Evaluate(s, Options{Plans: plansOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	again.WallTime, again.Throughput = rep.WallTime, rep.Throughput
	if !slices.Equal(again.Misses, rep.Misses) || again.Content.DelayP95 != rep.Content.DelayP95 || again.Reorders != rep.Reorders {
		t.Errorf("a second evaluation differs: %+v vs %+v", again, rep)
	}
}

// TestRuntimeMatchesDriver runs the velocity and inventory processors with
// exactly-once against the real broker over a scenario and checks they
// emit what the evaluation's Driver does: the same content signals, byte
// for byte, and viral episodes starting for the same SKUs.
func TestRuntimeMatchesDriver(t *testing.T) {
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := scenario.Generate(scenario.Config{Seed: 5, Items: 30, Shops: 2, Duration: 6 * time.Hour, Warmup: 90 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	topic := func(name string) string { return k.Topic(name) }
	for _, name := range []string{schemas.TopicContentMetrics, schemas.TopicOrders, schemas.TopicInventoryEvents, schemas.TopicReorderResults,
		schemas.TopicViralAlerts, schemas.TopicStockAlerts, schemas.TopicReorderActions, schemas.TopicTikTokSyncActions, schemas.TopicDLQ} {
		tc, _ := schemas.Lookup(name)
		k.CreateTopics(ctx, t, tc.Partitions, topic(name))
	}
	app := k.Topic("inventory")
	vt, err := velocity.Topology(velocity.Config{Application: k.Topic("velocity"), Metrics: topic(schemas.TopicContentMetrics),
		Signals: inventory.SignalsTopic(app)})
	if err != nil {
		t.Fatal(err)
	}
	its, err := inventory.Topologies(inventory.Config{Application: app, Orders: topic(schemas.TopicOrders),
		Inventory: topic(schemas.TopicInventoryEvents), ReorderResults: topic(schemas.TopicReorderResults), Signals: inventory.SignalsTopic(app),
		ViralAlerts: topic(schemas.TopicViralAlerts), StockAlerts: topic(schemas.TopicStockAlerts), Reorders: topic(schemas.TopicReorderActions),
		TikTokSync: topic(schemas.TopicTikTokSyncActions), Plans: plansOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	// The Driver's run: content signals of the velocity stage.
	vd, err := stream.NewDriver(vt, stream.DriverConfig{Partitions: 6})
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, ev := range s.Events {
		r := ev.Record()
		r.Topic = topic(r.Topic)
		recs = append(recs, r)
		if ev.Topic != schemas.TopicContentMetrics {
			continue
		}
		out, err := vd.Pipe(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			want = append(want, o.Value)
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "test", DLQ: topic(schemas.TopicDLQ)}
	run := func(ctx context.Context) error {
		errc := make(chan error, 3)
		for _, topo := range []stream.Topology{vt, its[0], its[1]} {
			go func() { errc <- stream.Run(ctx, topo, cfg) }()
		}
		var first error
		for range 3 {
			if err := <-errc; err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	signals := inventory.SignalsTopic(app).Name
	stacktest.RunUntil(ctx, t, run, func() bool {
		return k.Consumed(ctx, t, vt.Application, vt.Inputs[0]) && k.Consumed(ctx, t, its[0].Application, its[0].Inputs[0]) &&
			len(k.ReadCommitted(ctx, t, signals)) >= len(want) &&
			k.ConsumedTransactional(ctx, t, its[1].Application, signals) && k.ConsumedTransactional(ctx, t, its[1].Application, inventory.LinesTopic(app).Name)
	})
	got := k.ReadCommitted(ctx, t, signals)
	sortValues := func(vs [][]byte) { slices.SortFunc(vs, bytes.Compare) }
	var gotValues [][]byte
	for _, r := range got {
		gotValues = append(gotValues, r.Value)
	}
	sortValues(gotValues)
	sortValues(want)
	if len(want) == 0 || !slices.EqualFunc(gotValues, want, bytes.Equal) {
		t.Fatalf("content signals: %d from the broker, %d from the driver (equal: %v)", len(gotValues), len(want), slices.EqualFunc(gotValues, want, bytes.Equal))
	}
	if dlq := k.ReadCommitted(ctx, t, topic(schemas.TopicDLQ)); len(dlq) > 0 {
		t.Fatalf("%d records in the DLQ, the first: %s", len(dlq), dlq[0].Headers)
	}
	// The SKU stage interleaves its inputs as the broker hands them out,
	// so its figures may differ from the Driver's; which SKUs went viral
	// may not.
	rep, err := Evaluate(s, Options{Plans: plansOf(s)})
	if err != nil {
		t.Fatal(err)
	}
	started := map[string]bool{}
	for _, r := range k.ReadCommitted(ctx, t, topic(schemas.TopicViralAlerts)) {
		started[string(r.Key)] = true
	}
	if len(started) != rep.SKUs.TruePositives+rep.SKUs.FalsePositives {
		t.Fatalf("%d SKUs with viral alerts from the broker, %d from the driver", len(started), rep.SKUs.TruePositives+rep.SKUs.FalsePositives)
	}
}
