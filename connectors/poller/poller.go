// Package poller reads the engagement counters of the content items that
// sell our SKUs from the TikTok API and produces each reading to
// tiktok.content-metrics.v1. Polling is adaptive: every 30 s by default,
// faster while an item's view velocity rises, slower while it is cold, so a
// viral spike is seen within seconds without spending the rate limit on
// quiet items. Instances share the items by the partition of their key.
package poller

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/schemas"
)

// Item is a content item to poll and the SKUs it promotes.
type Item struct {
	ContentID, ShopID, ShopCipher string
	SKUIDs                        []string
}

// Videos is what the poller needs of the TikTok API (tiktok.Client).
type Videos interface {
	Videos(ctx context.Context, shopCipher string, ids []string) ([]tiktok.Video, error)
}

// Config sets up a Poller. Zero durations take the defaults noted.
type Config struct {
	// Items lists the content to poll (the catalog); it is read at start
	// and every Refresh.
	Items func(ctx context.Context) ([]Item, error)
	// API reads the counters; its rate limiter keeps the poller within
	// TikTok's limits, whatever the schedule asks for.
	API Videos
	// Producer writes the readings to Topic.
	Producer *kgo.Client
	Topic    string
	// Owns says whether this instance polls the items whose key falls in
	// a partition of Topic (see Membership); nil polls everything.
	Owns func(partition int32) bool
	// Partitions is how many partitions Topic has.
	Partitions int32
	// Cadence spaces each item's polls; zero fields take their defaults.
	Cadence
	// Refresh is how often the item list is read again (1 min).
	Refresh time.Duration
	// Now is the clock (tests inject one).
	Now func() time.Time
	// Registerer receives the poller's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives its logs; nil discards them.
	Logger *slog.Logger
}

// Poller polls content counters until its context ends.
type Poller struct {
	cfg       Config
	partition kgo.Partitioner
	items     map[string]*tracked
	metrics   metrics
}

// tracked is an item and its polling state.
type tracked struct {
	Item
	next     time.Time     // when it is due
	interval time.Duration // current polling interval
	last     tiktok.Video  // the previous reading
	lastAt   time.Time     // when it was taken (zero: none yet)
	velocity float64       // views per minute between the last two readings
	// hasVelocity: velocity is from two readings (not the first, not
	// across a counter reset)
	hasVelocity bool
	partition   int32 // of its key in Topic, which says who polls it
}

type metrics struct {
	polls    *prometheus.CounterVec
	interval prometheus.Histogram
	items    prometheus.Gauge
}

// New returns a poller.
func New(cfg Config) (*Poller, error) {
	if cfg.Items == nil || cfg.API == nil || cfg.Producer == nil || cfg.Topic == "" || cfg.Partitions <= 0 {
		return nil, errors.New("poller: items, an API, a producer, a topic and its partition count are required")
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.Interval, 30 * time.Second}, {&cfg.MinInterval, 5 * time.Second}, {&cfg.MaxInterval, 5 * time.Minute}, {&cfg.Refresh, time.Minute}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	if cfg.MinInterval > cfg.Interval || cfg.Interval > cfg.MaxInterval {
		return nil, fmt.Errorf("poller: intervals must satisfy min %s <= interval %s <= max %s", cfg.MinInterval, cfg.Interval, cfg.MaxInterval)
	}
	if cfg.ColdViewsPerMinute <= 0 {
		cfg.ColdViewsPerMinute = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Poller{cfg: cfg, items: map[string]*tracked{},
		// Kafka's murmur2 key hashing, as every Kafka producer (ours
		// included) places a keyed record.
		partition: kgo.StickyKeyPartitioner(nil),
		metrics: metrics{
			polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_poller_readings_total",
				Help: "Content items polled, by result (ok, missing, failed)."}, []string{"result"}),
			interval: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "creatorflow_poller_interval_seconds",
				Help: "Polling interval chosen for an item after each reading.", Buckets: prometheus.ExponentialBuckets(2.5, 2, 8)}),
			items: prometheus.NewGauge(prometheus.GaugeOpts{Name: "creatorflow_poller_items",
				Help: "Content items this instance polls."}),
		}}
	if cfg.Registerer != nil {
		if err := errors.Join(cfg.Registerer.Register(p.metrics.polls), cfg.Registerer.Register(p.metrics.interval),
			cfg.Registerer.Register(p.metrics.items)); err != nil {
			return nil, fmt.Errorf("poller: metrics: %w", err)
		}
	}
	return p, nil
}

// Run polls until ctx ends. Failures of the item list, the API or Kafka are
// logged and retried: the list at the next refresh (the previous one is
// polled meanwhile), the items at their next turn.
func (p *Poller) Run(ctx context.Context) error {
	var nextRefresh time.Time
	for ctx.Err() == nil {
		now := p.cfg.Now()
		if !now.Before(nextRefresh) {
			if err := p.refresh(ctx); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("item list not read; polling the previous one", "items", len(p.items), "err", err)
			}
			nextRefresh = now.Add(p.cfg.Refresh)
		}
		due := p.due(now)
		if len(due) == 0 {
			wait := min(p.nextDue(now).Sub(now), nextRefresh.Sub(now), time.Second)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			continue
		}
		p.poll(ctx, due)
	}
	return nil
}

// refresh reads the item list, keeping the state of items still listed.
func (p *Poller) refresh(ctx context.Context) error {
	items, err := p.cfg.Items(ctx)
	if err != nil {
		return fmt.Errorf("poller: items: %w", err)
	}
	now := p.cfg.Now()
	seen := map[string]bool{}
	for i, it := range items {
		seen[it.ContentID] = true
		if t, ok := p.items[it.ContentID]; ok {
			t.Item = it
			continue
		}
		// New items are spread over the first interval, not polled at once.
		offset := time.Duration(int64(p.cfg.Interval) * int64(i) / int64(max(len(items), 1)))
		part := p.partition.ForTopic(p.cfg.Topic).Partition(&kgo.Record{Key: []byte(it.ContentID)}, int(p.cfg.Partitions))
		p.items[it.ContentID] = &tracked{Item: it, next: now.Add(offset), interval: p.cfg.Interval, partition: int32(part)}
	}
	for id := range p.items {
		if !seen[id] {
			delete(p.items, id)
		}
	}
	p.metrics.items.Set(float64(len(p.items)))
	return nil
}

// due returns the owned items due at now, earliest first.
func (p *Poller) due(now time.Time) []*tracked {
	var out []*tracked
	for _, t := range p.items {
		if !t.next.After(now) && p.owned(t) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *tracked) int {
		if c := a.next.Compare(b.next); c != 0 {
			return c
		}
		return cmp.Compare(a.ContentID, b.ContentID)
	})
	return out
}

func (p *Poller) nextDue(now time.Time) time.Time {
	next := now.Add(time.Second)
	for _, t := range p.items {
		if t.next.Before(next) && p.owned(t) {
			next = t.next
		}
	}
	return next
}

func (p *Poller) owned(t *tracked) bool {
	return p.cfg.Owns == nil || p.cfg.Owns(t.partition)
}

// poll reads the due items, per shop in requests of up to tiktok.MaxBatch,
// produces the readings and schedules each item again.
func (p *Poller) poll(ctx context.Context, due []*tracked) {
	byShop := map[string][]*tracked{}
	var shops []string
	for _, t := range due {
		if _, ok := byShop[t.ShopCipher]; !ok {
			shops = append(shops, t.ShopCipher)
		}
		byShop[t.ShopCipher] = append(byShop[t.ShopCipher], t)
	}
	for _, shop := range shops {
		for batch := range slices.Chunk(byShop[shop], tiktok.MaxBatch) {
			if ctx.Err() != nil {
				return
			}
			p.pollBatch(ctx, shop, batch)
		}
	}
}

func (p *Poller) pollBatch(ctx context.Context, shop string, batch []*tracked) {
	ids := make([]string, len(batch))
	for i, t := range batch {
		ids[i] = t.ContentID
	}
	videos, err := p.cfg.API.Videos(ctx, shop, ids)
	at := p.cfg.Now()
	if err != nil {
		p.metrics.polls.WithLabelValues("failed").Add(float64(len(batch)))
		p.cfg.Logger.Warn("content poll failed; retried at the items' next turn", "shop", shop, "items", len(batch), "err", err)
		for _, t := range batch {
			t.next = at.Add(t.interval)
		}
		return
	}
	byID := make(map[string]tiktok.Video, len(videos))
	for _, v := range videos {
		byID[v.ID] = v
	}
	var recs []*kgo.Record
	for _, t := range batch {
		v, ok := byID[t.ContentID]
		if !ok {
			// Deleted or private: look again, but rarely.
			p.metrics.polls.WithLabelValues("missing").Inc()
			t.interval = p.cfg.MaxInterval
			t.next = at.Add(t.interval)
			continue
		}
		rec, err := p.record(t, v, at)
		if err != nil {
			p.cfg.Logger.Error("content reading not encoded", "content", t.ContentID, "err", err)
			continue
		}
		recs = append(recs, rec)
		p.adapt(t, v, at)
		p.metrics.polls.WithLabelValues("ok").Inc()
		p.metrics.interval.Observe(t.interval.Seconds())
	}
	if len(recs) == 0 {
		return
	}
	if err := p.cfg.Producer.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		p.cfg.Logger.Warn("content readings not produced; the items are read again at their next turn", "records", len(recs), "err", err)
	}
}

// record is the Kafka record of a reading.
func (p *Poller) record(t *tracked, v tiktok.Video, at time.Time) (*kgo.Record, error) {
	m := schemas.ContentMetrics{ContentID: t.ContentID, ShopID: t.ShopID, SKUIDs: t.SKUIDs, Views: v.ViewCount,
		Likes: v.LikeCount, Comments: v.CommentCount, Shares: v.ShareCount, PolledAt: at.UTC()}
	value, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	env := schemas.Envelope{ID: schemas.EventID(at, t.ContentID, at.UTC().Format(time.RFC3339Nano)), Type: "tiktok.content-metrics",
		SchemaVersion: 1, Source: "creatorflow/poller", Time: at.UTC(), IngestTime: at.UTC()}
	return &kgo.Record{Topic: p.cfg.Topic, Key: []byte(t.ContentID), Value: value, Headers: env.Headers()}, nil
}

// adapt sets an item's next poll from how its view velocity moved (Next).
// A counter that went down (a reset on TikTok's side) restarts the
// velocity.
func (p *Poller) adapt(t *tracked, v tiktok.Video, at time.Time) {
	if !t.lastAt.IsZero() && at.After(t.lastAt) {
		prev, hadVelocity := t.velocity, t.hasVelocity
		delta := v.ViewCount - t.last.ViewCount
		if delta < 0 {
			t.velocity, t.hasVelocity = 0, false // reset: no velocity until the next reading
		} else {
			t.velocity, t.hasVelocity = float64(delta)/at.Sub(t.lastAt).Minutes(), true
		}
		t.interval = p.cfg.Next(t.interval, prev, hadVelocity, t.velocity)
	}
	t.last, t.lastAt = v, at
	t.next = at.Add(t.interval)
}

// Cadence is how the poller spaces an item's polls.
type Cadence struct {
	// Interval is the polling interval of an item whose velocity holds
	// steady (30 s); MinInterval and MaxInterval bound the adaptation
	// (5 s, 5 min).
	Interval, MinInterval, MaxInterval time.Duration
	// ColdViewsPerMinute is the view velocity below which an item is cold
	// and polled less often (1).
	ColdViewsPerMinute float64
}

// Next is the interval after a reading whose view velocity (views per
// minute since the previous reading) is velocity, when the one before was
// prev (hadPrev false: there was none) and the interval was interval: while
// the velocity rises by half or more, halve the interval, or go straight to
// MinInterval when it at least doubled (a cold item taking off must not
// take minutes of halving to be watched closely); grow it by half while the
// item is cold; otherwise drift back to Interval. Counters are noisy (a
// quarter up or down from one poll to the next is common), so a smaller
// rise is not a take-off. The scenario generator spaces its readings with
// it too.
func (c Cadence) Next(interval time.Duration, prev float64, hadPrev bool, velocity float64) time.Duration {
	// A cold item's velocity counts as the cold threshold, so that going
	// from 0 to anything warm is a take-off.
	base := max(prev, c.ColdViewsPerMinute)
	switch {
	case velocity < c.ColdViewsPerMinute:
		return min(c.MaxInterval, interval*3/2)
	case hadPrev && velocity >= 2*base:
		return c.MinInterval
	case hadPrev && velocity >= base*1.5:
		return max(c.MinInterval, interval/2)
	case interval < c.Interval:
		return min(c.Interval, interval*5/4)
	case interval > c.Interval:
		return max(c.Interval, interval*4/5)
	}
	return interval
}

// Membership tells which partitions of a topic this instance owns, through
// a consumer group on that topic that consumes nothing: Kafka's group
// protocol spreads the partitions, and so the items, over the instances,
// and moves them when one comes or goes.
type Membership struct {
	cl    *kgo.Client
	mu    sync.Mutex
	owned map[int32]bool
}

// JoinGroup joins group on topic with the given client options.
func JoinGroup(opts []kgo.Opt, group, topic string, log *slog.Logger) (*Membership, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Membership{owned: map[int32]bool{}}
	set := func(owned bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range parts[topic] {
				m.owned[p] = owned
			}
			log.Info("poller partitions changed", "owned", owned, "partitions", parts[topic])
		}
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), opts...),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.OnPartitionsAssigned(set(true)), kgo.OnPartitionsRevoked(set(false)), kgo.OnPartitionsLost(set(false)))...)
	if err != nil {
		return nil, fmt.Errorf("poller: group: %w", err)
	}
	// Membership only: the records are the poller's own output.
	cl.PauseFetchTopics(topic)
	m.cl = cl
	return m, nil
}

// Owns reports whether this instance owns partition p.
func (m *Membership) Owns(p int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owned[p]
}

// Close leaves the group.
func (m *Membership) Close() { m.cl.Close() }
