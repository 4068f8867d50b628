// Package velocity measures how fast each content item's engagement grows
// and says when it goes viral. It reads the polls of content counters
// (tiktok.content-metrics.v1: cumulative counters at irregular times, with
// resets, glitches, late and missing polls), turns each poll into the
// weighted engagement of its interval, scores hopping windows of it against
// the item's own baseline and opens and closes episodes with hysteresis
// (Trend). Each episode change goes, once per SKU the content promotes, to
// an internal topic keyed by SKU, where the inventory processors combine it
// with the SKU's order velocity into the SKU's viral alerts.
package velocity

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// ContentSignal is a content item's episode change for one SKU it
// promotes: the record of the internal signals topic, keyed by SKU.
type ContentSignal struct {
	ContentID string `json:"content_id"`
	SKU       string `json:"sku"`
	Phase     string `json:"phase"` // STARTED, UPDATED, ENDED
	// Score is the window's rate over the item's baseline.
	Score float64 `json:"score"`
	// Velocity is the weighted engagement per hour, Acceleration its
	// change per hour per hour.
	Velocity     float64 `json:"velocity"`
	Acceleration float64 `json:"acceleration"`
	// At is the end of the window that decided it.
	At time.Time `json:"at"`
}

// SignalsTopic is the internal topic of content signals, keyed by SKU, for
// an application prefix: the inventory application consumes it, so it is
// named after it and has the partitions of the SKU-keyed topics.
func SignalsTopic(inventoryApplication string) stream.TopicSpec {
	return stream.TopicSpec{Name: inventoryApplication + "-content-signals", Partitions: skuPartitions()}
}

func skuPartitions() int32 {
	t, _ := schemas.Lookup(schemas.TopicViralAlerts)
	return t.Partitions
}

// Config sets up the velocity processor.
type Config struct {
	// Application names the stream application.
	Application string
	// Metrics is the input topic (tiktok.content-metrics.v1).
	Metrics string
	// Signals is the internal output topic (SignalsTopic).
	Signals stream.TopicSpec
	// Content says how engagement becomes episodes; zero means
	// DefaultContentConfig.
	Content ContentConfig
	// ForgetAfter is how long an item's state outlives its last reading
	// (7 days): deleted videos do not stay in the store for ever.
	ForgetAfter time.Duration
	// Registerer receives the processor's metrics; nil registers none.
	Registerer prometheus.Registerer
}

const contentStore = "content"

// maxSkew is how far a reading's time may be ahead of its record's
// timestamp (the poller writes both from one clock).
const maxSkew = 10 * time.Minute

// Topology is the velocity processor.
func Topology(cfg Config) (stream.Topology, error) {
	if cfg.Content == (ContentConfig{}) {
		cfg.Content = DefaultContentConfig
	}
	if err := cfg.Content.validate(); err != nil {
		return stream.Topology{}, err
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = 7 * 24 * time.Hour
	}
	p := &processor{cfg: cfg, states: stream.KV[ContentState]{Store: contentStore, Codec: stream.JSON[ContentState]{}},
		stale: prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_velocity_stale_readings_total",
			Help: "Content readings no later than the item's last one (late deliveries), ignored: the later reading covers them."}),
		episodes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_velocity_episodes_total",
			Help: "Content episode changes, by phase (STARTED, UPDATED, ENDED)."}, []string{"phase"}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(p.stale, p.episodes)
	}
	return stream.Topology{
		Application: cfg.Application,
		Inputs:      []string{cfg.Metrics},
		Outputs:     []string{cfg.Signals.Name},
		Internal:    []stream.TopicSpec{cfg.Signals},
		Stores:      []stream.StoreSpec{{Name: contentStore}},
		Process:     p.process,
	}, nil
}

type processor struct {
	cfg      Config
	states   stream.KV[ContentState]
	stale    prometheus.Counter
	episodes *prometheus.CounterVec
}

func (p *processor) process(c *stream.Context, r *kgo.Record) error {
	var m schemas.ContentMetrics
	if err := json.Unmarshal(r.Value, &m); err != nil {
		return fmt.Errorf("content reading: %w", err)
	}
	if m.ContentID == "" || m.PolledAt.IsZero() {
		return fmt.Errorf("content reading: content_id and polled_at are required")
	}
	// A reading from the future would make every later one look stale.
	if !r.Timestamp.IsZero() && m.PolledAt.After(r.Timestamp.Add(maxSkew)) {
		return fmt.Errorf("content reading: polled_at %s is more than %s after the record was written (%s)",
			m.PolledAt.Format(time.RFC3339), maxSkew, r.Timestamp.Format(time.RFC3339))
	}
	st, _, err := p.states.Get(c, m.ContentID)
	if err != nil {
		return err
	}
	changes, ok := p.cfg.Content.Observe(&st, m.PolledAt, countersOf(m))
	if !ok {
		p.stale.Inc()
		return nil
	}
	for _, ch := range changes {
		skus := m.SKUIDs
		switch ch.Phase {
		case Started:
			st.SKUs = append([]string(nil), m.SKUIDs...)
		case Updated, Ended:
			skus = st.SKUs
		}
		if ch.Phase == Ended {
			st.SKUs = nil
		}
		p.episodes.WithLabelValues(ch.Phase.String()).Inc()
		for _, sku := range skus {
			if err := p.emit(c, m, sku, ch); err != nil {
				return err
			}
		}
	}
	p.states.ForgetAt(c, m.ContentID, m.PolledAt.Add(p.cfg.ForgetAfter))
	return p.states.Put(c, m.ContentID, st)
}

func (p *processor) emit(c *stream.Context, m schemas.ContentMetrics, sku string, ch Change) error {
	sig := ContentSignal{ContentID: m.ContentID, SKU: sku, Phase: ch.Phase.String(), Score: ch.Score,
		Velocity: ch.Rate * 60, Acceleration: ch.Accel * 3600, At: ch.At}
	value, err := json.Marshal(sig)
	if err != nil {
		return err
	}
	env := schemas.Envelope{ID: schemas.EventID(ch.At, "content-signal", m.ContentID, sku, sig.Phase),
		Type: "velocity.content-signal", SchemaVersion: 1, Source: "creatorflow/velocity", Time: ch.At, IngestTime: ch.At}
	c.Emit(&kgo.Record{Topic: p.cfg.Signals.Name, Key: []byte(sku), Value: value, Headers: env.Headers()})
	return nil
}
