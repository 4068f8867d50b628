// Package stream is CreatorFlow's stream-processing runtime. A Topology names
// its input topics, its state stores and its output topics, and a function
// called for each input record with a Context that reads and writes the
// stores, emits records and schedules timers. Run executes it exactly once:
// for every poll, the consumed offsets, the emitted records and the
// changelogs of the store writes are committed in one Kafka transaction
// (franz-go GroupTransactSession, read_committed). State writes are held per
// transaction and applied only when it commits; an abort (an error, a
// rebalance) rolls the state back with the offsets. Global tables
// (Topology.Globals) give every instance the whole of a reference topic,
// read outside the transactions.
//
// Time is event time: each record's time is its ce_time header (else its
// Kafka timestamp), each partition keeps a stream time (the largest event
// time seen), windows close when stream time passes their end plus grace,
// and timers fire when stream time passes them, so a replay of the same
// input gives the same output. A Driver runs a topology in process with no
// broker, record by record through the same code, for tests and replays.
//
// The package knows no business rule; the vocabulary is Kafka Streams'.
package stream

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Topology is one stream-processing application.
type Topology struct {
	// Application names the application: its consumer group, the prefix of
	// its transactional ids and of its changelog topics. Two deployments
	// of one topology with different names share nothing.
	Application string
	// Inputs are the consumed topics; they must have the same number of
	// partitions (co-partitioned), since one store partition serves the
	// same partition of every input.
	Inputs []string
	// Outputs are the topics Emit may write to.
	Outputs []string
	// Stores are the state stores.
	Stores []StoreSpec
	// Internal are topics that belong to the application rather than to
	// the catalog, such as repartition topics: a processor keyed by
	// content id emits records re-keyed by SKU to an internal topic, which
	// a second topology keyed by SKU consumes, so that each SKU's state
	// lives in one partition. Run creates the missing ones before it
	// checks the co-partitioning of the inputs; both topologies declare
	// the same spec, and whichever starts first creates the topic. Every
	// name must be one of Inputs or Outputs.
	Internal []TopicSpec
	// Globals are topics read as global tables, Kafka Streams'
	// GlobalKTables: every instance reads every partition of each, from the
	// start and read_committed, into an in-memory table of each key's
	// latest value (a nil or empty value is a tombstone), which Process,
	// OnTimer and Punctuate read with Context.Global and GlobalKeys. This
	// joins a stream with facts keyed otherwise (an order stream with
	// SKU alerts or carrier health) without repartitioning either side:
	// the facts are few enough that every instance holds them all.
	//
	// Run reads the tables up to the topics' end offsets before it joins
	// the group, so the first record, and an instance that restarts, sees
	// what was there; a background consumer then applies what arrives.
	// Reads are not part of the transaction and are eventually consistent:
	// a record may see a fact that arrived after it, or miss one that
	// arrived just before, and a replay may see other facts than the first
	// run. Globals are therefore for reference data, not for state whose
	// result must be exactly once; that belongs in a store. A global topic
	// must not be an input (its records would be processed twice over).
	Globals []string
	// Windows, when set, makes the runtime drop late records: those whose
	// windows are all closed at the partition's stream time go to the DLQ.
	Windows *Windows
	// Process handles one input record. An error sends the record to the
	// DLQ with the error and discards the record's writes and emits; the
	// partition goes on with the next record. Calls for one partition
	// come one at a time, in offset order; calls for different partitions
	// may run at once (Config.Workers).
	// An error made with Transient instead aborts the transaction and the
	// records are processed again after a back-off: for an outside service
	// that is down, where the DLQ would be the wrong place.
	Process func(c *Context, r *kgo.Record) error
	// Prefetch, when set, is called before Process with the next records
	// of one partition (up to 1,000, in order), so that a processor can
	// batch its lookups (an API taking 50 ids a request); what it returns
	// is Context.Prefetched in those records' calls. An abort calls it
	// again for the same records.
	Prefetch func(ctx context.Context, records []*kgo.Record) any
	// OnTimer handles a stream-time timer that came due.
	OnTimer func(c *Context, t Timer) error
	// Punctuate, when set, is called every PunctuateEvery of wall-clock
	// time for each partition the instance owns, in a transaction of its
	// own: for work that must happen even when no record arrives (a
	// heartbeat, flushing on a deadline). What it does depends on when it
	// runs, so a replay does not repeat it exactly; stream-time timers do.
	// While no records arrive it runs at most every 2 seconds.
	Punctuate      func(c *Context) error
	PunctuateEvery time.Duration
}

// TopicSpec declares an internal topic (Topology.Internal): its partition
// count, which an existing topic must match (a repartition topic consumed
// with other inputs must also be co-partitioned with them), and its cleanup
// policy: a delete topic carries records in flight between two topologies
// for a while (Retention), a compacted one is state, the latest value of
// every key for as long as the key lives.
type TopicSpec struct {
	// Name is the topic's full name; it must be one of the topology's
	// Inputs or Outputs.
	Name string
	// Partitions is the topic's partition count. The producing side
	// partitions by key as Kafka's default partitioner does, so this
	// fixes which partition, and which consuming task, owns each key.
	Partitions int32
	// Retention is the retention.ms of a delete topic; zero means 7 days,
	// Kafka's default. It bounds how long the consuming topology may be
	// down before it misses records. A compacted topic takes none.
	Retention time.Duration
	// Compact makes the topic a compacted one (cleanup.policy=compact):
	// a queryable state topic, such as the latest health of each carrier,
	// that other topologies read whole as a global table (Globals) or
	// that a restarted consumer rebuilds a table from. Kafka keeps the
	// last record of every key and drops a key after its tombstone (a nil
	// value), so records emitted to it need a key. An existing topic whose
	// policy differs from the spec's stops Run: reading a delete topic as
	// state would lose keys once they age out.
	Compact bool
}

// cleanupPolicy is the cleanup.policy an internal topic is created with and
// that an existing one must have.
func (s TopicSpec) cleanupPolicy() string {
	if s.Compact {
		return "compact"
	}
	return "delete"
}

// defaultRetention is the retention of an internal topic whose spec gives
// none: Kafka's default log.retention.hours.
const defaultRetention = 7 * 24 * time.Hour

// Timer is a due timer.
type Timer struct {
	ID string
	At time.Time
}

func (t *Topology) validate() error {
	var errs []error
	if t.Application == "" {
		errs = append(errs, errors.New("no application name"))
	}
	if len(t.Inputs) == 0 {
		errs = append(errs, errors.New("no input topics"))
	}
	if t.Process == nil {
		errs = append(errs, errors.New("no Process function"))
	}
	seen := map[string]bool{}
	for _, s := range t.Stores {
		if s.Name == "" || s.Name[0] == '_' || seen[s.Name] {
			errs = append(errs, fmt.Errorf("store %q: names are unique and do not start with _", s.Name))
		}
		seen[s.Name] = true
	}
	declared := map[string]bool{}
	for _, topic := range append(slices.Clone(t.Inputs), t.Outputs...) {
		declared[topic] = true
	}
	internal := map[string]bool{}
	for _, spec := range t.Internal {
		switch {
		case spec.Name == "" || internal[spec.Name]:
			errs = append(errs, fmt.Errorf("internal topic %q: names are unique and not empty", spec.Name))
		case !declared[spec.Name]:
			errs = append(errs, fmt.Errorf("internal topic %s is neither an input nor an output", spec.Name))
		}
		internal[spec.Name] = true
		if spec.Partitions <= 0 {
			errs = append(errs, fmt.Errorf("internal topic %s: %d partitions, want at least 1", spec.Name, spec.Partitions))
		}
		switch {
		case spec.Compact && spec.Retention != 0:
			errs = append(errs, fmt.Errorf("internal topic %s: a compacted topic keeps every key's latest value, it takes no retention (%v)", spec.Name, spec.Retention))
		case spec.Retention < 0 || (spec.Retention > 0 && spec.Retention < time.Millisecond):
			errs = append(errs, fmt.Errorf("internal topic %s: retention %v is neither 0 (7 days) nor at least 1ms", spec.Name, spec.Retention))
		}
	}
	inputs := map[string]bool{}
	for _, in := range t.Inputs {
		inputs[in] = true
	}
	globals := map[string]bool{}
	for _, g := range t.Globals {
		switch {
		case g == "" || globals[g]:
			errs = append(errs, fmt.Errorf("global topic %q: names are unique and not empty", g))
		case inputs[g]:
			errs = append(errs, fmt.Errorf("global topic %s is also an input", g))
		}
		globals[g] = true
	}
	if t.Punctuate != nil && t.PunctuateEvery <= 0 {
		errs = append(errs, errors.New("Punctuate needs a positive PunctuateEvery"))
	}
	if t.Windows != nil {
		if err := t.Windows.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ChangelogTopic is the compacted topic that backs a store.
func (t *Topology) ChangelogTopic(store string) string {
	return t.Application + "-" + store + "-changelog"
}

func (t *Topology) allStores() []string {
	names := []string{timersStore, metaStore}
	for _, s := range t.Stores {
		names = append(names, s.Name)
	}
	return names
}

// Context is what Process and OnTimer see of one record or timer: its
// partition's stores, clock and timers, the global tables, and where to
// emit. Writes and emits are part of the current transaction; global reads
// are not. A Context is valid only during the call it is given to.
type Context struct {
	r         *runner
	ps        *partitionState
	partition int32
	eventTime time.Time
	windows   []Window
	emitted   []*kgo.Record
	writes    []write
	// prefetched is Topology.Prefetch's answer for the records at hand.
	prefetched any
}

// Prefetched is what Topology.Prefetch returned for a batch of records that
// includes the one being processed (nil without Prefetch).
func (c *Context) Prefetched() any { return c.prefetched }

// Transient marks err as passing (an outside service down or throttling):
// returned by Process, it aborts the transaction instead of sending the
// record to the DLQ, and the records are processed again after a back-off.
func Transient(err error) error { return transientError{err} }

type transientError struct{ error }

func (e transientError) Unwrap() error { return e.error }

type write struct {
	store, key string
	value      []byte
}

// Partition is the input partition being processed.
func (c *Context) Partition() int32 { return c.partition }

// EventTime is the time of the record being processed, or of the timer.
func (c *Context) EventTime() time.Time { return c.eventTime }

// StreamTime is the partition's stream time: the largest event time seen.
func (c *Context) StreamTime() time.Time { return time.Unix(0, c.ps.stream).UTC() }

// Windows are the windows of the topology that the record falls in and that
// are still open.
func (c *Context) Windows() []Window { return c.windows }

// Get reads a key of a store, seeing this record's own writes.
func (c *Context) Get(store, key string) ([]byte, bool) {
	c.mustStore(store)
	for i := len(c.writes) - 1; i >= 0; i-- {
		if w := c.writes[i]; w.store == store && w.key == key {
			return w.value, w.value != nil
		}
	}
	return c.ps.get(store, key)
}

// Put writes a key of a store.
func (c *Context) Put(store, key string, value []byte) {
	c.mustStore(store)
	if value == nil {
		value = []byte{}
	}
	c.writes = append(c.writes, write{store, key, value})
}

// Delete removes a key of a store.
func (c *Context) Delete(store, key string) {
	c.mustStore(store)
	c.writes = append(c.writes, write{store, key, nil})
}

// Keys lists the keys of a store that start with prefix, sorted.
func (c *Context) Keys(store, prefix string) []string {
	c.mustStore(store)
	keys := c.ps.keys(store, prefix)
	if len(c.writes) == 0 {
		return keys
	}
	live := map[string]bool{}
	for _, k := range keys {
		live[k] = true
	}
	for _, w := range c.writes {
		if w.store == store && len(w.key) >= len(prefix) && w.key[:len(prefix)] == prefix {
			live[w.key] = w.value != nil
		}
	}
	out := keys[:0]
	for k, ok := range live {
		if ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Emit sends a record to an output topic in the current transaction. Its
// timestamp defaults to the event time, so downstream windows see the time
// of what caused it.
func (c *Context) Emit(r *kgo.Record) {
	if !c.r.outputs[r.Topic] {
		panic(fmt.Sprintf("stream: Emit to %q, which is not an output of %s", r.Topic, c.r.topo.Application))
	}
	if r.Key == nil && c.r.compacted[r.Topic] {
		// The broker would refuse it and fail the whole transaction, again
		// at every retry.
		panic(fmt.Sprintf("stream: Emit of a record with no key to %s, a compacted topic of %s", r.Topic, c.r.topo.Application))
	}
	if r.Timestamp.IsZero() {
		r.Timestamp = c.eventTime
	}
	c.emitted = append(c.emitted, r)
}

// Schedule sets the timer id to fire once stream time reaches at; setting it
// again moves it.
func (c *Context) Schedule(id string, at time.Time) {
	c.writes = append(c.writes, write{timersStore, id, binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))})
}

// CancelTimer removes the timer id.
func (c *Context) CancelTimer(id string) {
	c.writes = append(c.writes, write{timersStore, id, nil})
}

func (c *Context) mustStore(name string) {
	if _, ok := c.ps.stores[name]; !ok || name[0] == '_' {
		panic(fmt.Sprintf("stream: no store %q in %s", name, c.r.topo.Application))
	}
}

// Codec turns store values into bytes and back.
type Codec[V any] interface {
	Encode(V) ([]byte, error)
	Decode([]byte) (V, error)
}

// JSON is the default Codec.
type JSON[V any] struct{}

// Encode implements Codec.
func (JSON[V]) Encode(v V) ([]byte, error) { return json.Marshal(v) }

// Decode implements Codec.
func (JSON[V]) Decode(b []byte) (V, error) {
	var v V
	err := json.Unmarshal(b, &v)
	return v, err
}

// KV is typed access to a store.
type KV[V any] struct {
	Store string
	Codec Codec[V]
}

// Get reads key; ok is false when it is absent.
func (s KV[V]) Get(c *Context, key string) (v V, ok bool, err error) {
	b, ok := c.Get(s.Store, key)
	if !ok {
		return v, false, nil
	}
	v, err = s.Codec.Decode(b)
	if err != nil {
		return v, false, fmt.Errorf("store %s key %q: %w", s.Store, key, err)
	}
	return v, true, nil
}

// Put writes key.
func (s KV[V]) Put(c *Context, key string, v V) error {
	b, err := s.Codec.Encode(v)
	if err != nil {
		return fmt.Errorf("store %s key %q: %w", s.Store, key, err)
	}
	c.Put(s.Store, key, b)
	return nil
}

// Delete removes key.
func (s KV[V]) Delete(c *Context, key string) { c.Delete(s.Store, key) }

// ForgetAt deletes key once stream time reaches at, by a timer the runtime
// handles itself (OnTimer does not see it); calling it again moves the
// time. It is how a store keyed by things that end (orders, videos,
// buyers) stays bounded: forget each a while after its last change.
func (s KV[V]) ForgetAt(c *Context, key string, at time.Time) {
	c.Schedule(forgetTimer+s.Store+"\x00"+key, at)
}

// forgetTimer prefixes ForgetAt's timer ids; no id a processor makes up
// starts with a NUL.
const forgetTimer = "\x00forget\x00"

// forgotten is the store and key of a ForgetAt timer id.
func forgotten(id string) (store, key string, ok bool) {
	rest, ok := strings.CutPrefix(id, forgetTimer)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "\x00")
}

// eventTime is a record's event time: its ce_time header, else its Kafka
// timestamp.
//
// Consecutive records often carry the same ce_time (a batch from one
// moment), so the last parse is remembered.
func (tc *timeCache) eventTime(r *kgo.Record) (time.Time, error) {
	for _, h := range r.Headers {
		if h.Key != "ce_time" {
			continue
		}
		if string(h.Value) == tc.raw {
			return tc.t, nil
		}
		t, err := time.Parse(time.RFC3339Nano, string(h.Value))
		if err != nil {
			return time.Time{}, fmt.Errorf("ce_time %q: %w", h.Value, err)
		}
		tc.raw, tc.t = string(h.Value), t.UTC()
		return tc.t, nil
	}
	return r.Timestamp.UTC(), nil
}

// timeCache holds the last parsed ce_time; it belongs to the processing
// loop's goroutine.
type timeCache struct {
	raw string
	t   time.Time
}
