package sink_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/analytics/sink"
	"github.com/creatorflow/creatorflow/pipeline/migrate"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
	"github.com/creatorflow/creatorflow/schemas/migrations"
)

// TestExactAfterReplay writes a topic to ClickHouse, then replays it from
// the start under a new consumer group (what a crash between insert and
// commit amounts to, for every record): the table's exact queries still see
// each event once, and the record that can never be written is in the DLQ
// with its origin, once per run.
func TestExactAfterReplay(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	ch := openClickHouse(ctx, t, stacktest.ClickHouse(t))
	topic, dlq := k.Topic(schemas.TopicTikTokWebhooks), k.Topic(schemas.TopicDLQ)

	for _, name := range []string{topic, dlq} {
		if _, err := k.Admin.CreateTopic(ctx, 3, -1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	const n = 500
	var recs []*kgo.Record
	for i := range n {
		body := fmt.Sprintf(`{"type":1,"tts_notification_id":"n-%d","shop_id":"shop-%d","timestamp":1764000000,"data":{"order_id":"o-%d","order_status":"AWAITING_SHIPMENT","update_time":1764000000}}`, i, i%7, i)
		env := schemas.NewEnvelope("tiktok.webhook", 1, "test", time.Unix(1764000000, 0))
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(body), Headers: env.Headers()})
	}
	recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("foreign"), Value: []byte(`{"not":"ours"}`)})
	if err := producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	for run, group := range []string{k.Prefix + "first", k.Prefix + "replay"} {
		s, err := sink.New(sink.Config{
			Group: group, Topics: map[string]sink.Table{topic: sink.TikTokWebhooks}, DLQTopic: dlq,
			BatchSize: 64, RetryBackoff: 10 * time.Millisecond, MaxRetryBackoff: 100 * time.Millisecond,
		}, []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, ch, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx) }()
		// Done when the group has committed every record: offsets are
		// committed only after ClickHouse accepted the rows.
		waitFor(ctx, t, fmt.Sprintf("run %d to commit %d records", run+1, len(recs)), func() bool {
			select {
			case err := <-done:
				t.Fatalf("sink stopped early: %v", err)
			default:
			}
			offsets, err := k.Admin.FetchOffsets(ctx, group)
			if err != nil {
				return false
			}
			var committed int64
			offsets.Each(func(o kadm.OffsetResponse) { committed += o.At })
			return committed == int64(len(recs))
		})
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	for _, q := range []string{
		"SELECT count() FROM tiktok_webhooks FINAL",
		"SELECT count(DISTINCT event_id) FROM tiktok_webhooks",
		"SELECT uniqExact(event_id) FROM tiktok_webhooks",
	} {
		if got := count(ctx, t, ch, q); got != n {
			t.Errorf("%s = %d, want %d", q, got, n)
		}
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var dead []*kgo.Record
	for len(dead) < 2 {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("DLQ holds %d records: %v", len(dead), err)
		}
		dead = append(dead, fs.Records()...)
	}
	for _, r := range dead {
		h := map[string]string{}
		for _, kv := range r.Headers {
			h[kv.Key] = string(kv.Value)
		}
		if string(r.Key) != "foreign" || h[stream.HeaderDLQTopic] != topic || h[stream.HeaderDLQOffset] != fmt.Sprint(recs[n].Offset) || h[stream.HeaderDLQPartition] != fmt.Sprint(recs[n].Partition) || h[stream.HeaderDLQError] == "" {
			t.Fatalf("DLQ record key %s headers %v", r.Key, h)
		}
	}
}

func openClickHouse(ctx context.Context, t *testing.T, url string) driver.Conn {
	t.Helper()
	conn := stacktest.ClickHouseConn(t, url)
	ms, err := migrate.Load(migrations.FS, migrations.ClickHouse)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Run(ctx, migrate.ClickHouse{Conn: conn}, ms); err != nil {
		t.Fatal(err)
	}
	return conn
}

func count(ctx context.Context, t *testing.T, ch driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := ch.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func waitFor(ctx context.Context, t *testing.T, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
