package stream

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
)

// The runtime benchmarks need the local stack's broker and run only from
// `make bench-runtime` (CREATORFLOW_BENCH_RUNTIME=1), with a fixed record
// count: go test -bench 'Runtime' -benchtime 1200000x. Each op is one input
// record; the reported records/s covers processing, producing and
// committing all of them.

func runtimeBench(b *testing.B) stacktest.Kafka {
	if os.Getenv("CREATORFLOW_BENCH_RUNTIME") != "1" {
		b.Skip("run by make bench-runtime")
	}
	return stacktest.Broker(b)
}

const benchPartitions = 6

// benchInput produces n records over 64k keys, one event-time second
// apart per 100 records, and returns the input, output and DLQ topics.
func benchInput(b *testing.B, k stacktest.Kafka, n int) (in, out, dlq string) {
	ctx := context.Background()
	in, out, dlq = k.Topic("in"), k.Topic("out"), k.Topic("dlq")
	for _, t := range []string{in, out, dlq} {
		if _, err := k.Admin.CreateTopic(ctx, benchPartitions, -1, nil, t); err != nil {
			b.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for i := range n {
		at := base.Add(time.Duration(i/100) * time.Second)
		cl.Produce(ctx, &kgo.Record{Topic: in, Key: []byte("k" + strconv.Itoa(i%65536)), Value: []byte(strconv.Itoa(i)),
			Headers: []kgo.RecordHeader{{Key: "ce_time", Value: at.AppendFormat(nil, time.RFC3339Nano)}}}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return in, out, dlq
}

// waitCommitted waits until group has committed n records of topic.
func waitCommitted(b *testing.B, adm *kadm.Client, group, topic string, n int) {
	for {
		offsets, err := adm.FetchOffsets(context.Background(), group)
		if err == nil {
			var sum int64
			offsets.Each(func(o kadm.OffsetResponse) {
				if o.Topic == topic {
					sum += o.At
				}
			})
			if sum >= int64(n) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// windowedCount counts records per key in one-minute tumbling windows and
// emits every updated count.
func windowedCount(app, in, out string) Topology {
	w := Tumbling(time.Minute, 10*time.Second)
	return Topology{
		Application: app, Inputs: []string{in}, Outputs: []string{out},
		Stores:  []StoreSpec{{Name: "counts", Retention: 2 * time.Minute}},
		Windows: &w,
		Process: func(c *Context, r *kgo.Record) error {
			for _, win := range c.Windows() {
				k := WindowKey(win.Start, string(r.Key))
				var n uint64
				if v, ok := c.Get("counts", k); ok {
					n = binary.BigEndian.Uint64(v)
				}
				n++
				c.Put("counts", k, binary.BigEndian.AppendUint64(nil, n))
				c.Emit(&kgo.Record{Topic: out, Key: r.Key, Value: strconv.AppendUint(nil, n, 10)})
			}
			return nil
		},
	}
}

func benchmarkWindowedCount(b *testing.B, atLeastOnce bool) {
	k := runtimeBench(b)
	in, out, dlq := benchInput(b, k, b.N)
	app := k.Prefix + "wcount"
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() {
		errc <- Run(ctx, windowedCount(app, in, out), Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)},
			Instance: "bench", DLQ: dlq, AtLeastOnce: atLeastOnce, Registerer: reg})
	}()
	waitCommitted(b, k.Admin, app, in, b.N)
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
	if count, sum := histogram(reg, "creatorflow_stream_transaction_duration_seconds"); count > 0 {
		b.ReportMetric(sum/float64(count)*1000, "ms/commit")
	}
}

func BenchmarkRuntimeWindowedCountExactlyOnce(b *testing.B) { benchmarkWindowedCount(b, false) }
func BenchmarkRuntimeWindowedCountAtLeastOnce(b *testing.B) { benchmarkWindowedCount(b, true) }

// BenchmarkRuntimeRawConsumeProduce is the baseline: franz-go consuming in
// a group and producing each record to the output, committing after each
// flushed batch, with no state and no transaction.
func BenchmarkRuntimeRawConsumeProduce(b *testing.B) {
	k := runtimeBench(b)
	in, out, _ := benchInput(b, k, b.N)
	group := k.Prefix + "raw"
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(in),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for done := 0; done < b.N; {
		fs := cl.PollRecords(ctx, 10_000)
		recs := fs.Records()
		for _, r := range recs {
			cl.Produce(ctx, &kgo.Record{Topic: out, Key: r.Key, Value: r.Value}, nil)
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if err := cl.CommitRecords(ctx, recs...); err != nil {
			b.Fatal(err)
		}
		done += len(recs)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
}

// BenchmarkRuntimeRestore1MKeys restores one partition whose store holds
// 1,000,000 keys from its changelog.
func BenchmarkRuntimeRestore1MKeys(b *testing.B) {
	k := runtimeBench(b)
	const keys = 1_000_000
	topo := Topology{Application: k.Prefix + "restore", Inputs: []string{"unused"}, Stores: []StoreSpec{{Name: "big"}},
		Process: func(*Context, *kgo.Record) error { return nil }}
	ctx := context.Background()
	r := &runner{topo: topo, cfg: Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}}, metrics: newMetrics(nil, "bench", nil, nil, nil, nil)}
	for topic := range r.changelogTopics() {
		if _, err := k.Admin.CreateTopic(ctx, 1, -1, nil, topic); err != nil {
			b.Fatal(err)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(200_000))
	if err != nil {
		b.Fatal(err)
	}
	value := make([]byte, 16)
	for i := range keys {
		cl.Produce(ctx, &kgo.Record{Topic: topo.ChangelogTopic("big"), Key: fmt.Appendf(nil, "key-%07d", i), Value: value}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	cl.Close()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		states, n, err := r.restore(ctx, []int32{0})
		ps := states[0]
		if err != nil {
			b.Fatal(err)
		}
		if n != keys || ps.stores["big"].Len() != keys {
			b.Fatalf("restored %d records, %d keys", n, ps.stores["big"].Len())
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/restore")
	}
}

func histogram(reg *prometheus.Registry, name string) (count uint64, sum float64) {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				count += m.GetHistogram().GetSampleCount()
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return count, sum
}

// BenchmarkDriverPipe measures the Driver, which replays recorded input in
// process: "noop" is its own cost per record (a Process that does nothing),
// "count" a store read and write and an emit per record, "windowed" the
// windowed count of the runtime benchmarks (ce_time headers, one-minute
// windows over 64k keys, 100 records per event-time second, so windows
// close and expire as they go).
func BenchmarkDriverPipe(b *testing.B) {
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	const keys = 65536
	for _, bc := range []struct {
		name string
		topo Topology
	}{
		{"noop", Topology{Application: "bench", Inputs: []string{"in"}, Process: func(*Context, *kgo.Record) error { return nil }}},
		{"count", Topology{Application: "bench", Inputs: []string{"in"}, Outputs: []string{"out"}, Stores: []StoreSpec{{Name: "counts"}},
			Process: func(c *Context, r *kgo.Record) error {
				var n uint64
				if v, ok := c.Get("counts", string(r.Key)); ok {
					n = binary.BigEndian.Uint64(v)
				}
				n++
				c.Put("counts", string(r.Key), binary.BigEndian.AppendUint64(nil, n))
				c.Emit(&kgo.Record{Topic: "out", Key: r.Key, Value: strconv.AppendUint(nil, n, 10)})
				return nil
			}}},
		{"windowed", windowedCount("bench", "in", "out")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := NewDriver(bc.topo, DriverConfig{Partitions: benchPartitions})
			if err != nil {
				b.Fatal(err)
			}
			recs := make([]*kgo.Record, keys)
			for i := range recs {
				recs[i] = &kgo.Record{Topic: "in", Key: []byte("k" + strconv.Itoa(i)), Value: []byte(strconv.Itoa(i)),
					Timestamp: base, Headers: []kgo.RecordHeader{{Key: "ce_time"}}}
			}
			times := make([][]byte, b.N/100+1)
			for i := range times {
				times[i] = base.Add(time.Duration(i)*time.Second).AppendFormat(nil, time.RFC3339Nano)
			}
			emitted := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				rec := recs[i%keys]
				rec.Headers[0].Value = times[i/100]
				out, err := d.Pipe(rec)
				if err != nil {
					b.Fatal(err)
				}
				emitted += len(out)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			if bc.name != "noop" && emitted < b.N {
				b.Fatalf("%d records emitted %d", b.N, emitted)
			}
		})
	}
}

// BenchmarkGlobalRead measures Context.Global, a lookup on the hot path of
// every worker at once (b.RunParallel, -cpu sets how many), in a table of
// 10,000 SKUs, while nothing updates it and while a writer publishes one
// update every millisecond (far more than reference data sees). The
// rwmutex case is the design not taken: a map behind a sync.RWMutex, whose
// readers share a counter that every core writes.
func BenchmarkGlobalRead(b *testing.B) {
	const size = 10_000
	keys := make([]string, size)
	for i := range keys {
		keys[i] = fmt.Sprintf("sku%05d", i)
	}
	for _, every := range []time.Duration{0, time.Millisecond} {
		r := &runner{topo: Topology{Application: "bench", Globals: []string{"alerts"}}}
		r.initTopics()
		table := r.globals["alerts"]
		pending := map[string][]byte{}
		for _, k := range keys {
			pending[k] = []byte("alert")
		}
		table.publish(pending)
		var rw struct {
			sync.RWMutex
			m map[string][]byte
		}
		rw.m = maps.Clone(pending)
		for _, bc := range []struct {
			name  string
			read  func(c *Context, key string) bool
			write func(key string)
		}{
			{"snapshot", func(c *Context, key string) bool { _, ok := c.Global("alerts", key); return ok },
				func(key string) { table.publish(map[string][]byte{key: []byte("update")}) }},
			{"rwmutex", func(_ *Context, key string) bool {
				rw.RLock()
				_, ok := rw.m[key]
				rw.RUnlock()
				return ok
			}, func(key string) { rw.Lock(); rw.m[key] = []byte("update"); rw.Unlock() }},
		} {
			name := bc.name + "/idle"
			if every > 0 {
				name = bc.name + "/updated-every-" + every.String()
			}
			b.Run(name, func(b *testing.B) {
				stop := make(chan struct{})
				var wg sync.WaitGroup
				if every > 0 {
					wg.Go(func() {
						tick := time.NewTicker(every)
						defer tick.Stop()
						for i := 0; ; i++ {
							select {
							case <-stop:
								return
							case <-tick.C:
								bc.write(keys[i%size])
							}
						}
					})
				}
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := &Context{r: r}
					for i := 0; pb.Next(); i += 7 {
						if !bc.read(c, keys[i%size]) {
							b.Error("missing key")
							return
						}
					}
				})
				b.StopTimer()
				close(stop)
				wg.Wait()
			})
		}
	}
}
