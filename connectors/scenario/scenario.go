// Package scenario generates labelled streams for CreatorFlow: a catalog
// (shops, suppliers, SKUs, the TikTok content promoting them), the content
// readings an adaptive poller would publish (cumulative counters, with
// counter resets, late, missing and gapped readings), the orders those
// items drive, and the ground truth behind them: which items really went
// viral and when, which were only a bot burst or a counter glitch, and when
// each SKU would run out of stock without a reorder.
//
// Everything is a pure function of the Config: the same Config gives
// byte-identical files, so a test, a quality evaluation of viral detection
// (precision, recall, detection delay, false alarms, stock-outs prevented)
// and a simulator can all name a scenario by its seed. The model and its
// numbers are described in docs/scenario.md; they live in Model.
package scenario

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/segmentio/ksuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/catalog"
	"github.com/creatorflow/creatorflow/schemas"
)

// Kind is what a content item's engagement does over the scenario.
type Kind string

// The kinds of content items. Only spike and slow_burn are viral: burst and
// glitch are the false alarms a detector must not raise.
const (
	// Spike: engagement jumps to many times its base within minutes,
	// holds, then decays.
	Spike Kind = "spike"
	// SlowBurn: engagement grows exponentially over hours, then holds.
	SlowBurn Kind = "slow_burn"
	// Burst: a single poll interval of bot views; counters then go on
	// at the normal rate (they keep the extra views).
	Burst Kind = "burst"
	// Glitch: a single reading reports inflated views; the next reading is
	// back to the truth.
	Glitch Kind = "glitch"
	// AlwaysHot: a large, steady audience with a daily swing.
	AlwaysHot Kind = "always_hot"
	// Quiet: a handful of views a minute, polled rarely; many readings do
	// not change.
	Quiet Kind = "quiet"
	// Steady: a moderate audience with nothing happening.
	Steady Kind = "steady"
)

// Kinds lists every kind, in the order summaries print them.
var Kinds = []Kind{Spike, SlowBurn, Burst, Glitch, AlwaysHot, Quiet, Steady}

// Viral reports whether items of the kind are true viral episodes.
func (k Kind) Viral() bool { return k == Spike || k == SlowBurn }

// DefaultMix returns the default shares of the kinds.
func DefaultMix() map[Kind]float64 {
	return map[Kind]float64{Spike: 0.12, SlowBurn: 0.06, Burst: 0.08, Glitch: 0.06, AlwaysHot: 0.10, Quiet: 0.20, Steady: 0.38}
}

// Faults an item's readings can suffer, as ItemTruth.Faults names them.
const (
	// FaultReset: the counters restart from 0 at ItemTruth.ResetAt.
	FaultReset = "reset"
	// FaultLate: some readings arrive after their event time.
	FaultLate = "late"
	// FaultMissing: some readings were dropped.
	FaultMissing = "missing"
	// FaultGap: no readings between GapStart and GapEnd.
	FaultGap = "gap"
)

// Defaults of Config.
const (
	DefaultItems    = 600
	DefaultShops    = 10
	DefaultDuration = 12 * time.Hour
	DefaultWarmup   = 2 * time.Hour
)

// DefaultStart is Config.Start's default: a Monday, fixed so that a seed
// names the same scenario forever.
var DefaultStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Source is the ce_source of every generated event.
const Source = "creatorflow/scenario"

// ErrConfig marks errors of Generate that come from the Config rather than
// from the generator, so that a command can answer them as bad usage.
var ErrConfig = errors.New("scenario: invalid config")

// Config describes a scenario. Zero values take the defaults noted.
type Config struct {
	// Seed selects the scenario; 0 is a seed like any other.
	Seed int64 `json:"seed"`
	// Items is the number of content items (DefaultItems).
	Items int `json:"items"`
	// Shops is the number of shops (DefaultShops).
	Shops int `json:"shops"`
	// Start is when the scenario begins (DefaultStart); it is kept in UTC
	// and to the millisecond, as every generated time.
	Start time.Time `json:"start"`
	// Duration is how long it lasts (DefaultDuration).
	Duration time.Duration `json:"duration"`
	// Warmup is the quiet start (DefaultWarmup): no onset, burst, glitch,
	// reset or gap before Start+Warmup, so detectors learn baselines.
	// Onsets, bursts and glitches fall in [Start+Warmup,
	// Start+Duration-Model.TailHours], which must not be empty.
	Warmup time.Duration `json:"warmup"`
	// Mix is the share of each kind (DefaultMix); shares are normalized,
	// and kinds not named get none.
	Mix map[Kind]float64 `json:"mix"`
	// Model holds the model's numbers (nil: DefaultModel).
	Model *Model `json:"model,omitempty"`
}

// withDefaults returns the config Generate uses: defaults filled in, the
// mix normalized, and checked.
func (c Config) withDefaults() (Config, error) {
	if c.Items == 0 {
		c.Items = DefaultItems
	}
	if c.Shops == 0 {
		c.Shops = DefaultShops
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.Start = c.Start.UTC().Truncate(time.Millisecond)
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Warmup == 0 {
		c.Warmup = DefaultWarmup
	}
	model := DefaultModel()
	if c.Model != nil {
		model = *c.Model
		model.LinkWeights = append([]float64(nil), model.LinkWeights...)
		model.Suppliers = append([]SupplierModel(nil), model.Suppliers...)
	}
	c.Model = &model
	mix := c.Mix
	if len(mix) == 0 {
		mix = DefaultMix()
	}
	c.Mix = map[Kind]float64{}
	total := 0.0
	var errs []error
	for k, share := range mix {
		if !isKind(k) {
			errs = append(errs, fmt.Errorf("mix: unknown kind %q", k))
		}
		if !(share >= 0) || math.IsInf(share, 0) {
			errs = append(errs, fmt.Errorf("mix: share of %s must be a number >= 0", k))
		}
		total += share
	}
	if len(errs) == 0 && total <= 0 {
		errs = append(errs, errors.New("mix: some kind needs a positive share"))
	}
	if len(errs) == 0 {
		// A mix that already sums to 1 (a written Config) is kept as is, so
		// that generating from truth.json's config gives the same scenario.
		if math.Abs(total-1) < 1e-9 {
			total = 1
		}
		for k, share := range mix {
			if share > 0 {
				c.Mix[k] = share / total
			}
		}
	}
	switch {
	case c.Items < 0:
		errs = append(errs, errors.New("items must be at least 1"))
	case c.Shops < 0:
		errs = append(errs, errors.New("shops must be at least 1"))
	case c.Duration < 0 || c.Warmup < 0:
		errs = append(errs, errors.New("duration and warmup must be positive"))
	case c.Warmup+hours(model.TailHours) >= c.Duration:
		errs = append(errs, fmt.Errorf("duration %s leaves no time for episodes: it must exceed the warmup (%s) plus the tail (%gh)",
			c.Duration, c.Warmup, model.TailHours))
	}
	if err := model.validate(); err != nil {
		errs = append(errs, fmt.Errorf("model: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

func isKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// End returns when the scenario ends, Start+Duration.
func (c Config) End() time.Time { return c.Start.Add(c.Duration) }

// EpisodeWindow returns the interval onsets, bursts and glitches are drawn
// from: [Start+Warmup, End-TailHours].
func (c Config) EpisodeWindow() (from, to time.Time) {
	tail := DefaultModel().TailHours
	if c.Model != nil {
		tail = c.Model.TailHours
	}
	return c.Start.Add(c.Warmup), c.End().Add(-hours(tail))
}

// ItemTruth is what really happened to a content item.
type ItemTruth struct {
	ContentID string   `json:"content_id"`
	ShopID    string   `json:"shop_id"`
	SKUIDs    []string `json:"sku_ids"`
	Kind      Kind     `json:"kind"`
	// Viral is true for spike and slow_burn items.
	Viral bool `json:"viral"`
	// Onset is, for a spike, when its multiplier starts rising; for a
	// slow burn, when its multiplier reaches Model.SlowBurnOnsetMultiplier
	// (3: the growth starts earlier, but barely shows); for a burst or a
	// glitch, the event time of the first reading that shows it (what a
	// detector's false alarm would point at). Zero for the other kinds.
	Onset time.Time `json:"onset,omitzero"`
	// PeakAt is when a viral item's multiplier reaches Peak.
	PeakAt time.Time `json:"peak_at,omitzero"`
	// Peak is the largest engagement multiplier (spike, slow_burn), the
	// burst's extra views as a multiple of the interval's normal views
	// (burst), or the factor the glitched reading's views were inflated by
	// (glitch); 0 for the other kinds.
	Peak float64 `json:"peak,omitempty"`
	// BaseViewsPerMinute is the item's view rate outside its episode (the
	// daily mean for always_hot items).
	BaseViewsPerMinute float64 `json:"base_views_per_minute"`
	// Faults lists which of FaultReset, FaultLate, FaultMissing and
	// FaultGap the item's readings suffer, in that order.
	Faults []string `json:"faults,omitempty"`
	// ResetAt is when the counters restart from 0 (FaultReset).
	ResetAt time.Time `json:"reset_at,omitzero"`
	// GapStart and GapEnd bound the stretch without readings (FaultGap).
	GapStart time.Time `json:"gap_start,omitzero"`
	GapEnd   time.Time `json:"gap_end,omitzero"`
	// Readings counts the item's published readings; Late and Missing
	// count those published late and those dropped (not in Readings).
	Readings int `json:"readings"`
	Late     int `json:"late,omitempty"`
	Missing  int `json:"missing,omitempty"`
}

// SKUTruth is what really happened to a SKU's stock.
type SKUTruth struct {
	SKUID  string `json:"sku_id"`
	ShopID string `json:"shop_id"`
	// Viral: a viral item promotes the SKU.
	Viral bool `json:"viral"`
	// Onset is the earliest Onset of the viral items promoting it.
	Onset time.Time `json:"onset,omitzero"`
	// StartingStock is the catalog's starting stock.
	StartingStock int `json:"starting_stock"`
	// LeadTime is the lead time of the SKU's supplier.
	LeadTime time.Duration `json:"lead_time"`
	// BaseOrdersPerHour is the rate of orders (as their first line) when
	// no viral item drives demand.
	BaseOrdersPerHour float64 `json:"base_orders_per_hour"`
	// StockOut is the event time at which available stock (starting stock
	// minus units ordered plus units cancelled, in event-time order) first
	// reaches 0 or less, with no reorder; zero when it does not within the
	// scenario. Orders are demand and keep coming after it.
	StockOut time.Time `json:"stock_out,omitzero"`
	// Possible: the SKU is viral, runs out, and a reorder placed at the
	// onset would have arrived before it did (Onset+LeadTime < StockOut),
	// so a detector that fires at once can prevent the stock-out.
	Possible bool `json:"possible"`
}

// Event is one record of the scenario.
type Event struct {
	Topic string `json:"topic"`
	Key   string `json:"key"`
	// Value is the record value, JSON.
	Value []byte `json:"value"`
	// Time is the event time (ce_time).
	Time time.Time `json:"time"`
	// Arrival is when the record reaches Kafka: Time, or later for a late
	// reading.
	Arrival time.Time `json:"arrival"`
	// ID is the ce_id: schemas.EventID of the event time and what
	// identifies the event, as the real producer would make it.
	ID string `json:"id"`
}

// Record returns the event as a Kafka record with the CloudEvents headers
// of schemas.Envelope (ce_time the event time, ce_ingesttime the arrival)
// and the arrival as its timestamp, as the real producer would have
// written it. An ID that is not a KSUID (a hand-edited file) is replaced by
// one derived from it, so the record is still well-formed.
func (e Event) Record() *kgo.Record {
	id, err := ksuid.Parse(e.ID)
	if err != nil {
		id = schemas.EventID(e.Time, e.Topic, e.Key, e.ID)
	}
	typ := e.Topic
	if t, ok := schemas.Lookup(e.Topic); ok {
		typ = t.EventType
	}
	env := schemas.Envelope{ID: id, Type: typ, SchemaVersion: 1, Source: Source, Time: e.Time, IngestTime: e.Arrival}
	return &kgo.Record{Topic: e.Topic, Key: []byte(e.Key), Value: e.Value, Headers: env.Headers(), Timestamp: e.Arrival}
}

// Scenario is a generated scenario: its catalog, ground truth and events.
type Scenario struct {
	// Config is the config used, with every default filled in.
	Config  Config
	Catalog catalog.Catalog
	// Items are in the catalog's content order, SKUs in its SKU order.
	Items []ItemTruth
	SKUs  []SKUTruth
	// Events are in arrival order (ties: event time, topic, key, id).
	Events []Event
}

// Generate makes the scenario cfg describes. The same Config always gives
// the same scenario, byte for byte once written. Errors from the config
// wrap ErrConfig.
func Generate(cfg Config) (*Scenario, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	g := newGenerator(cfg)
	g.plan()
	readings := g.allReadings()
	orders := g.allOrders()
	s := &Scenario{Config: cfg, Catalog: g.catalog, Items: g.itemTruths(), SKUs: g.skuTruths(orders)}
	s.Events = mergeEvents(readings, orders.events)
	return s, nil
}
