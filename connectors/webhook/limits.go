package webhook

import (
	"math"
	"sync"
	"time"

	"github.com/segmentio/ksuid"
)

// shopLimiter is a token bucket per shop: rate tokens a minute, at most burst
// saved up. The seed's TikTok limit is 1000 requests a minute per shop.
type shopLimiter struct {
	perSecond float64
	burst     float64
	maxShops  int

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newShopLimiter(perMinute, burst, maxShops int) *shopLimiter {
	return &shopLimiter{
		perSecond: float64(perMinute) / 60,
		burst:     float64(burst),
		maxShops:  maxShops,
		buckets:   map[string]*bucket{},
	}
}

// allow takes a token for shop at now. When there is none it returns how long
// until there will be one.
func (l *shopLimiter) allow(shop string, now time.Time) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[shop]
	if b == nil {
		if len(l.buckets) >= l.maxShops {
			l.evictFull(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[shop] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+elapsed*l.perSecond)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.perSecond * float64(time.Second))
}

// evictFull forgets the shops whose bucket has refilled: forgetting them
// changes nothing, since a new bucket starts full. Memory stays bounded by
// the number of shops active within one refill period.
func (l *shopLimiter) evictFull(now time.Time) {
	for shop, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.perSecond >= l.burst {
			delete(l.buckets, shop)
		}
	}
}

// dedupe remembers the webhooks accepted in the last window, so a delivery
// TikTok repeats (same notification) is answered 200 without being produced
// again. It is a per-process optimisation: the authoritative dedupe across
// restarts and instances is the processors'. A duplicate that arrives while
// the first delivery is still in flight waits for its outcome, so a failed
// first delivery is never reported as accepted.
type dedupe struct {
	window time.Duration
	max    int

	mu      sync.Mutex
	claims  map[dedupeKey]*claim
	expiry  []expiring // accepted keys in acceptance order
	expired int        // expiry[:expired] are spent
}

type claim struct {
	done chan struct{}
	ok   bool // valid once done is closed
}

// dedupeKey identifies an event: its id within its topic.
type dedupeKey struct {
	topic string
	id    ksuid.KSUID
}

type expiring struct {
	key dedupeKey
	at  time.Time
}

func newDedupe(window time.Duration, max int) *dedupe {
	return &dedupe{window: window, max: max, claims: map[dedupeKey]*claim{}}
}

// claim returns the claim on key and whether the caller owns it. The owner
// must call finish; others wait on the claim's done channel.
func (d *dedupe) claim(key dedupeKey, now time.Time) (c *claim, owner bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now)
	if c := d.claims[key]; c != nil {
		return c, false
	}
	c = &claim{done: make(chan struct{})}
	d.claims[key] = c
	return c, true
}

// finish records the owner's outcome: an accepted key is remembered for the
// window, a failed one is forgotten so the retry is produced.
func (d *dedupe) finish(key dedupeKey, c *claim, ok bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c.ok = ok
	close(c.done)
	if !ok {
		delete(d.claims, key)
		return
	}
	d.expiry = append(d.expiry, expiring{key: key, at: now.Add(d.window)})
	d.expire(now)
}

// expire forgets accepted keys past their window, and the oldest ones beyond
// max, compacting the queue once half of it is spent.
func (d *dedupe) expire(now time.Time) {
	for d.expired < len(d.expiry) {
		e := d.expiry[d.expired]
		if now.Before(e.at) && len(d.expiry)-d.expired <= d.max {
			break
		}
		delete(d.claims, e.key)
		d.expiry[d.expired] = expiring{}
		d.expired++
	}
	if d.expired > len(d.expiry)/2 {
		d.expiry = append(d.expiry[:0], d.expiry[d.expired:]...)
		d.expired = 0
	}
}

func (d *dedupe) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.claims)
}
