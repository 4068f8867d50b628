package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/sandbox"
	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/connectors/webhook"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/schemas"
)

// syncBuffer is an io.Writer safe for the roles' concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the binary's command line in-process with the given environment.
func cli(ctx context.Context, t *testing.T, vars map[string]string, args ...string) (string, int) {
	t.Helper()
	var out syncBuffer
	code := cliTo(ctx, &out, vars, args...)
	return out.String(), code
}

func cliTo(ctx context.Context, out *syncBuffer, vars map[string]string, args ...string) int {
	return run(ctx, &env{stdout: out, stderr: out, getenv: func(k string) string { return vars[k] }}, args)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestThinPath proves the wiring with the real services: topics and
// migrations applied (twice, the second a no-op), a signed webhook accepted
// by the ingest lands byte-for-byte in tiktok.webhooks.v1, and the sink
// writes it to ClickHouse.
func TestThinPath(t *testing.T) {
	k := stacktest.Broker(t)
	chURL := stacktest.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	listen, metrics := freeAddr(t), freeAddr(t)
	vars := map[string]string{
		"CREATORFLOW_BROKERS":           strings.Join(k.Brokers, ","),
		"CREATORFLOW_TOPIC_PREFIX":      k.Prefix,
		"CREATORFLOW_CLICKHOUSE_URL":    chURL,
		"CREATORFLOW_TIKTOK_APP_KEY":    "e2e-app",
		"CREATORFLOW_TIKTOK_APP_SECRET": "e2e-secret",
		"CREATORFLOW_LISTEN":            listen,
		"CREATORFLOW_METRICS_ADDR":      metrics,
		"CREATORFLOW_SINK_GROUP":        k.Prefix + "sink",
	}

	for i, want := range []string{"created " + k.Topic(schemas.TopicTikTokWebhooks), "0 created, 15 as in the catalog, 0 settings drifted"} {
		out, code := cli(ctx, t, vars, "topics", "apply")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("topics apply #%d: exit %d, output:\n%s", i+1, code, out)
		}
	}
	for i, want := range []string{"clickhouse: applied 0001_tiktok_webhooks.sql", "clickhouse: up to date"} {
		out, code := cli(ctx, t, vars, "migrate", "--only", "clickhouse")
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("migrate #%d: exit %d, output:\n%s", i+1, code, out)
		}
	}
	// The catalog the poller reads: the demo one, in a database of the test's own.
	vars["CREATORFLOW_POSTGRES_URL"] = stacktest.Postgres(t)
	vars["CREATORFLOW_POLL_INTERVAL"], vars["CREATORFLOW_POLL_MIN_INTERVAL"] = "1s", "500ms"
	if out, code := cli(ctx, t, vars, "migrate", "--only", "postgres"); code != 0 {
		t.Fatalf("migrate postgres: exit %d, output:\n%s", code, out)
	}
	if out, code := cli(ctx, t, vars, "catalog", "import", "--file", "../../deploy/local/catalog.json"); code != 0 {
		t.Fatalf("catalog import: exit %d, output:\n%s", code, out)
	}

	// The TikTok API the enrichment role calls: the sandbox, as make run
	// starts it, with the same app credentials.
	sandboxAddr := freeAddr(t)
	sandboxCtx, stopSandbox := context.WithCancel(ctx)
	defer stopSandbox()
	var sandboxLogs syncBuffer
	go cliTo(sandboxCtx, &sandboxLogs, map[string]string{"CREATORFLOW_ADDR": sandboxAddr, "CREATORFLOW_METRICS_ADDR": freeAddr(t),
		"CREATORFLOW_TIKTOK_APP_KEY": "e2e-app", "CREATORFLOW_TIKTOK_APP_SECRET": "e2e-secret"}, "sandbox")
	vars["CREATORFLOW_TIKTOK_API_URL"] = "http://" + sandboxAddr
	vars["CREATORFLOW_INSTANCE"] = "e2e"
	vars["CREATORFLOW_RATE_CARDS"] = "../../deploy/ratecards/*.json"

	runCtx, stop := context.WithCancel(ctx)
	var logs syncBuffer
	done := make(chan int, 1)
	go func() { done <- cliTo(runCtx, &logs, vars, "run") }()
	waitReady(ctx, t, "http://"+metrics+"/readyz", done)

	now := time.Now().Unix()
	body := fmt.Sprintf(`{"type":1,"tts_notification_id":"7333","shop_id":"shop-home","timestamp":%d,"data":{"order_id":"ORDER-E2E-1","order_status":"AWAITING_SHIPMENT","is_on_hold_order":false,"update_time":%d}}`, now, now)
	if code := post(t, listen, body, "e2e-app", "e2e-secret"); code != 200 {
		t.Fatalf("signed webhook answered %d", code)
	}
	if code := post(t, listen, body, "e2e-app", "wrong"); code != 401 {
		t.Fatalf("badly signed webhook answered %d", code)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(k.Topic(schemas.TopicTikTokWebhooks)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	recs := fs.Records()
	if len(recs) != 1 || string(recs[0].Value) != body || string(recs[0].Key) != "ORDER-E2E-1" {
		t.Fatalf("topic holds %d records, first %+v", len(recs), recs)
	}
	env, err := schemas.ParseHeaders(recs[0].Headers)
	if err != nil {
		t.Fatal(err)
	}

	ch := stacktest.ClickHouseConn(t, chURL)
	var (
		orderID, status, stored string
		eventTime               time.Time
	)
	for {
		row := ch.QueryRow(ctx, "SELECT order_id, order_status, body, event_time FROM tiktok_webhooks WHERE event_id = ?", env.ID.String())
		if err := row.Scan(&orderID, &status, &stored, &eventTime); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the webhook never reached ClickHouse; logs:\n%s", logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if orderID != "ORDER-E2E-1" || status != "AWAITING_SHIPMENT" || stored != body || eventTime.Unix() != now {
		t.Fatalf("ClickHouse row: order %s status %s event_time %v body %s", orderID, status, eventTime, stored)
	}

	// The enrichment role turned the webhook into an order event with the
	// order's details from the (sandbox) Order API.
	ordersCl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(k.Topic(schemas.TopicOrders)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer ordersCl.Close()
	pollCtx, cancelPoll := context.WithTimeout(ctx, 30*time.Second)
	fs = ordersCl.PollFetches(pollCtx)
	cancelPoll()
	var ev schemas.OrderEvent
	if recs := fs.Records(); len(recs) != 1 || json.Unmarshal(recs[0].Value, &ev) != nil ||
		ev.OrderID != "ORDER-E2E-1" || ev.Status != schemas.OrderStatusAwaitingShipment || len(ev.LineItems) == 0 || ev.BuyerID == "" {
		t.Fatalf("orders topic holds %d records (%v), first %+v; logs:\n%s\nsandbox:\n%s", len(recs), fs.Err0(), ev, logs.String(), sandboxLogs.String())
	}

	// The inventory role reserved the order's units and listed the stock
	// left on TikTok, a buffer below what is available.
	syncCl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(k.Topic(schemas.TopicTikTokSyncActions)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer syncCl.Close()
	pollCtx, cancelPoll = context.WithTimeout(ctx, 30*time.Second)
	fs = syncCl.PollFetches(pollCtx)
	cancelPoll()
	var listed schemas.TikTokSyncCommand
	if recs := fs.Records(); len(recs) == 0 || json.Unmarshal(recs[0].Value, &listed) != nil ||
		listed.Kind != schemas.SyncStock || !slices.ContainsFunc(ev.LineItems, func(li schemas.LineItem) bool { return li.SKUID == listed.SKU }) {
		t.Fatalf("tiktok-sync topic holds %d records (%v), first %+v; order lines %+v; logs:\n%s", len(recs), fs.Err0(), listed, ev.LineItems, logs.String())
	}

	// The order went through its lifecycle to a priority, and unless a
	// person must look at it, to a label command with ranked carriers.
	var decided schemas.PrioritizedOrder
	readOne(ctx, t, k, schemas.TopicOrdersPrioritized, &decided, logs.String)
	if decided.OrderID != "ORDER-E2E-1" || decided.Class == "" || len(decided.Reasons) == 0 {
		t.Fatalf("prioritized %+v", decided)
	}
	if decided.Class != schemas.PriorityManualReview {
		var label schemas.LabelCommand
		readOne(ctx, t, k, schemas.TopicLabelActions, &label, logs.String)
		if label.OrderID != "ORDER-E2E-1" || label.Action != schemas.LabelBuy || len(label.Options) == 0 || label.Priority != decided.Class {
			t.Fatalf("label command %+v after %+v", label, decided)
		}
	}

	// The poller read the counters of the catalog's active videos.
	metricsCl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(k.Topic(schemas.TopicContentMetrics)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer metricsCl.Close()
	pollCtx, cancelPoll = context.WithTimeout(ctx, 30*time.Second)
	fs = metricsCl.PollFetches(pollCtx)
	cancelPoll()
	var reading schemas.ContentMetrics
	if recs := fs.Records(); len(recs) == 0 || json.Unmarshal(recs[0].Value, &reading) != nil || reading.ContentID == "" || len(reading.SKUIDs) == 0 {
		t.Fatalf("content metrics topic holds %d records (%v), first %+v; logs:\n%s", len(recs), fs.Err0(), reading, logs.String())
	}

	// The Order API was asked with the shop's cipher from the catalog.
	resp, err := http.Get("http://" + sandboxAddr + "/sandbox/requests")
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Data struct{ Requests []sandbox.Request } // in the API's envelope
	}
	err = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	requests := answer.Data.Requests
	asked := false
	for _, r := range requests {
		if r.Path == tiktok.PathOrders {
			asked = true
			if r.Shop != "GCP_home_demo" {
				t.Fatalf("Order API asked for shop %q, want the catalog's cipher GCP_home_demo", r.Shop)
			}
		}
	}
	if !asked {
		t.Fatalf("the sandbox saw no order read: %+v", requests)
	}

	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d after SIGTERM-equivalent; logs:\n%s", code, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not shut down within 30 s")
	}
}

// readOne decodes the first committed record of a topic of the test into v,
// waiting up to 30 s for it.
func readOne(ctx context.Context, t *testing.T, k stacktest.Kafka, topic string, v any, logs func() string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ConsumeTopics(k.Topic(topic)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pollCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fs := cl.PollFetches(pollCtx)
	if recs := fs.Records(); len(recs) == 0 || json.Unmarshal(recs[0].Value, v) != nil {
		t.Fatalf("%s holds %d records (%v); logs:\n%s", topic, len(recs), fs.Err0(), logs())
	}
}

func waitReady(ctx context.Context, t *testing.T, url string, done <-chan int) {
	t.Helper()
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case code := <-done:
			t.Fatalf("run exited %d before it was ready", code)
		case <-ctx.Done():
			t.Fatalf("not ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func post(t *testing.T, addr, body, key, secret string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://%s/webhooks/tiktok", addr), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", hex.EncodeToString(webhook.Sign(webhook.App{Key: key, Secret: secret}, []byte(body))))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
