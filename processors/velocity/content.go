package velocity

import (
	"errors"
	"slices"
	"time"

	"github.com/creatorflow/creatorflow/schemas"
)

// Weights say how much each kind of engagement counts: a share says more
// about buying intent than a view.
type Weights struct {
	Views, Likes, Comments, Shares float64
}

// DefaultWeights count a like as 4 views, a comment as 8 and a share as 12.
var DefaultWeights = Weights{Views: 1, Likes: 4, Comments: 8, Shares: 12}

func (w Weights) validate() error {
	if w.Views < 0 || w.Likes < 0 || w.Comments < 0 || w.Shares < 0 || w.Views+w.Likes+w.Comments+w.Shares == 0 {
		return errors.New("weights must be >= 0 and not all 0")
	}
	return nil
}

// Counters are a content item's cumulative counters at one poll.
type Counters struct {
	Views    int64 `json:"v"`
	Likes    int64 `json:"l"`
	Comments int64 `json:"c"`
	Shares   int64 `json:"s"`
}

// engagementSince is the weighted engagement between two readings. Each
// counter is taken on its own: one that went down was reset by TikTok or
// glitched in the earlier reading, and counts nothing for the interval
// (the next interval starts from the lower value), so a glitch adds at most
// one inflated interval, which the trimmed window rate ignores.
func (w Weights) engagementSince(prev, cur Counters) float64 {
	d := func(a, b int64) float64 { return float64(max(b-a, 0)) }
	return w.Views*d(prev.Views, cur.Views) + w.Likes*d(prev.Likes, cur.Likes) +
		w.Comments*d(prev.Comments, cur.Comments) + w.Shares*d(prev.Shares, cur.Shares)
}

// span is the weighted engagement of one polling interval (From, To], in
// Unix milliseconds.
type span struct {
	From   int64   `json:"f"`
	To     int64   `json:"t"`
	Amount float64 `json:"a"`
}

func (s span) rate() float64 { return s.Amount / float64(s.To-s.From) }

// ContentState is what the velocity processor keeps per content item.
type ContentState struct {
	Last   Counters `json:"l"`
	LastAt int64    `json:"at"` // Unix ms of the last reading
	Spans  []span   `json:"sp,omitempty"`
	// Evaluated is the end of the last window scored (Unix ms).
	Evaluated int64 `json:"e"`
	Trend     Trend `json:"tr"`
	// SKUs are those the open episode was reported for, so its end
	// reaches the same SKUs even if the content's links changed.
	SKUs []string `json:"k,omitempty"`
}

// ContentConfig is how content engagement becomes episodes.
type ContentConfig struct {
	Weights Weights
	// Hop is how far apart windows end, Window how long each is.
	Hop, Window time.Duration
	Thresholds
}

// DefaultContentConfig scores one-minute windows every 5 seconds; an
// episode starts after two windows in a row at 2.5 times the item's
// baseline and ends after five minutes below twice it. Baselines under 40
// weighted engagements a minute count as 40. An open episode is reported
// at least every 10 minutes. These are the settings that
// met the targets on the labelled scenarios (docs/viral.md).
var DefaultContentConfig = ContentConfig{
	Weights: DefaultWeights,
	Hop:     5 * time.Second,
	Window:  time.Minute,
	Thresholds: Thresholds{Start: 2.5, End: 2, StartWindows: 2, EndWindows: 60, Warmup: 30 * time.Minute,
		HalfLife: 12 * time.Hour, MinRate: 40, Update: 0.25, Refresh: 10 * time.Minute},
}

func (c ContentConfig) validate() error {
	if c.Hop <= 0 || c.Window < c.Hop || c.Window%c.Hop != 0 {
		return errors.New("velocity: window must be a positive multiple of hop")
	}
	return errors.Join(c.Weights.validate(), c.Thresholds.Validate())
}

// Change is an episode phase reported by a window.
type Change struct {
	Phase Phase
	// At is the window's end.
	At time.Time
	// Score, Rate (per minute) and Accel (per minute per minute) are the
	// window's.
	Score, Rate, Accel float64
}

// Observe feeds one reading of the item's counters taken at at, and returns
// the episode changes of the windows it completed. A reading no later than
// the last one is stale (a late delivery: the counters it carries are
// covered by the later reading) and changes nothing; ok is false then.
func (c ContentConfig) Observe(st *ContentState, at time.Time, cur Counters) (changes []Change, ok bool) {
	ms := at.UnixMilli()
	if st.LastAt != 0 && ms <= st.LastAt {
		return nil, false
	}
	hop, win := c.Hop.Milliseconds(), c.Window.Milliseconds()
	if st.LastAt == 0 {
		// The first reading only sets where counting starts.
		st.Last, st.LastAt, st.Evaluated = cur, ms, floorTo(ms, hop)
		return nil, true
	}
	st.Spans = append(st.Spans, span{From: st.LastAt, To: ms, Amount: c.Weights.engagementSince(st.Last, cur)})
	prev := st.LastAt
	st.Last, st.LastAt = cur, ms
	for end := st.Evaluated + hop; end <= ms; end += hop {
		// Windows starting after the previous reading hold this
		// reading's span alone and say nothing: after a long gap, go
		// to the last of them rather than step through every hop.
		if end-win >= prev {
			end = floorTo(ms, hop)
		}
		st.Evaluated = end
		rate, ok := trimmedRate(st.Spans, end-win, end)
		if !ok {
			continue
		}
		if p := st.Trend.Window(c.Thresholds, time.UnixMilli(end), c.Hop, rate); p != None {
			changes = append(changes, Change{Phase: p, At: time.UnixMilli(end).UTC(), Score: st.Trend.Score, Rate: rate, Accel: st.Trend.Accel})
		}
	}
	// Spans ending before the next window starts are no longer needed.
	keep := st.Evaluated + hop - win
	st.Spans = slices.DeleteFunc(st.Spans, func(s span) bool { return s.To <= keep })
	return changes, true
}

// outlier is how many times the rate of the rest of a window a single
// span's rate must be to be left out of it.
const outlier = 4

// trimmedRate is the engagement per minute in (from, to], each span
// spread evenly over its interval, leaving out the span with the highest
// rate if it is an outlier (at least outlier times the rate of the rest):
// one reading that jumps (bots, a counter glitch) then moves it little,
// while a real rise lifts every reading and, after the first, leaves none
// an outlier. A window with one span, or whose spans cover less than half
// of it once an outlier is left out, has too little to say.
func trimmedRate(spans []span, from, to int64) (float64, bool) {
	var amount float64
	var covered int64
	top, topRate, n := -1, 0.0, 0
	for i, s := range spans {
		lo, hi := max(s.From, from), min(s.To, to)
		if hi <= lo {
			continue
		}
		n++
		if r := s.rate(); top < 0 || r > topRate {
			top, topRate = i, r
		}
		amount += s.Amount * float64(hi-lo) / float64(s.To-s.From)
		covered += hi - lo
	}
	if n < 2 {
		return 0, false
	}
	s := spans[top]
	lo, hi := max(s.From, from), min(s.To, to)
	restAmount := amount - s.Amount*float64(hi-lo)/float64(s.To-s.From)
	restCovered := covered - (hi - lo)
	if topRate >= outlier*restAmount/float64(restCovered) {
		amount, covered = restAmount, restCovered
	}
	if 2*covered < to-from {
		return 0, false
	}
	return amount / (float64(covered) / 60000), true
}

func floorTo(ms, step int64) int64 { return ms - ((ms%step)+step)%step }

// countersOf are a reading's counters.
func countersOf(m schemas.ContentMetrics) Counters {
	return Counters{Views: m.Views, Likes: m.Likes, Comments: m.Comments, Shares: m.Shares}
}
