package tiktok

import (
	"context"
	"sync"
	"time"
)

// limiter lets through at most perMinute calls in any minute: a token
// bucket of burst tokens refilled at perMinute-burst a minute (a full bucket
// plus a minute's refill is then exactly perMinute), which can also be
// paused after the API said to back off. Its clock is injected.
type limiter struct {
	mu     sync.Mutex
	refill float64 // tokens a minute; zero: no limit
	burst  float64
	tokens float64
	last   time.Time
	until  time.Time // no tokens before this (a back-off)
	now    func() time.Time
}

func newLimiter(perMinute, burst int, now func() time.Time) *limiter {
	l := &limiter{last: now(), now: now}
	if perMinute <= 0 {
		return l // unlimited, but pausable
	}
	l.burst = float64(min(max(burst, 1), max(perMinute/2, 1)))
	l.refill = float64(perMinute) - l.burst
	if l.refill <= 0 { // a rate of one a minute
		l.refill = float64(perMinute)
	}
	l.tokens = l.burst
	return l
}

// reserve takes a token and returns how long to wait before using it
// (zero: at once). Waiting callers queue in order of their reservations,
// since tokens are taken at once and the balance may go negative.
func (l *limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	start := now // the earliest a call may go: after any pause
	if l.until.After(start) {
		start = l.until
	}
	if l.refill <= 0 {
		return start.Sub(now)
	}
	l.accrue(start)
	l.tokens--
	wait := start.Sub(now)
	if l.tokens < 0 {
		wait += time.Duration(-l.tokens / (l.refill / 60) * float64(time.Second))
	}
	return wait
}

// pause holds every caller back until d from now. The tokens saved up are
// dropped (but one) and none accrue during the pause, so that calls resume
// at the steady rate instead of in a burst.
func (l *limiter) pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.accrue(now)
	if until := now.Add(d); until.After(l.until) {
		l.until = until
	}
	l.tokens = min(l.tokens, 1) // the first call goes when the pause ends
	if l.until.After(l.last) {
		l.last = l.until
	}
}

// accrue adds the tokens refilled up to t.
func (l *limiter) accrue(t time.Time) {
	if t.After(l.last) {
		l.tokens = min(l.burst, l.tokens+t.Sub(l.last).Seconds()*l.refill/60)
		l.last = t
	}
}

// limiters hands out one limiter per key (a shop), made on first use.
type limiters struct {
	mu    sync.Mutex
	make  func() *limiter
	byKey map[string]*limiter
}

func (ls *limiters) get(key string) *limiter {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l, ok := ls.byKey[key]
	if !ok {
		l = ls.make()
		ls.byKey[key] = l
	}
	return l
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
