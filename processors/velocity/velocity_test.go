package velocity

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func TestTrendHysteresis(t *testing.T) {
	th := Thresholds{Start: 3, End: 2, StartWindows: 2, EndWindows: 3, Warmup: 10 * time.Minute, HalfLife: time.Hour, MinRate: 1, Update: 0.25, Refresh: 5 * time.Minute}
	hop := time.Minute
	var tr Trend
	feed := func(i int, rate float64) Phase { return tr.Window(th, t0.Add(time.Duration(i)*hop), hop, rate) }
	i := 0
	for ; i <= 10; i++ { // warm-up: the mean of what it sees, never an episode
		if p := feed(i, 100); p != None {
			t.Fatalf("window %d in warm-up: %s", i, p)
		}
	}
	if tr.Baseline != 100 {
		t.Fatalf("baseline after warm-up = %v, want 100", tr.Baseline)
	}
	tests := []struct {
		rate float64
		want Phase
	}{
		{350, None},    // one window above start is not enough
		{100, None},    // and the streak breaks
		{350, None},    // again
		{400, Started}, // two in a row
		{520, Updated}, // +30% since reported
		{560, None},    // +8%: not worth a report
		{250, Updated}, // fell by half: reported, still open
		{150, None},    // below end: 1
		{150, None},    // 2
		{250, None},    // back above end: the streak breaks
		{150, None},    // 1
		{150, None},    // 2
		{150, Ended},   // 3
		{290, None},    // closed again, below start
		{400, None},    // above start: 1
		{400, Started}, // 2
		{400, None},
		{400, None},
		{400, None},
		{400, None},
		{400, Updated}, // unchanged for the refresh time: reported again
	}
	for _, tc := range tests {
		if got := feed(i, tc.rate); got != tc.want {
			t.Fatalf("window %d rate %v: got %s, want %s (trend %+v)", i, tc.rate, got, tc.want, tr)
		}
		i++
	}
	// The episode's windows were not learned: the baseline barely moved.
	if tr.Baseline < 100 || tr.Baseline > 120 {
		t.Fatalf("baseline after the episode = %v, want about 100", tr.Baseline)
	}
}

func TestTrimmedRate(t *testing.T) {
	min := int64(60000)
	tests := []struct {
		name     string
		spans    []span
		from, to int64
		want     float64
		ok       bool
	}{
		{"nothing", nil, 0, min, 0, false},
		{"one span says too little", []span{{0, min, 100}}, 0, min, 0, false},
		{"an outlier is left out", []span{{0, min / 2, 50}, {min / 2, min, 500}}, 0, min, 100, true},
		{"even spans", []span{{0, min / 3, 10}, {min / 3, 2 * min / 3, 10}, {2 * min / 3, min, 10}}, 0, min, 30, true},
		{"partial overlap is spread; twice the rest is no outlier", []span{{-min, min / 2, 150}, {min / 2, min, 100}}, 0, min, 150, true},
		{"too little left", []span{{0, min / 4, 10}, {min / 4, min, 1000}}, 0, min, 0, false},
	}
	for _, tc := range tests {
		got, ok := trimmedRate(tc.spans, tc.from, tc.to)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: got %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// reading is the counters of an item with a steady rate of views per
// minute, adding extra views, at minute m.
func steady(perMinute float64, m float64, extra int64) Counters {
	v := int64(perMinute*m) + extra
	return Counters{Views: v, Likes: v / 20, Comments: v / 200, Shares: v / 300}
}

func TestObserve(t *testing.T) {
	cfg := DefaultContentConfig
	type poll struct {
		at time.Duration
		c  Counters
	}
	// An hour of polls every 30 s at 100 views/min, then what the case adds.
	warm := func() []poll {
		var ps []poll
		for s := 0; s < 3600; s += 30 {
			ps = append(ps, poll{time.Duration(s) * time.Second, steady(100, float64(s)/60, 0)})
		}
		return ps
	}
	tests := []struct {
		name string
		then func(base float64) []poll
		// want is the phases, in order; delay bounds the first start
		// after minute 60.
		want  []Phase
		delay time.Duration
	}{
		{"steady stays quiet", func(b float64) []poll {
			var ps []poll
			for s := 3600; s < 7200; s += 30 {
				ps = append(ps, poll{time.Duration(s) * time.Second, steady(b, float64(s)/60, 0)})
			}
			return ps
		}, nil, 0},
		{"a 10x spike starts an episode within 90 s", func(b float64) []poll {
			var ps []poll
			for s := 3600; s < 4800; s += 10 {
				m := float64(s-3600) / 60
				ps = append(ps, poll{time.Duration(s) * time.Second, steady(b, 60+10*m, 0)})
			}
			return ps
		}, []Phase{Started}, 90 * time.Second},
		{"one poll of bots is not an episode", func(b float64) []poll {
			var ps []poll
			for s := 3600; s < 4800; s += 30 {
				extra := int64(0)
				if s >= 3630 {
					extra = 50000 // one interval got 500 minutes' worth
				}
				ps = append(ps, poll{time.Duration(s) * time.Second, steady(b, float64(s)/60, extra)})
			}
			return ps
		}, nil, 0},
		{"a glitched reading is not an episode", func(b float64) []poll {
			var ps []poll
			for s := 3600; s < 4800; s += 30 {
				c := steady(b, float64(s)/60, 0)
				if s == 3630 {
					c.Views *= 5
				}
				ps = append(ps, poll{time.Duration(s) * time.Second, c})
			}
			return ps
		}, nil, 0},
		{"a counter reset is not an episode", func(b float64) []poll {
			var ps []poll
			for s := 3600; s < 4800; s += 30 {
				ps = append(ps, poll{time.Duration(s) * time.Second, steady(b, float64(s-3600)/60, 0)})
			}
			return ps
		}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st ContentState
			var got []Phase
			var first time.Time
			for _, p := range append(warm(), tc.then(100)...) {
				changes, ok := cfg.Observe(&st, t0.Add(p.at), p.c)
				if !ok {
					t.Fatalf("reading at %s refused", p.at)
				}
				for _, ch := range changes {
					got = append(got, ch.Phase)
					if ch.Phase == Started && first.IsZero() {
						first = t0.Add(p.at)
					}
				}
			}
			if len(got) == 0 {
				got = nil
			}
			if len(tc.want) > 0 && (len(got) == 0 || got[0] != tc.want[0]) || len(tc.want) == 0 && len(got) > 0 {
				t.Fatalf("phases %v, want %v", got, tc.want)
			}
			if tc.delay > 0 {
				if d := first.Sub(t0.Add(time.Hour)); d > tc.delay {
					t.Fatalf("started %s after the spike, want within %s", d, tc.delay)
				}
			}
		})
	}
	// A reading centuries later (a broken clock) is taken at once, not
	// after stepping through every window in between.
	var far ContentState
	cfg.Observe(&far, t0, steady(100, 0, 0))
	cfg.Observe(&far, t0.Add(time.Minute), steady(100, 1, 0))
	if _, ok := cfg.Observe(&far, t0.AddDate(500, 0, 0), steady(100, 2, 0)); !ok || len(far.Spans) > 2 {
		t.Fatalf("a reading after a long gap: ok %v, %d spans kept", ok, len(far.Spans))
	}
	// A reading no later than the last is stale and changes nothing.
	var st ContentState
	cfg.Observe(&st, t0, steady(100, 0, 0))
	cfg.Observe(&st, t0.Add(time.Minute), steady(100, 1, 0))
	before := st
	if _, ok := cfg.Observe(&st, t0.Add(30*time.Second), steady(100, 0.5, 0)); ok || st.LastAt != before.LastAt {
		t.Fatalf("a late reading was taken")
	}
}
