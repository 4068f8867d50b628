package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Global reads a key of a global table (Topology.Globals): its latest value
// as far as this instance has read the topic. The read is not part of the
// transaction: a fact that arrives meanwhile may or may not be seen, and
// two reads in one call may see different versions of the table. The value
// is the table's: not to be modified.
func (c *Context) Global(topic, key string) ([]byte, bool) {
	v, ok := c.r.global(topic).load().m[key]
	return v, ok
}

// GlobalKeys lists the keys of a global table, sorted, so that a processor
// going over all the facts (every carrier's health) does so in the same
// order on every instance. It copies every key: for small tables.
func (c *Context) GlobalKeys(topic string) []string {
	return slices.Clone(c.r.global(topic).load().sortedKeys())
}

// global finds a topic's table. A topology has a few global topics, and
// comparing the name with each costs less than hashing it: this is on the
// hot path of every lookup.
func (r *runner) global(topic string) *globalTable {
	for i := range r.globalList {
		if r.globalList[i].topic == topic {
			return r.globalList[i].table
		}
	}
	panic(fmt.Sprintf("stream: %q is not a global topic of %s", topic, r.topo.Application))
}

// globalTable is one global topic's table. Process reads it on every worker
// at once while the background consumer updates it, so it is copy on write:
// readers load the current snapshot, an immutable map, with one atomic
// load, and the consumer publishes a new snapshot with a batch of updates.
// An RWMutex costs readers a shared counter that every core writes (twice
// the read time with two cores; more with more) and stalls them behind each
// update; a snapshot costs the writer a copy of the table, which publish
// spaces out instead.
type globalTable struct {
	cur atomic.Pointer[globalSnapshot]
}

type namedTable struct {
	topic string
	table *globalTable
}

// globalSnapshot is one version of a table. It is never modified once
// published (but by the Driver, which has no concurrent readers).
type globalSnapshot struct {
	m map[string][]byte
	// keys are m's keys sorted, made at the first GlobalKeys of this
	// version.
	keysOnce sync.Once
	keys     []string
}

func newGlobalTable() *globalTable {
	t := &globalTable{}
	t.cur.Store(&globalSnapshot{m: map[string][]byte{}})
	return t
}

func (t *globalTable) load() *globalSnapshot { return t.cur.Load() }

func (s *globalSnapshot) sortedKeys() []string {
	s.keysOnce.Do(func() { s.keys = slices.Sorted(maps.Keys(s.m)) })
	return s.keys
}

// publish makes a new version of the table with pending applied (a nil
// value deletes its key).
func (t *globalTable) publish(pending map[string][]byte) {
	m := maps.Clone(t.load().m)
	for k, v := range pending {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	t.cur.Store(&globalSnapshot{m: m})
}

// applyInPlace applies one update to the current version, for the Driver:
// with no concurrent reader, copying the table at every record would make
// piping n facts cost n².
func (t *globalTable) applyInPlace(key string, value []byte) {
	m := t.load().m
	if value == nil {
		delete(m, key)
	} else {
		m[key] = value
	}
	t.cur.Store(&globalSnapshot{m: m})
}

// globalValue is what a global record sets its key to: nil for a
// tombstone (a nil or empty value), else a copy, so that the table does not
// keep the whole fetched batch the value points into.
func globalValue(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return bytes.Clone(v)
}

// publishShare bounds the time the background consumer spends copying
// tables to publish them: a table that took d to copy is published again no
// sooner than d/publishShare later, so a large table updated continuously
// costs at most a tenth of a core, while a small one is published at once.
const publishShare = 0.1

// globalConsumer reads the global topics: first up to their end offsets
// (the restore, before Run joins the group), then whatever arrives.
type globalConsumer struct {
	r      *runner
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}
}

// startGlobals restores the global tables up to the topics' last stable
// offsets (read_committed sees nothing past them) and starts the background
// consumer that keeps them up to date. The returned stop ends it.
func (r *runner) startGlobals(ctx context.Context) (stop func(), err error) {
	if len(r.topo.Globals) == 0 {
		return func() {}, nil
	}
	start := time.Now()
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), r.cfg.Client...),
		// Every partition, with no group: each instance reads them all. A
		// partition added later is picked up by the metadata refresh.
		kgo.ConsumeTopics(r.topo.Globals...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// For the restore to see where it ends (restore does the same).
		kgo.KeepControlRecords())...)
	if err != nil {
		return nil, fmt.Errorf("stream: global consumer: %w", err)
	}
	records, err := r.restoreGlobals(ctx, cl)
	if err != nil {
		cl.Close()
		return nil, fmt.Errorf("stream: restore global tables: %w", err)
	}
	r.log.Info("global tables restored", "topics", r.topo.Globals, "records", records, "took", time.Since(start).Round(time.Millisecond))
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g := &globalConsumer{r: r, cl: cl, cancel: cancel, done: make(chan struct{})}
	go g.run(cctx)
	return func() {
		g.cancel()
		<-g.done
		g.cl.Close()
	}, nil
}

// restoreGlobals reads the global topics into fresh tables up to their end
// offsets and publishes each table once.
func (r *runner) restoreGlobals(ctx context.Context, cl *kgo.Client) (int, error) {
	adm := kadm.NewClient(cl)
	ends, err := adm.ListCommittedOffsets(ctx, r.topo.Globals...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("end offsets: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, r.topo.Globals...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("start offsets: %w", err)
	}
	remaining := map[topicPartition]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && s.Offset < o.Offset {
			remaining[topicPartition{o.Topic, o.Partition}] = o.Offset
		}
	})
	tables := map[string]map[string][]byte{}
	for _, topic := range r.topo.Globals {
		tables[topic] = map[string][]byte{}
	}
	n, left, err := readToEnd(ctx, cl, remaining,
		func(n, left int) {
			r.log.Info("restoring global tables", "topics", r.topo.Globals, "records", n, "partitions_left", left)
		},
		func(rec *kgo.Record) {
			r.metrics.globalRecords[rec.Topic].Inc()
			if v := globalValue(rec.Value); v == nil {
				delete(tables[rec.Topic], string(rec.Key))
			} else {
				tables[rec.Topic][string(rec.Key)] = v
			}
		})
	if err != nil {
		return n, err
	}
	if left > 0 {
		r.log.Warn("global topic read ended before its end offset (compacted or aborted tail)", "partitions_left", left)
	}
	for topic, m := range tables {
		r.globals[topic].cur.Store(&globalSnapshot{m: m})
	}
	return n, nil
}

// run applies what arrives on the global topics until ctx ends. Updates are
// gathered per table and published at most every so often (publishShare),
// all of one poll at once.
func (g *globalConsumer) run(ctx context.Context) {
	defer close(g.done)
	pending := map[string]map[string][]byte{}
	next := map[string]time.Time{} // a table's earliest next publication
	var lastWarn time.Time
	for {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if len(pending) > 0 {
			// Wake up for the first publication due even without records.
			due := time.Time{}
			for topic := range pending {
				if due.IsZero() || next[topic].Before(due) {
					due = next[topic]
				}
			}
			pctx, cancel = context.WithDeadline(ctx, due)
		}
		fs := g.cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) && time.Since(lastWarn) > 10*time.Second {
			// The client goes on by itself (and starts a partition over if
			// its offset is gone); the table is stale meanwhile.
			lastWarn = time.Now()
			g.r.log.Warn("global consumer: fetch error", "err", err)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			if rec.Attrs.IsControl() {
				return
			}
			g.r.metrics.globalRecords[rec.Topic].Inc()
			p := pending[rec.Topic]
			if p == nil {
				p = map[string][]byte{}
				pending[rec.Topic] = p
			}
			p[string(rec.Key)] = globalValue(rec.Value)
		})
		for topic, p := range pending {
			if time.Now().Before(next[topic]) {
				continue
			}
			start := time.Now()
			g.r.globals[topic].publish(p)
			next[topic] = start.Add(time.Duration(float64(time.Since(start)) / publishShare))
			delete(pending, topic)
		}
	}
}

// topicPartition names a partition of a topic being read to its end.
type topicPartition struct {
	topic     string
	partition int32
}

// readToEnd polls cl, handing apply every record that is not a transaction
// marker, until every partition of remaining has been read up to the end
// offset it maps to, and returns the records applied and the partitions
// left. cl must keep control records: a marker often takes the last offset.
// Compaction can remove the record at the very end of a log (a purged
// tombstone or marker), so a poll that stays empty for restoreIdle also
// ends the read, with partitions left. progress is called every 5 s.
// remaining is emptied.
func readToEnd(ctx context.Context, cl *kgo.Client, remaining map[topicPartition]int64, progress func(records, left int), apply func(*kgo.Record)) (int, int, error) {
	n := 0
	lastReport := time.Now()
	for len(remaining) > 0 {
		if time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			progress(n, len(remaining))
		}
		pctx, cancel := context.WithTimeout(ctx, restoreIdle)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return n, len(remaining), ctx.Err()
		}
		if fs.NumRecords() == 0 && pctx.Err() != nil {
			return n, len(remaining), nil
		}
		if err := fs.Err0(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return n, len(remaining), err
		}
		fs.EachRecord(func(rec *kgo.Record) {
			tp := topicPartition{rec.Topic, rec.Partition}
			if end, ok := remaining[tp]; ok && rec.Offset >= end-1 {
				delete(remaining, tp)
			}
			if rec.Attrs.IsControl() {
				return
			}
			n++
			apply(rec)
		})
	}
	return n, 0, nil
}
