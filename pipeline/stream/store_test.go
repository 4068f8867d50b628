package stream

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestPartitionStateTransactions(t *testing.T) {
	ps := newPartitionState([]StoreSpec{{Name: "s"}})
	ps.put("s", "a", []byte("1"))
	ps.commit()
	ps.put("s", "a", []byte("2"))
	ps.put("s", "b", []byte("3"))
	if v, _ := ps.get("s", "a"); string(v) != "2" {
		t.Fatalf("pending write not visible: %q", v)
	}
	ps.abort()
	if v, _ := ps.get("s", "a"); string(v) != "1" {
		t.Fatalf("abort kept a write: %q", v)
	}
	if _, ok := ps.get("s", "b"); ok {
		t.Fatal("abort kept a new key")
	}
	ps.put("s", "a", nil)
	if keys := ps.keys("s", ""); len(keys) != 0 {
		t.Fatalf("pending delete not visible in keys: %v", keys)
	}
	ps.commit()
	if ps.stores["s"].Len() != 0 {
		t.Fatal("delete not applied on commit")
	}
}

func TestWindowRetention(t *testing.T) {
	ps := newPartitionState([]StoreSpec{{Name: "w", Retention: time.Hour}, {Name: "plain"}})
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	for h := range 5 {
		ps.put("w", WindowKey(base.Add(time.Duration(h)*time.Hour), "k"), []byte{1})
	}
	ps.put("plain", "k", []byte{1})
	ps.stream = base.Add(4*time.Hour + 30*time.Minute).UnixNano()
	ps.commit() // expiry follows the commit, on committed state
	if len(ps.dirty) != 0 {
		t.Fatal("expiry wrote to the next transaction: windowed changelogs expire by retention, not tombstones")
	}
	if got := ps.keys("w", ""); len(got) != 1 { // only the window starting at 4h is within an hour of 4h30
		t.Fatalf("after expiry: %v", got)
	}
	if _, ok := ps.get("plain", "k"); !ok {
		t.Fatal("a store without retention lost an entry")
	}
}

// TestWindowStore checks the per-window store against the plain one: the
// same operations give the same contents, and expiry drops exactly the keys
// before the cutoff, stray (non-window) keys included.
func TestWindowStore(t *testing.T) {
	base := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	w, m := newWindowStore(), memStore{}
	var all []string
	for h := range 4 {
		for _, k := range []string{"a", "b", "\xff"} {
			all = append(all, WindowKey(base.Add(time.Duration(h)*time.Hour), k))
		}
	}
	all = append(all, "stray", "0")
	for i, k := range all {
		for _, st := range []Store{w, m} {
			st.Put(k, []byte{byte(i)})
		}
	}
	for _, st := range []Store{w, m} {
		st.Delete(all[0])
		st.Delete("missing")
	}
	same := func(when string) {
		t.Helper()
		if w.Len() != m.Len() {
			t.Fatalf("%s: %d entries, want %d", when, w.Len(), m.Len())
		}
		n := 0
		w.Range(func(k string) bool {
			n++
			if v, ok := m.Get(k); !ok || string(v) != string(w.windows[windowOf(k)][k]) {
				t.Fatalf("%s: %q differs", when, k)
			}
			return true
		})
		if n != m.Len() {
			t.Fatalf("%s: range saw %d keys, want %d", when, n, m.Len())
		}
	}
	same("after writes")
	cutoff := WindowKey(base.Add(2*time.Hour), "")
	w.expireBefore(cutoff)
	for k := range m {
		if k < cutoff {
			m.Delete(k)
		}
	}
	same("after expiry")
	if _, ok := w.Get("stray"); !ok || w.Len() != 7 { // windows 2h and 3h (6 keys) and "stray"
		t.Fatalf("after expiry: %d entries, stray kept %v", w.Len(), ok)
	}
}

// TestChangelogKeys checks that changelog records carry their store keys,
// and that an empty key stays an empty key: a nil one would be a null key,
// which a compacted topic refuses (Kafka) or drops at compaction (kfake).
func TestChangelogKeys(t *testing.T) {
	r := &runner{changelogs: map[string]string{"s": "app-s-changelog"}}
	ps := newPartitionState([]StoreSpec{{Name: "s"}})
	ps.put("s", "", []byte("empty"))
	ps.put("s", "k", []byte("v"))
	got := map[string]string{}
	r.produceChangelogs(ps, 3, time.Now(), func(rec *kgo.Record) {
		if rec.Key == nil || rec.Topic != "app-s-changelog" || rec.Partition != 3 {
			t.Fatalf("changelog record %+v", rec)
		}
		got[string(rec.Key)] = string(rec.Value)
	})
	if len(got) != 2 || got[""] != "empty" || got["k"] != "v" {
		t.Fatalf("changelog %v", got)
	}
}
