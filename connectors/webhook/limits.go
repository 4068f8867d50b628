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

// dedupe remembers the webhooks of one topic accepted in the last window, so
// a delivery TikTok repeats (same notification) is answered 200 without being
// produced again. It is a per-process optimisation: the authoritative dedupe
// across restarts and instances is the processors'. A duplicate that arrives
// while the first delivery is still in flight waits for its outcome, so a
// failed first delivery is never reported as accepted.
//
// The accepted ids, up to max of them, are kept in pointer-free structures:
// the garbage collector does not scan them, which at a full window of
// 200,000 ids is the difference between a few percent of the ingest's CPU
// and none.
type dedupe struct {
	window time.Duration
	max    int

	mu       sync.Mutex
	inFlight map[ksuid.KSUID]*claim // first deliveries waiting for Kafka
	accepted map[ksuid.KSUID]struct{}
	ring     []expiring // accepted ids in acceptance order, from head, n of them
	head, n  int
}

type claim struct {
	done chan struct{}
	ok   bool // valid once done is closed
}

// acceptedClaim is the outcome of every id accepted within the window.
var acceptedClaim = func() *claim {
	c := &claim{done: make(chan struct{}), ok: true}
	close(c.done)
	return c
}()

type expiring struct {
	id ksuid.KSUID
	at int64 // unix nanoseconds
}

func newDedupe(window time.Duration, max int) *dedupe {
	return &dedupe{window: window, max: max, inFlight: map[ksuid.KSUID]*claim{}, accepted: map[ksuid.KSUID]struct{}{}}
}

// claim returns the claim on id and whether the caller owns it. The owner
// must call finish; others wait on the claim's done channel.
func (d *dedupe) claim(id ksuid.KSUID, now time.Time) (c *claim, owner bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expire(now.UnixNano(), d.max)
	if _, ok := d.accepted[id]; ok {
		return acceptedClaim, false
	}
	if c := d.inFlight[id]; c != nil {
		return c, false
	}
	c = &claim{done: make(chan struct{})}
	d.inFlight[id] = c
	return c, true
}

// finish records the owner's outcome: an accepted id is remembered for the
// window, a failed one is forgotten so the retry is produced.
func (d *dedupe) finish(id ksuid.KSUID, c *claim, ok bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c.ok = ok
	close(c.done)
	delete(d.inFlight, id)
	if !ok {
		return
	}
	d.expire(now.UnixNano(), d.max-1)
	if d.n == len(d.ring) {
		d.grow()
	}
	d.ring[(d.head+d.n)%len(d.ring)] = expiring{id: id, at: now.Add(d.window).UnixNano()}
	d.n++
	d.accepted[id] = struct{}{}
}

// expire forgets the accepted ids past their window, and the oldest ones
// beyond keep.
func (d *dedupe) expire(now int64, keep int) {
	for d.n > 0 && (d.n > keep || d.ring[d.head].at <= now) {
		delete(d.accepted, d.ring[d.head].id)
		d.head = (d.head + 1) % len(d.ring)
		d.n--
	}
}

// grow doubles the ring, up to max: memory follows the ids actually kept.
func (d *dedupe) grow() {
	ring := make([]expiring, min(d.max, max(64, 2*len(d.ring))))
	for i := range d.n {
		ring[i] = d.ring[(d.head+i)%len(d.ring)]
	}
	d.ring, d.head = ring, 0
}

func (d *dedupe) size() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.accepted) + len(d.inFlight)
}
