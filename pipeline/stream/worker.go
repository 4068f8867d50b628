package stream

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// worker runs callbacks for the partitions a transaction gives it, one job
// at a time: partitions are independent (each has its own stores, stream
// time and timers), so a transaction spreads them over Config.Workers
// workers and uses that many cores, the way Kafka Streams spreads tasks
// over stream threads. A partition stays on one worker for the whole
// transaction, so its records are processed in order.
type worker struct {
	r         *runner
	ctx       Context // reused by every callback
	times     timeCache
	emitTimes []time.Time // event times of this transaction's emitting callbacks
	jobs      chan func(*worker)
	// prefetched is what Topology.Prefetch returned for the job under way.
	prefetched any
}

// crew is the workers of one runner. A partition's job goes to the worker
// that still has jobs of that partition (so they run in order), else to the
// least busy one. The caller blocks while there are twice as many jobs as
// workers, which bounds how far processing runs behind dispatch.
type crew struct {
	workers []*worker
	mu      sync.Mutex
	free    *sync.Cond    // signalled when a job ends
	load    []int         // jobs given to each worker and not yet ended
	records []int         // records of those jobs
	owner   map[int32]int // partition -> worker, while it has jobs
	queued  map[int32]int // partition -> its jobs not yet ended
	total   int           // jobs not yet ended
	// perRecord is a moving average of the time a record takes (zero:
	// not measured yet), from which backlog estimates the work queued.
	perRecord time.Duration
}

func newCrew(r *runner, n int) *crew {
	n = max(n, 1)
	c := &crew{load: make([]int, n), records: make([]int, n), owner: map[int32]int{}, queued: map[int32]int{}}
	c.free = sync.NewCond(&c.mu)
	for range n {
		w := &worker{r: r, jobs: make(chan func(*worker), 2*n)}
		c.workers = append(c.workers, w)
		if n > 1 {
			go func() {
				for job := range w.jobs {
					job(w)
				}
			}()
		}
	}
	return c
}

// do runs job, which handles n records of partition p, on a worker; with a
// single worker, at once on the caller's goroutine. The caller must wait
// before it touches what the job touches.
func (c *crew) do(p int32, n int, job func(*worker)) {
	if len(c.workers) == 1 {
		job(c.workers[0])
		return
	}
	c.waitFewer(2 * len(c.workers))
	c.mu.Lock()
	i, ok := c.owner[p]
	if !ok {
		i = 0
		for j, l := range c.load {
			if l < c.load[i] {
				i = j
			}
		}
		c.owner[p] = i
	}
	c.queued[p]++
	c.load[i]++
	c.records[i] += n
	c.total++
	c.mu.Unlock()
	c.workers[i].jobs <- func(w *worker) {
		start := time.Now()
		job(w)
		took := time.Since(start)
		c.mu.Lock()
		if n > 0 {
			per := took / time.Duration(n)
			if c.perRecord == 0 {
				c.perRecord = per
			} else {
				c.perRecord = (4*c.perRecord + per) / 5
			}
		}
		c.load[i]--
		c.records[i] -= n
		c.total--
		if c.queued[p]--; c.queued[p] == 0 {
			delete(c.queued, p)
			delete(c.owner, p)
		}
		c.free.Broadcast()
		c.mu.Unlock()
	}
}

// backlog estimates how long the work given and not yet done will take:
// the records of the busiest worker at the measured time per record, or
// forever while there is work and no measurement yet (a transaction's first
// records may be slow ones: it must not take in more before knowing).
func (c *crew) backlog() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	most := slices.Max(c.records)
	switch {
	case most == 0:
		return 0
	case c.perRecord == 0:
		return math.MaxInt64
	}
	return time.Duration(most) * c.perRecord
}

// wait returns once every job given so far has ended.
func (c *crew) wait() { c.waitFewer(1) }

// waitFewer returns once fewer than n jobs are given and not ended.
func (c *crew) waitFewer(n int) {
	c.mu.Lock()
	for c.total >= n {
		c.free.Wait()
	}
	c.mu.Unlock()
}

// stop ends the workers' goroutines.
func (c *crew) stop() {
	c.wait()
	if len(c.workers) > 1 {
		for _, w := range c.workers {
			close(w.jobs)
		}
	}
}

// punctuate runs the wall-clock callback for one partition. A failure is
// logged and its writes and emits dropped; it is returned for the Driver,
// which hands it to its caller.
func (w *worker) punctuate(ps *partitionState, p int32, produce func(*kgo.Record)) error {
	c := w.context(ps, p, time.Now().UTC())
	if err := w.r.topo.Punctuate(c); err != nil {
		w.r.log.Error("punctuation failed; its writes and emits are dropped", "partition", p, "err", err)
		w.r.metrics.timerErrors.Inc()
		return err
	}
	w.apply(ps, c, produce)
	return nil
}

// process runs one record (and the timers it makes due) against its
// partition's state.
func (w *worker) process(ps *partitionState, rec *kgo.Record, produce func(*kgo.Record)) {
	at, err := w.times.eventTime(rec)
	if err != nil {
		produce(w.r.deadLetter(rec, err))
		return
	}
	if ns := at.UnixNano(); ns > ps.stream {
		ps.stream = ns // stored once per transaction, by saveStreamTime
	}
	c := w.context(ps, rec.Partition, at)
	if spec := w.r.topo.Windows; spec != nil {
		now := c.StreamTime()
		all := spec.appendFor(c.windows, at)
		c.windows = all[:0] // filtered in place: the open ones
		for _, win := range all {
			if spec.Open(win, now) {
				c.windows = append(c.windows, win)
			}
		}
		if len(c.windows) == 0 {
			w.r.metrics.late.Inc()
			produce(w.r.deadLetter(rec, fmt.Errorf("late record: event time %s, stream time %s, grace %s",
				at.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano), spec.Grace)))
			w.fireTimers(ps, rec.Partition, produce)
			return
		}
	}
	if err := w.r.topo.Process(c, rec); errors.As(err, new(transientError)) {
		w.r.retryLater(err)
		return
	} else if err != nil {
		produce(w.r.deadLetter(rec, err))
	} else {
		w.apply(ps, c, produce)
	}
	w.fireTimers(ps, rec.Partition, produce)
}

// context readies the worker's one Context for a callback. Callbacks must
// not keep it, so its buffers are reused.
func (w *worker) context(ps *partitionState, partition int32, at time.Time) *Context {
	c := &w.ctx
	*c = Context{r: w.r, ps: ps, partition: partition, eventTime: at, prefetched: w.prefetched,
		windows: c.windows[:0], emitted: c.emitted[:0], writes: c.writes[:0]}
	return c
}

// apply moves a successful callback's writes into the transaction and
// produces its emits.
func (w *worker) apply(ps *partitionState, c *Context, produce func(*kgo.Record)) {
	for _, wr := range c.writes {
		ps.put(wr.store, wr.key, wr.value)
		if wr.store == timersStore && wr.value != nil {
			heap.Push(ps.timers, timerEntry{id: wr.key, at: int64(binary.BigEndian.Uint64(wr.value))})
		}
	}
	for _, e := range c.emitted {
		produce(e)
	}
	if len(c.emitted) > 0 {
		w.r.metrics.out.Add(float64(len(c.emitted)))
		w.emitTimes = append(w.emitTimes, c.eventTime)
	}
}

// fireTimers runs the timers that stream time has reached, in time order.
func (w *worker) fireTimers(ps *partitionState, partition int32, produce func(*kgo.Record)) {
	if ps.timers.Len() == 0 || (*ps.timers)[0].at > ps.stream {
		return
	}
	// Take the due timers first: one that a handler sets again at or
	// before stream time fires at the next record, not in a loop here.
	var due []timerEntry
	for ps.timers.Len() > 0 && (*ps.timers)[0].at <= ps.stream {
		due = append(due, heap.Pop(ps.timers).(timerEntry))
	}
	for _, e := range due {
		v, ok := ps.get(timersStore, e.id)
		if !ok || len(v) != 8 || int64(binary.BigEndian.Uint64(v)) != e.at {
			continue // cancelled or moved since it was queued
		}
		ps.put(timersStore, e.id, nil)
		store, key, forget := forgotten(e.id)
		if !forget && w.r.topo.OnTimer == nil {
			continue
		}
		at := time.Unix(0, e.at).UTC()
		c := w.context(ps, partition, at)
		if forget {
			c.Delete(store, key)
		} else if err := w.r.topo.OnTimer(c, Timer{ID: e.id, At: at}); err != nil {
			w.r.log.Error("timer failed; its writes and emits are dropped", "timer", e.id, "err", err)
			w.r.metrics.timerErrors.Inc()
			continue
		}
		w.apply(ps, c, produce)
	}
}
