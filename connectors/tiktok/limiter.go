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
	if l.refill <= 0 {
		return max(l.until.Sub(now), 0)
	}
	perSecond := l.refill / 60
	l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*perSecond)
	l.last = now
	l.tokens--
	wait := time.Duration(0)
	if l.tokens < 0 {
		wait = time.Duration(-l.tokens / perSecond * float64(time.Second))
	}
	return max(wait, l.until.Sub(now))
}

// pause holds every caller back until d from now, and drops the tokens
// saved up, so that calls resume at the steady rate.
func (l *limiter) pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := l.now().Add(d); until.After(l.until) {
		l.until = until
	}
	l.tokens = min(l.tokens, 0)
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
