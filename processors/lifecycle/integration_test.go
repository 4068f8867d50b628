package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// expected is what the processor must make of one order of the broker test.
type expected struct {
	shippable, cancel int
	final             schemas.OrderStatus
	label             LabelState
}

// brokerHistory builds the orders of the broker test: six kinds of order,
// each in its own order with its label commands, some with their first two
// events swapped (the later one arrives first, making the earlier stale)
// and any record repeated. It returns the records in produce order, what
// each order must give, and how many records are stale.
func brokerHistory(n int, rng *rand.Rand) ([]*kgo.Record, map[string]expected, int) {
	type step struct {
		status schemas.OrderStatus
		buy    bool // a BUY follows, issued a second after
	}
	kinds := []struct {
		steps          []step
		plain, swapped expected
	}{
		// Shipped and completed: offered, the label kept.
		{[]step{{unpaid, false}, {awaitingShipment, true}, {inTransit, false}, {delivered, false}, {completed, false}},
			expected{1, 0, completed, LabelRequested}, expected{1, 0, completed, LabelRequested}},
		// Cancelled after its BUY, before shipping.
		{[]step{{unpaid, false}, {onHold, false}, {awaitingShipment, true}, {cancelled, false}},
			expected{1, 1, cancelled, LabelCancelRequested}, expected{1, 1, cancelled, LabelCancelRequested}},
		// Cancelled unpaid: nothing to do.
		{[]step{{unpaid, false}, {onHold, false}, {cancelled, false}},
			expected{0, 0, cancelled, LabelNone}, expected{0, 0, cancelled, LabelNone}},
		// Cancelled, then a BUY issued after the cancellation. Swapped,
		// the order is never seen shippable, and the BUY still cancelled.
		{[]step{{awaitingShipment, false}, {cancelled, true}},
			expected{1, 1, cancelled, LabelCancelRequested}, expected{0, 1, cancelled, LabelCancelRequested}},
		// Cancelled in transit (a failed delivery): the label is used.
		{[]step{{awaitingShipment, true}, {inTransit, false}, {cancelled, false}},
			expected{1, 0, cancelled, LabelRequested}, expected{0, 0, cancelled, LabelRequested}},
		// Cancelled while waiting for collection: the label is voided.
		{[]step{{awaitingShipment, true}, {awaitingCollection, false}, {cancelled, false}},
			expected{1, 1, cancelled, LabelCancelRequested}, expected{0, 1, cancelled, LabelCancelRequested}},
	}
	var recs []*kgo.Record
	want := map[string]expected{}
	stale := 0
	for i := range n {
		id := fmt.Sprint(578000000 + i)
		kind := kinds[i%len(kinds)]
		var events, own []*kgo.Record
		for j, s := range kind.steps {
			at := t0.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Minute)
			ev := orderRecord(id, s.status, at, fmt.Sprint("buyer-", i%40))
			events = append(events, ev)
			own = append(own, ev)
			if s.buy {
				own = append(own, labelRecord(id, "buy-"+id, schemas.LabelBuy, at.Add(time.Second)))
			}
		}
		want[id] = kind.plain
		if rng.IntN(3) == 0 {
			a, b := slices.Index(own, events[0]), slices.Index(own, events[1])
			own[a], own[b] = own[b], own[a]
			want[id] = kind.swapped
			stale++
		}
		for _, r := range own {
			recs = append(recs, r)
			if rng.IntN(5) == 0 { // redelivered
				recs = append(recs, r)
			}
		}
	}
	return recs, want, stale
}

// TestLifecycleOnBroker runs the processor on the broker, stopped and
// restarted at random moments, over orders with out-of-order and repeated
// updates and BUY commands: exactly one shippable record for every order
// seen shippable, exactly one CANCEL for every order cancelled before it
// shipped that had a BUY (the same CANCEL a Driver replay gives), the
// stale updates in the DLQ, and every order's last state as expected.
func TestLifecycleOnBroker(t *testing.T) {
	t.Parallel()
	k := stacktest.Broker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	orders, labels, dlq := k.Topic(schemas.TopicOrders), k.Topic(schemas.TopicLabelActions), k.Topic("dlq")
	k.CreateTopics(ctx, t, 12, orders, labels, dlq)
	app := k.Prefix + "lifecycle"
	shippableTopic := stream.TopicSpec{Name: k.Topic("priority-shippable"), Partitions: 12}

	rng := rand.New(rand.NewPCG(5, 6))
	recs, want, stale := brokerHistory(1200, rng)
	recs = append(recs, &kgo.Record{Topic: schemas.TopicOrders, Key: []byte("junk"), Value: []byte(`{"order_id":`), Timestamp: t0})
	// The Driver's replay of the same records, for the CANCELs.
	d, _ := newDriver(t, 12)
	replayed := cancels(t, pipe(t, d, recs...))

	reg := prometheus.NewRegistry()
	topo, err := Topology(Config{Application: app, Orders: orders, LabelActions: labels, Shippable: shippableTopic, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.Config{Client: []kgo.Opt{kgo.SeedBrokers(k.Brokers...)}, Instance: "l", DLQ: dlq,
		MaxPollRecords: 100, CommitInterval: -1}
	consumed := func() bool {
		return k.ConsumedTransactional(ctx, t, app, orders) && k.ConsumedTransactional(ctx, t, app, labels)
	}
	// Each half is produced in one transaction: both inputs then end with
	// a commit marker, as the processor's CANCELs leave actions.label.v1.
	// The first half is processed before the second is there, so the
	// second starts from state restored from the changelog; the processor
	// is stopped and restarted at random moments meanwhile.
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers...), kgo.TransactionalID(app+"-test-producer"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	runs := 0
	for _, half := range [][]*kgo.Record{recs[:len(recs)/2], recs[len(recs)/2:]} {
		produce := make([]*kgo.Record, len(half))
		for i, r := range half {
			out := *r
			out.Topic = map[string]string{schemas.TopicOrders: orders, schemas.TopicLabelActions: labels}[r.Topic]
			produce[i] = &out
		}
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, produce...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
		for ; !consumed(); runs++ {
			if ctx.Err() != nil {
				t.Fatal("did not finish")
			}
			runCtx, stop := context.WithTimeout(ctx, time.Duration(100+rng.IntN(400))*time.Millisecond)
			// Stopped while it sets up, Run reports the deadline.
			if err := stream.Run(runCtx, topo, cfg); err != nil && runCtx.Err() == nil {
				t.Fatalf("run: %v", err)
			}
			stop()
		}
	}
	t.Logf("%d runs", runs)

	gotShippable := map[string]int{}
	for _, r := range k.ReadCommitted(ctx, t, shippableTopic.Name) {
		var ev schemas.OrderEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != ev.BuyerID || !shippable(ev.Status) {
			t.Fatalf("shippable record keyed %q: %+v", r.Key, ev)
		}
		gotShippable[ev.OrderID]++
	}
	gotCancels := map[string]int{}
	var cancelled []schemas.LabelCommand
	for _, r := range k.ReadCommitted(ctx, t, labels) {
		var c schemas.LabelCommand
		if err := json.Unmarshal(r.Value, &c); err == nil && c.Action == schemas.LabelCancel {
			gotCancels[c.OrderID]++
			cancelled = append(cancelled, c)
		}
	}
	last := map[string]OrderState{}
	for _, r := range k.ReadCommitted(ctx, t, StateTopic(app).Name) {
		var s OrderState
		if err := json.Unmarshal(r.Value, &s); err != nil {
			t.Fatalf("state record %q %q %v (offset %d partition %d): %v", r.Key, r.Value, r.Headers, r.Offset, r.Partition, err)
		}
		if prev, ok := last[s.OrderID]; ok && !s.Newer(prev) {
			t.Fatalf("order %s: state %+v after %+v", s.OrderID, s, prev)
		}
		last[s.OrderID] = s
	}
	for id, w := range want {
		if gotShippable[id] != w.shippable || gotCancels[id] != w.cancel {
			t.Errorf("order %s: %d shippable records and %d CANCELs, want %d and %d", id, gotShippable[id], gotCancels[id], w.shippable, w.cancel)
		}
		if s := last[id]; s.Status != w.final || s.LabelState != w.label {
			t.Errorf("order %s: last state %s with label %s, want %s with %s", id, s.Status, s.LabelState, w.final, w.label)
		}
	}
	key := func(c schemas.LabelCommand) string { return c.CommandID + "/" + c.OrderID + "/" + c.IssuedAt.String() }
	got, wantIDs := []string{}, []string{}
	for _, c := range cancelled {
		got = append(got, key(c))
	}
	for _, c := range replayed {
		wantIDs = append(wantIDs, key(c))
	}
	slices.Sort(got)
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) {
		t.Errorf("the broker's %d CANCELs differ from the Driver replay's %d", len(got), len(wantIDs))
	}

	dead := k.ReadCommitted(ctx, t, dlq)
	reasons := map[string]int{}
	for _, r := range dead {
		reason, _, _ := strings.Cut(header(r, stream.HeaderDLQError), ":")
		reasons[reason]++
	}
	if reasons[ReasonStale] < stale || reasons[ReasonInvalid] != 1 || len(reasons) != 2 {
		t.Errorf("DLQ reasons %v, want at least %d stale (plus their redeliveries) and the one invalid record", reasons, stale)
	}
	if n := metric(t, reg, "creatorflow_lifecycle_ignored_total", "cancel_command"); n < float64(len(cancelled)) {
		t.Errorf("%v CANCELs read back and ignored, want at least the %d written", n, len(cancelled))
	}
}
