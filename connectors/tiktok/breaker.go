package tiktok

import (
	"errors"
	"sync"
	"time"
)

// ErrCircuitOpen is returned without calling the API while the circuit
// breaker is open.
var ErrCircuitOpen = errors.New("tiktok: circuit open: the API failed repeatedly, calls are paused")

// BreakerConfig sets a circuit breaker; the zero value takes the seed's
// figures for the TikTok Shop API.
type BreakerConfig struct {
	// Failures in a row that open the circuit (5).
	Failures int
	// Recovery is how long the circuit stays open before trial calls (60 s).
	Recovery time.Duration
	// HalfOpenCalls is how many trial calls must succeed to close it (3).
	HalfOpenCalls int
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.Failures <= 0 {
		c.Failures = 5
	}
	if c.Recovery <= 0 {
		c.Recovery = time.Minute
	}
	if c.HalfOpenCalls <= 0 {
		c.HalfOpenCalls = 3
	}
	return c
}

// BreakerState is a circuit's state.
type BreakerState int

// The states of a circuit.
const (
	Closed BreakerState = iota
	Open
	HalfOpen
)

func (s BreakerState) String() string {
	return [...]string{"closed", "open", "half-open"}[s]
}

// Breaker is a circuit breaker: after Failures failed calls in a row it
// rejects calls for Recovery, then lets HalfOpenCalls trial calls through
// at once; if they all succeed it closes, if one fails it opens again.
// Its clock is injected so tests need not wait.
type Breaker struct {
	cfg     BreakerConfig
	now     func() time.Time
	onState func(BreakerState)

	mu        sync.Mutex
	gen       uint64 // counts changes of state
	state     BreakerState
	failures  int       // in a row, while closed
	openedAt  time.Time // when it last opened
	trials    int       // trial calls let through while half-open
	successes int       // trial calls that succeeded
}

// NewBreaker returns a closed breaker. onState, if set, is called (under
// the breaker's lock: keep it short) on every change of state.
func NewBreaker(cfg BreakerConfig, now func() time.Time, onState func(BreakerState)) *Breaker {
	if now == nil {
		now = time.Now
	}
	return &Breaker{cfg: cfg.withDefaults(), now: now, onState: onState}
}

// Allow reports whether a call may go ahead. An allowed call must end with
// Done or Release given the returned generation: a call that outlives a
// change of state (allowed while closed, ended while half-open) is not
// counted in the new state.
func (b *Breaker) Allow() (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open {
		if b.now().Sub(b.openedAt) < b.cfg.Recovery {
			return b.gen, ErrCircuitOpen
		}
		b.set(HalfOpen)
		b.trials, b.successes = 0, 0
	}
	if b.state == HalfOpen {
		if b.trials >= b.cfg.HalfOpenCalls {
			return b.gen, ErrCircuitOpen
		}
		b.trials++
	}
	return b.gen, nil
}

// Done records the outcome of an allowed call.
func (b *Breaker) Done(gen uint64, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.gen {
		return
	}
	switch b.state {
	case Closed:
		if ok {
			b.failures = 0
			return
		}
		if b.failures++; b.failures >= b.cfg.Failures {
			b.open()
		}
	case HalfOpen:
		if !ok {
			b.open()
			return
		}
		if b.successes++; b.successes >= b.cfg.HalfOpenCalls {
			b.failures = 0
			b.set(Closed)
		}
	}
}

// Release ends an allowed call that says nothing of the service's health
// (it was cancelled before an answer): a trial call gives its place back.
func (b *Breaker) Release(gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen == b.gen && b.state == HalfOpen && b.trials > 0 {
		b.trials--
	}
}

// State is the current state.
func (b *Breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

func (b *Breaker) open() {
	b.openedAt = b.now()
	b.set(Open)
}

func (b *Breaker) set(s BreakerState) {
	if b.state == s {
		return
	}
	b.state = s
	b.gen++
	if b.onState != nil {
		b.onState(s)
	}
}
