package stream_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
)

// counting is a topology that counts records per key and emits each new
// count: its exactly-once oracle is simple, every key's outputs are exactly
// 1, 2, ..., n in order, whatever crashes happened. Every record takes at
// least pace, so that the tests' crashes land in the middle of the work
// however fast the machine is.
func counting(app, in, out string, pace time.Duration) stream.Topology {
	counts := stream.KV[int]{Store: "counts", Codec: stream.JSON[int]{}}
	return stream.Topology{
		Application: app, Inputs: []string{in}, Outputs: []string{out},
		Stores: []stream.StoreSpec{{Name: "counts"}},
		Process: func(c *stream.Context, r *kgo.Record) error {
			if pace > 0 {
				time.Sleep(pace)
			}
			n, _, err := counts.Get(c, string(r.Key))
			if err != nil {
				return err
			}
			n++
			if err := counts.Put(c, string(r.Key), n); err != nil {
				return err
			}
			c.Emit(&kgo.Record{Topic: out, Key: r.Key, Value: []byte(strconv.Itoa(n))})
			return nil
		},
	}
}

type fixture struct {
	k        stacktest.Kafka
	in, out  string
	dlq      string
	expected map[string]int
}

func newFixture(t *testing.T, records, keys int, partitions int32) *fixture {
	t.Helper()
	k := stacktest.Broker(t)
	f := &fixture{k: k, in: k.Topic("in"), out: k.Topic("out"), dlq: k.Topic("dlq"), expected: map[string]int{}}
	ctx := context.Background()
	k.CreateTopics(ctx, t, partitions, f.in, f.out, f.dlq)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]*kgo.Record, 0, records)
	for i := range records {
		key := fmt.Sprintf("k%05d", rng.IntN(keys))
		f.expected[key]++
		batch = append(batch, &kgo.Record{Topic: f.in, Key: []byte(key), Value: []byte(strconv.Itoa(i))})
	}
	if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) config(instance string) stream.Config {
	// Four workers whatever the machine's cores, so that the crew's
	// hand-offs are exercised everywhere.
	return stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(f.k.Brokers...)}, Instance: instance, DLQ: f.dlq, MaxPollRecords: 500, Workers: 4}
}

// done reports whether the application has committed every input record.
func (f *fixture) done(ctx context.Context, t *testing.T, app string) bool {
	return f.k.Consumed(ctx, t, app, f.in)
}

// outputs reads the committed output, up to the end offsets at the time of
// the call: key -> values in order. Transaction markers are read too (and
// skipped), since they often hold a partition's last offset.
func (f *fixture) outputs(ctx context.Context, t *testing.T, topic string) map[string][]string {
	got := map[string][]string{}
	for _, r := range f.k.ReadCommitted(ctx, t, topic) {
		got[string(r.Key)] = append(got[string(r.Key)], string(r.Value))
	}
	return got
}

func (f *fixture) checkCounts(ctx context.Context, t *testing.T) {
	t.Helper()
	got := f.outputs(ctx, t, f.out)
	if len(got) != len(f.expected) {
		t.Fatalf("outputs for %d keys, want %d", len(got), len(f.expected))
	}
	for key, n := range f.expected {
		vs := got[key]
		if len(vs) != n {
			t.Fatalf("key %s: %d outputs, want %d (%v)", key, len(vs), n, vs)
		}
		for i, v := range vs {
			if v != strconv.Itoa(i+1) {
				t.Fatalf("key %s: outputs %v, want 1..%d exactly once", key, vs, n)
			}
		}
	}
}

// TestExactlyOnceAcrossStops stops the processor gracefully at random
// moments and restarts it: the committed output equals the exactly-once
// oracle.
func TestExactlyOnceAcrossStops(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := newFixture(t, 20000, 2000, 4)
	app := f.k.Prefix + "count"
	topo := counting(app, f.in, f.out, 200*time.Microsecond) // 4 s of work
	rng := rand.New(rand.NewPCG(3, 4))
	stops := 0
	for !f.done(ctx, t, app) {
		if ctx.Err() != nil {
			t.Fatal("did not finish")
		}
		deadline := time.Now().Add(time.Duration(800+rng.IntN(1200)) * time.Millisecond)
		runUntil(ctx, t, topo, f.config("i1"), func() bool { return time.Now().After(deadline) })
		stops++
	}
	if stops < 3 {
		t.Fatalf("only %d stops happened; the test proves nothing", stops)
	}
	t.Logf("finished after %d stops", stops)
	f.checkCounts(ctx, t)
}

// TestExactlyOnceAcrossKills runs the processor in a child process and
// kills it with SIGKILL at random moments, mid-transaction or not, then
// starts a new one: the committed output equals the exactly-once oracle.
func TestExactlyOnceAcrossKills(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := newFixture(t, 20000, 2000, 4) // 4 s of work at the child's pace
	app := f.k.Prefix + "count"
	rng := rand.New(rand.NewPCG(5, 6))
	kills := 0
	for !f.done(ctx, t, app) {
		if ctx.Err() != nil {
			t.Fatal("did not finish")
		}
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildProcessor$")
		cmd.Env = append(os.Environ(), "STREAM_CHILD=1", "STREAM_BROKERS="+strings.Join(f.k.Brokers, ","),
			"STREAM_APP="+app, "STREAM_IN="+f.in, "STREAM_OUT="+f.out, "STREAM_DLQ="+f.dlq)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-time.After(time.Duration(1000+rng.IntN(1500)) * time.Millisecond):
			_ = cmd.Process.Kill()
			<-exited
			kills++
		case err := <-exited:
			t.Fatalf("child exited by itself (%v):\n%s", err, out.String())
		}
	}
	if kills < 3 {
		t.Fatalf("only %d kills happened; the test proves nothing", kills)
	}
	t.Logf("finished after %d kills", kills)
	f.checkCounts(ctx, t)
}

// TestChildProcessor is the processor TestExactlyOnceAcrossKills runs and
// kills; it does nothing unless started by that test.
func TestChildProcessor(t *testing.T) {
	if os.Getenv("STREAM_CHILD") != "1" {
		t.Skip("run by TestExactlyOnceAcrossKills")
	}
	topo := counting(os.Getenv("STREAM_APP"), os.Getenv("STREAM_IN"), os.Getenv("STREAM_OUT"), 200*time.Microsecond)
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(strings.Split(os.Getenv("STREAM_BROKERS"), ",")...)},
		Instance: "child", StaticMembership: true, DLQ: os.Getenv("STREAM_DLQ"), MaxPollRecords: 500, Workers: 4}
	if err := stream.Run(context.Background(), topo, cfg); err != nil {
		t.Fatal(err)
	}
}

// TestAtLeastOnce runs the same topology without transactions: with no
// crash, the result is the same.
func TestAtLeastOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newFixture(t, 20000, 1000, 4)
	app := f.k.Prefix + "count"
	cfg := f.config("a")
	cfg.AtLeastOnce = true
	runUntil(ctx, t, counting(app, f.in, f.out, 0), cfg, func() bool { return f.done(ctx, t, app) })
	f.checkCounts(ctx, t)
}

// TestPunctuationAndMetrics checks that wall-clock punctuation runs without
// input records and that the runtime's metrics are exposed.
func TestPunctuationAndMetrics(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := newFixture(t, 10, 5, 2)
	app := f.k.Prefix + "punct"
	topo := counting(app, f.in, f.out, 0)
	topo.PunctuateEvery = 50 * time.Millisecond
	topo.Punctuate = func(c *stream.Context) error {
		c.Emit(&kgo.Record{Topic: f.out, Key: []byte("heartbeat"), Value: []byte(strconv.Itoa(int(c.Partition())))})
		return nil
	}
	reg := prometheus.NewRegistry()
	cfg := f.config("p")
	cfg.Registerer = reg
	var mfs []*dto.MetricFamily
	runUntil(ctx, t, topo, cfg, func() bool {
		if !f.done(ctx, t, app) || len(f.outputs(ctx, t, f.out)["heartbeat"]) < 4 {
			return false
		}
		var err error
		mfs, err = reg.Gather() // before stopping: a stopped instance owns no state
		return err == nil
	})
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				values[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				values[mf.GetName()] += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				values[mf.GetName()] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for name, atLeast := range map[string]float64{
		"creatorflow_stream_records_in_total":             10,
		"creatorflow_stream_store_entries":                5,
		"creatorflow_stream_transaction_duration_seconds": 1,
		"creatorflow_stream_restore_duration_seconds":     1,
		"creatorflow_stream_end_to_end_latency_seconds":   1,
		"creatorflow_stream_records_out_total":            14,
	} {
		if values[name] < atLeast {
			t.Errorf("%s = %v, want at least %v", name, values[name], atLeast)
		}
	}
	if _, ok := values["creatorflow_stream_consumer_lag_records"]; !ok {
		t.Error("no consumer lag gauge")
	}
}

// TestRebalance runs two instances; one stops mid-stream, the other takes
// its partitions over, restores their state and finishes exactly once.
func TestRebalance(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := newFixture(t, 20000, 500, 4)
	app := f.k.Prefix + "count"
	topo := counting(app, f.in, f.out, 100*time.Microsecond)
	var wg sync.WaitGroup
	ctx1, stop1 := context.WithCancel(ctx)
	ctx2, stop2 := context.WithCancel(ctx)
	defer stop2()
	var err1, err2 error
	wg.Go(func() { err1 = stream.Run(ctx1, topo, f.config("a")) })
	wg.Go(func() { err2 = stream.Run(ctx2, topo, f.config("b")) })
	time.Sleep(1500 * time.Millisecond)
	stop1()
	for !f.done(ctx, t, app) {
		if ctx.Err() != nil {
			t.Fatal("did not finish")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop2()
	wg.Wait()
	if err2 != nil {
		t.Fatalf("the remaining instance failed: %v (first: %v)", err2, err1)
	}
	f.checkCounts(ctx, t)
}

// windowedSum sums values per key in tumbling windows and emits each
// window's final sum when stream time passes its end plus grace.
func windowedSum(app, in, out string, w stream.Windows) stream.Topology {
	return stream.Topology{
		Application: app, Inputs: []string{in}, Outputs: []string{out},
		Stores:  []stream.StoreSpec{{Name: "sums"}},
		Windows: &w,
		Process: func(c *stream.Context, r *kgo.Record) error {
			v, err := strconv.Atoi(string(r.Value))
			if err != nil {
				return fmt.Errorf("value %q: %w", r.Value, err)
			}
			for _, win := range c.Windows() {
				k := stream.WindowKey(win.Start, string(r.Key))
				sum := 0
				if b, ok := c.Get("sums", k); ok {
					sum = int(binary.BigEndian.Uint64(b))
				}
				b := make([]byte, 8)
				binary.BigEndian.PutUint64(b, uint64(sum+v))
				c.Put("sums", k, b)
				c.Schedule(k, win.End.Add(w.Grace))
			}
			return nil
		},
		OnTimer: func(c *stream.Context, tm stream.Timer) error {
			start, key, _ := stream.ParseWindowKey(tm.ID)
			b, _ := c.Get("sums", tm.ID)
			c.Delete("sums", tm.ID)
			c.Emit(&kgo.Record{Topic: out, Key: []byte(key),
				Value: fmt.Appendf(nil, "%s=%d", start.Format("15:04:05"), binary.BigEndian.Uint64(b))})
			return nil
		},
	}
}

// TestWindowsLateRecordsAndReplay feeds out-of-order records with a grace
// period: records within grace count, a late one goes to the DLQ, each
// window's sum is emitted once when it closes, and replaying the same input
// under a new application gives byte-identical output.
func TestWindowsLateRecordsAndReplay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newFixture(t, 0, 1, 1)
	base := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	events := []struct {
		key string
		at  time.Duration
		v   int
	}{
		{"a", 10 * time.Second, 1},
		{"a", 50 * time.Second, 2},
		{"b", 30 * time.Second, 5},
		{"a", 65 * time.Second, 4},  // window 10:01
		{"a", 55 * time.Second, 8},  // out of order, within grace: window 10:00
		{"a", 75 * time.Second, 16}, // stream time 10:01:15 closes 10:00 (end 10:01 + 10 s grace)
		{"a", 20 * time.Second, 32}, // late: 10:00 is closed
		{"b", 200 * time.Second, 1}, // window 10:03; closes 10:01
		{"a", 400 * time.Second, 0}, // window 10:06, stays open; closes 10:03
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, e := range events {
		rec := &kgo.Record{Topic: f.in, Key: []byte(e.key), Value: []byte(strconv.Itoa(e.v)),
			Headers: []kgo.RecordHeader{{Key: "ce_time", Value: []byte(base.Add(e.at).Format(time.RFC3339Nano))}}}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	w := stream.Tumbling(time.Minute, 10*time.Second)
	run := func(app string) []string {
		out := f.k.Topic(app + "-out")
		f.k.CreateTopics(ctx, t, 1, out)
		runUntil(ctx, t, windowedSum(f.k.Prefix+app, f.in, out, w), f.config("i"), func() bool { return f.done(ctx, t, f.k.Prefix+app) })
		var lines []string
		for key, vs := range f.outputs(ctx, t, out) {
			lines = append(lines, key+": "+strings.Join(vs, " "))
		}
		sort.Strings(lines)
		return lines
	}
	live := run("live")
	want := []string{"a: 10:00:00=11 10:01:00=20", "b: 10:00:00=5 10:03:00=1"}
	if strings.Join(live, "\n") != strings.Join(want, "\n") {
		t.Fatalf("window outputs:\n%s\nwant:\n%s", strings.Join(live, "\n"), strings.Join(want, "\n"))
	}
	dlq := f.outputs(ctx, t, f.dlq)
	if len(dlq["a"]) != 1 || dlq["a"][0] != "32" {
		t.Fatalf("DLQ holds %v, want the late record (32)", dlq)
	}
	if replay := run("replay"); strings.Join(replay, "\n") != strings.Join(live, "\n") {
		t.Fatalf("replay differs:\n%s\nlive:\n%s", strings.Join(replay, "\n"), strings.Join(live, "\n"))
	}
}

// runUntil runs topo until until reports true, then stops it gracefully.
func runUntil(ctx context.Context, t *testing.T, topo stream.Topology, cfg stream.Config, until func() bool) {
	t.Helper()
	stacktest.RunUntil(ctx, t, func(ctx context.Context) error { return stream.Run(ctx, topo, cfg) }, until)
}

// TestPrefetchAndTransientErrors runs the counting topology behind a batch
// lookup that fails for a while: a transient failure aborts the transaction
// and the records come again after a back-off, none goes to the DLQ, and the
// result is still exactly once; every record's call sees its batch's
// prefetched answer.
func TestPrefetchAndTransientErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newFixture(t, 5000, 500, 4)
	app := f.k.Prefix + "count"
	var outages atomic.Int64
	topo := counting(app, f.in, f.out, 0)
	count := topo.Process
	topo.Prefetch = func(_ context.Context, recs []*kgo.Record) any {
		// The "service" is down for the first two batches it is asked for.
		if outages.Add(1) <= 2 {
			return errors.New("service unavailable")
		}
		keys := map[string]bool{}
		for _, r := range recs {
			keys[string(r.Key)] = true
		}
		return keys
	}
	topo.Process = func(c *stream.Context, r *kgo.Record) error {
		switch got := c.Prefetched().(type) {
		case error:
			return stream.Transient(got)
		case map[string]bool:
			if !got[string(r.Key)] {
				return fmt.Errorf("record %s was not in its prefetched batch", r.Key)
			}
		default:
			return fmt.Errorf("prefetched %T", got)
		}
		return count(c, r)
	}
	reg := prometheus.NewRegistry()
	cfg := f.config("a")
	cfg.Registerer = reg
	runUntil(ctx, t, topo, cfg, func() bool { return f.done(ctx, t, app) })
	f.checkCounts(ctx, t)
	if dlq := f.outputs(ctx, t, f.dlq); len(dlq) != 0 {
		t.Fatalf("DLQ holds %d keys; transient failures must not go there", len(dlq))
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "creatorflow_stream_transient_retries_total" {
			n = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if n < 1 {
		t.Fatalf("%v transient retries counted, want at least 1", n)
	}
}
