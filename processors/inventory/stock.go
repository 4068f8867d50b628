package inventory

import (
	"math"
	"time"

	"github.com/creatorflow/creatorflow/processors/velocity"
)

// demand keeps a SKU's ordered units in two rings of buckets, by event
// time: minutes for the last hour (the short burn rate and order velocity)
// and hours for the last day (the long burn rate and its spread).
type demand struct {
	First   int64       `json:"f"` // Unix ms of the SKU's first event
	Clock   int64       `json:"t"` // Unix ms of its latest event
	Minute  int64       `json:"m"` // Unix minute of the newest minute bucket
	Minutes [60]float64 `json:"mb"`
	// Orders counts orders (not units) by minute, for order velocity.
	Orders [60]float64 `json:"ob"`
	Hour   int64       `json:"h"` // Unix hour of the newest hour bucket
	Hours  [24]float64 `json:"hb"`
}

const (
	minuteMs = int64(time.Minute / time.Millisecond)
	hourMs   = int64(time.Hour / time.Millisecond)
)

// advance moves the clock to ms (never back), emptying the buckets that
// time leaves behind.
func (d *demand) advance(ms int64) {
	if d.First == 0 {
		d.First, d.Clock, d.Minute, d.Hour = ms, ms, ms/minuteMs, ms/hourMs
		return
	}
	if ms <= d.Clock {
		return
	}
	d.Clock = ms
	minute := d.Minute
	roll(d.Minutes[:], &d.Minute, ms/minuteMs)
	roll(d.Orders[:], &minute, ms/minuteMs)
	roll(d.Hours[:], &d.Hour, ms/hourMs)
}

func roll(ring []float64, newest *int64, to int64) {
	n := int64(len(ring))
	for i := *newest + 1; i <= to && i <= *newest+n; i++ {
		ring[i%n] = 0
	}
	*newest = max(*newest, to)
}

// add counts n units of orders ordered at ms; what is older than a ring is
// left out of it.
func (d *demand) add(ms int64, n, orders float64) {
	if m := ms / minuteMs; m > d.Minute-int64(len(d.Minutes)) && m <= d.Minute {
		d.Minutes[m%int64(len(d.Minutes))] += n
		d.Orders[m%int64(len(d.Orders))] += orders
	}
	if h := ms / hourMs; h > d.Hour-int64(len(d.Hours)) && h <= d.Hour {
		d.Hours[h%int64(len(d.Hours))] += n
	}
}

// perHour is the rate of a ring: its units over the time it covers (full
// buckets and the current one so far, not before the first event), at
// least floor, so that the first order of a new SKU is not a rate of
// dozens per hour.
func (d *demand) perHour(ring []float64, bucket, newest int64, floor time.Duration) float64 {
	var sum float64
	for _, v := range ring {
		sum += v
	}
	covered := (int64(len(ring))-1)*bucket + d.Clock - newest*bucket
	covered = min(covered, d.Clock-d.First)
	covered = max(covered, floor.Milliseconds())
	return sum / (float64(covered) / float64(hourMs))
}

// short and long are the burn rates over the last hour and the last day.
func (d *demand) short() float64 { return d.perHour(d.Minutes[:], minuteMs, d.Minute, time.Hour) }
func (d *demand) long() float64  { return d.perHour(d.Hours[:], hourMs, d.Hour, time.Hour) }

// hourlySpread is the standard deviation of units per hour over the full
// hours of the day ring; with fewer than three, Poisson's sqrt of the mean.
func (d *demand) hourlySpread(rate float64) float64 {
	full := min(d.Hour-d.First/hourMs, int64(len(d.Hours))-1)
	if full < 3 {
		return math.Sqrt(rate)
	}
	var sum, sq float64
	for i := d.Hour - full; i < d.Hour; i++ {
		v := d.Hours[i%int64(len(d.Hours))]
		sum += v
		sq += v * v
	}
	mean := sum / float64(full)
	return math.Sqrt(max(sq/float64(full)-mean*mean, 0))
}

// window is the orders per minute in the minutes [end-n, end).
func (d *demand) window(endMinute int64, n int) float64 {
	var sum float64
	for m := endMinute - int64(n); m < endMinute; m++ {
		if m > d.Minute-int64(len(d.Orders)) && m <= d.Minute {
			sum += d.Orders[m%int64(len(d.Orders))]
		}
	}
	return sum / float64(n)
}

// OrderConfig is how a SKU's order velocity (orders per minute) becomes
// episodes: windows of Window minutes scored every minute against the
// SKU's own baseline.
type OrderConfig struct {
	Window int // minutes, at most 60
	velocity.Thresholds
}

// DefaultOrderConfig: ten-minute windows; an episode starts after three in
// a row at four times the baseline, and at least 1.2 orders a minute (the
// floor of 0.3 a minute, so a few orders of a slow SKU are not an
// episode), and ends after ten minutes below 1.5 times it. Order velocity
// is the second signal, behind content: slower and surer.
var DefaultOrderConfig = OrderConfig{Window: 10, Thresholds: velocity.Thresholds{Start: 4, End: 1.5, StartWindows: 3,
	EndWindows: 10, Warmup: 2 * time.Hour, HalfLife: 24 * time.Hour, MinRate: 0.3, Update: 0.25, Refresh: 10 * time.Minute}}

// orderWindows scores the order-velocity windows that ended since the last
// call and returns the last phase change.
func (o OrderConfig) orderWindows(d *demand, t *velocity.Trend, evaluated *int64) velocity.Phase {
	phase := velocity.None
	last := d.Clock / minuteMs
	// The oldest window the ring still holds whole ends Window minutes
	// after its oldest bucket.
	start := max(*evaluated+1, last-int64(len(d.Orders))+1+int64(o.Window))
	if *evaluated == 0 {
		start = last
	}
	for m := start; m <= last; m++ {
		*evaluated = m
		if p := t.Window(o.Thresholds, time.UnixMilli(m*minuteMs), time.Minute, d.window(m, o.Window)); p != velocity.None {
			phase = p
		}
	}
	return phase
}

// StockConfig is how stock cover becomes alerts, reorders and listed stock.
type StockConfig struct {
	// Warning and Critical are the hours of cover that raise an alert
	// (seed: 24 h and 6 h); a level is left only once cover is Hysteresis
	// (a share) above its threshold, so cover wavering around one does
	// not flap.
	Warning, Critical time.Duration
	Hysteresis        float64
	// SafetyMargin is added to the lead time: a SKU whose cover falls
	// below both is reordered.
	SafetyMargin time.Duration
	// Elasticity turns an engagement score into expected demand: 1 means
	// 5x the engagement brings 5x the orders.
	Elasticity float64
	// MaxMultiplier caps the expected demand multiplier.
	MaxMultiplier float64
	// EmergencyEvery spaces emergency reorders of one SKU.
	EmergencyEvery time.Duration
	// Buffer is the share of available stock kept off TikTok's listing
	// (seed: 10%), so orders in flight do not oversell; Material is the
	// relative change that updates the listing, at most every SyncEvery
	// (seed: 30 s) unless it goes to 0.
	Buffer, Material float64
	SyncEvery        time.Duration
}

// DefaultStockConfig holds the seed's numbers.
var DefaultStockConfig = StockConfig{Warning: 24 * time.Hour, Critical: 6 * time.Hour, Hysteresis: 0.25,
	SafetyMargin: 12 * time.Hour, Elasticity: 1, MaxMultiplier: 100, EmergencyEvery: 30 * time.Minute,
	Buffer: 0.1, Material: 0.1, SyncEvery: 30 * time.Second}

// zScore is the standard normal quantile of a service level: the safety
// stock factor.
func zScore(level float64) float64 {
	return math.Sqrt2 * math.Erfinv(2*level-1)
}
