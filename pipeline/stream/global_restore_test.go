package stream

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
)

// TestStartGlobalsRestoresFirst checks the promise Run makes before it joins
// the group: when startGlobals returns, each table holds its topic up to the
// end offsets, over all partitions, tombstones applied, not whatever the
// background consumer happened to have read; the restore is logged; a fact
// written afterwards arrives by itself; and stop ends the consumer.
func TestStartGlobalsRestoresFirst(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k := stacktest.Broker(t)
	alerts, empty := k.Topic("alerts"), k.Topic("empty")
	k.CreateTopics(ctx, t, 3, alerts)
	k.CreateTopics(ctx, t, 2, empty)
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := map[string]string{}
	var recs []*kgo.Record
	for i := range 20000 {
		key := fmt.Sprintf("sku%04d", i%5000)
		var v []byte
		if i%7 != 0 {
			v = fmt.Appendf(nil, "v%d", i)
			want[key] = string(v)
		} else {
			delete(want, key)
		}
		recs = append(recs, &kgo.Record{Topic: alerts, Key: []byte(key), Value: v})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	topo := Topology{Application: k.Prefix + "app", Globals: []string{alerts, empty}}
	r := &runner{topo: topo, cfg: Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}},
		log: slog.New(slog.NewTextHandler(&logs, nil))}
	r.initTopics()
	r.metrics = newMetrics(nil, topo.Application, nil, nil, topo.Globals, r.globalSize)
	stop, err := r.startGlobals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range r.globals[alerts].load().m {
		got[k] = string(v)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("after startGlobals the table has %d keys, want %d", len(got), len(want))
	}
	if n := len(r.globals[empty].load().m); n != 0 {
		t.Fatalf("empty topic: %d keys", n)
	}
	if !strings.Contains(logs.String(), "global tables restored") || !strings.Contains(logs.String(), "records=20000") {
		t.Fatalf("restore not logged:\n%s", logs.String())
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: empty, Key: []byte("late"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for {
		if v, ok := r.globals[empty].load().m["late"]; ok && string(v) == "v" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("a fact written after the restore never arrived")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
}

// syncBuffer is a log destination safe for the consumer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
