package velocity

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// BenchmarkVelocityExactlyOnce measures content readings per second through
// the velocity processor with exactly-once against the local stack's broker
// (make bench-viral: CREATORFLOW_BENCH_VIRAL=1, -benchtime 400000x). Each op
// is one reading; 5,000 items are polled every 30 s of event time, each
// promoting two SKUs.
func BenchmarkVelocityExactlyOnce(b *testing.B) {
	if os.Getenv("CREATORFLOW_BENCH_VIRAL") != "1" {
		b.Skip("run by make bench-viral")
	}
	k := stacktest.Broker(b)
	ctx := context.Background()
	in, dlq := k.Topic("metrics"), k.Topic("dlq")
	k.CreateTopics(ctx, b, 6, in, dlq)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Fatal(err)
	}
	const items = 5000
	for i := range b.N {
		item, poll := i%items, i/items
		at := t0.Add(time.Duration(poll)*30*time.Second + time.Duration(item)*time.Millisecond)
		views := int64(poll * 3000)
		id := "content-" + strconv.Itoa(item)
		v, _ := json.Marshal(schemas.ContentMetrics{ContentID: id, ShopID: "shop", SKUIDs: []string{id + "-a", id + "-b"},
			Views: views, Likes: views / 20, Comments: views / 200, Shares: views / 300, PolledAt: at})
		env := schemas.Envelope{ID: schemas.EventID(at, id), Type: "tiktok.content-metrics", SchemaVersion: 1, Source: "bench", Time: at, IngestTime: at}
		cl.Produce(ctx, &kgo.Record{Topic: in, Key: []byte(id), Value: v, Headers: env.Headers()}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	cl.Close()
	app := k.Prefix + "velocity"
	topo, err := Topology(Config{Application: app, Metrics: in, Signals: stream.TopicSpec{Name: k.Topic("signals"), Partitions: 6}})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	b.ResetTimer()
	start := time.Now()
	go func() {
		errc <- stream.Run(runCtx, topo, stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "bench",
			DLQ: dlq, Registerer: prometheus.NewRegistry()})
	}()
	for !k.Consumed(ctx, b, app, in) {
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "readings/s")
}
