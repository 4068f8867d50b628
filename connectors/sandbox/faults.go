package sandbox

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// Outage is a window, relative to the server's start, in which every API
// request is answered 503 with the message "outage".
type Outage struct {
	Start, End time.Duration
}

// String writes the outage as ParseOutage reads it: START+DURATION.
func (o Outage) String() string { return o.Start.String() + "+" + (o.End - o.Start).String() }

// ParseOutage reads START+DURATION, both Go durations, for example 10m+2m:
// an outage from ten to twelve minutes after the start.
func ParseOutage(s string) (Outage, error) {
	start, length, ok := strings.Cut(strings.TrimSpace(s), "+")
	if !ok {
		return Outage{}, fmt.Errorf("outage %q: want START+DURATION, for example 10m+2m", s)
	}
	from, err := time.ParseDuration(start)
	if err != nil {
		return Outage{}, fmt.Errorf("outage %q: start: %w", s, err)
	}
	d, err := time.ParseDuration(length)
	if err != nil {
		return Outage{}, fmt.Errorf("outage %q: duration: %w", s, err)
	}
	if from < 0 || d <= 0 {
		return Outage{}, fmt.Errorf("outage %q: the start must not be negative and the duration must be positive", s)
	}
	return Outage{Start: from, End: from + d}, nil
}

// inOutage reports whether elapsed, the time since the start, falls in an
// outage window.
func (c *Config) inOutage(elapsed time.Duration) bool {
	for _, o := range c.Outages {
		if elapsed >= o.Start && elapsed < o.End {
			return true
		}
	}
	return false
}

type faultKind int

const (
	faultNone faultKind = iota
	faultError
	faultThrottle
)

// fault is what the schedule holds for one request.
type fault struct {
	kind  faultKind
	delay time.Duration
}

// Independent streams of the schedule, so that changing the error rate
// does not move the latencies and the other way round.
const (
	streamFault uint64 = iota + 1
	streamLatency
)

// faultFor is the fault schedule: the fault and latency of the n-th API
// request are a pure function of (Seed, n), so the same sequence of
// requests always meets the same faults, whatever the timing.
func (c *Config) faultFor(n uint64) fault {
	f := fault{kind: faultNone, delay: c.Latency}
	if c.LatencyJitter > 0 {
		f.delay += time.Duration(unit(c.Seed, n, streamLatency) * float64(c.LatencyJitter))
	}
	switch u := unit(c.Seed, n, streamFault); {
	case u < c.ErrorRate:
		f.kind = faultError
	case u < c.ErrorRate+c.ThrottleRate:
		f.kind = faultThrottle
	}
	return f
}

// unit hashes (seed, n, stream) to a uniform float in [0, 1).
func unit(seed, n, stream uint64) float64 {
	h := mix64(mix64(mix64(seed)^n) ^ stream)
	return float64(h>>11) / (1 << 53)
}

// mix64 is SplitMix64's finalizer: consecutive inputs give unrelated
// outputs, which the request counter needs.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rateLimits counts the requests of the app and of each shop in fixed
// clock-minute windows, as TikTok's gateway does; a request is admitted
// only if both have room, and only admitted requests count.
type rateLimits struct {
	app, shop int // per minute; zero is unlimited

	mu       sync.Mutex
	minute   int64 // Unix minute of the current window
	appCount int
	shops    map[string]int
}

// take admits a request of shop at now, or returns how many seconds until
// the next window.
func (l *rateLimits) take(shop string, now time.Time) (retryAfter int) {
	if l.app == 0 && l.shop == 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// A request whose clock reading is late (it lost a race around the
	// minute's boundary) counts in the current window rather than
	// resetting it.
	if m := now.Unix() / 60; m > l.minute {
		l.minute, l.appCount = m, 0
		clear(l.shops)
	}
	if (l.app > 0 && l.appCount >= l.app) || (l.shop > 0 && l.shops[shop] >= l.shop) {
		return int(60 - now.Unix()%60)
	}
	l.appCount++
	if l.shop > 0 {
		if l.shops == nil {
			l.shops = map[string]int{}
		}
		l.shops[shop]++
	}
	return 0
}
