package stream

import (
	"container/heap"
	"encoding/binary"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// StoreSpec declares a state store of a topology. Every store is a
// key-value map per input partition, kept in memory and backed by a
// compacted changelog topic <application>-<name>-changelog, written in the
// same transaction as the outputs and offsets and read back on assignment.
type StoreSpec struct {
	Name string
	// Retention, when set, makes the store windowed: keys are WindowKeys,
	// and an entry is dropped once stream time has passed its window's
	// start by more than Retention, which must therefore be at least the
	// window size plus grace.
	Retention time.Duration
}

// Store is the committed contents of one store for one partition. The
// runtime keeps the open transaction's writes on top and applies them on
// commit, so an implementation needs no transactions of its own: the
// in-memory map is the one there is; a disk-backed one (for state larger
// than memory) implements the same methods.
type Store interface {
	Get(key string) ([]byte, bool)
	Put(key string, value []byte)
	Delete(key string)
	// Range calls fn for every key, in any order, until fn returns false.
	Range(fn func(key string) bool)
	Len() int
}

// memStore is the in-memory Store.
type memStore map[string][]byte

func (m memStore) Get(key string) ([]byte, bool) { v, ok := m[key]; return v, ok }
func (m memStore) Put(key string, value []byte)  { m[key] = value }
func (m memStore) Delete(key string)             { delete(m, key) }
func (m memStore) Len() int                      { return len(m) }
func (m memStore) Range(fn func(key string) bool) {
	for k := range m {
		if !fn(k) {
			return
		}
	}
}

// windowStore is the in-memory Store of a windowed store: a map per
// window, so that expiring a window drops its map instead of deleting its
// keys one by one (which also left the single map of all windows full of
// deleted slots to rehash). Keys that are not WindowKeys share a map that
// expiry never drops.
type windowStore struct {
	windows map[string]memStore // window part of the key -> its entries
	// hint is the size of the largest window held: a new window's map
	// starts that large instead of growing (and rehashing) to it. Expiry
	// recomputes it, so one burst does not size every later window.
	hint int
}

func newWindowStore() *windowStore { return &windowStore{windows: map[string]memStore{}} }

func windowOf(key string) string {
	if len(key) >= windowPrefix && key[windowPrefix-1] == '|' {
		return key[:windowPrefix]
	}
	return ""
}

func (w *windowStore) Get(key string) ([]byte, bool) { return w.windows[windowOf(key)].Get(key) }
func (w *windowStore) Put(key string, value []byte) {
	win := windowOf(key)
	m := w.windows[win]
	if m == nil {
		m = make(memStore, w.hint)
		w.windows[win] = m
	}
	m[key] = value
	if len(m) > w.hint {
		w.hint = len(m)
	}
}
func (w *windowStore) Delete(key string) {
	win := windowOf(key)
	if m := w.windows[win]; m != nil {
		delete(m, key)
		if len(m) == 0 {
			delete(w.windows, win)
		}
	}
}
func (w *windowStore) Len() int {
	n := 0
	for _, m := range w.windows {
		n += len(m)
	}
	return n
}
func (w *windowStore) Range(fn func(key string) bool) {
	for _, m := range w.windows {
		for k := range m {
			if !fn(k) {
				return
			}
		}
	}
}

// expireBefore drops the entries whose keys sort before cutoff, the
// WindowKey of a window start with an empty key: whole windows, since every
// key of a window that starts earlier sorts before it.
func (w *windowStore) expireBefore(cutoff string) {
	w.hint = 0
	for win, m := range w.windows {
		switch {
		case win == "": // stray keys, one by one
			for k := range m {
				if k < cutoff {
					delete(m, k)
				}
			}
		case win < cutoff:
			delete(w.windows, win)
		default:
			w.hint = max(w.hint, len(m))
		}
	}
}

// partitionState is everything the runtime keeps for one input partition:
// the committed stores, and the writes of the open transaction on top.
type partitionState struct {
	stores  map[string]Store
	timers  *timerQueue
	stream  int64                        // stream time, Unix nanoseconds; the largest event time seen
	pending map[string]map[string][]byte // store -> key -> value (nil: delete)
	dirty   []string                     // stores with pending writes, in first-write order
	expired map[string]int64             // windowed store -> stream time of its last expiry
	specs   []StoreSpec
	// changelog holds the open transaction's changelog records, reused by
	// the next one: franz-go is done with them once a transaction ended.
	changelog []kgo.Record
	// entries counts each store's committed entries for the metrics, which
	// are read by the scrape while the processing goroutine writes the
	// stores: counted after each commit, read atomically.
	entries map[string]*atomic.Int64
}

func newPartitionState(specs []StoreSpec) *partitionState {
	ps := &partitionState{stores: map[string]Store{}, timers: &timerQueue{}, expired: map[string]int64{}, specs: specs,
		entries: map[string]*atomic.Int64{}}
	for _, s := range specs {
		if s.Retention > 0 {
			ps.stores[s.Name] = newWindowStore()
		} else {
			ps.stores[s.Name] = memStore{}
		}
	}
	ps.stores[timersStore] = memStore{}
	ps.stores[metaStore] = memStore{}
	for name := range ps.stores {
		ps.entries[name] = new(atomic.Int64)
	}
	return ps
}

// Internal stores: timers and the stream time, changelogged like the others
// so a restored partition resumes with the same clock and timers.
const (
	timersStore = "__timers"
	metaStore   = "__meta"
	streamKey   = "stream-time"
)

func (ps *partitionState) get(store, key string) ([]byte, bool) {
	if w, ok := ps.pending[store][key]; ok {
		return w, w != nil
	}
	return ps.stores[store].Get(key)
}

// put records a write of the open transaction; value nil deletes.
func (ps *partitionState) put(store, key string, value []byte) {
	if ps.pending == nil {
		ps.pending = map[string]map[string][]byte{}
	}
	m := ps.pending[store]
	if m == nil {
		m = map[string][]byte{}
		ps.pending[store] = m
	}
	if len(m) == 0 {
		ps.dirty = append(ps.dirty, store)
	}
	m[key] = value
}

// commit applies the open transaction's writes.
func (ps *partitionState) commit() {
	ps.apply()
	ps.count()
}

// apply is commit without refreshing the entry counts of the metrics,
// which the Driver, committing after every record, has none of.
func (ps *partitionState) apply() {
	for store, writes := range ps.pending {
		st := ps.stores[store]
		for k, v := range writes {
			if v == nil {
				st.Delete(k)
			} else {
				st.Put(k, v)
			}
		}
		clear(writes) // reused by the next transaction
	}
	ps.dirty = ps.dirty[:0]
	ps.releaseChangelog()
	ps.expire()
}

// releaseChangelog lets go of the ended transaction's changelog records,
// whose keys and values would otherwise stay reachable until the slab is
// reused; a slab much larger than needed goes too.
func (ps *partitionState) releaseChangelog() {
	used := len(ps.changelog)
	clear(ps.changelog[:cap(ps.changelog)])
	ps.changelog = ps.changelog[:0]
	if cap(ps.changelog) > 4*max(used, 1024) {
		ps.changelog = nil
	}
}

// count refreshes the entry counts of the stores.
func (ps *partitionState) count() {
	for name, st := range ps.stores {
		ps.entries[name].Store(int64(st.Len()))
	}
}

// abort drops the open transaction's writes, and rebuilds what was derived
// from them: the stream time and the timer queue.
func (ps *partitionState) abort() {
	for _, writes := range ps.pending {
		clear(writes)
	}
	ps.dirty = ps.dirty[:0]
	ps.releaseChangelog()
	ps.reload()
}

// reload derives the stream time and the timer queue from the committed
// stores, after a restore or an abort.
func (ps *partitionState) reload() {
	ps.stream = 0
	if v, ok := ps.stores[metaStore].Get(streamKey); ok && len(v) == 8 {
		ps.stream = int64(binary.BigEndian.Uint64(v))
	}
	ps.timers = &timerQueue{}
	timers := ps.stores[timersStore]
	timers.Range(func(k string) bool {
		if v, _ := timers.Get(k); len(v) == 8 {
			heap.Push(ps.timers, timerEntry{id: k, at: int64(binary.BigEndian.Uint64(v))})
		}
		return true
	})
	ps.expired = map[string]int64{}
	ps.expire()
	ps.count()
}

// saveStreamTime writes the stream time into the open transaction if it
// moved, so it is committed (and changelogged) with what moved it.
func (ps *partitionState) saveStreamTime() {
	if v, ok := ps.get(metaStore, streamKey); ok && len(v) == 8 && int64(binary.BigEndian.Uint64(v)) == ps.stream {
		return
	}
	if ps.stream != 0 {
		ps.put(metaStore, streamKey, binary.BigEndian.AppendUint64(nil, uint64(ps.stream)))
	}
}

// keys returns the sorted keys of a store with a prefix, pending writes
// included: iteration order is part of what makes a replay identical.
func (ps *partitionState) keys(store, prefix string) []string {
	seen := map[string]bool{}
	var out []string
	ps.stores[store].Range(func(k string) bool {
		if strings.HasPrefix(k, prefix) {
			seen[k] = true
		}
		return true
	})
	for k, v := range ps.pending[store] {
		if strings.HasPrefix(k, prefix) {
			seen[k] = v != nil
		}
	}
	for k, live := range seen {
		if live {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// timerQueue orders timers by due time, then id, so timers due at the same
// moment fire in the same order on every replay. Entries are removed
// lazily: a popped entry counts only if the timers store still holds it.
type timerQueue []timerEntry

type timerEntry struct {
	id string
	at int64
}

func (q timerQueue) Len() int { return len(q) }
func (q timerQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].id < q[j].id
}
func (q timerQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *timerQueue) Push(x any)   { *q = append(*q, x.(timerEntry)) }
func (q *timerQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// expire drops the committed entries of windowed stores whose window
// started more than the store's retention before the committed stream time.
// It writes no tombstones: the changelogs of windowed stores are
// compact,delete topics whose own retention removes the old entries, and a
// restore runs expire on what it read. Running on committed state only, it
// can never remove an entry that an aborted transaction's rollback would
// need. It runs at most once per quarter of a store's retention of stream
// time.
func (ps *partitionState) expire() {
	for _, s := range ps.specs {
		if s.Retention <= 0 || ps.stream-ps.expired[s.Name] < int64(s.Retention/4) {
			continue
		}
		ps.expired[s.Name] = ps.stream
		// A store with a retention is a windowStore (newPartitionState).
		ps.stores[s.Name].(*windowStore).expireBefore(WindowKey(time.Unix(0, ps.stream-s.Retention.Nanoseconds()), ""))
	}
}
