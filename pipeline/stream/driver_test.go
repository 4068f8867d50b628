package stream_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
)

var driverBase = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// at is an input record of topic with a ce_time header driverBase+offset.
func at(topic, key, value string, offset time.Duration) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value), Timestamp: driverBase,
		Headers: []kgo.RecordHeader{{Key: "ce_time", Value: []byte(driverBase.Add(offset).Format(time.RFC3339Nano))}}}
}

// show renders records as "topic key=value" lines, DLQ records with their
// error and origin headers, so a test compares them at a glance.
func show(recs []*kgo.Record) string {
	var lines []string
	for _, r := range recs {
		line := r.Topic + " " + string(r.Key) + "=" + string(r.Value)
		for _, h := range r.Headers {
			switch h.Key {
			case stream.HeaderDLQError, stream.HeaderDLQTopic, stream.HeaderDLQPartition, stream.HeaderDLQOffset:
				line += " " + h.Key + ":" + string(h.Value)
			}
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func newDriver(t testing.TB, topo stream.Topology, cfg stream.DriverConfig) *stream.Driver {
	t.Helper()
	d, err := stream.NewDriver(topo, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// pipe pipes records and returns everything emitted, failing on an error.
func pipe(t testing.TB, d *stream.Driver, recs ...*kgo.Record) []*kgo.Record {
	t.Helper()
	var all []*kgo.Record
	for _, r := range recs {
		out, err := d.Pipe(r)
		if err != nil {
			t.Fatalf("pipe %s: %v", r.Key, err)
		}
		all = append(all, out...)
	}
	return all
}

// TestDriverCounts runs the counting topology (the exactly-once tests'
// oracle) through the Driver: every key's outputs are 1..n in order, a
// record that fails goes to the DLQ with its offset, and the committed
// store holds the counts in the key's partition.
func TestDriverCounts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		partitions int32
		keys       []string
		want       string
	}{
		{"one partition", 1, []string{"a", "b", "a", "a", "b"},
			"out a=1\nout b=1\nout a=2\nout a=3\nout b=2"},
		{"four partitions", 4, []string{"a", "b", "c", "a", "d", "c", "a"},
			"out a=1\nout b=1\nout c=1\nout a=2\nout d=1\nout c=2\nout a=3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, counting("app", "in", "out", 0), stream.DriverConfig{Partitions: tc.partitions})
			var recs []*kgo.Record
			want := map[string]int{}
			for _, k := range tc.keys {
				recs = append(recs, &kgo.Record{Topic: "in", Key: []byte(k), Timestamp: driverBase})
				want[k]++
			}
			if got := show(pipe(t, d, recs...)); got != tc.want {
				t.Fatalf("outputs:\n%s\nwant:\n%s", got, tc.want)
			}
			for k, n := range want {
				v, ok := d.Get(d.Partition([]byte(k)), "counts", k)
				if !ok || string(v) != strconv.Itoa(n) {
					t.Errorf("store counts[%s] in partition %d = %q, %v; want %d", k, d.Partition([]byte(k)), v, ok, n)
				}
				for p := range tc.partitions {
					if _, ok := d.Get(p, "counts", k); ok != (p == d.Partition([]byte(k))) {
						t.Errorf("key %s found in partition %d: %v", k, p, ok)
					}
				}
			}
		})
	}
}

// TestDriverWindows feeds the events of TestWindowsLateRecordsAndReplay:
// the Driver closes the same windows at the same records, and the late
// record goes to the DLQ with the runtime's headers (its partition and the
// offset the Driver gave it).
func TestDriverWindows(t *testing.T) {
	w := stream.Tumbling(time.Minute, 10*time.Second)
	d := newDriver(t, windowedSum("app", "in", "out", w), stream.DriverConfig{})
	for i, tc := range []struct {
		key   string
		at    time.Duration
		v     string
		emits string
	}{
		{"a", 10 * time.Second, "1", ""},
		{"a", 50 * time.Second, "2", ""},
		{"b", 30 * time.Second, "5", ""},
		{"a", 65 * time.Second, "4", ""},
		{"a", 55 * time.Second, "8", ""},                                     // out of order, within grace
		{"a", 75 * time.Second, "16", "out a=10:00:00=11\nout b=10:00:00=5"}, // closes 10:00
		{"a", 20 * time.Second, "32", "dlq.v1 a=32 dlq_error:late record: event time 2026-11-24T10:00:20Z, stream time 2026-11-24T10:01:15Z, grace 10s dlq_topic:in dlq_partition:0 dlq_offset:6"},
		{"b", 200 * time.Second, "1", "out a=10:01:00=20"}, // closes 10:01
		{"a", 400 * time.Second, "0", "out b=10:03:00=1"},  // closes 10:03
		{"a", 400 * time.Second, "x", `dlq.v1 a=x dlq_error:value "x": strconv.Atoi: parsing "x": invalid syntax dlq_topic:in dlq_partition:0 dlq_offset:9`},
	} {
		out, err := d.Pipe(at("in", tc.key, tc.v, tc.at))
		if err != nil {
			t.Fatal(err)
		}
		if got := show(out); got != tc.emits {
			t.Fatalf("record %d (%s@%v=%s) emitted:\n%s\nwant:\n%s", i, tc.key, tc.at, tc.v, got, tc.emits)
		}
		for _, r := range out {
			// A timer's emits have its time: the window's end plus grace.
			start, _ := time.Parse("2006-01-02 15:04:05", "2026-11-24 "+strings.Split(string(r.Value), "=")[0])
			if r.Topic == "out" && !r.Timestamp.Equal(start.Add(w.Size+w.Grace)) {
				t.Errorf("record %d: emit timestamp %v, want the timer's time", i, r.Timestamp)
			}
			if r.Topic == "dlq.v1" {
				var consumer string
				for _, h := range r.Headers {
					if h.Key == stream.HeaderDLQConsumer {
						consumer = string(h.Value)
					}
				}
				if consumer != "app" || r.Headers[0].Key != "ce_time" {
					t.Errorf("DLQ record %d: headers %v, want its own then the DLQ's with consumer app", i, r.Headers)
				}
			}
		}
	}
	// The window 10:06 is still open: its sum is committed, not emitted.
	open := stream.WindowKey(driverBase.Add(6*time.Minute), "a")
	if v, ok := d.Get(0, "sums", open); !ok || binary.BigEndian.Uint64(v) != 0 {
		t.Fatalf("open window's sum = %v, %v", v, ok)
	}
}

// TestDriverTimers checks that timers fire when the stream time of their
// partition reaches them, in time order and after the emits of the record
// that moved it, and that moving or cancelling a timer takes effect.
func TestDriverTimers(t *testing.T) {
	// Each record's value is a command: "at <seconds>" schedules the
	// timer <key> at that stream time, "cancel" cancels it.
	topo := stream.Topology{
		Application: "timers", Inputs: []string{"in"}, Outputs: []string{"out"},
		Process: func(c *stream.Context, r *kgo.Record) error {
			cmd, arg, _ := strings.Cut(string(r.Value), " ")
			switch cmd {
			case "at":
				s, _ := strconv.Atoi(arg)
				c.Schedule(string(r.Key), driverBase.Add(time.Duration(s)*time.Second))
			case "cancel":
				c.CancelTimer(string(r.Key))
			}
			c.Emit(&kgo.Record{Topic: "out", Key: r.Key, Value: []byte("saw " + string(r.Value))})
			return nil
		},
		OnTimer: func(c *stream.Context, tm stream.Timer) error {
			c.Emit(&kgo.Record{Topic: "out", Key: []byte(tm.ID), Value: []byte("fired " + tm.At.Format("15:04:05") + " at stream time " + c.StreamTime().Format("15:04:05"))})
			return nil
		},
	}
	d := newDriver(t, topo, stream.DriverConfig{Partitions: 2})
	// Three keys of partition 0 and one of partition 1: stream time is per
	// partition.
	var in0 []string
	var p1 string
	for i := 0; len(in0) < 3 || p1 == ""; i++ {
		k := "k" + strconv.Itoa(i)
		if d.Partition([]byte(k)) == 0 {
			in0 = append(in0, k)
		} else if p1 == "" {
			p1 = k
		}
	}
	p0, q0, r0 := in0[0], in0[1], in0[2]
	for i, step := range []struct {
		key   string
		value string
		at    time.Duration
		want  string
	}{
		{p0, "at 60", 0, "out " + p0 + "=saw at 60"},
		{q0, "at 100", 10 * time.Second, "out " + q0 + "=saw at 100"},
		{p1, "at 20", 0, "out " + p1 + "=saw at 20"},
		// Partition 1's stream time does not move partition 0's timers.
		{p1, "tick", 100 * time.Second, "out " + p1 + "=saw tick\nout " + p1 + "=fired 10:00:20 at stream time 10:01:40"},
		{p0, "at 90", 20 * time.Second, "out " + p0 + "=saw at 90"}, // moved from 60 to 90
		{p0, "tick", 70 * time.Second, "out " + p0 + "=saw tick"},   // 60 is gone
		{r0, "at 95", 80 * time.Second, "out " + r0 + "=saw at 95"},
	} {
		if got := show(pipe(t, d, at("in", step.key, step.value, step.at))); got != step.want {
			t.Fatalf("step %d:\n%s\nwant:\n%s", i, got, step.want)
		}
	}
	// One record cancels the timer at 90 and takes stream time past 95 and
	// 100: both fire, in time order, after the record's own emit.
	got := show(pipe(t, d, at("in", p0, "cancel", 200*time.Second)))
	want := "out " + p0 + "=saw cancel\nout " + r0 + "=fired 10:01:35 at stream time 10:03:20\nout " + q0 + "=fired 10:01:40 at stream time 10:03:20"
	if got != want {
		t.Fatalf("after cancelling %s and passing 100 s:\n%s\nwant:\n%s", p0, got, want)
	}
	if _, ok := d.Get(0, "__timers", q0); ok {
		t.Fatal("a fired timer stays in the timers store")
	}
}

// TestDriverTransient checks that a Transient error rolls back the record:
// its writes, its emits and the stream time it moved are gone, the error is
// returned, and piping the record again processes it with the same offset.
func TestDriverTransient(t *testing.T) {
	down := true
	topo := counting("app", "in", "out", 0)
	count := topo.Process
	topo.Windows = &stream.Windows{Size: time.Minute, Advance: time.Minute, Grace: 0}
	topo.Process = func(c *stream.Context, r *kgo.Record) error {
		if err := count(c, r); err != nil {
			return err
		}
		if string(r.Value) == "lookup" && down {
			return stream.Transient(errors.New("service down"))
		}
		if string(r.Value) == "bad" {
			return errors.New("bad record")
		}
		return nil
	}
	d := newDriver(t, topo, stream.DriverConfig{DLQ: "dead"})
	steps := []struct {
		value     string
		at        time.Duration
		down      bool
		want      string
		transient bool
	}{
		{"", 0, false, "out k=1", false},
		// Would move stream time to 10:05, closing 10:00's window.
		{"lookup", 5 * time.Minute, true, "", true},
		// Still in the open window: the rollback took the stream time back.
		{"", 30 * time.Second, false, "out k=2", false},
		{"bad", 40 * time.Second, false, "dead k=bad dlq_error:bad record dlq_topic:in dlq_partition:0 dlq_offset:2", false},
		// The retry gets offset 3, the one the failed attempt did not use.
		{"lookup", 5 * time.Minute, false, "out k=3", false},
		{"bad", 50 * time.Second, false, "dead k=bad dlq_error:late record: event time 2026-11-24T10:00:50Z, stream time 2026-11-24T10:05:00Z, grace 0s dlq_topic:in dlq_partition:0 dlq_offset:4", false},
	}
	for i, s := range steps {
		down = s.down
		out, err := d.Pipe(at("in", "k", s.value, s.at))
		if s.transient != (err != nil) || (err != nil && !strings.Contains(err.Error(), "service down")) {
			t.Fatalf("step %d: error %v, want transient %v", i, err, s.transient)
		}
		if got := show(out); got != s.want {
			t.Fatalf("step %d emitted:\n%s\nwant:\n%s", i, got, s.want)
		}
	}
	if v, _ := d.Get(0, "counts", "k"); string(v) != "3" {
		t.Fatalf("count %s, want 3: the rolled-back write and the DLQ'd record's must not count", v)
	}
}

// TestDriverPunctuate checks that Punctuate runs for each partition with
// state, commits its writes, and returns a failure without the failing
// partition's writes and emits.
func TestDriverPunctuate(t *testing.T) {
	topo := counting("app", "in", "out", 0)
	topo.PunctuateEvery = time.Second
	topo.Punctuate = func(c *stream.Context) error {
		n := 0
		if v, ok := c.Get("counts", "_beats"); ok {
			n, _ = strconv.Atoi(string(v))
		}
		c.Put("counts", "_beats", []byte(strconv.Itoa(n+1)))
		c.Emit(&kgo.Record{Topic: "out", Key: []byte("beat"), Value: []byte(strconv.Itoa(int(c.Partition())))})
		if c.Partition() == 2 {
			return errors.New("partition 2 cannot beat")
		}
		return nil
	}
	d := newDriver(t, topo, stream.DriverConfig{Partitions: 3})
	if out, err := d.Punctuate(); out != nil || err != nil {
		t.Fatalf("punctuating no partition: %v, %v", out, err)
	}
	keys := map[int32]string{}
	for i := 0; len(keys) < 3; i++ {
		k := "k" + strconv.Itoa(i)
		if _, ok := keys[d.Partition([]byte(k))]; !ok {
			keys[d.Partition([]byte(k))] = k
		}
	}
	pipe(t, d, &kgo.Record{Topic: "in", Key: []byte(keys[0])}, &kgo.Record{Topic: "in", Key: []byte(keys[2])})
	for round := 1; round <= 2; round++ {
		out, err := d.Punctuate()
		if err == nil || !strings.Contains(err.Error(), "partition 2 cannot beat") {
			t.Fatalf("round %d: error %v, want partition 2's", round, err)
		}
		if got := show(out); got != "out beat=0" {
			t.Fatalf("round %d: emitted %q, want partition 0's beat only (1 has no state, 2 failed)", round, got)
		}
		if v, _ := d.Get(0, "counts", "_beats"); string(v) != strconv.Itoa(round) {
			t.Fatalf("round %d: partition 0 beat %s times", round, v)
		}
		if _, ok := d.Get(2, "counts", "_beats"); ok {
			t.Fatal("a failed punctuation's write was kept")
		}
	}
}

// TestDriverPartition checks that the Driver puts a key where franz-go's
// default partitioner (murmur2, as Kafka's Java client) produces it.
func TestDriverPartition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	keys := [][]byte{{}, []byte("a"), []byte("ab"), []byte("abc"), []byte("abcd"), []byte("abcde"),
		[]byte("sku-000123"), []byte("content:7Hq0"), {0xff, 0x80, 0x00}, []byte("日本語のキー")}
	for range 500 {
		k := make([]byte, rng.IntN(40))
		for i := range k {
			k[i] = byte(rng.Uint32())
		}
		keys = append(keys, k)
	}
	kafka := kgo.StickyKeyPartitioner(nil).ForTopic("t")
	for _, n := range []int32{1, 2, 3, 6, 12, 16, 31, 100} {
		topo := stream.Topology{Application: "p", Inputs: []string{"in"},
			Process: func(*stream.Context, *kgo.Record) error { return nil }}
		var seen int32
		topo.Process = func(c *stream.Context, _ *kgo.Record) error { seen = c.Partition(); return nil }
		d := newDriver(t, topo, stream.DriverConfig{Partitions: n})
		for _, k := range keys {
			want := int32(kafka.Partition(&kgo.Record{Key: k}, int(n)))
			if got := d.Partition(k); got != want {
				t.Fatalf("%d partitions, key %q: partition %d, franz-go's %d", n, k, got, want)
			}
			if _, err := d.Pipe(&kgo.Record{Topic: "in", Key: k}); err != nil || seen != want {
				t.Fatalf("%d partitions, key %q: piped to %d (%v), want %d", n, k, seen, err, want)
			}
		}
		if got := d.Partition(nil); got != 0 {
			t.Fatalf("nil key: partition %d, want 0", got)
		}
	}
}

// TestDriverRejects checks what the Driver refuses.
func TestDriverRejects(t *testing.T) {
	ok := counting("app", "in", "out", 0)
	for name, mod := range map[string]func(*stream.Topology){
		"no Process":                  func(t *stream.Topology) { t.Process = nil },
		"internal topic not declared": func(t *stream.Topology) { t.Internal = []stream.TopicSpec{{Name: "elsewhere", Partitions: 1}} },
		"internal topic no partitions": func(t *stream.Topology) {
			t.Internal = []stream.TopicSpec{{Name: "out"}}
		},
	} {
		topo := ok
		mod(&topo)
		if _, err := stream.NewDriver(topo, stream.DriverConfig{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	d := newDriver(t, ok, stream.DriverConfig{})
	if _, err := d.Pipe(&kgo.Record{Topic: "out", Key: []byte("k")}); err == nil {
		t.Fatal("piped a record of a topic that is not an input")
	}
	// A record whose ce_time does not parse is a dead letter, as in Run.
	out, err := d.Pipe(&kgo.Record{Topic: "in", Key: []byte("k"), Headers: []kgo.RecordHeader{{Key: "ce_time", Value: []byte("yesterday")}}})
	if err != nil || !strings.Contains(show(out), `dlq.v1 k= dlq_error:ce_time "yesterday"`) {
		t.Fatalf("bad ce_time: %v\n%s", err, show(out))
	}
	// Emitting to a topic that is not an output panics, as in Run.
	topo := ok
	topo.Process = func(c *stream.Context, _ *kgo.Record) error {
		c.Emit(&kgo.Record{Topic: "nowhere"})
		return nil
	}
	d = newDriver(t, topo, stream.DriverConfig{})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Emit to an undeclared topic did not panic")
			}
		}()
		_, _ = d.Pipe(&kgo.Record{Topic: "in"})
	}()
}

// TestDriverLeavesInputAlone checks that Pipe does not modify the caller's
// record and that the timestamps are what a consumer would read: in
// milliseconds.
func TestDriverLeavesInputAlone(t *testing.T) {
	var got *kgo.Record
	topo := stream.Topology{Application: "app", Inputs: []string{"in"}, Outputs: []string{"out"},
		Process: func(c *stream.Context, r *kgo.Record) error {
			got = r
			c.Emit(&kgo.Record{Topic: "out", Value: r.Value})
			return nil
		}}
	d := newDriver(t, topo, stream.DriverConfig{Partitions: 4})
	ts := driverBase.Add(1234567 * time.Nanosecond)
	rec := &kgo.Record{Topic: "in", Key: []byte("k"), Value: []byte("v"), Timestamp: ts, Partition: 3, Offset: 99}
	for i := range int64(3) {
		out := pipe(t, d, rec)
		if rec.Partition != 3 || rec.Offset != 99 || !rec.Timestamp.Equal(ts) {
			t.Fatalf("the caller's record was modified: %+v", rec)
		}
		if got == rec || got.Offset != i || got.Partition != d.Partition(rec.Key) || !got.Timestamp.Equal(driverBase.Add(time.Millisecond)) {
			t.Fatalf("Process saw offset %d partition %d time %v", got.Offset, got.Partition, got.Timestamp)
		}
		if !out[0].Timestamp.Equal(driverBase.Add(time.Millisecond)) || !bytes.Equal(out[0].Value, []byte("v")) {
			t.Fatalf("emitted %+v", out[0])
		}
	}
}

// TestDriverMatchesRun runs one topology (hopping windows, timers, late and
// failing records, headers) through Run against the broker and through the
// Driver, on the same single-partition input, and compares what each wrote
// to the output and the DLQ byte for byte.
func TestDriverMatchesRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := newFixture(t, 0, 1, 1)
	app := f.k.Prefix + "same"
	topo := comparedTopology(app, f.in, f.out)
	rng := rand.New(rand.NewPCG(9, 10))
	var input []*kgo.Record
	clock := time.Duration(0)
	for i := range 600 {
		clock += time.Duration(rng.IntN(3000)) * time.Millisecond
		at := clock
		if rng.IntN(10) == 0 {
			at -= time.Duration(rng.IntN(90)) * time.Second // out of order: within grace or late
		}
		value := strconv.Itoa(rng.IntN(100))
		if rng.IntN(40) == 0 {
			value = "oops" + value
		}
		rec := &kgo.Record{Topic: f.in, Key: []byte("k" + strconv.Itoa(rng.IntN(7))), Value: []byte(value),
			// Sub-millisecond timestamps: the broker keeps milliseconds.
			Timestamp: driverBase.Add(at + time.Duration(rng.IntN(1e6))),
			Headers:   []kgo.RecordHeader{{Key: "source", Value: []byte(strconv.Itoa(i))}}}
		if rng.IntN(4) != 0 { // the others' event time is their timestamp
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: "ce_time",
				Value: []byte(driverBase.Add(at + time.Duration(rng.IntN(1000))).Format(time.RFC3339Nano))})
		}
		input = append(input, rec)
	}
	// The Driver first: Run's producer sets fields of the records.
	d := newDriver(t, topo, stream.DriverConfig{DLQ: f.dlq})
	want := map[string][]string{}
	for _, rec := range input {
		copied := *rec
		for _, r := range pipe(t, d, &copied) {
			want[r.Topic] = append(want[r.Topic], canonical(r))
		}
	}
	t.Logf("%d inputs: %d outputs, %d dead letters", len(input), len(want[f.out]), len(want[f.dlq]))
	if len(want[f.out]) < 100 || len(want[f.dlq]) < 10 {
		t.Fatalf("%d outputs and %d dead letters: the test exercises too little", len(want[f.out]), len(want[f.dlq]))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, input...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// Many small transactions, so that Run commits (saves stream time,
	// expires windows) at other points than the Driver, which commits
	// after every record.
	cfg := f.config("i")
	cfg.MaxPollRecords, cfg.CommitInterval = 37, -1
	runUntil(ctx, t, topo, cfg, func() bool { return f.done(ctx, t, app) })
	for _, topic := range []string{f.out, f.dlq} {
		var got []string
		for _, r := range f.k.ReadCommitted(ctx, t, topic) {
			got = append(got, canonical(r))
		}
		if len(got) != len(want[topic]) {
			t.Fatalf("%s: Run wrote %d records, the Driver %d", topic, len(got), len(want[topic]))
		}
		for i := range got {
			if got[i] != want[topic][i] {
				t.Fatalf("%s record %d:\nRun:    %s\nDriver: %s", topic, i, got[i], want[topic][i])
			}
		}
	}
}

// canonical is what a consumer reads of a record: key (nil distinguished),
// value, headers and the timestamp in milliseconds.
func canonical(r *kgo.Record) string {
	var b strings.Builder
	quote := func(v []byte) {
		if v == nil {
			b.WriteString("nil")
		} else {
			fmt.Fprintf(&b, "%q", v)
		}
	}
	quote(r.Key)
	b.WriteString(" ")
	quote(r.Value)
	for _, h := range r.Headers {
		fmt.Fprintf(&b, " %s:", h.Key)
		quote(h.Value)
	}
	fmt.Fprintf(&b, " @%d", r.Timestamp.UnixMilli())
	return b.String()
}

// comparedTopology is windowedSum over hopping windows (with a retention
// on its sums, so expiry is exercised) that also counts records per key and
// emits each count: a value that is not a number fails.
func comparedTopology(app, in, out string) stream.Topology {
	topo := windowedSum(app, in, out, stream.Hopping(time.Minute, 30*time.Second, 10*time.Second))
	topo.Stores[0].Retention = 3 * time.Minute
	topo.Stores = append(topo.Stores, stream.StoreSpec{Name: "counts"})
	sum := topo.Process
	topo.Process = func(c *stream.Context, r *kgo.Record) error {
		if err := sum(c, r); err != nil {
			return err
		}
		n := 0
		if b, ok := c.Get("counts", string(r.Key)); ok {
			n, _ = strconv.Atoi(string(b))
		}
		c.Put("counts", string(r.Key), []byte(strconv.Itoa(n+1)))
		c.Emit(&kgo.Record{Topic: out, Key: r.Key, Value: []byte(strconv.Itoa(n + 1)),
			Headers: []kgo.RecordHeader{{Key: "windows", Value: []byte(strconv.Itoa(len(c.Windows())))}}})
		return nil
	}
	return topo
}

// TestDriverCommitSideEffects checks what the Driver does at each record's
// commit, as Run does at a transaction's: windowed stores lose the windows
// past their retention, and a record without a timestamp gets the wall
// clock's, as a producer would give it.
func TestDriverCommitSideEffects(t *testing.T) {
	w := stream.Tumbling(time.Minute, 0)
	topo := stream.Topology{Application: "app", Inputs: []string{"in"}, Outputs: []string{"out"},
		Stores: []stream.StoreSpec{{Name: "w", Retention: 2 * time.Minute}}, Windows: &w,
		Process: func(c *stream.Context, r *kgo.Record) error {
			for _, win := range c.Windows() {
				c.Put("w", stream.WindowKey(win.Start, string(r.Key)), r.Value)
			}
			c.Emit(&kgo.Record{Topic: "out", Key: r.Key})
			return nil
		}}
	d := newDriver(t, topo, stream.DriverConfig{})
	first := stream.WindowKey(driverBase, "k")
	pipe(t, d, at("in", "k", "1", 0))
	if _, ok := d.Get(0, "w", first); !ok {
		t.Fatal("the first window's entry is not committed")
	}
	pipe(t, d, at("in", "k", "2", 10*time.Minute))
	if _, ok := d.Get(0, "w", first); ok {
		t.Fatal("a window older than the store's retention was not expired")
	}
	if v, ok := d.Get(0, "w", stream.WindowKey(driverBase.Add(10*time.Minute), "k")); !ok || string(v) != "2" {
		t.Fatalf("the current window's entry: %q, %v", v, ok)
	}
	before := time.Now().Truncate(time.Millisecond)
	out := pipe(t, d, &kgo.Record{Topic: "in", Key: []byte("now")})
	if ts := out[0].Timestamp; ts.Before(before) || ts.After(time.Now()) {
		t.Fatalf("a record without a timestamp has event time %v, want the wall clock's", ts)
	}
}

// TestDriverPrefetch checks that Prefetch is called with the piped record,
// and that its answer is the record's Prefetched.
func TestDriverPrefetch(t *testing.T) {
	var asked []string
	topo := stream.Topology{Application: "app", Inputs: []string{"in"}, Outputs: []string{"out"},
		Prefetch: func(_ context.Context, recs []*kgo.Record) any {
			for _, r := range recs {
				asked = append(asked, string(r.Key))
			}
			return "looked up " + string(recs[0].Key)
		},
		Process: func(c *stream.Context, r *kgo.Record) error {
			c.Emit(&kgo.Record{Topic: "out", Key: r.Key, Value: []byte(c.Prefetched().(string))})
			return nil
		}}
	d := newDriver(t, topo, stream.DriverConfig{})
	got := show(pipe(t, d, &kgo.Record{Topic: "in", Key: []byte("a")}, &kgo.Record{Topic: "in", Key: []byte("b")}))
	if got != "out a=looked up a\nout b=looked up b" || strings.Join(asked, ",") != "a,b" {
		t.Fatalf("emitted:\n%s\nasked %v", got, asked)
	}
}

// TestForgetAt: a key forgotten by ForgetAt is gone once stream time passes
// its time, a later write moves the time, and OnTimer never sees the timer.
func TestForgetAt(t *testing.T) {
	kv := stream.KV[string]{Store: "s", Codec: stream.JSON[string]{}}
	topo := stream.Topology{Application: "app", Inputs: []string{"in"}, Stores: []stream.StoreSpec{{Name: "s"}},
		Process: func(c *stream.Context, r *kgo.Record) error {
			if len(r.Value) > 0 {
				kv.ForgetAt(c, string(r.Key), c.EventTime().Add(time.Hour))
				return kv.Put(c, string(r.Key), string(r.Value))
			}
			return nil
		},
		OnTimer: func(*stream.Context, stream.Timer) error { t.Error("OnTimer saw a forget timer"); return nil },
	}
	d, err := stream.NewDriver(topo, stream.DriverConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	pipe := func(key, value string, at time.Time) {
		if _, err := d.Pipe(&kgo.Record{Topic: "in", Key: []byte(key), Value: []byte(value), Timestamp: at}); err != nil {
			t.Fatal(err)
		}
	}
	pipe("a", "1", t0)
	pipe("b", "1", t0)
	pipe("a", "2", t0.Add(50*time.Minute)) // moves a's time to 1:50
	pipe("x", "", t0.Add(70*time.Minute))
	if _, ok := d.Get(0, "s", "b"); ok {
		t.Fatal("b not forgotten after its hour")
	}
	if _, ok := d.Get(0, "s", "a"); !ok {
		t.Fatal("a forgotten before its moved time")
	}
	pipe("x", "", t0.Add(111*time.Minute))
	if _, ok := d.Get(0, "s", "a"); ok {
		t.Fatal("a not forgotten")
	}
}
