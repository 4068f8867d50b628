package poller

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/sandbox"
	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/schemas"
)

// TestAdapt walks an item's interval through rising, steady, cold and reset
// readings.
func TestAdapt(t *testing.T) {
	p := &Poller{cfg: Config{Cadence: Cadence{Interval: 30 * time.Second, MinInterval: 5 * time.Second, MaxInterval: 5 * time.Minute, ColdViewsPerMinute: 1}}}
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tr := &tracked{interval: p.cfg.Interval}
	views := int64(0)
	at := start
	// Each step: views gained per minute since the last reading, and the
	// interval expected afterwards.
	steps := []struct {
		perMinute float64
		reset     bool
		want      time.Duration
	}{
		{0, false, 30 * time.Second},           // first reading: no velocity yet
		{100, false, 30 * time.Second},         // steady
		{125, false, 30 * time.Second},         // +25%: noise, not a rise
		{200, false, 15 * time.Second},         // +60%: rising, halve
		{450, false, 5 * time.Second},          // more than doubled: straight to the minimum
		{1000, false, 5 * time.Second},         // still rising: stays at the minimum
		{1000, false, 6250 * time.Millisecond}, // steady again: drift back up
		{1000, false, 7812500 * time.Microsecond},
		{0.5, false, 11718750 * time.Microsecond}, // cold: grow by half
		{0, true, 17578125 * time.Microsecond},    // counter reset: velocity 0, cold
	}
	for i, s := range steps {
		if i > 0 {
			gap := tr.interval
			at = at.Add(gap)
			views += int64(s.perMinute * gap.Minutes())
			if s.reset {
				views = 3
			}
		}
		p.adapt(tr, tiktok.Video{ViewCount: views}, at)
		if tr.interval != s.want || !tr.next.Equal(at.Add(s.want)) {
			t.Fatalf("step %d (%.1f views/min): interval %s next %s, want %s", i, s.perMinute, tr.interval, tr.next.Sub(at), s.want)
		}
	}
	for range 20 {
		at = at.Add(tr.interval)
		p.adapt(tr, tiktok.Video{ViewCount: views}, at)
	}
	if tr.interval != p.cfg.MaxInterval {
		t.Fatalf("a cold item settles at %s, want the maximum %s", tr.interval, p.cfg.MaxInterval)
	}
	// It takes off: two readings later it is polled as often as allowed.
	for _, perMinute := range []float64{0, 5000} {
		gap := tr.interval
		at = at.Add(gap)
		views += int64(perMinute * gap.Minutes())
		p.adapt(tr, tiktok.Video{ViewCount: views}, at)
	}
	if tr.interval != p.cfg.MinInterval {
		t.Fatalf("a cold item taking off is polled every %s, want %s", tr.interval, p.cfg.MinInterval)
	}
}

// TestPollerRateAndReadings polls 400 content items, far more than the
// rate limit allows, against the sandbox: the poller never makes more
// requests than the limiter's bound for the elapsed time (a full bucket plus
// the refill: at most the rate over any minute), uses most of it, and every
// reading in the topic carries the item's SKUs and counters that never go
// down.
func TestPollerRateAndReadings(t *testing.T) {
	t.Parallel()
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := k.Topic(schemas.TopicContentMetrics)
	k.CreateTopics(ctx, t, 6, topic)
	sb, err := sandbox.New(sandbox.Config{Seed: 5, Synthesize: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	def := sandbox.DefaultConfig()
	const rate = 120 // a minute: 2 a second
	api, err := tiktok.New(tiktok.Config{BaseURL: srv.URL, AppKey: def.AppKey, AppSecret: def.AppSecret,
		AccessToken: def.AccessToken, RefreshToken: def.RefreshToken, AppRate: rate})
	if err != nil {
		t.Fatal(err)
	}
	var items []Item
	for i := range 400 {
		items = append(items, Item{ContentID: fmt.Sprint("video-", i), ShopID: fmt.Sprint("shop-", i%4),
			ShopCipher: fmt.Sprint("cipher-", i%4), SKUIDs: []string{fmt.Sprint("sku-", i%30)}})
	}
	producer, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	p, err := New(Config{Items: func(context.Context) ([]Item, error) { return items, nil }, API: api,
		Producer: producer, Topic: topic, Partitions: 6, Cadence: Cadence{Interval: 2 * time.Second, MinInterval: time.Second, MaxInterval: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithTimeout(ctx, 6*time.Second)
	defer stop()
	start := time.Now()
	if err := p.Run(runCtx); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	requests := 0
	for _, r := range sb.Requests() {
		if r.Path == tiktok.PathVideoQuery {
			requests++
		}
	}
	burst := rate / 10
	bound := float64(burst) + float64(rate-burst)*elapsed.Minutes()
	t.Logf("%d video requests in %s; the limiter's bound: %.1f", requests, elapsed.Round(time.Millisecond), bound)
	if float64(requests) > bound || float64(requests) < 0.6*bound {
		t.Fatalf("%d video requests in %s; the limiter allows at most %.1f, and the poller should use most of it", requests, elapsed.Round(time.Millisecond), bound)
	}

	views := map[string][]int64{}
	readings := 0
	for _, r := range k.ReadCommitted(ctx, t, topic) {
		var m schemas.ContentMetrics
		if err := json.Unmarshal(r.Value, &m); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != m.ContentID || len(m.SKUIDs) != 1 || m.PolledAt.IsZero() {
			t.Fatalf("reading %+v", m)
		}
		views[m.ContentID] = append(views[m.ContentID], m.Views)
		readings++
	}
	if readings < requests {
		t.Fatalf("%d readings in the topic for %d requests", readings, requests)
	}
	for id, v := range views {
		if !slices.IsSorted(v) {
			t.Fatalf("%s: views went down: %v", id, v)
		}
	}
}

// TestMembership checks that two pollers of one group split the partitions
// between them.
func TestMembership(t *testing.T) {
	t.Parallel()
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := k.Topic(schemas.TopicContentMetrics)
	k.CreateTopics(ctx, t, 6, topic)
	opts := []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}
	log := slog.New(slog.DiscardHandler)
	a, err := JoinGroup(opts, k.Prefix+"poller", topic, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := JoinGroup(opts, k.Prefix+"poller", topic, log)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for {
		both, either := 0, 0
		for p := range int32(6) {
			if a.Owns(p) && b.Owns(p) {
				both++
			}
			if a.Owns(p) || b.Owns(p) {
				either++
			}
		}
		ownA := 0
		for p := range int32(6) {
			if a.Owns(p) {
				ownA++
			}
		}
		if both == 0 && either == 6 && ownA > 0 && ownA < 6 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("partitions not split: a owns %d, %d owned by both, %d by either", ownA, both, either)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
