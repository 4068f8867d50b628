package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// transactionTimeout bounds one transaction's produce and commit.
const transactionTimeout = time.Minute

// idlePunctuation is the shortest interval between punctuations of an
// instance that has no records to process.
const idlePunctuation = 2 * time.Second

// jobRecords is the most records of one worker job: enough that handing a
// job over costs nothing per record, few enough that the jobs still queued
// when the commit interval ends are a few milliseconds of work.
const jobRecords = 1000

// prefetchTimeout bounds one Prefetch call, well inside franz-go's
// transaction timeout (40 s): a lookup slower than that makes the
// processor's own deadline error, which it reports as Transient.
const prefetchTimeout = 15 * time.Second

// restoreIdle is how long a restore waits on a changelog that returns
// nothing before taking it as fully read.
const restoreIdle = 5 * time.Second

// Config says where and how a topology runs.
type Config struct {
	// Client are the options of every Kafka client (brokers, security).
	Client []kgo.Opt
	// Instance distinguishes the instances of one application; it names
	// the instance's transactional id, so it must be unique and stable
	// across restarts of that instance.
	Instance string
	// DLQ is the topic of records that could not be processed.
	DLQ string
	// StaticMembership makes Instance the consumer group's instance id: a
	// crashed instance that restarts takes its partitions back at once
	// instead of after the group's session timeout, at the price that an
	// instance stopped for good keeps its partitions until that timeout.
	StaticMembership bool
	// AtLeastOnce trades exactly-once for throughput, for consumers whose
	// effects are idempotent (a sink deduplicating by event id): outputs and
	// changelogs are produced, flushed, then the offsets committed, with no
	// transaction. A crash between the two repeats the work.
	AtLeastOnce bool
	// Workers is how many partitions are processed at once (Kafka Streams'
	// stream threads); zero means one per core (GOMAXPROCS). Process,
	// OnTimer and Punctuate are then called concurrently for different
	// partitions: they keep their state in stores, not in variables they
	// share.
	Workers int
	// MaxPollRecords bounds the records of one poll.
	MaxPollRecords int
	// CommitInterval is how long a transaction keeps taking in records that
	// are already fetched before it commits (Kafka Streams'
	// commit.interval.ms). A backlog is then processed in a few large
	// transactions rather than one per poll, whose fixed cost (the offset
	// commit and the transaction markers) would dominate; records that
	// trickle in are committed at once, since a transaction never waits
	// for records. Zero means 25 ms; a negative value, one poll per
	// transaction.
	CommitInterval time.Duration
	// Registerer receives the runtime's metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger receives the runtime's logs; nil discards them.
	Logger *slog.Logger
}

// Run executes the topology until ctx is done or a fatal error occurs.
// It creates missing internal topics (Topology.Internal), checks that the
// inputs are co-partitioned, creates missing changelog topics, restores the
// global tables (Topology.Globals), joins the consumer group and processes
// exactly once.
func Run(ctx context.Context, topo Topology, cfg Config) error {
	if err := topo.validate(); err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	if cfg.Instance == "" || cfg.DLQ == "" {
		return errors.New("stream: an instance name and a DLQ topic are required")
	}
	if cfg.MaxPollRecords <= 0 {
		cfg.MaxPollRecords = 10_000
	}
	if cfg.CommitInterval == 0 {
		cfg.CommitInterval = 25 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	r := &runner{topo: topo, cfg: cfg, log: cfg.Logger, outputs: map[string]bool{cfg.DLQ: true},
		states: map[int32]*partitionState{}}
	r.crew = newCrew(r, cfg.Workers)
	defer r.crew.stop()
	r.initTopics()
	r.metrics = newMetrics(cfg.Registerer, topo.Application, topo.allStores(), r.storeSize, topo.Globals, r.globalSize)
	r.changelogs = map[string]string{}
	for _, store := range topo.allStores() {
		r.changelogs[store] = topo.ChangelogTopic(store)
	}
	for _, o := range topo.Outputs {
		r.outputs[o] = true
	}
	partitions, err := r.prepareTopics(ctx)
	if err != nil {
		return err
	}
	r.partitions = partitions
	// Before joining the group: the first record sees the global tables
	// as the topics held them at start, and a long restore delays no
	// rebalance.
	stopGlobals, err := r.startGlobals(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while restoring: nothing was processed
		}
		return err
	}
	defer stopGlobals()

	opts := append([]kgo.Opt(nil), cfg.Client...)
	if cfg.StaticMembership {
		opts = append(opts, kgo.InstanceID(cfg.Instance))
	}
	opts = append(opts,
		kgo.ConsumerGroup(topo.Application),
		kgo.ConsumeTopics(topo.Inputs...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(changelogPartitioner{changelogs: r.changelogTopics()}),
		kgo.OnPartitionsAssigned(r.assigned),
		kgo.OnPartitionsRevoked(r.revoked),
		kgo.OnPartitionsLost(r.revoked),
	)
	var sess session
	if cfg.AtLeastOnce {
		sess, err = newAtLeastOnce(opts)
	} else {
		var gts *kgo.GroupTransactSession
		gts, err = kgo.NewGroupTransactSession(append(opts,
			kgo.TransactionalID(topo.Application+"-"+cfg.Instance),
			kgo.RequireStableFetchOffsets(),
		)...)
		sess = exactlyOnce{gts}
	}
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	defer sess.Close()
	nextPunctuation := time.Now().Add(topo.PunctuateEvery)
	for ctx.Err() == nil {
		pollCtx, cancelPoll := ctx, context.CancelFunc(func() {})
		if topo.Punctuate != nil {
			// Wake up for the next punctuation even without records.
			pollCtx, cancelPoll = context.WithDeadline(ctx, nextPunctuation)
		}
		fetches := sess.PollRecords(pollCtx, cfg.MaxPollRecords)
		cancelPoll()
		if ctx.Err() != nil {
			break
		}
		if err := r.failure(); err != nil {
			return fmt.Errorf("stream: %w", err)
		}
		punctuate := topo.Punctuate != nil && !time.Now().Before(nextPunctuation)
		if punctuate {
			// A transaction that commits no offsets makes franz-go hold
			// off rebalances for 500 ms after it (its pre-KIP-447
			// precaution): punctuating an idle instance more often than
			// idlePunctuation would starve the group of rebalances.
			every := topo.PunctuateEvery
			if fetches.NumRecords() == 0 {
				every = max(every, idlePunctuation)
			}
			nextPunctuation = time.Now().Add(every)
		}
		if err := r.checkFetches(fetches); err != nil {
			return err
		}
		if fetches.NumRecords() == 0 && !punctuate {
			sess.AllowRebalance() // an empty poll may still hold the rebalance gate
			continue
		}
		// A transaction under way finishes even when ctx is cancelled:
		// a graceful stop commits what it processed. A crash is a crash.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), transactionTimeout)
		err := r.transaction(tctx, sess, fetches, punctuate)
		cancel()
		if err != nil {
			return err
		}
		if r.retryPending {
			r.retryPending = false
			select {
			case <-ctx.Done():
			case <-time.After(r.retryWait):
			}
		}
	}
	return nil
}

// checkFetches logs the errors of a poll and records the consumer lag; an
// error meaning data was lost ends Run.
func (r *runner) checkFetches(fetches kgo.Fetches) error {
	if err := fetches.Err0(); err != nil && !errors.Is(err, context.Canceled) {
		var fatal bool
		fetches.EachError(func(_ string, _ int32, err error) { fatal = fatal || isFatal(err) })
		if fatal {
			return fmt.Errorf("stream: fetch: %w", err)
		}
		r.log.Warn("fetch error", "err", err)
	}
	r.observeLag(fetches)
	return nil
}

func isFatal(err error) bool {
	var de *kgo.ErrDataLoss
	return errors.As(err, &de)
}

type runner struct {
	topo       Topology
	cfg        Config
	log        *slog.Logger
	outputs    map[string]bool
	partitions int32
	metrics    *metrics

	crew *crew
	// retryErr is the transient error that is aborting the transaction
	// under way (retrying tells the workers cheaply); retryWait is the
	// back-off, doubling while failures recur, and retryPending says Run
	// must wait it before the next transaction.
	retryErr     error
	retrying     atomic.Bool
	retryWait    time.Duration
	retryPending bool
	changelogs   map[string]string // store -> changelog topic
	// globals are the global tables by topic, and globalList the same for
	// lookups (global); neither is written after start, so workers read
	// them without a lock.
	globals    map[string]*globalTable
	globalList []namedTable
	// compacted are the internal topics that are compacted, which Emit
	// refuses keyless records for.
	compacted map[string]bool
	mu        sync.Mutex
	states    map[int32]*partitionState
	fatal     error // set by a callback; ends Run
}

func (r *runner) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// transaction processes one poll in one transaction.
func (r *runner) transaction(ctx context.Context, sess session, fetches kgo.Fetches, punctuate bool) error {
	start := time.Now()
	if err := sess.Begin(); err != nil {
		return fmt.Errorf("stream: begin transaction: %w", err)
	}
	var (
		produceMu  sync.Mutex
		produceErr error
	)
	promise := func(_ *kgo.Record, err error) { // one closure for every record
		if err != nil {
			produceMu.Lock()
			produceErr = errors.Join(produceErr, err)
			produceMu.Unlock()
		}
	}
	produce := func(rec *kgo.Record) { sess.Produce(ctx, rec, promise) }
	for _, w := range r.crew.workers {
		w.emitTimes = w.emitTimes[:0]
	}
	touched := map[int32]*partitionState{}
	do := r.crew.do
	missing := false
	for {
		fetches.EachPartition(func(ftp kgo.FetchTopicPartition) {
			if len(ftp.Records) == 0 {
				return
			}
			ps := r.state(ftp.Partition)
			if ps == nil {
				missing = true // revoked meanwhile: this transaction will abort
				return
			}
			touched[ftp.Partition] = ps
			r.metrics.in.Add(float64(len(ftp.Records)))
			// Small jobs keep the workers evenly busy and what is still
			// queued when the commit interval ends short.
			for recs := range slices.Chunk(ftp.Records, jobRecords) {
				do(ftp.Partition, len(recs), func(w *worker) {
					if r.topo.Prefetch != nil && !r.retrying.Load() {
						pctx, cancel := context.WithTimeout(ctx, prefetchTimeout)
						w.prefetched = r.topo.Prefetch(pctx, recs)
						cancel()
						defer func() { w.prefetched = nil }()
					}
					for _, rec := range recs {
						if r.retrying.Load() {
							return // the transaction aborts: no use going on
						}
						w.process(ps, rec, produce)
					}
				})
			}
		})
		// Polled records belong to this transaction, so poll more only
		// while the work already taken in fits in the commit interval: it
		// then bounds the whole transaction, however slow the records.
		if missing || r.retrying.Load() || r.crew.backlog() >= r.cfg.CommitInterval-time.Since(start) {
			break
		}
		// Only what is fetched already: with a nil context, PollRecords
		// never waits.
		fetches = sess.PollRecords(nil, r.cfg.MaxPollRecords)
		// Errors first: franz-go reports data loss in a poll with no
		// records, and only once.
		if err := r.checkFetches(fetches); err != nil {
			r.crew.wait()
			_, _ = sess.End(ctx, kgo.TryAbort) // Run ends with err either way
			for _, ps := range touched {
				ps.abort()
			}
			return err
		}
		if fetches.NumRecords() == 0 {
			break
		}
	}
	r.crew.wait()
	if err := r.retryError(); err != nil {
		return r.abortForRetry(ctx, sess, touched, err)
	}
	if punctuate {
		for p, ps := range r.owned() {
			touched[p] = ps
			do(p, 0, func(w *worker) { _ = w.punctuate(ps, p, produce) }) // logged
		}
	}
	// Store writes go to the changelogs, in the same transaction.
	for p, ps := range touched {
		do(p, 0, func(*worker) {
			ps.saveStreamTime()
			r.produceChangelogs(ps, p, start, produce)
		})
	}
	r.crew.wait()
	// Every record must be acknowledged before deciding: a record can fail
	// alone (too large, say) without failing the transaction, and
	// committing without it would lose a state write or an output.
	if err := sess.Flush(ctx); err != nil {
		return fmt.Errorf("stream: flush: %w", err)
	}
	try := kgo.TryCommit
	produceMu.Lock()
	if missing || produceErr != nil {
		try = kgo.TryAbort
	}
	failed := produceErr
	produceMu.Unlock()
	committed, err := sess.End(ctx, try)
	if failed != nil {
		err = errors.Join(err, fmt.Errorf("records not produced: %w", failed))
	}
	for p, ps := range touched {
		do(p, 0, func(*worker) {
			if committed {
				ps.commit()
			} else {
				ps.abort()
			}
		})
	}
	r.crew.wait()
	if err != nil {
		r.metrics.aborts.Inc()
		return fmt.Errorf("stream: end transaction: %w", err)
	}
	if !committed {
		r.metrics.aborts.Inc()
		r.log.Info("transaction aborted (rebalance); state rolled back with the offsets")
		return nil
	}
	r.retryWait = 0
	committedAt := time.Now()
	r.metrics.commit.Observe(committedAt.Sub(start).Seconds())
	// Outputs become visible at the commit: that is when their latency ends.
	for _, w := range r.crew.workers {
		for _, at := range w.emitTimes {
			r.metrics.latency.Observe(committedAt.Sub(at).Seconds())
		}
	}
	return nil
}

func (r *runner) retryError() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.retryErr
}

// retryLater makes the transaction under way abort because of err.
func (r *runner) retryLater(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.retryErr == nil {
		r.retryErr = err
		r.retrying.Store(true)
	}
}

// abortForRetry aborts the transaction after a transient error: the state
// rolls back, the offsets rewind, and Run waits a back-off (1 s, doubling to
// 30 s while it recurs) before the records are processed again.
func (r *runner) abortForRetry(ctx context.Context, sess session, touched map[int32]*partitionState, cause error) error {
	r.mu.Lock()
	r.retryErr = nil
	r.retrying.Store(false)
	r.mu.Unlock()
	r.retryWait = min(max(2*r.retryWait, time.Second), 30*time.Second)
	r.retryPending = true
	r.metrics.aborts.Inc()
	r.metrics.retries.Inc()
	r.log.Warn("transient failure: transaction aborted, retrying", "wait", r.retryWait, "err", cause)
	// A fresh deadline: a slow callback may have used up the transaction's.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), transactionTimeout)
	defer cancel()
	_, err := sess.End(actx, kgo.TryAbort)
	for _, ps := range touched {
		ps.abort()
	}
	if err != nil {
		return fmt.Errorf("stream: abort transaction: %w", err)
	}
	return nil
}

// produceChangelogs produces one changelog record per key the partition's
// transaction wrote, its last value (nil: a tombstone). On a busy partition
// these are most of the records a transaction writes, so they come from one
// slab that the partition reuses once the transaction has ended, with keys
// that share the store keys' bytes (franz-go only reads a record's key) and
// one clock reading.
func (r *runner) produceChangelogs(ps *partitionState, p int32, at time.Time, produce func(*kgo.Record)) {
	n := 0
	for _, store := range ps.dirty {
		n += len(ps.pending[store])
	}
	if cap(ps.changelog) < n {
		ps.changelog = make([]kgo.Record, 0, n)
	}
	recs := ps.changelog[:0]
	for _, store := range ps.dirty {
		topic := r.changelogs[store]
		for key, v := range ps.pending[store] {
			k := unsafe.Slice(unsafe.StringData(key), len(key))
			if k == nil {
				k = []byte{} // a nil key is a null key, which compacted topics refuse
			}
			recs = append(recs, kgo.Record{Topic: topic, Partition: p, Key: k, Value: v, Timestamp: at})
			produce(&recs[len(recs)-1])
		}
	}
	ps.changelog = recs // released when the transaction has ended
}

// owned returns the partitions this instance holds state for.
func (r *runner) owned() map[int32]*partitionState {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int32]*partitionState, len(r.states))
	for p, ps := range r.states {
		out[p] = ps
	}
	return out
}

// observeLag records, per input partition, how far the consumer is behind
// the end of the partition.
func (r *runner) observeLag(fetches kgo.Fetches) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if n := len(p.Records); n > 0 {
			lag := p.HighWatermark - p.Records[n-1].Offset - 1
			r.metrics.lag.WithLabelValues(p.Topic, strconv.Itoa(int(p.Partition))).Set(float64(lag))
		}
	})
}

// initTopics makes the topology's empty global tables and notes its
// compacted internal topics.
func (r *runner) initTopics() {
	r.globals = map[string]*globalTable{}
	for _, g := range r.topo.Globals {
		r.globals[g] = newGlobalTable()
		r.globalList = append(r.globalList, namedTable{g, r.globals[g]})
	}
	r.compacted = map[string]bool{}
	for _, spec := range r.topo.Internal {
		r.compacted[spec.Name] = spec.Compact
	}
}

// globalSize counts the entries of a global table.
func (r *runner) globalSize(topic string) float64 { return float64(len(r.globals[topic].load().m)) }

// storeSize counts the committed entries of a store over the partitions
// this instance owns.
func (r *runner) storeSize(store string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, ps := range r.states {
		n += ps.entries[store].Load()
	}
	return float64(n)
}

// deadLetter counts a record and wraps it for the DLQ.
func (r *runner) deadLetter(rec *kgo.Record, cause error) *kgo.Record {
	r.metrics.dlq.Inc()
	return DeadLetter(rec, r.cfg.DLQ, r.topo.Application, cause)
}

func (r *runner) state(p int32) *partitionState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[p]
}

// assigned restores the stores of newly assigned partitions from their
// changelogs before any of their records is processed.
func (r *runner) assigned(ctx context.Context, cl *kgo.Client, assigned map[string][]int32) {
	want := map[int32]bool{}
	for _, ps := range assigned {
		for _, p := range ps {
			want[p] = true
		}
	}
	// Always from the changelog, even if state is still here: the session
	// may have swallowed the revoke of an idle instance, and another
	// instance may have owned the partition meanwhile.
	start := time.Now()
	parts := slices.Sorted(maps.Keys(want))
	states, n, err := r.restore(ctx, parts)

	if err != nil {
		// Processing without the state would be wrong and aborting
		// forever would stall every partition: stop, and let the
		// supervisor restart the instance.
		r.log.Error("restore failed", "partitions", parts, "err", err)
		r.mu.Lock()
		for _, p := range parts {
			delete(r.states, p)
		}
		r.fatal = errors.Join(r.fatal, fmt.Errorf("restore: %w", err))
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	maps.Copy(r.states, states)
	r.mu.Unlock()
	r.metrics.restore.Observe(time.Since(start).Seconds())
	r.log.Info("partitions restored", "partitions", parts, "records", n, "took", time.Since(start).Round(time.Millisecond))
}

// revoked forgets the state of partitions this instance no longer owns; the
// open transaction, if any, is aborted by the session.
func (r *runner) revoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ps := range revoked {
		for _, p := range ps {
			delete(r.states, p)
		}
	}
}

// restore reads the changelog partitions of the input partitions parts from
// their start to their end, all at once with one client, and returns the
// state of each.
func (r *runner) restore(ctx context.Context, parts []int32) (map[int32]*partitionState, int, error) {
	states := map[int32]*partitionState{}
	if len(parts) == 0 {
		return states, 0, nil
	}
	offsets := map[string]map[int32]kgo.Offset{}
	for _, store := range r.topo.allStores() {
		offsets[r.topo.ChangelogTopic(store)] = map[int32]kgo.Offset{}
	}
	for _, p := range parts {
		states[p] = newPartitionState(r.topo.Stores)
		for _, o := range offsets {
			o[p] = kgo.NewOffset().AtStart()
		}
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt(nil), r.cfg.Client...),
		kgo.ConsumePartitions(offsets), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers take offsets too, often the last one: seeing
		// them is how the restore knows it reached the end.
		kgo.KeepControlRecords())...)
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, keys(offsets)...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("changelog end offsets: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, keys(offsets)...)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, 0, fmt.Errorf("changelog start offsets: %w", err)
	}
	// The changelog partitions still to read, and the offset they end at.
	remaining := map[topicPartition]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if _, ok := states[o.Partition]; !ok {
			return
		}
		if start, ok := starts.Lookup(o.Topic, o.Partition); ok && start.Offset < o.Offset {
			remaining[topicPartition{o.Topic, o.Partition}] = o.Offset
		}
	})
	byTopic := map[string]string{}
	for _, store := range r.topo.allStores() {
		byTopic[r.topo.ChangelogTopic(store)] = store
	}
	n, left, err := readToEnd(ctx, cl, remaining,
		func(n, left int) { r.log.Info("restoring", "partitions", parts, "records", n, "changelogs_left", left) },
		func(rec *kgo.Record) {
			st := states[rec.Partition].stores[byTopic[rec.Topic]]
			if rec.Value == nil {
				st.Delete(string(rec.Key))
			} else {
				st.Put(string(rec.Key), rec.Value)
			}
		})
	if err != nil {
		return nil, n, err
	}
	if left > 0 {
		r.log.Warn("changelog ended before its end offset (compacted tail)", "changelogs_left", left)
	}
	for _, ps := range states {
		ps.reload()
	}
	r.metrics.restored.Add(float64(n))
	return states, n, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func (r *runner) changelogTopics() map[string]bool {
	out := map[string]bool{}
	for _, s := range r.topo.allStores() {
		out[r.topo.ChangelogTopic(s)] = true
	}
	return out
}

// prepareTopics creates the missing internal topics, checks that the inputs
// exist and are co-partitioned, and creates missing changelog topics with as
// many partitions, compacted.
func (r *runner) prepareTopics(ctx context.Context) (int32, error) {
	cl, err := kgo.NewClient(r.cfg.Client...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// Internal topics first: one that is an input is checked for
	// co-partitioning like the others, so it must exist by then.
	internal := map[string]int32{}
	var create []topicToCreate
	for _, spec := range r.topo.Internal {
		policy := spec.cleanupPolicy()
		configs := map[string]*string{"cleanup.policy": &policy}
		if !spec.Compact {
			retention := spec.Retention
			if retention == 0 {
				retention = defaultRetention
			}
			ms := strconv.FormatInt(retention.Milliseconds(), 10)
			configs["retention.ms"] = &ms
		}
		create = append(create, topicToCreate{name: spec.Name, partitions: spec.Partitions, configs: configs,
			policy: policy, kind: "internal topic", expected: "its spec"})
		internal[spec.Name] = spec.Partitions
	}
	if err := ensureTopics(ctx, cl, create); err != nil {
		return 0, err
	}
	// An internal topic has its spec's partitions now (ensureTopics checked
	// it); one just created may not be in every broker's metadata yet, so
	// only the others are asked for.
	var others []string
	for _, in := range r.topo.Inputs {
		if _, ok := internal[in]; !ok {
			others = append(others, in)
		}
	}
	// Global topics are the catalog's or another application's (a
	// compacted internal topic of the topology that writes them): Run
	// reads them but does not create them.
	for _, g := range r.topo.Globals {
		if _, ok := internal[g]; !ok {
			others = append(others, g)
		}
	}
	var details kadm.TopicDetails
	if len(others) > 0 { // no topics would list them all
		if details, err = adm.ListTopics(ctx, others...); err != nil {
			return 0, fmt.Errorf("stream: describe inputs: %w", err)
		}
	}
	for _, g := range r.topo.Globals {
		if _, ok := internal[g]; ok {
			continue
		}
		if d, ok := details[g]; !ok || d.Err != nil {
			return 0, fmt.Errorf("stream: global topic %s does not exist", g)
		}
	}
	var partitions int32 = -1
	for _, in := range r.topo.Inputs {
		n, ok := internal[in]
		if !ok {
			d, ok := details[in]
			if !ok || d.Err != nil {
				return 0, fmt.Errorf("stream: input topic %s does not exist", in)
			}
			n = int32(len(d.Partitions))
		}
		if partitions >= 0 && n != partitions {
			return 0, fmt.Errorf("stream: inputs are not co-partitioned: %s has %d partitions, %s has %d", r.topo.Inputs[0], partitions, in, n)
		}
		partitions = n
	}
	create = create[:0]
	for _, store := range r.topo.allStores() {
		policy, retention := "compact", "-1"
		for _, s := range r.topo.Stores {
			if s.Name == store && s.Retention > 0 {
				// Windowed: old windows leave by time, not by tombstones.
				policy, retention = "compact,delete", strconv.FormatInt((s.Retention+24*time.Hour).Milliseconds(), 10)
			}
		}
		create = append(create, topicToCreate{name: r.topo.ChangelogTopic(store), partitions: partitions,
			configs: map[string]*string{"cleanup.policy": &policy, "retention.ms": &retention},
			kind:    "changelog", expected: "the inputs"})
	}
	if err := ensureTopics(ctx, cl, create); err != nil {
		return 0, err
	}
	return partitions, nil
}

// topicToCreate is a topic Run makes sure exists before it joins the group:
// a changelog or an internal topic.
type topicToCreate struct {
	name       string
	partitions int32
	configs    map[string]*string // of a topic it creates
	// policy, when set, is the cleanup.policy an existing topic must have.
	policy string
	// kind and expected name the topic and whose partition count it must
	// have, in errors.
	kind, expected string
}

// ensureTopics creates the topics that are missing and checks the partition
// count of every one. Several instances of an application, or two
// applications declaring the same internal topic, may create it at once:
// TOPIC_ALREADY_EXISTS means another one won, and the topic is then checked
// like one that existed.
func ensureTopics(ctx context.Context, cl *kgo.Client, topics []topicToCreate) error {
	if len(topics) == 0 {
		return nil
	}
	adm := kadm.NewClient(cl)
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.name
	}
	existing, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("stream: describe %ss: %w", topics[0].kind, err)
	}
	for _, t := range topics {
		d, ok := existing[t.name]
		if !ok || d.Err != nil {
			resp, err := adm.CreateTopic(ctx, t.partitions, -1, t.configs, t.name)
			if err == nil {
				err = resp.Err
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, kerr.TopicAlreadyExists) {
				return fmt.Errorf("stream: create %s %s: %w", t.kind, t.name, err)
			}
			if d, err = describeCreated(ctx, cl, t.name); err != nil {
				return fmt.Errorf("stream: describe %s %s: %w", t.kind, t.name, err)
			}
		}
		if n := int32(len(d.Partitions)); n != t.partitions {
			return fmt.Errorf("stream: %s %s has %d partitions, %s %d", t.kind, t.name, n, t.expected, t.partitions)
		}
		if t.policy == "" {
			continue
		}
		policy, err := cleanupPolicy(ctx, adm, t.name)
		if err != nil {
			return fmt.Errorf("stream: describe %s %s: %w", t.kind, t.name, err)
		}
		if normalizePolicy(policy) != normalizePolicy(t.policy) {
			return fmt.Errorf("stream: %s %s has cleanup.policy %s, %s %s", t.kind, t.name, policy, t.expected, t.policy)
		}
	}
	return nil
}

// cleanupPolicy returns a topic's cleanup.policy. A topic another client
// has just created may be unknown to the broker answering for a moment, so
// it asks again for a while, as describeCreated does.
func cleanupPolicy(ctx context.Context, adm *kadm.Client, topic string) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		configs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err == nil {
			var rc kadm.ResourceConfig
			if rc, err = configs.On(topic, nil); err == nil {
				err = rc.Err
			}
			if err == nil {
				for _, c := range rc.Configs {
					if c.Key == "cleanup.policy" {
						return c.MaybeValue(), nil
					}
				}
				return "delete", nil // Kafka's default
			}
		}
		if !errors.Is(err, kerr.UnknownTopicOrPartition) || time.Now().After(deadline) {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// normalizePolicy makes equal policies compare equal: "compact,delete" and
// "delete, compact" are one policy.
func normalizePolicy(p string) string {
	parts := strings.Split(strings.Trim(p, "[]"), ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// describeCreated describes a topic that another client has just created.
// franz-go answers metadata requests from a cache (for MetadataMinAge),
// which still holds the topic as unknown, so it is purged first; and until
// the creation reaches the broker answering, the topic may still be unknown
// there, so it asks again for a while.
func describeCreated(ctx context.Context, cl *kgo.Client, topic string) (kadm.TopicDetail, error) {
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cl.PurgeTopicsFromClient(topic)
		details, err := adm.ListTopics(ctx, topic)
		d, ok := details[topic]
		switch {
		case err == nil && ok && d.Err == nil && len(d.Partitions) > 0:
			return d, nil
		case err == nil && ok:
			err = d.Err
		case err == nil:
			err = kerr.UnknownTopicOrPartition
		}
		if time.Now().After(deadline) {
			return kadm.TopicDetail{}, err
		}
		select {
		case <-ctx.Done():
			return kadm.TopicDetail{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
