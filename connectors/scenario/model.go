package scenario

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Range is an interval a number is drawn from, uniformly unless the field
// using it says otherwise. Min == Max fixes the number.
type Range struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// SupplierModel is one supplier of the generated catalog: SKUs are spread
// over the suppliers by Weight, and a SKU's lead time is its supplier's.
type SupplierModel struct {
	LeadTimeHours float64 `json:"lead_time_hours"`
	Weight        float64 `json:"weight"`
}

// Model holds every number of the generator's model, so that the model is
// tuned in one place and a scenario's truth.json records the numbers it was
// made with. DefaultModel returns the documented defaults (docs/scenario.md);
// units are in the field names because the model is written to JSON.
type Model struct {
	// Engagement: base view rates per kind. Spike, slow_burn, burst and
	// glitch items draw from SteadyViewsPerMinute: what sets them apart is
	// their multiplier, not their audience.
	QuietViewsPerMinute  Range `json:"quiet_views_per_minute"`
	SteadyViewsPerMinute Range `json:"steady_views_per_minute"`
	HotViewsPerMinute    Range `json:"hot_views_per_minute"`
	// HotDiurnalAmplitude is the relative swing of always_hot items' view
	// rate over a day (a sinusoid with a random phase), so that a detector
	// meets slow drift in its busiest items.
	HotDiurnalAmplitude float64 `json:"hot_diurnal_amplitude"`
	// Per-item ratios of likes, comments and shares to views.
	LikeRatio    Range `json:"like_ratio"`
	CommentRatio Range `json:"comment_ratio"`
	ShareRatio   Range `json:"share_ratio"`
	// Overdispersion is the gamma shape of the gamma-Poisson draw of each
	// interval's views: the smaller, the noisier (coefficient of variation
	// about 1/sqrt(shape) on top of Poisson noise).
	Overdispersion float64 `json:"overdispersion"`
	// HistoryMinutes is how many minutes of its base rate an item has
	// already gathered at Start, so counters do not start at 0.
	HistoryMinutes Range `json:"history_minutes"`

	// Spike: the multiplier rises to Peak within SpikeRiseMinutes (log-
	// linearly), holds, then decays to SpikeFloor with a half-life.
	SpikePeak            Range   `json:"spike_peak"`
	SpikeRiseMinutes     Range   `json:"spike_rise_minutes"`
	SpikeHoldMinutes     Range   `json:"spike_hold_minutes"`
	SpikeHalfLifeMinutes Range   `json:"spike_half_life_minutes"`
	SpikeFloor           float64 `json:"spike_floor"`
	// SlowBurn: the multiplier grows exponentially from 1 to Peak over
	// SlowBurnGrowthHours, then holds; the truth's onset is when it reaches
	// SlowBurnOnsetMultiplier.
	SlowBurnPeak            Range   `json:"slow_burn_peak"`
	SlowBurnGrowthHours     Range   `json:"slow_burn_growth_hours"`
	SlowBurnOnsetMultiplier float64 `json:"slow_burn_onset_multiplier"`
	// Burst: one interval's extra views as a multiple of its normal views;
	// the extra likes are BurstLikeShare of the extra views times the
	// item's like ratio (bots mostly watch).
	BurstFactor    Range   `json:"burst_factor"`
	BurstLikeShare float64 `json:"burst_like_share"`
	// Glitch: one reading's views are its cumulative value times this.
	GlitchFactor Range `json:"glitch_factor"`
	// TailHours is kept free of onsets, bursts and glitches at the end of
	// the scenario, so every episode has time to show.
	TailHours float64 `json:"tail_hours"`

	// Faults. ResetShare and GapShare are shares of items, LateShare and
	// MissingShare shares of readings.
	ResetShare       float64 `json:"reset_share"`
	LateShare        float64 `json:"late_share"`
	LateDelaySeconds Range   `json:"late_delay_seconds"`
	MissingShare     float64 `json:"missing_share"`
	GapShare         float64 `json:"gap_share"`
	GapMinutes       Range   `json:"gap_minutes"`

	// Polling, as the adaptive poller does it (poller.Cadence.Next, from
	// the views it read and nothing else): every PollSeconds while an
	// item's view rate holds, faster down to MinPollSeconds while it
	// rises, slower up to MaxPollSeconds while it is under
	// ColdViewsPerMinute; each interval has a relative jitter.
	PollSeconds        float64 `json:"poll_seconds"`
	PollJitter         float64 `json:"poll_jitter"`
	MinPollSeconds     float64 `json:"min_poll_seconds"`
	MaxPollSeconds     float64 `json:"max_poll_seconds"`
	ColdViewsPerMinute float64 `json:"cold_views_per_minute"`

	// Catalog: SKUs per content item, and how many SKUs an item promotes
	// (LinkWeights[i] is the weight of promoting i+1 SKUs).
	SKUsPerItem float64         `json:"skus_per_item"`
	LinkWeights []float64       `json:"link_weights"`
	Suppliers   []SupplierModel `json:"suppliers"`
	// PriceCents is a product's unit price (log-uniform).
	PriceCents Range `json:"price_cents"`

	// Orders: a SKU's base rate (log-uniform), higher when an always_hot
	// item promotes it; its starting stock covers StockCoverDays of base
	// demand (log-uniform), at least MinStock units.
	OrdersPerHour    Range   `json:"orders_per_hour"`
	HotOrdersPerHour Range   `json:"hot_orders_per_hour"`
	StockCoverDays   Range   `json:"stock_cover_days"`
	MinStock         int     `json:"min_stock"`
	TwoLineShare     float64 `json:"two_line_share"`
	TwoUnitShare     float64 `json:"two_unit_share"`
	CancelShare      float64 `json:"cancel_share"`
	CancelMinutes    Range   `json:"cancel_minutes"`
	ShipHours        Range   `json:"ship_hours"`
}

// DefaultModel returns the model docs/scenario.md describes.
func DefaultModel() Model {
	return Model{
		QuietViewsPerMinute:  Range{0, 3},
		SteadyViewsPerMinute: Range{20, 500},
		HotViewsPerMinute:    Range{2000, 20000},
		HotDiurnalAmplitude:  0.25,
		LikeRatio:            Range{0.04, 0.10},
		CommentRatio:         Range{0.003, 0.01},
		ShareRatio:           Range{0.002, 0.008},
		Overdispersion:       16,
		HistoryMinutes:       Range{60, 3 * 24 * 60},

		SpikePeak:            Range{8, 60},
		SpikeRiseMinutes:     Range{1, 4},
		SpikeHoldMinutes:     Range{20, 120},
		SpikeHalfLifeMinutes: Range{30, 90},
		SpikeFloor:           1.5,

		SlowBurnPeak:            Range{6, 20},
		SlowBurnGrowthHours:     Range{1, 4},
		SlowBurnOnsetMultiplier: 3,

		BurstFactor:    Range{20, 100},
		BurstLikeShare: 0.1,
		GlitchFactor:   Range{1.5, 10},
		TailHours:      3,

		ResetShare:       0.10,
		LateShare:        0.03,
		LateDelaySeconds: Range{20, 120},
		MissingShare:     0.05,
		GapShare:         0.10,
		GapMinutes:       Range{5, 20},

		PollSeconds:        30,
		PollJitter:         0.2,
		MinPollSeconds:     5,
		MaxPollSeconds:     300,
		ColdViewsPerMinute: 1,

		SKUsPerItem: 0.8,
		LinkWeights: []float64{0.45, 0.35, 0.20},
		// The five suppliers of a typical shop (4 h to 3 days) and two
		// fast ones (a local warehouse transfer, same-day wholesale), which
		// weigh the most: a spike sells a SKU out within hours of its onset,
		// so only short lead times let a timely reorder arrive first, and
		// the evaluation needs SKUs it can save as well as SKUs it cannot.
		Suppliers: []SupplierModel{
			{LeadTimeHours: 1, Weight: 0.35},
			{LeadTimeHours: 2, Weight: 0.25},
			{LeadTimeHours: 4, Weight: 0.15},
			{LeadTimeHours: 8, Weight: 0.10},
			{LeadTimeHours: 24, Weight: 0.05},
			{LeadTimeHours: 48, Weight: 0.05},
			{LeadTimeHours: 72, Weight: 0.05},
		},
		PriceCents: Range{799, 5999},

		OrdersPerHour:    Range{0.2, 5},
		HotOrdersPerHour: Range{4, 15},
		StockCoverDays:   Range{1, 5},
		MinStock:         5,
		TwoLineShare:     0.08,
		TwoUnitShare:     0.10,
		CancelShare:      0.03,
		CancelMinutes:    Range{5, 60},
		ShipHours:        Range{2, 24},
	}
}

// validate rejects a model the generator cannot use; it does not judge
// whether the numbers are realistic.
func (m *Model) validate() error {
	var errs []error
	type named struct {
		name     string
		r        Range
		positive bool // log-uniform draws and divisions need Min > 0
	}
	for _, n := range []named{
		{"quiet_views_per_minute", m.QuietViewsPerMinute, false}, {"steady_views_per_minute", m.SteadyViewsPerMinute, false},
		{"hot_views_per_minute", m.HotViewsPerMinute, false}, {"like_ratio", m.LikeRatio, false},
		{"comment_ratio", m.CommentRatio, false}, {"share_ratio", m.ShareRatio, false},
		{"history_minutes", m.HistoryMinutes, false}, {"spike_rise_minutes", m.SpikeRiseMinutes, true},
		{"spike_hold_minutes", m.SpikeHoldMinutes, false}, {"spike_half_life_minutes", m.SpikeHalfLifeMinutes, true},
		{"slow_burn_growth_hours", m.SlowBurnGrowthHours, true}, {"burst_factor", m.BurstFactor, false},
		{"glitch_factor", m.GlitchFactor, false}, {"late_delay_seconds", m.LateDelaySeconds, false},
		{"gap_minutes", m.GapMinutes, false},
		{"price_cents", m.PriceCents, true}, {"orders_per_hour", m.OrdersPerHour, true},
		{"hot_orders_per_hour", m.HotOrdersPerHour, true}, {"stock_cover_days", m.StockCoverDays, true},
		{"cancel_minutes", m.CancelMinutes, false}, {"ship_hours", m.ShipHours, false},
	} {
		switch {
		case !(n.r.Min >= 0 && n.r.Min <= n.r.Max) || math.IsInf(n.r.Max, 0):
			errs = append(errs, fmt.Errorf("%s: want 0 <= min <= max, have %v..%v", n.name, n.r.Min, n.r.Max))
		case n.positive && n.r.Min <= 0:
			errs = append(errs, fmt.Errorf("%s: min must be positive", n.name))
		}
	}
	if m.SpikePeak.Min <= m.SpikeFloor || m.SpikePeak.Max < m.SpikePeak.Min || m.SpikeFloor < 1 {
		errs = append(errs, errors.New("spike_peak: want 1 <= spike_floor < min <= max"))
	}
	if m.SlowBurnPeak.Min <= m.SlowBurnOnsetMultiplier || m.SlowBurnPeak.Max < m.SlowBurnPeak.Min || m.SlowBurnOnsetMultiplier <= 1 {
		errs = append(errs, errors.New("slow_burn_peak: want 1 < slow_burn_onset_multiplier < min <= max"))
	}
	for _, s := range []struct {
		name string
		p    float64
	}{{"reset_share", m.ResetShare}, {"late_share", m.LateShare}, {"missing_share", m.MissingShare},
		{"gap_share", m.GapShare}, {"poll_jitter", m.PollJitter}, {"two_line_share", m.TwoLineShare},
		{"two_unit_share", m.TwoUnitShare}, {"cancel_share", m.CancelShare},
		{"hot_diurnal_amplitude", m.HotDiurnalAmplitude}, {"burst_like_share", m.BurstLikeShare}} {
		if !(s.p >= 0 && s.p <= 1) {
			errs = append(errs, fmt.Errorf("%s: want a share in [0, 1], have %v", s.name, s.p))
		}
	}
	if m.MissingShare >= 1 {
		errs = append(errs, errors.New("missing_share: some readings must remain"))
	}
	if !(m.MinPollSeconds >= 1 && m.PollSeconds >= m.MinPollSeconds && m.MaxPollSeconds >= m.PollSeconds) {
		errs = append(errs, errors.New("poll intervals must satisfy 1 <= min_poll_seconds <= poll_seconds <= max_poll_seconds"))
	}
	if !(m.Overdispersion > 0) || !(m.SKUsPerItem > 0) || m.TailHours < 0 || m.MinStock < 1 || m.ColdViewsPerMinute < 0 {
		errs = append(errs, errors.New("overdispersion and skus_per_item must be positive, tail_hours and cold_views_per_minute not negative, min_stock at least 1"))
	}
	if positiveWeights(m.LinkWeights) == 0 {
		errs = append(errs, errors.New("link_weights: need a positive weight"))
	}
	weights := make([]float64, len(m.Suppliers))
	for i, s := range m.Suppliers {
		weights[i] = s.Weight
		if !(s.LeadTimeHours > 0) {
			errs = append(errs, fmt.Errorf("suppliers[%d]: lead_time_hours must be positive", i))
		}
	}
	if positiveWeights(weights) == 0 {
		errs = append(errs, errors.New("suppliers: need one with a positive weight"))
	}
	return errors.Join(errs...)
}

// positiveWeights returns the sum of weights, or 0 when one is negative or
// not a number.
func positiveWeights(w []float64) float64 {
	sum := 0.0
	for _, x := range w {
		if !(x >= 0) || math.IsInf(x, 0) {
			return 0
		}
		sum += x
	}
	return sum
}

// minutes, hours and seconds turn the model's float units into durations,
// to the millisecond like every time of a scenario, so that times written
// to the files read back the same.
func minutes(x float64) time.Duration { return ms(x * float64(time.Minute)) }
func hours(x float64) time.Duration   { return ms(x * float64(time.Hour)) }
func seconds(x float64) time.Duration { return ms(x * float64(time.Second)) }

func ms(d float64) time.Duration { return time.Duration(d).Truncate(time.Millisecond) }
