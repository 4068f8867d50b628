package webhook_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/webhook"
	"github.com/creatorflow/creatorflow/pipeline/broker"
	"github.com/creatorflow/creatorflow/schemas"
)

// TestBrokerOutage runs the ingest against a real broker over TCP that is
// stopped and started again: while it is down every webhook is answered 503
// with Retry-After, when it is back webhooks are accepted again, and every
// webhook answered 200 is in the topic exactly once, byte-for-byte.
func TestBrokerOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	b, err := broker.Start(broker.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	defer func() { b.Close() }()

	admin, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := kadm.NewClient(admin).CreateTopic(ctx, 3, 1, nil, schemas.TopicTikTokWebhooks); err != nil {
		t.Fatal(err)
	}

	producer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(20*time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	app := webhook.App{Key: "it-app", Secret: "it-secret"}
	cfg := webhook.DefaultConfig()
	cfg.Apps = []webhook.App{app}
	cfg.ProduceTimeout = 500 * time.Millisecond
	h, err := webhook.New(cfg, producer, webhook.NewMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	accepted := map[string]string{} // event id -> body
	refused := map[string]bool{}
	n := 0
	post := func() (int, string, http.Header) {
		n++
		now := time.Now().Unix()
		body := fmt.Sprintf(`{"type":1,"tts_notification_id":"it-%d","shop_id":"shop-%d","timestamp":%d,"data":{"order_id":"o-%d","order_status":"AWAITING_SHIPMENT","update_time":%d}}`, n, n%5, now, n, now)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+webhook.RouteTikTok, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", hex.EncodeToString(webhook.Sign(app, []byte(body))))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := schemas.EventID(time.Unix(now, 0), fmt.Sprintf("shop-%d", n%5), fmt.Sprintf("it-%d", n)).String()
		if resp.StatusCode == 200 {
			accepted[id] = body
		} else {
			refused[id] = true
		}
		return resp.StatusCode, body, resp.Header
	}

	for range 30 {
		if code, _, _ := post(); code != 200 {
			t.Fatalf("broker up: answered %d", code)
		}
	}

	b.Close()
	for range 5 {
		code, _, header := post()
		if code != 503 || header.Get("Retry-After") == "" {
			t.Fatalf("broker down: answered %d, Retry-After %q", code, header.Get("Retry-After"))
		}
	}

	b, err = broker.Start(broker.Config{Addr: addr, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for back := false; !back; {
		code, _, _ := post()
		back = code == 200
		if !back && ctx.Err() != nil {
			t.Fatal("webhooks still refused after the broker came back")
		}
	}
	for range 30 {
		if code, _, _ := post(); code != 200 {
			t.Fatalf("broker back: answered %d", code)
		}
	}

	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(schemas.TopicTikTokWebhooks),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	seen := map[string]int{}
	for missing := len(accepted); missing > 0; {
		fs := consumer.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("%d accepted webhooks not found in the topic: %v", missing, err)
		}
		for _, r := range fs.Records() {
			env, err := schemas.ParseHeaders(r.Headers)
			if err != nil {
				t.Fatalf("record without envelope: %v", err)
			}
			id := env.ID.String()
			seen[id]++
			switch want, ok := accepted[id]; {
			case ok && string(r.Value) != want:
				t.Fatalf("record %s is not byte-identical:\n%s\n%s", id, r.Value, want)
			case ok && seen[id] == 1:
				missing--
			case ok:
				t.Fatalf("accepted webhook %s is in the topic twice", id)
			case !refused[id]:
				t.Fatalf("record %s matches no request", id)
			}
		}
	}
	t.Logf("%d accepted, %d refused during the outage (of which %d landed after it, as the sender's retries would)",
		len(accepted), len(refused), len(seen)-len(accepted))
}
