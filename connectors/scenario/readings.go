package scenario

import (
	"github.com/creatorflow/creatorflow/connectors/poller"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/creatorflow/creatorflow/schemas"
)

// counters are an item's cumulative engagement counters.
type counters struct{ views, likes, comments, shares int64 }

func (c counters) minus(o counters) counters {
	return counters{c.views - o.views, c.likes - o.likes, c.comments - o.comments, c.shares - o.shares}
}

// itemResult is what simulating an item's polls produced.
type itemResult struct {
	events []Event
	// shown is the event time of the first published reading that shows
	// a burst or a glitch.
	shown                   time.Time
	readings, late, missing int
}

// allReadings simulates the polls of every item, in parallel.
func (g *generator) allReadings() []itemResult {
	g.results = make([]itemResult, len(g.items))
	parallel(len(g.items), func(i int) { g.results[i] = g.readings(g.items[i]) })
	return g.results
}

// readings simulates the adaptive poller on one item: it advances the true
// counters from poll to poll, applies the item's reset, burst and glitch,
// drops, delays or gaps readings as the faults say, and picks each next
// poll as the poller would.
func (g *generator) readings(p *itemPlan) itemResult {
	m := g.m
	r := stream(g.cfg.Seed, "readings", p.idx)
	var (
		res        itemResult
		arena      []byte
		c          = p.initial
		offset     counters // the counters at the reset, subtracted after it
		resetDone  = p.resetAt.IsZero()
		anomalyOn  bool // a burst or glitch happened and no published reading showed it yet
		anomalyDue = p.kind == Burst || p.kind == Glitch
		last       = g.start // the time c is true at
		prevPoll   = g.start
		prevViews  int64
		prevAt     time.Time
		prevRate   float64
		hasRate    bool
		cadence    = poller.Cadence{Interval: seconds(m.PollSeconds), MinInterval: seconds(m.MinPollSeconds),
			MaxInterval: seconds(m.MaxPollSeconds), ColdViewsPerMinute: m.ColdViewsPerMinute}
		every = cadence.Interval // the poller's interval
	)
	skus := make([]string, len(p.skus))
	for i, s := range p.skus {
		skus[i] = s.id
	}
	slices.Sort(skus)
	shopID := shopID(p.shop)
	res.events = make([]Event, 0, int(g.cfg.Duration.Seconds()/m.PollSeconds)+16)

	t := r.between(g.start, g.start.Add(g.interval(r, every)))
	for t.Before(g.end) {
		if !resetDone && !p.resetAt.After(t) {
			c = g.advance(r, p, c, last, p.resetAt)
			last, offset, resetDone = p.resetAt, c, true
		}
		c = g.advance(r, p, c, last, t)
		last = t
		if anomalyDue && p.kind == Burst && p.anomalyAt.After(prevPoll) && !p.anomalyAt.After(t) {
			extra := int64(math.Round(p.factor * p.base * t.Sub(prevPoll).Minutes() * g.rateFactor(p, prevPoll, t)))
			c.views += extra
			c.likes += r.poisson(float64(extra) * p.likeRatio * m.BurstLikeShare)
			anomalyDue, anomalyOn = false, true
		}
		reported := c.minus(offset)
		exempt := false
		if anomalyDue && p.kind == Glitch && !t.Before(p.anomalyAt) {
			reported.views = max(reported.views+1, int64(math.Round(float64(reported.views)*p.factor)))
			anomalyDue, anomalyOn, exempt = false, true, true
		}

		inGap := !p.gapStart.IsZero() && !t.Before(p.gapStart) && t.Before(p.gapEnd)
		switch {
		case inGap:
		case !exempt && r.chance(m.MissingShare):
			// The glitched reading is never dropped: its truth must be seen.
			res.missing++
		default:
			arrival := t
			if r.chance(m.LateShare) {
				arrival = t.Add(seconds(r.uniform(m.LateDelaySeconds)))
				res.late++
			}
			res.readings++
			if anomalyOn {
				res.shown, anomalyOn = t, false
			}
			start := len(arena)
			if cap(arena)-start < 1024 {
				arena = make([]byte, 0, 64<<10)
				start = 0
			}
			arena = appendReading(arena, p.id, shopID, skus, reported, t)
			res.events = append(res.events, Event{Topic: schemas.TopicContentMetrics, Key: p.id,
				Value: arena[start:len(arena):len(arena)], Time: t, Arrival: arrival,
				ID: schemas.EventID(t, p.id, t.Format(time.RFC3339Nano)).String()})
		}

		// The next poll, as the adaptive poller picks it from what it
		// read (a reading lower than the last, a reset or the end of a
		// glitch, restarts the rate).
		if !prevAt.IsZero() {
			if reported.views >= prevViews {
				rate := float64(reported.views-prevViews) / t.Sub(prevAt).Minutes()
				every = cadence.Next(every, prevRate, hasRate, rate)
				prevRate, hasRate = rate, true
			} else {
				hasRate = false
			}
		}
		prevViews, prevAt, prevPoll = reported.views, t, t
		t = t.Add(g.interval(r, every))
	}
	return res
}

// interval draws the time to an item's next poll: the poller's interval
// with its jitter.
func (g *generator) interval(r rng, every time.Duration) time.Duration {
	return max(time.Second, seconds(every.Seconds()*(1+g.m.PollJitter*(2*r.Float64()-1))))
}

// advance moves the true counters from a to b: views drawn around base
// rate x duration x mean multiplier (gamma-Poisson), likes, comments and
// shares drawn from the new views by the item's ratios.
func (g *generator) advance(r rng, p *itemPlan, c counters, a, b time.Time) counters {
	if !b.After(a) {
		return c
	}
	mean := p.base * b.Sub(a).Minutes() * g.rateFactor(p, a, b)
	dv := r.gammaPoisson(mean, g.m.Overdispersion)
	c.views += dv
	c.likes += r.poisson(float64(dv) * p.likeRatio)
	c.comments += r.poisson(float64(dv) * p.comRatio)
	c.shares += r.poisson(float64(dv) * p.shrRatio)
	return c
}

// rateFactor is the mean over [a, b] of what multiplies the base rate: the
// engagement multiplier and, for always_hot items, the daily swing
// (Simpson's rule: the intervals are short next to both).
func (g *generator) rateFactor(p *itemPlan, a, b time.Time) float64 {
	if p.kind != Spike && p.kind != SlowBurn && p.kind != AlwaysHot {
		return 1
	}
	mid := a.Add(b.Sub(a) / 2)
	f := func(t time.Time) float64 {
		x := p.multiplier(t)
		if p.kind == AlwaysHot {
			x *= 1 + g.m.HotDiurnalAmplitude*math.Sin(2*math.Pi*t.Sub(g.start).Hours()/24+p.phase)
		}
		return x
	}
	return (f(a) + 4*f(mid) + f(b)) / 6
}

// appendReading appends the JSON of a schemas.ContentMetrics, byte for byte
// what json.Marshal writes (a test holds it to that), several times faster:
// a default scenario has about a million readings.
func appendReading(b []byte, contentID, shopID string, skus []string, c counters, at time.Time) []byte {
	b = append(b, `{"content_id":`...)
	b = appendString(b, contentID)
	b = append(b, `,"shop_id":`...)
	b = appendString(b, shopID)
	b = append(b, `,"sku_ids":`...)
	if skus == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, s := range skus {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	b = append(b, `,"views":`...)
	b = strconv.AppendInt(b, c.views, 10)
	b = append(b, `,"likes":`...)
	b = strconv.AppendInt(b, c.likes, 10)
	b = append(b, `,"comments":`...)
	b = strconv.AppendInt(b, c.comments, 10)
	b = append(b, `,"shares":`...)
	b = strconv.AppendInt(b, c.shares, 10)
	b = append(b, `,"polled_at":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}
