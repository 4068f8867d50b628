package velocity

import (
	"errors"
	"math"
	"time"
)

// Thresholds decide when a rate is an episode: a window's rate is scored
// against the item's own baseline, an episode starts when the score stays at
// or above Start for StartWindows windows in a row and ends when it stays
// below End for EndWindows windows. End is lower than Start, so a score
// hovering around one threshold does not open and close episodes in turn.
type Thresholds struct {
	// Start and End are the scores that start and end an episode.
	Start, End float64
	// StartWindows and EndWindows are how many windows in a row it takes.
	StartWindows, EndWindows int
	// Warmup is how much history an item needs before an episode can
	// start: its baseline is the mean of what it saw until then.
	Warmup time.Duration
	// HalfLife is how fast the baseline follows the rate afterwards. It
	// is long (hours), so that a slow burn is not learned as normal
	// before it is noticed; windows inside an episode or scoring above
	// Start are not learned at all.
	HalfLife time.Duration
	// MinRate (per minute) floors the baseline, so that a near-silent
	// item going from 1 to 5 is not an episode.
	MinRate float64
	// Update is the relative change of score since the last report that
	// reports an open episode again (0.25: 25%); Refresh is how long an
	// open episode goes unreported at most, so that whoever follows it
	// can tell an episode still under way from one whose item went quiet
	// (deleted, no longer polled) and close it.
	Update  float64
	Refresh time.Duration
}

// Validate says what is wrong with the thresholds, if anything.
func (t Thresholds) Validate() error {
	switch {
	case t.Start <= 0 || t.End <= 0 || t.End >= t.Start:
		return errors.New("thresholds: want 0 < end < start")
	case t.StartWindows < 1 || t.EndWindows < 1:
		return errors.New("thresholds: start and end windows must be at least 1")
	case t.Warmup < 0 || t.HalfLife <= 0:
		return errors.New("thresholds: warmup must be >= 0 and half-life > 0")
	case t.MinRate < 0 || t.Update <= 0 || t.Refresh <= 0:
		return errors.New("thresholds: min rate must be >= 0, update and refresh > 0")
	}
	return nil
}

// Phase is what a window did to an episode.
type Phase int

// Phases, in the order an episode goes through them.
const (
	None Phase = iota
	Started
	Updated
	Ended
)

func (p Phase) String() string {
	return [...]string{"NONE", "STARTED", "UPDATED", "ENDED"}[p]
}

// Trend is the persisted state of one item's rate: its baseline and its
// episode. Field names are short because every item's state is written to a
// changelog on each change.
type Trend struct {
	// Baseline is the learned normal rate per minute; Learned counts the
	// windows it learned from and First is when the first one ended (Unix
	// ms).
	Baseline float64 `json:"b"`
	Learned  int     `json:"n"`
	First    int64   `json:"f"`
	// Open says an episode is under way, since Since (Unix ms).
	Open  bool  `json:"o,omitempty"`
	Since int64 `json:"s,omitempty"`
	// Streak counts windows in a row past the threshold that would
	// change Open: at or above Start while closed, below End while open.
	Streak int `json:"k,omitempty"`
	// Reported is the score last reported (started or updated), at
	// ReportedAt (Unix ms).
	Reported   float64 `json:"r,omitempty"`
	ReportedAt int64   `json:"ra,omitempty"`
	// Rate and Score are those of the last window; Accel is the change of
	// rate per minute between the last two windows.
	Rate  float64 `json:"v"`
	Score float64 `json:"c"`
	Accel float64 `json:"a"`
}

// Window feeds the rate (per minute) of the window ending at end, hop after
// the previous one, and returns what it did to the episode.
func (t *Trend) Window(th Thresholds, end time.Time, hop time.Duration, rate float64) Phase {
	ms := end.UnixMilli()
	if t.First == 0 {
		t.First = ms
	}
	if t.Learned > 0 {
		t.Accel = (rate - t.Rate) / hop.Minutes()
	}
	t.Rate = rate
	warm := time.Duration(ms-t.First)*time.Millisecond >= th.Warmup
	if !warm || t.Learned == 0 {
		// Warming up: the baseline is the plain mean so far.
		t.Learned++
		t.Baseline += (rate - t.Baseline) / float64(t.Learned)
		t.Score = rate / max(t.Baseline, th.MinRate, math.SmallestNonzeroFloat64)
		return None
	}
	t.Score = rate / max(t.Baseline, th.MinRate, math.SmallestNonzeroFloat64)
	phase := None
	switch {
	case !t.Open && t.Score >= th.Start:
		if t.Streak++; t.Streak >= th.StartWindows {
			t.Open, t.Since, t.Streak, t.Reported, t.ReportedAt = true, ms, 0, t.Score, ms
			phase = Started
		}
	case !t.Open:
		t.Streak = 0
	case t.Score < th.End:
		if t.Streak++; t.Streak >= th.EndWindows {
			t.Open, t.Since, t.Streak, t.Reported, t.ReportedAt = false, 0, 0, 0, 0
			phase = Ended
		}
	default:
		t.Streak = 0
		if math.Abs(t.Score-t.Reported) >= th.Update*t.Reported || ms-t.ReportedAt >= th.Refresh.Milliseconds() {
			t.Reported, t.ReportedAt = t.Score, ms
			phase = Updated
		}
	}
	if !t.Open && phase != Ended && t.Score < th.Start {
		alpha := 1 - math.Exp2(-hop.Seconds()/th.HalfLife.Seconds())
		t.Baseline += alpha * (rate - t.Baseline)
		t.Learned++
	}
	return phase
}
