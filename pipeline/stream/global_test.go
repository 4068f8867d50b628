package stream_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
)

// enrichOrders is an order processor joining orders (keyed by order id,
// each value "sku carrier") with two global tables, SKU alerts and carrier
// health: each order is emitted with what the tables said of its SKU and
// carrier ("-" for nothing) and the carriers known, in GlobalKeys order.
func enrichOrders(app, orders, alerts, carriers, out string) stream.Topology {
	return stream.Topology{
		Application: app, Inputs: []string{orders}, Outputs: []string{out}, Globals: []string{alerts, carriers},
		Process: func(c *stream.Context, r *kgo.Record) error {
			sku, carrier, _ := strings.Cut(string(r.Value), " ")
			alert, ok := c.Global(alerts, sku)
			if !ok {
				alert = []byte("-")
			}
			health, ok := c.Global(carriers, carrier)
			if !ok {
				health = []byte("-")
			}
			c.Emit(&kgo.Record{Topic: out, Key: r.Key,
				Value: fmt.Appendf(nil, "%s %s [%s]", alert, health, strings.Join(c.GlobalKeys(carriers), " "))})
			return nil
		},
	}
}

// TestDriverGlobals pipes facts and orders in steps: a fact is seen by the
// next order at once, a later value replaces it, a nil or an empty value
// deletes it, and GlobalKeys lists a table's keys sorted whatever order
// they came in, on every partition.
func TestDriverGlobals(t *testing.T) {
	type step struct {
		topic, key string
		value      []byte
		want       string // for an order: its output's value
	}
	fact := func(topic, key, value string) step {
		var v []byte
		if value != "<nil>" {
			v = []byte(value)
		}
		return step{topic: topic, key: key, value: v}
	}
	order := func(id, value, want string) step {
		return step{topic: "orders", key: id, value: []byte(value), want: want}
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"no facts", []step{order("o1", "sku1 dhl", "- - []")}},
		{"a fact is seen at once", []step{
			order("o1", "sku1 dhl", "- - []"),
			fact("alerts", "sku1", "low-stock"),
			order("o2", "sku1 dhl", "low-stock - []"),
			order("o3", "sku2 dhl", "- - []"),
		}},
		{"the latest value wins", []step{
			fact("carriers", "dhl", "up"),
			fact("carriers", "dhl", "degraded"),
			order("o1", "sku1 dhl", "- degraded [dhl]"),
			fact("carriers", "dhl", "down"),
			order("o2", "sku1 dhl", "- down [dhl]"),
		}},
		{"tombstones delete", []step{
			fact("alerts", "sku1", "low-stock"),
			fact("alerts", "sku2", "recalled"),
			fact("carriers", "dhl", "up"),
			fact("carriers", "ups", "up"),
			order("o1", "sku1 dhl", "low-stock up [dhl ups]"),
			fact("alerts", "sku1", "<nil>"),
			fact("carriers", "dhl", ""),
			order("o2", "sku1 dhl", "- - [ups]"),
			order("o3", "sku2 ups", "recalled up [ups]"),
			fact("alerts", "never-set", "<nil>"),
			order("o4", "never-set ups", "- up [ups]"),
		}},
		{"GlobalKeys sorted", []step{
			fact("carriers", "ups", "up"),
			fact("carriers", "dhl", "up"),
			fact("carriers", "UPS", "up"),
			fact("carriers", "fedex", "up"),
			fact("carriers", "dhl-express", "up"),
			fact("carriers", "", "up"), // an empty key is a key
			order("o1", "sku1 fedex", "- up [ UPS dhl dhl-express fedex ups]"),
			fact("carriers", "dhl", "<nil>"),
			order("o2", "sku1 fedex", "- up [ UPS dhl-express fedex ups]"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Four partitions: every one sees the whole table.
			d := newDriver(t, enrichOrders("app", "orders", "alerts", "carriers", "out"), stream.DriverConfig{Partitions: 4})
			for i, s := range tc.steps {
				rec := &kgo.Record{Topic: s.topic, Key: []byte(s.key), Value: s.value, Timestamp: driverBase}
				if s.topic != "orders" {
					d.PipeGlobal(rec)
					continue
				}
				out := pipe(t, d, rec)
				if len(out) != 1 || string(out[0].Value) != s.want {
					t.Fatalf("step %d, order %s: emitted\n%s\nwant out %s=%s", i, s.key, show(out), s.key, s.want)
				}
			}
		})
	}
}

// TestDriverGlobalsRejects checks what a topology with global tables may not
// do: read a topic as both an input and a global table, name one twice or
// not at all, read a table it did not declare, and have the Driver pipe a
// fact to a topic that is not a global one. A compacted internal topic takes
// no retention and refuses records without a key.
func TestDriverGlobalsRejects(t *testing.T) {
	ok := enrichOrders("app", "orders", "alerts", "carriers", "out")
	for name, tc := range map[string]struct {
		mod  func(*stream.Topology)
		want string
	}{
		"global is an input": {func(t *stream.Topology) { t.Globals = append(t.Globals, "orders") },
			"global topic orders is also an input"},
		"global twice": {func(t *stream.Topology) { t.Globals = append(t.Globals, "alerts") },
			`global topic "alerts": names are unique`},
		"global unnamed": {func(t *stream.Topology) { t.Globals = append(t.Globals, "") },
			`global topic "": names are unique and not empty`},
		"compacted with a retention": {func(t *stream.Topology) {
			t.Internal = []stream.TopicSpec{{Name: "out", Partitions: 1, Compact: true, Retention: time.Hour}}
		}, "internal topic out: a compacted topic keeps every key's latest value, it takes no retention"},
	} {
		topo := ok
		topo.Globals = slices.Clone(ok.Globals)
		tc.mod(&topo)
		_, err := stream.NewDriver(topo, stream.DriverConfig{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	// A global topic may be an output: a topology may read back the facts
	// it writes.
	topo := ok
	topo.Outputs = append(slices.Clone(ok.Outputs), "alerts")
	newDriver(t, topo, stream.DriverConfig{})

	panics := func(what, want string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), want) {
				t.Errorf("%s: panic %v, want %q", what, r, want)
			}
		}()
		f()
	}
	d := newDriver(t, ok, stream.DriverConfig{})
	panics("PipeGlobal to an input", `"orders" is not a global topic of app`, func() {
		d.PipeGlobal(&kgo.Record{Topic: "orders", Key: []byte("k"), Value: []byte("v")})
	})
	undeclared := ok
	undeclared.Process = func(c *stream.Context, _ *kgo.Record) error {
		c.Global("elsewhere", "k")
		return nil
	}
	d = newDriver(t, undeclared, stream.DriverConfig{})
	panics("Global of an undeclared topic", `"elsewhere" is not a global topic of app`, func() {
		_, _ = d.Pipe(&kgo.Record{Topic: "orders", Key: []byte("o1")})
	})
	keyless := ok
	keyless.Internal = []stream.TopicSpec{{Name: "out", Partitions: 1, Compact: true}}
	keyless.Process = func(c *stream.Context, r *kgo.Record) error {
		c.Emit(&kgo.Record{Topic: "out", Key: r.Key, Value: r.Value})
		return nil
	}
	d = newDriver(t, keyless, stream.DriverConfig{})
	if out := pipe(t, d, &kgo.Record{Topic: "orders", Key: []byte{}, Value: []byte("v")}); len(out) != 1 {
		t.Fatalf("an empty key is a key: emitted %s", show(out))
	}
	panics("keyless record to a compacted topic", "Emit of a record with no key to out, a compacted topic of app", func() {
		_, _ = d.Pipe(&kgo.Record{Topic: "orders", Value: []byte("v")})
	})
}

// globalFixture is a broker with an order topic, two global topics with
// other partition counts than the orders (a global table is not
// co-partitioned with anything), an output and a DLQ.
type globalFixture struct {
	k                             stacktest.Kafka
	cl                            *kgo.Client
	orders, alerts, carriers, out string
	dlq                           string
}

func newGlobalFixture(ctx context.Context, t *testing.T, orderPartitions int32) *globalFixture {
	t.Helper()
	k := stacktest.Broker(t)
	f := &globalFixture{k: k, orders: k.Topic("orders"), alerts: k.Topic("alerts"), carriers: k.Topic("carriers"),
		out: k.Topic("out"), dlq: k.Topic("dlq")}
	k.CreateTopics(ctx, t, orderPartitions, f.orders, f.out, f.dlq)
	k.CreateTopics(ctx, t, 3, f.alerts)
	k.CreateTopics(ctx, t, 1, f.carriers)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	f.cl = cl
	return f
}

func (f *globalFixture) produce(ctx context.Context, t *testing.T, recs ...*kgo.Record) {
	t.Helper()
	if err := f.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func (f *globalFixture) config(instance string) stream.Config {
	return stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(f.k.Brokers...)}, Instance: instance, DLQ: f.dlq, Workers: 4}
}

// outputs reads the committed outputs: order id -> value.
func (f *globalFixture) outputs(ctx context.Context, t *testing.T) map[string]string {
	got := map[string]string{}
	for _, r := range f.k.ReadCommitted(ctx, t, f.out) {
		got[string(r.Key)] = string(r.Value)
	}
	return got
}

func rec(topic, key, value string) *kgo.Record {
	var v []byte
	if value != "" {
		v = []byte(value)
	}
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: v}
}

// TestGlobalTableRestoredBeforeFirstRecord writes the facts, tombstones and
// an aborted transaction's facts before the processor starts, then the
// orders: every order, the first one included, sees exactly the committed
// facts, and the metrics count what was read and what the tables hold.
func TestGlobalTableRestoredBeforeFirstRecord(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newGlobalFixture(ctx, t, 2)
	var facts []*kgo.Record
	for i := range 300 {
		facts = append(facts, rec(f.alerts, "sku"+strconv.Itoa(i%100), "alert"+strconv.Itoa(i)))
	}
	for i := range 10 {
		facts = append(facts, rec(f.alerts, "sku"+strconv.Itoa(i), "")) // tombstones: sku0..sku9 are gone
	}
	facts = append(facts, rec(f.carriers, "dhl", "up"), rec(f.carriers, "ups", "down"))
	f.produce(ctx, t, facts...)
	// A transactional writer's aborted facts are never seen (read_committed).
	tx, err := kgo.NewClient(kgo.SeedBrokers(f.k.Brokers...), kgo.TransactionalID(f.k.Prefix+"aborting"))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	if err := tx.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := tx.ProduceSync(ctx, rec(f.carriers, "dhl", "aborted"), rec(f.alerts, "sku50", "aborted")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := tx.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}

	want := map[string]string{}
	var orders []*kgo.Record
	for i := range 400 {
		id, sku, carrier := "o"+strconv.Itoa(i), "sku"+strconv.Itoa(i%110), []string{"dhl", "ups", "gls"}[i%3]
		alert := "-"
		if n := i % 110; n >= 10 && n < 100 {
			alert = "alert" + strconv.Itoa(200+n)
		}
		health := map[string]string{"dhl": "up", "ups": "down", "gls": "-"}[carrier]
		want[id] = alert + " " + health + " [dhl ups]"
		orders = append(orders, rec(f.orders, id, sku+" "+carrier))
	}
	f.produce(ctx, t, orders...)

	app := f.k.Prefix + "enrich"
	reg := prometheus.NewRegistry()
	cfg := f.config("i")
	cfg.Registerer = reg
	var values map[string]float64
	runUntil(ctx, t, enrichOrders(app, f.orders, f.alerts, f.carriers, f.out), cfg, func() bool {
		if !f.k.Consumed(ctx, t, app, f.orders) {
			return false
		}
		values = gatherByTopic(t, reg) // while running: the gauges read the live tables
		return true
	})
	got := f.outputs(ctx, t)
	if len(got) != len(want) {
		t.Fatalf("%d outputs, want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("order %s: %q, want %q", id, got[id], w)
		}
	}
	for name, w := range map[string]float64{
		"creatorflow_stream_global_records_total " + f.alerts:   310,
		"creatorflow_stream_global_records_total " + f.carriers: 2,
		"creatorflow_stream_global_entries " + f.alerts:         90,
		"creatorflow_stream_global_entries " + f.carriers:       2,
	} {
		if values[name] != w {
			t.Errorf("%s = %v, want %v", name, values[name], w)
		}
	}
}

// gatherByTopic reads the registry's counters and gauges by "name topic".
func gatherByTopic(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "topic" {
					name += " " + l.GetValue()
				}
			}
			values[name] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return values
}

// TestGlobalTableUpdatedWhileRunning starts the processor on empty global
// topics, then writes a fact, a new value and a tombstone while it runs:
// orders sent after each eventually see it.
func TestGlobalTableUpdatedWhileRunning(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newGlobalFixture(ctx, t, 2)
	app := f.k.Prefix + "enrich"
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		errc <- stream.Run(runCtx, enrichOrders(app, f.orders, f.alerts, f.carriers, f.out), f.config("i"))
	}()
	probes := 0
	// eventually sends an order every 100 ms until one's output is want.
	eventually := func(fact *kgo.Record, want string) {
		t.Helper()
		f.produce(ctx, t, fact)
		for start := time.Now(); ; {
			probes++
			id := "probe" + strconv.Itoa(probes)
			f.produce(ctx, t, rec(f.orders, id, "sku1 dhl"))
			time.Sleep(100 * time.Millisecond)
			if got := f.outputs(ctx, t)[id]; got == want {
				t.Logf("%s=%q seen after %v", fact.Key, fact.Value, time.Since(start).Round(time.Millisecond))
				return
			}
			select {
			case err := <-errc:
				t.Fatalf("Run ended: %v", err)
			case <-ctx.Done():
				t.Fatalf("never saw %s=%q: the last order got %q", fact.Key, fact.Value, f.outputs(ctx, t)[id])
			default:
			}
		}
	}
	eventually(rec(f.carriers, "ups", "up"), "- - [ups]")
	eventually(rec(f.carriers, "dhl", "up"), "- up [dhl ups]")
	eventually(rec(f.alerts, "sku1", "low-stock"), "low-stock up [dhl ups]")
	eventually(rec(f.carriers, "dhl", "down"), "low-stock down [dhl ups]")
	eventually(rec(f.carriers, "dhl", ""), "low-stock - [ups]")
	eventually(rec(f.alerts, "sku1", ""), "- - [ups]")
	stop()
	if err := <-errc; err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

// TestGlobalTableOnEveryInstance runs two instances of one application,
// which share the two order partitions: each sees the whole global tables,
// read from all their partitions, whatever order partitions it owns.
func TestGlobalTableOnEveryInstance(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := newGlobalFixture(ctx, t, 2)
	var facts []*kgo.Record
	var skus []string
	for i := range 60 { // over the 3 partitions of the alerts
		sku := "sku" + strconv.Itoa(i)
		skus = append(skus, sku)
		facts = append(facts, rec(f.alerts, sku, "alert"+strconv.Itoa(i)))
	}
	slices.Sort(skus)
	f.produce(ctx, t, facts...)
	app := f.k.Prefix + "enrich"
	// Each instance emits its name, the partition and whether it saw every
	// alert.
	topology := func(instance string) stream.Topology {
		topo := enrichOrders(app, f.orders, f.alerts, f.carriers, f.out)
		topo.Process = func(c *stream.Context, r *kgo.Record) error {
			seen := 0
			for _, sku := range skus {
				if v, ok := c.Global(f.alerts, sku); ok && string(v) == "alert"+strings.TrimPrefix(sku, "sku") {
					seen++
				}
			}
			all := slices.Equal(c.GlobalKeys(f.alerts), skus) && seen == len(skus)
			c.Emit(&kgo.Record{Topic: f.out, Key: r.Key, Value: fmt.Appendf(nil, "%s %d %v", instance, c.Partition(), all)})
			return nil
		}
		return topo
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, instance := range []string{"a", "b"} {
		wg.Go(func() { errs[i] = stream.Run(runCtx, topology(instance), f.config(instance)) })
	}
	// Orders to both partitions until each instance has processed some
	// (the group hands partitions over as the second instance joins).
	owners := map[string]map[string]bool{} // instance -> partitions it processed
	for n := 0; len(owners) < 2; n++ {
		if ctx.Err() != nil {
			t.Fatalf("both instances did not process orders in time: %v", owners)
		}
		var batch []*kgo.Record
		for i := range 8 { // eight keys: both partitions
			batch = append(batch, rec(f.orders, fmt.Sprintf("o%d-%d", n, i), "sku1 dhl"))
		}
		f.produce(ctx, t, batch...)
		time.Sleep(200 * time.Millisecond)
		owners = map[string]map[string]bool{}
		for id, v := range f.outputs(ctx, t) {
			fields := strings.Fields(v)
			if fields[2] != "true" {
				t.Fatalf("order %s: instance %s in partition %s did not see the whole alerts table", id, fields[0], fields[1])
			}
			if owners[fields[0]] == nil {
				owners[fields[0]] = map[string]bool{}
			}
			owners[fields[0]][fields[1]] = true
		}
	}
	stop()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	t.Logf("partitions processed by instance: %v", owners)
}
