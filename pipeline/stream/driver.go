package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DriverConfig says how a Driver simulates the topics around a topology.
type DriverConfig struct {
	// Partitions is the partition count of the inputs (they are
	// co-partitioned, as Run requires): a record's key picks its
	// partition, and with it the stores, stream time and timers it sees.
	// Zero means 1.
	Partitions int32
	// DLQ is the topic of the dead letters Pipe returns (failed and late
	// records); empty means "dlq.v1", the pipeline's.
	DLQ string
}

// Driver runs a Topology in process, without a broker, the way Kafka
// Streams' TopologyTestDriver does: for fast unit tests of processors and
// for replaying recorded input in bulk. Each piped record goes through the
// runtime's own per-record code (event time, stream time, windows and late
// records, Process, the DLQ, stream-time timers) against the same partition
// state Run keeps, and is committed on its own, so what a Driver emits is
// what Run would emit for the same records in the same order.
//
// Where one record per transaction differs from Run's transactions of many:
// a Transient error rolls back only its record (Run re-processes the whole
// transaction, with the same result); Prefetch is called with one record at
// a time; windowed stores drop their expired windows at other moments (only
// windows past their retention, which no open window reads). Records of
// several inputs interleave in the order they are piped, where Run takes
// them in the order the broker returns them. Emitted records keep the
// partition Process gave them (a producer would hash the key), and failing
// timers and punctuations are dropped as in Run, but with no log. Global
// tables start empty and change only by PipeGlobal, at once: where Run's
// tables lag their topics a little, a test decides exactly which facts each
// record sees.
//
// A Driver is not safe for concurrent use: it is one stream thread.
type Driver struct {
	r *runner
	w *worker
	// offsets is, per input topic, the next offset of each partition.
	offsets    map[string][]int64
	partitions int32
	// states are the partitions' states, nil until a partition's first
	// record.
	states []*partitionState
	// emits is the backing array of the slices Pipe and Punctuate return:
	// each call appends past the previous ones and returns its part with
	// no spare capacity, so a returned slice is never written again.
	emits   []*kgo.Record
	produce func(*kgo.Record)
}

// NewDriver validates topo and returns a Driver with empty stores and no
// stream time, as a new application starts.
func NewDriver(topo Topology, cfg DriverConfig) (*Driver, error) {
	if err := topo.validate(); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	if cfg.Partitions < 0 {
		return nil, fmt.Errorf("stream: driver: %d partitions", cfg.Partitions)
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 1
	}
	if cfg.DLQ == "" {
		cfg.DLQ = "dlq.v1"
	}
	log := slog.New(slog.DiscardHandler)
	r := &runner{topo: topo, cfg: Config{DLQ: cfg.DLQ, Logger: log, Workers: 1}, log: log,
		outputs: map[string]bool{cfg.DLQ: true}, partitions: cfg.Partitions,
		metrics: newMetrics(nil, topo.Application, nil, nil, nil, nil)}
	for _, o := range topo.Outputs {
		r.outputs[o] = true
	}
	r.initTopics()
	d := &Driver{r: r, w: &worker{r: r}, offsets: map[string][]int64{}, partitions: cfg.Partitions,
		states: make([]*partitionState, cfg.Partitions)}
	for _, in := range topo.Inputs {
		d.offsets[in] = make([]int64, cfg.Partitions)
	}
	d.produce = func(rec *kgo.Record) { d.emits = append(d.emits, rec) }
	return d, nil
}

// Partition is the partition Pipe puts a key in: Kafka's default
// partitioner's (the positive murmur2 hash of the key modulo the partition
// count, what franz-go's and the Java client's producers pick for a keyed
// record); a nil key goes to partition 0, where a producer would spread
// such records over the partitions.
func (d *Driver) Partition(key []byte) int32 {
	if key == nil || d.partitions == 1 {
		return 0
	}
	return keyPartition(key, d.partitions)
}

// Pipe processes one input record in a transaction of its own and returns
// what it emitted, in emit order: the outputs of Process and of the timers
// it made due, and the dead letters of a failed or late record, addressed
// to the DLQ with the runtime's headers. rec.Topic must be an input; rec
// itself is not modified. The record is processed as Run would receive it
// from the broker: in its key's partition (Partition), at the next offset
// of that topic and partition (0, 1, 2, ...), with its timestamp in
// milliseconds and, if zero, the wall-clock time, as a producer sets it.
//
// A Transient error from Process rolls the record back (its store writes,
// its emits, the stream time it moved) and is returned; the offset is not
// used, so piping the record again is a retry. The returned slice is the
// caller's.
func (d *Driver) Pipe(rec *kgo.Record) ([]*kgo.Record, error) {
	offsets, ok := d.offsets[rec.Topic]
	if !ok {
		return nil, fmt.Errorf("stream: %s is not an input of %s", rec.Topic, d.r.topo.Application)
	}
	p := d.Partition(rec.Key)
	in := new(kgo.Record) // Run gives Process a record of its own too
	*in = *rec
	in.Partition, in.Offset = p, offsets[p]
	ts := in.Timestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	in.Timestamp = time.UnixMilli(ts.UnixMilli())
	ps := d.state(p)
	start := d.begin()
	if d.r.topo.Prefetch != nil {
		ctx, cancel := context.WithTimeout(context.Background(), prefetchTimeout)
		d.w.prefetched = d.r.topo.Prefetch(ctx, []*kgo.Record{in})
		cancel()
	}
	d.w.process(ps, in, d.produce)
	d.w.prefetched = nil
	if err := d.r.retryError(); err != nil {
		// What Run's abortForRetry does to the partition.
		d.r.mu.Lock()
		d.r.retryErr = nil
		d.r.retrying.Store(false)
		d.r.mu.Unlock()
		clear(d.emits[start:])
		d.emits = d.emits[:start]
		ps.abort()
		return nil, err
	}
	offsets[p]++
	d.commit(ps)
	return d.end(start), nil
}

// PipeGlobal applies a record of a global topic (Topology.Globals) to its
// table, as the background consumer of Run would, but at once: the next
// record piped sees it. A nil or empty value is a tombstone and deletes the
// key. rec is not kept. It panics if rec.Topic is not a global topic, like
// Context.Global: a test that pipes to the wrong topic is wrong.
func (d *Driver) PipeGlobal(rec *kgo.Record) {
	d.r.global(rec.Topic).applyInPlace(string(rec.Key), globalValue(rec.Value))
}

// Punctuate runs Topology.Punctuate for every partition that has state (has
// had a record), in partition order, as if PunctuateEvery had passed, each
// in a transaction of its own, and returns the emits. A partition whose
// punctuation fails loses its writes and emits, as in Run; the others still
// punctuate, and the errors are returned together.
func (d *Driver) Punctuate() ([]*kgo.Record, error) {
	if d.r.topo.Punctuate == nil {
		return nil, nil
	}
	start := d.begin()
	var errs []error
	for p, ps := range d.states {
		if ps == nil {
			continue
		}
		if err := d.w.punctuate(ps, int32(p), d.produce); err != nil {
			errs = append(errs, fmt.Errorf("stream: punctuate partition %d: %w", p, err))
		}
		d.commit(ps)
	}
	return d.end(start), errors.Join(errs...)
}

// Get reads a committed store entry of a partition, as a restore from the
// changelog would find it; false when the partition has no state or the
// store no such key. The value is the store's: not to be modified.
func (d *Driver) Get(partition int32, store, key string) ([]byte, bool) {
	if partition < 0 || partition >= d.partitions || d.states[partition] == nil {
		return nil, false
	}
	st, ok := d.states[partition].stores[store]
	if !ok {
		return nil, false
	}
	return st.Get(key)
}

func (d *Driver) state(p int32) *partitionState {
	ps := d.states[p]
	if ps == nil {
		ps = newPartitionState(d.r.topo.Stores)
		d.states[p] = ps
	}
	return ps
}

// begin readies a call's emits and returns where they start.
func (d *Driver) begin() int {
	if cap(d.emits)-len(d.emits) < 64 {
		d.emits = make([]*kgo.Record, 0, 4096)
	}
	d.w.emitTimes = d.w.emitTimes[:0] // metrics of Run's commit; unused here
	return len(d.emits)
}

// end returns the emits of a call from start, nil if none.
func (d *Driver) end(start int) []*kgo.Record {
	if len(d.emits) == start {
		return nil
	}
	return d.emits[start:len(d.emits):len(d.emits)]
}

// commit is what Run does to a partition when its transaction commits: the
// stream time is saved, the pending writes applied, windowed stores expired
// (all but counting the stores' entries for the metrics).
func (d *Driver) commit(ps *partitionState) {
	ps.saveStreamTime()
	ps.apply()
}
