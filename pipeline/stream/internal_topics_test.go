package stream_test

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
)

// repartition returns the two topologies of a repartitioning: by content
// (keyed by content id, each record's value a SKU) re-keys every record by
// SKU onto the internal topic bySKU, and by SKU counts each SKU's records
// there. Both declare the internal topic with the same spec; audit is an
// internal output of the SKU side with the default retention.
func repartition(prefix, in, bySKU, audit, out string, partitions int32) (byContent, bySKUSide stream.Topology) {
	spec := stream.TopicSpec{Name: bySKU, Partitions: partitions, Retention: 90 * time.Minute}
	byContent = stream.Topology{
		Application: prefix + "by-content", Inputs: []string{in}, Outputs: []string{bySKU},
		Internal: []stream.TopicSpec{spec},
		Process: func(c *stream.Context, r *kgo.Record) error {
			c.Emit(&kgo.Record{Topic: bySKU, Key: r.Value, Value: r.Key})
			return nil
		},
	}
	bySKUSide = counting(prefix+"by-sku", bySKU, out, 0)
	bySKUSide.Outputs = append(bySKUSide.Outputs, audit)
	bySKUSide.Internal = []stream.TopicSpec{spec, {Name: audit, Partitions: 1}}
	return byContent, bySKUSide
}

// TestInternalRepartitionTopic runs both sides of a repartitioning at once:
// whichever starts first creates the internal topic (the other finds it
// created), with the spec's partitions and retention as a delete topic, and
// every SKU is counted exactly once in one partition, whatever content its
// records came from.
func TestInternalRepartitionTopic(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	in, bySKU, audit, out, dlq := k.Topic("content"), k.Topic("by-sku"), k.Topic("audit"), k.Topic("out"), k.Topic("dlq")
	k.CreateTopics(ctx, t, 2, in, out, dlq)
	expected := map[string]int{}
	var recs []*kgo.Record
	for i := range 3000 {
		sku := "sku" + strconv.Itoa(i*7%37)
		expected[sku]++
		recs = append(recs, &kgo.Record{Topic: in, Key: []byte("content" + strconv.Itoa(i%101)), Value: []byte(sku)})
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	byContent, bySKUSide := repartition(k.Prefix, in, bySKU, audit, out, 3)
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "i", DLQ: dlq, Workers: 4}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, 2)
	for _, topo := range []stream.Topology{byContent, bySKUSide} {
		go func() { errs <- stream.Run(runCtx, topo, cfg) }()
	}
	// The SKU side is done when every record has been counted: its group's
	// committed offsets stop short of the internal topic's end, which is
	// the by-content side's last commit marker.
	for !k.Consumed(ctx, t, byContent.Application, in) || len(k.ReadCommitted(ctx, t, out)) < len(recs) {
		select {
		case err := <-errs:
			t.Fatalf("a side ended by itself: %v", err)
		case <-ctx.Done():
			t.Fatal("did not finish in time")
		case <-time.After(100 * time.Millisecond):
		}
	}
	stop()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("graceful stop: %v", err)
		}
	}

	details, err := k.Admin.ListTopics(ctx, bySKU, audit)
	if err != nil {
		t.Fatal(err)
	}
	configs, err := k.Admin.DescribeTopicConfigs(ctx, bySKU, audit)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]struct {
		partitions int
		retention  string
	}{bySKU: {3, "5400000"}, audit: {1, "604800000"}} {
		if n := len(details[topic].Partitions); n != want.partitions {
			t.Errorf("%s has %d partitions, want %d", topic, n, want.partitions)
		}
		rc, err := configs.On(topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range rc.Configs {
			got[c.Key] = c.MaybeValue()
		}
		if got["cleanup.policy"] != "delete" || got["retention.ms"] != want.retention {
			t.Errorf("%s: cleanup.policy %q retention.ms %q, want delete and %s", topic, got["cleanup.policy"], got["retention.ms"], want.retention)
		}
	}
	// Every record of a SKU went to one partition of the internal topic,
	// the one a keyed producer picks, so its count went 1..n there.
	d, err := stream.NewDriver(bySKUSide, stream.DriverConfig{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range k.ReadCommitted(ctx, t, bySKU) {
		if want := d.Partition(r.Key); r.Partition != want {
			t.Fatalf("%s in partition %d of %s, want %d", r.Key, r.Partition, bySKU, want)
		}
	}
	got := map[string][]string{}
	for _, r := range k.ReadCommitted(ctx, t, out) {
		got[string(r.Key)] = append(got[string(r.Key)], string(r.Value))
	}
	if len(got) != len(expected) {
		t.Fatalf("outputs for %d SKUs, want %d", len(got), len(expected))
	}
	for sku, n := range expected {
		vs := got[sku]
		for i, v := range vs {
			if v != strconv.Itoa(i+1) || len(vs) != n {
				t.Fatalf("%s: outputs %v, want 1..%d", sku, vs, n)
			}
		}
	}
}

// TestInternalTopicMismatches checks that Run refuses an internal topic
// that exists with other partitions or another cleanup policy than its
// spec, and an internal input that is not co-partitioned with the other
// inputs, naming both counts or policies, and that the internal topic is
// created before the co-partitioning check. A global topic must exist and
// not be an input.
func TestInternalTopicMismatches(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	other, existing, fresh, out := k.Topic("other"), k.Topic("existing"), k.Topic("fresh"), k.Topic("out")
	compacted, missing := k.Topic("compacted"), k.Topic("missing")
	k.CreateTopics(ctx, t, 2, other, out)
	k.CreateTopics(ctx, t, 4, existing)
	compact := "compact"
	if _, err := k.Admin.CreateTopic(ctx, 2, -1, map[string]*string{"cleanup.policy": &compact}, compacted); err != nil {
		t.Fatal(err)
	}
	noop := func(*stream.Context, *kgo.Record) error { return nil }
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "i", DLQ: out}
	for _, tc := range []struct {
		name string
		topo stream.Topology
		want string
	}{
		{"existing topic, other partitions",
			stream.Topology{Inputs: []string{existing}, Internal: []stream.TopicSpec{{Name: existing, Partitions: 3}}},
			"internal topic " + existing + " has 4 partitions, its spec 3"},
		{"output with other partitions",
			stream.Topology{Inputs: []string{other}, Outputs: []string{existing}, Internal: []stream.TopicSpec{{Name: existing, Partitions: 2}}},
			"internal topic " + existing + " has 4 partitions, its spec 2"},
		{"new internal input not co-partitioned",
			stream.Topology{Inputs: []string{other, fresh}, Internal: []stream.TopicSpec{{Name: fresh, Partitions: 3}}},
			"inputs are not co-partitioned: " + other + " has 2 partitions, " + fresh + " has 3"},
		{"undeclared",
			stream.Topology{Inputs: []string{other}, Internal: []stream.TopicSpec{{Name: fresh, Partitions: 2}}},
			"internal topic " + fresh + " is neither an input nor an output"},
		{"existing delete topic, spec compacted",
			stream.Topology{Inputs: []string{other}, Outputs: []string{out}, Internal: []stream.TopicSpec{{Name: out, Partitions: 2, Compact: true}}},
			"internal topic " + out + " has cleanup.policy delete, its spec compact"},
		{"existing compacted topic, spec delete",
			stream.Topology{Inputs: []string{other}, Outputs: []string{compacted}, Internal: []stream.TopicSpec{{Name: compacted, Partitions: 2}}},
			"internal topic " + compacted + " has cleanup.policy compact, its spec delete"},
		{"missing global topic",
			stream.Topology{Inputs: []string{other}, Globals: []string{compacted, missing}},
			"global topic " + missing + " does not exist"},
		{"global topic is an input",
			stream.Topology{Inputs: []string{other}, Globals: []string{other}},
			"global topic " + other + " is also an input"},
	} {
		tc.topo.Application, tc.topo.Process = k.Prefix+"app", noop
		err := stream.Run(ctx, tc.topo, cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// The co-partitioning case created its internal topic first.
	details, err := k.Admin.ListTopics(ctx, fresh)
	if err != nil || details[fresh].Err != nil || len(details[fresh].Partitions) != 3 {
		t.Fatalf("internal topic %s: %v %+v", fresh, err, details[fresh])
	}
}

// TestInternalCompactTopic runs a topology whose internal output is a
// compacted state topic (each carrier's latest health): Run creates it with
// cleanup.policy=compact and no retention of its own, a second application
// declaring the same spec accepts the existing topic, and the topic holds
// every key's latest value, which a third application reads back as a
// global table.
func TestInternalCompactTopic(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	in, health, orders, out, dlq := k.Topic("probes"), k.Topic("carrier-health"), k.Topic("orders"), k.Topic("out"), k.Topic("dlq")
	k.CreateTopics(ctx, t, 2, in, orders, out, dlq)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var probes []*kgo.Record
	latest := map[string]string{}
	for i := range 200 {
		carrier, status := "carrier"+strconv.Itoa(i%10), []string{"up", "degraded", "down"}[i%3]
		latest[carrier] = status
		probes = append(probes, &kgo.Record{Topic: in, Key: []byte(carrier), Value: []byte(status)})
	}
	if err := cl.ProduceSync(ctx, probes...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	spec := stream.TopicSpec{Name: health, Partitions: 3, Compact: true}
	healthOf := func(app string) stream.Topology {
		return stream.Topology{Application: app, Inputs: []string{in}, Outputs: []string{health},
			Internal: []stream.TopicSpec{spec},
			Process: func(c *stream.Context, r *kgo.Record) error {
				c.Emit(&kgo.Record{Topic: health, Key: r.Key, Value: r.Value})
				return nil
			}}
	}
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "i", DLQ: dlq}
	for _, app := range []string{k.Prefix + "health", k.Prefix + "health-again"} {
		runUntil(ctx, t, healthOf(app), cfg, func() bool { return k.Consumed(ctx, t, app, in) })
	}
	configs, err := k.Admin.DescribeTopicConfigs(ctx, health)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := configs.On(health, nil)
	if err != nil || rc.Err != nil {
		t.Fatal(err, rc.Err)
	}
	for _, c := range rc.Configs {
		switch {
		case c.Key == "cleanup.policy" && c.MaybeValue() != "compact":
			t.Errorf("cleanup.policy %q, want compact", c.MaybeValue())
		case c.Key == "retention.ms" && c.Source.String() == "DYNAMIC_TOPIC_CONFIG":
			t.Errorf("retention.ms %q set on a compacted topic", c.MaybeValue())
		}
	}
	got := map[string]string{}
	for _, r := range k.ReadCommitted(ctx, t, health) {
		got[string(r.Key)] = string(r.Value)
	}
	if !maps.Equal(got, latest) {
		t.Fatalf("latest values %v, want %v", got, latest)
	}
	// An order processor joins orders with the health as a global table.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: orders, Key: []byte("o1"), Value: []byte("carrier4")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	app := k.Prefix + "orders"
	topo := stream.Topology{Application: app, Inputs: []string{orders}, Outputs: []string{out}, Globals: []string{health},
		Process: func(c *stream.Context, r *kgo.Record) error {
			v, _ := c.Global(health, string(r.Value))
			c.Emit(&kgo.Record{Topic: out, Key: r.Key, Value: v})
			return nil
		}}
	runUntil(ctx, t, topo, cfg, func() bool { return k.Consumed(ctx, t, app, orders) })
	if o := k.ReadCommitted(ctx, t, out); len(o) != 1 || string(o[0].Value) != latest["carrier4"] {
		t.Fatalf("order output %v, want carrier4's health %s", o, latest["carrier4"])
	}
}
