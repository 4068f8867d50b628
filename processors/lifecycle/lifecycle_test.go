package lifecycle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	testApp       = "test-lifecycle"
	testShippable = "test-priority-shippable"
)

var testStateTopic = StateTopic(testApp).Name

func testConfig(reg prometheus.Registerer) Config {
	return Config{Application: testApp, Orders: schemas.TopicOrders, LabelActions: schemas.TopicLabelActions,
		Shippable: stream.TopicSpec{Name: testShippable, Partitions: 12}, Registerer: reg}
}

// newDriver returns a Driver of the processor with the topics' 12
// partitions, and the registry of its metrics.
func newDriver(t testing.TB, partitions int32) (*stream.Driver, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	topo, err := Topology(testConfig(reg))
	if err != nil {
		t.Fatal(err)
	}
	d, err := stream.NewDriver(topo, stream.DriverConfig{Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	return d, reg
}

// orderRecord is an orders.v1 record as enrichment writes it.
func orderRecord(id string, status schemas.OrderStatus, at time.Time, buyer string) *kgo.Record {
	ev := schemas.OrderEvent{OrderID: id, ShopID: "shop-1", Status: status, BuyerID: buyer,
		CreateTime: t0.Add(-time.Hour), UpdateTime: at, ShippingDueTime: t0.Add(72 * time.Hour),
		LineItems:        []schemas.LineItem{{ID: id + "-1", SKUID: "sku-1", Quantity: 1, SalePrice: 1999, Currency: "USD"}},
		RecipientAddress: schemas.RecipientAddress{Name: "A", PostalCode: "94107", RegionCode: "US", AddressDetail: "1 Main St"}}
	value, _ := json.Marshal(ev)
	env := schemas.Envelope{ID: schemas.EventID(at, schemas.TopicOrders, id, string(status)), Type: "order.event",
		SchemaVersion: 1, Source: "creatorflow/enrichment", Time: at, IngestTime: at}
	return &kgo.Record{Topic: schemas.TopicOrders, Key: []byte(id), Value: value, Headers: env.Headers(), Timestamp: at}
}

// labelRecord is an actions.label.v1 command.
func labelRecord(order, command string, action schemas.LabelAction, at time.Time) *kgo.Record {
	cmd := schemas.LabelCommand{CommandID: command, OrderID: order, Action: action, Priority: schemas.PriorityStandard,
		Options: []schemas.CarrierOption{{Carrier: "usps", Service: "ground_advantage", Rate: 550, Currency: "USD", EstimatedDays: 3}}, IssuedAt: at}
	value, _ := json.Marshal(cmd)
	env := schemas.Envelope{ID: schemas.EventID(at, "label", command), Type: "action.label", SchemaVersion: 1,
		Source: "creatorflow/carrier", Time: at, IngestTime: at}
	return &kgo.Record{Topic: schemas.TopicLabelActions, Key: []byte(order), Value: value, Headers: env.Headers(), Timestamp: at}
}

// pipe pipes records and returns everything they emitted.
func pipe(t testing.TB, d *stream.Driver, recs ...*kgo.Record) []*kgo.Record {
	t.Helper()
	var all []*kgo.Record
	for _, r := range recs {
		out, err := d.Pipe(r)
		if err != nil {
			t.Fatalf("pipe: %v", err)
		}
		all = append(all, out...)
	}
	return all
}

func only(recs []*kgo.Record, topic string) []*kgo.Record {
	var out []*kgo.Record
	for _, r := range recs {
		if r.Topic == topic {
			out = append(out, r)
		}
	}
	return out
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func states(t testing.TB, recs []*kgo.Record) []OrderState {
	t.Helper()
	var out []OrderState
	for _, r := range only(recs, testStateTopic) {
		if r.Value == nil {
			continue
		}
		var s OrderState
		if err := json.Unmarshal(r.Value, &s); err != nil {
			t.Fatal(err)
		}
		if string(r.Key) != s.OrderID {
			t.Fatalf("state of %s keyed %q", s.OrderID, r.Key)
		}
		out = append(out, s)
	}
	return out
}

func cancels(t testing.TB, recs []*kgo.Record) []schemas.LabelCommand {
	t.Helper()
	var out []schemas.LabelCommand
	for _, r := range only(recs, schemas.TopicLabelActions) {
		var c schemas.LabelCommand
		if err := json.Unmarshal(r.Value, &c); err != nil {
			t.Fatal(err)
		}
		if c.Action != schemas.LabelCancel || string(r.Key) != c.OrderID || header(r, schemas.HeaderID) != c.CommandID {
			t.Fatalf("label command %+v (key %q, ce_id %s): want a CANCEL keyed by its order with its id as ce_id", c, r.Key, header(r, schemas.HeaderID))
		}
		out = append(out, c)
	}
	return out
}

// metric reads a counter of reg by name and label values (in label order).
func metric(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestTransitionsTable pipes every pair of statuses: the second is accepted
// exactly when the table has it (or keeps the status), and is otherwise
// rejected to the DLQ as an illegal transition naming both statuses.
func TestTransitionsTable(t *testing.T) {
	// What the table must say, written out again by hand: a change to
	// Transitions changes this list, and docs/lifecycle.md with it.
	want := map[string]bool{
		"UNPAID>ON_HOLD": true, "UNPAID>AWAITING_SHIPMENT": true, "UNPAID>CANCELLED": true,
		"ON_HOLD>AWAITING_SHIPMENT": true, "ON_HOLD>CANCELLED": true,
		"AWAITING_SHIPMENT>PARTIALLY_SHIPPING": true, "AWAITING_SHIPMENT>AWAITING_COLLECTION": true,
		"AWAITING_SHIPMENT>IN_TRANSIT": true, "AWAITING_SHIPMENT>CANCELLED": true,
		"PARTIALLY_SHIPPING>AWAITING_COLLECTION": true, "PARTIALLY_SHIPPING>IN_TRANSIT": true, "PARTIALLY_SHIPPING>CANCELLED": true,
		"AWAITING_COLLECTION>IN_TRANSIT": true, "AWAITING_COLLECTION>CANCELLED": true,
		"IN_TRANSIT>DELIVERED": true, "IN_TRANSIT>CANCELLED": true,
		"DELIVERED>COMPLETED": true,
	}
	if len(Transitions) != len(Statuses) {
		t.Fatalf("the table has rows for %d statuses, want all %d", len(Transitions), len(Statuses))
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			t.Run(string(from)+">"+string(to), func(t *testing.T) {
				legal := from == to || want[string(from)+">"+string(to)]
				if Legal(from, to) != legal {
					t.Fatalf("Legal = %v, want %v", !legal, legal)
				}
				if legal && from != to && slices.Index(Statuses, to) < slices.Index(Statuses, from) {
					t.Fatal("a legal transition goes backwards in the flow")
				}
				d, reg := newDriver(t, 12)
				pipe(t, d, orderRecord("o1", from, t0, "b1"))
				out := pipe(t, d, orderRecord("o1", to, t0.Add(time.Minute), "b1"))
				dead, st := only(out, "dlq.v1"), states(t, out)
				if legal {
					if len(dead) != 0 || len(st) != 1 || st[0].Status != to || st[0].Version != 2 {
						t.Fatalf("accepted transition emitted states %+v and dead letters %d", st, len(dead))
					}
					wantPrev := from
					if from == to {
						wantPrev = "" // the first event had none, an update keeping the status keeps it
					}
					if st[0].PreviousStatus != wantPrev {
						t.Fatalf("previous status %q, want %q", st[0].PreviousStatus, wantPrev)
					}
					if got := metric(t, reg, "creatorflow_lifecycle_transitions_total", string(from), string(to)); got != 1 {
						t.Fatalf("transitions{%s,%s} = %v, want 1", from, to, got)
					}
					return
				}
				if len(dead) != 1 || len(out) != 1 {
					t.Fatalf("illegal transition emitted %d records, %d dead letters; want only the dead letter", len(out), len(dead))
				}
				reason := header(dead[0], stream.HeaderDLQError)
				if !strings.HasPrefix(reason, ReasonIllegal+": ") || !strings.Contains(reason, string(from)+" -> "+string(to)) {
					t.Fatalf("DLQ reason %q, want the illegal transition %s -> %s", reason, from, to)
				}
				if got := metric(t, reg, "creatorflow_lifecycle_rejected_total", ReasonIllegal); got != 1 {
					t.Fatalf("rejected{illegal_transition} = %v, want 1", got)
				}
			})
		}
	}
	for _, s := range []schemas.OrderStatus{completed, cancelled} {
		if !Final(s) {
			t.Errorf("%s is not final", s)
		}
	}
	// Every status leads to an end.
	for _, s := range Statuses {
		seen, queue := map[schemas.OrderStatus]bool{s: true}, []schemas.OrderStatus{s}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, next := range Transitions[cur] {
				if !seen[next] {
					seen[next] = true
					queue = append(queue, next)
				}
			}
		}
		if !seen[completed] && !seen[cancelled] {
			t.Errorf("%s reaches neither COMPLETED nor CANCELLED", s)
		}
	}
}

// TestFirstEventAnyStatus: an order may be first seen in any status.
func TestFirstEventAnyStatus(t *testing.T) {
	d, reg := newDriver(t, 12)
	for i, s := range Statuses {
		out := pipe(t, d, orderRecord(fmt.Sprint("o", i), s, t0, "b1"))
		st := states(t, out)
		if len(only(out, "dlq.v1")) != 0 || len(st) != 1 || st[0].Status != s || st[0].PreviousStatus != "" || st[0].Version != 1 ||
			st[0].LabelState != LabelNone {
			t.Fatalf("first event %s: states %+v", s, st)
		}
		if got := metric(t, reg, "creatorflow_lifecycle_transitions_total", "NONE", string(s)); got != 1 {
			t.Fatalf("transitions{NONE,%s} = %v", s, got)
		}
	}
}

// TestStaleAndDuplicate: an update older than the order's current one goes
// to the DLQ as stale; the same status and time again is ignored and
// counted; an update keeping the status with a newer time is accepted; one
// with the same time and a new status is not stale.
func TestStaleAndDuplicate(t *testing.T) {
	d, reg := newDriver(t, 12)
	pipe(t, d, orderRecord("o1", awaitingShipment, t0.Add(2*time.Minute), "b1"))

	out := pipe(t, d, orderRecord("o1", unpaid, t0.Add(time.Minute), "b1"))
	if len(out) != 1 || out[0].Topic != "dlq.v1" {
		t.Fatalf("stale update emitted %d records, want one dead letter", len(out))
	}
	if reason := header(out[0], stream.HeaderDLQError); !strings.HasPrefix(reason, ReasonStale+": ") ||
		!strings.Contains(reason, "older than its current AWAITING_SHIPMENT") {
		t.Fatalf("DLQ reason %q", reason)
	}
	// Even a legal status, if older: CANCELLED from AWAITING_SHIPMENT is
	// legal, but not before the order's current update.
	out = pipe(t, d, orderRecord("o1", cancelled, t0.Add(time.Minute), "b1"))
	if len(out) != 1 || !strings.HasPrefix(header(out[0], stream.HeaderDLQError), ReasonStale) {
		t.Fatalf("older cancellation: %d records", len(out))
	}

	for range 3 {
		if out := pipe(t, d, orderRecord("o1", awaitingShipment, t0.Add(2*time.Minute), "b1")); len(out) != 0 {
			t.Fatalf("exact repeat emitted %d records", len(out))
		}
	}
	if got := metric(t, reg, "creatorflow_lifecycle_ignored_total", "duplicate"); got != 3 {
		t.Fatalf("ignored{duplicate} = %v, want 3", got)
	}
	if got := metric(t, reg, "creatorflow_lifecycle_rejected_total", ReasonStale); got != 2 {
		t.Fatalf("rejected{stale} = %v, want 2", got)
	}

	// The same status, later: the details changed. No second shippable.
	out = pipe(t, d, orderRecord("o1", awaitingShipment, t0.Add(3*time.Minute), "b1"))
	if st := states(t, out); len(out) != 1 || len(st) != 1 || st[0].Version != 2 || !st[0].UpdateTime.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("refresh: %d records, states %+v", len(out), st)
	}
	// A new status at the same time is not stale.
	out = pipe(t, d, orderRecord("o1", inTransit, t0.Add(3*time.Minute), "b1"))
	if st := states(t, out); len(st) != 1 || st[0].Status != inTransit || st[0].PreviousStatus != awaitingShipment {
		t.Fatalf("same-time transition: states %+v, %d records", st, len(out))
	}
}

// TestCancelBeforeShipping: a BUY then the order's cancellation gives one
// CANCEL; the BUY again, the cancellation again and our own CANCEL read
// back give nothing.
func TestCancelBeforeShipping(t *testing.T) {
	d, reg := newDriver(t, 12)
	out := pipe(t, d, orderRecord("o1", awaitingShipment, t0, "b1"),
		labelRecord("o1", "buy-1", schemas.LabelBuy, t0.Add(10*time.Second)))
	if st := states(t, out); len(st) != 2 || st[1].LabelState != LabelRequested || st[1].LabelCommandID != "buy-1" || st[1].Version != 2 {
		t.Fatalf("after the BUY: states %+v", st)
	}
	if !states(t, out)[1].UpdatedAt.Equal(t0.Add(10 * time.Second)) {
		t.Fatalf("updated_at %v, want the BUY's time", states(t, out)[1].UpdatedAt)
	}
	out = pipe(t, d, orderRecord("o1", cancelled, t0.Add(time.Minute), "b1"))
	cs := cancels(t, out)
	if len(cs) != 1 {
		t.Fatalf("%d CANCELs, want 1", len(cs))
	}
	wantID := schemas.EventID(t0.Add(time.Minute), "label-cancel", "o1", "buy-1").String()
	if c := cs[0]; c.CommandID != wantID || c.OrderID != "o1" || !c.IssuedAt.Equal(t0.Add(time.Minute)) || !strings.HasSuffix(c.Reason, "cancels BUY buy-1") {
		t.Fatalf("CANCEL %+v, want id %s issued at the cancellation", c, wantID)
	}
	if st := states(t, out); len(st) != 1 || st[0].Status != cancelled || st[0].LabelState != LabelCancelRequested || st[0].LabelCommandID != "buy-1" {
		t.Fatalf("after the cancellation: states %+v", st)
	}
	back := only(out, schemas.TopicLabelActions)[0]
	back.Topic = schemas.TopicLabelActions
	out = pipe(t, d, labelRecord("o1", "buy-1", schemas.LabelBuy, t0.Add(10*time.Second)),
		orderRecord("o1", cancelled, t0.Add(time.Minute), "b1"), back)
	if len(out) != 0 {
		t.Fatalf("repeats emitted %d records", len(out))
	}
	for reason, want := range map[string]float64{"duplicate_buy": 1, "duplicate": 1, "cancel_command": 1} {
		if got := metric(t, reg, "creatorflow_lifecycle_ignored_total", reason); got != want {
			t.Errorf("ignored{%s} = %v, want %v", reason, got, want)
		}
	}
	if got := metric(t, reg, "creatorflow_lifecycle_label_cancels_total"); got != 1 {
		t.Fatalf("label cancels = %v", got)
	}
}

// TestBuyAfterCancel: a BUY that arrives after its order's cancellation is
// cancelled then, with the same command as had it come first; a second BUY
// gets its own CANCEL; a BUY before the order's first event is remembered.
func TestBuyAfterCancel(t *testing.T) {
	buyAt := t0.Add(30 * time.Second) // issued before the cancellation, read after it
	first, _ := newDriver(t, 12)
	out := pipe(t, first, orderRecord("o1", awaitingShipment, t0, "b1"), orderRecord("o1", cancelled, t0.Add(time.Minute), "b1"))
	if len(cancels(t, out)) != 0 {
		t.Fatal("a CANCEL without a BUY")
	}
	late := cancels(t, pipe(t, first, labelRecord("o1", "buy-1", schemas.LabelBuy, buyAt)))

	second, _ := newDriver(t, 12)
	early := cancels(t, pipe(t, second, orderRecord("o1", awaitingShipment, t0, "b1"),
		labelRecord("o1", "buy-1", schemas.LabelBuy, buyAt), orderRecord("o1", cancelled, t0.Add(time.Minute), "b1")))
	if len(late) != 1 || !reflect.DeepEqual(late, early) {
		t.Fatalf("CANCEL of a BUY read after the cancellation %+v, before %+v: want one, the same", late, early)
	}

	out = pipe(t, first, labelRecord("o1", "buy-2", schemas.LabelBuy, t0.Add(2*time.Minute)))
	cs := cancels(t, out)
	if len(cs) != 1 || cs[0].CommandID != schemas.EventID(t0.Add(2*time.Minute), "label-cancel", "o1", "buy-2").String() ||
		!cs[0].IssuedAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("second BUY: CANCELs %+v", cs)
	}
	if st := states(t, out); len(st) != 1 || st[0].LabelCommandID != "buy-2" || st[0].LabelState != LabelCancelRequested {
		t.Fatalf("states %+v", st)
	}

	// A BUY before the order's first event: no state to publish yet; the
	// cancellation that follows cancels it.
	d, _ := newDriver(t, 12)
	if out := pipe(t, d, labelRecord("o2", "buy-9", schemas.LabelBuy, t0)); len(out) != 0 {
		t.Fatalf("a BUY of an unknown order emitted %d records", len(out))
	}
	out = pipe(t, d, orderRecord("o2", cancelled, t0.Add(time.Minute), "b1"))
	if cs := cancels(t, out); len(cs) != 1 {
		t.Fatalf("cancellation after an early BUY: %d CANCELs", len(cs))
	}
	if st := states(t, out); len(st) != 1 || st[0].Version != 2 || st[0].LabelState != LabelCancelRequested {
		t.Fatalf("states %+v", st)
	}
}

// TestCancelAfterShipping: once a package is with the carrier, a
// cancellation (a failed delivery) cancels no label, nor does a BUY read
// afterwards; an order waiting for collection has not shipped.
func TestCancelAfterShipping(t *testing.T) {
	tests := []struct {
		name       string
		path       []schemas.OrderStatus
		wantCancel bool
	}{
		{"in transit", []schemas.OrderStatus{awaitingShipment, inTransit, cancelled}, false},
		{"partially shipped", []schemas.OrderStatus{awaitingShipment, partiallyShipping, cancelled}, false},
		{"first seen in transit", []schemas.OrderStatus{inTransit, cancelled}, false},
		{"awaiting collection", []schemas.OrderStatus{awaitingShipment, awaitingCollection, cancelled}, true},
		{"on hold", []schemas.OrderStatus{unpaid, onHold, cancelled}, true},
		{"first seen cancelled", []schemas.OrderStatus{cancelled}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := newDriver(t, 12)
			var recs []*kgo.Record
			for i, s := range tc.path {
				recs = append(recs, orderRecord("o1", s, t0.Add(time.Duration(i)*time.Minute), "b1"))
				if i == 0 {
					recs = append(recs, labelRecord("o1", "buy-1", schemas.LabelBuy, t0.Add(time.Second)))
				}
			}
			recs = append(recs, labelRecord("o1", "buy-2", schemas.LabelBuy, t0.Add(time.Hour)))
			out := pipe(t, d, recs...)
			cs := cancels(t, out)
			if want := map[bool]int{true: 2, false: 0}[tc.wantCancel]; len(cs) != want {
				t.Fatalf("%d CANCELs, want %d", len(cs), want)
			}
			if n := len(only(out, "dlq.v1")); n != 0 {
				t.Fatalf("%d dead letters", n)
			}
		})
	}
}

// TestShippableOnce: an order goes to the priority stage once, when it is
// first AWAITING_SHIPMENT or PARTIALLY_SHIPPING, keyed by its buyer.
func TestShippableOnce(t *testing.T) {
	tests := []struct {
		name, buyer string
		path        []schemas.OrderStatus
		at          int // index of the event that offers it; -1 none
	}{
		{"full path", "b1", []schemas.OrderStatus{unpaid, onHold, awaitingShipment, partiallyShipping, awaitingCollection, inTransit, delivered, completed}, 2},
		{"partially shipping first", "b2", []schemas.OrderStatus{partiallyShipping, awaitingCollection}, 0},
		{"no buyer", "", []schemas.OrderStatus{unpaid, awaitingShipment}, 1},
		{"first seen shipped", "b3", []schemas.OrderStatus{awaitingCollection, inTransit}, -1},
		{"cancelled unpaid", "b4", []schemas.OrderStatus{unpaid, cancelled}, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, reg := newDriver(t, 12)
			var offers []*kgo.Record
			offeredAt := -1
			for i, s := range tc.path {
				out := pipe(t, d, orderRecord("o1", s, t0.Add(time.Duration(i)*time.Minute), tc.buyer))
				// The same event again changes nothing either.
				out = append(out, pipe(t, d, orderRecord("o1", s, t0.Add(time.Duration(i)*time.Minute), tc.buyer))...)
				if o := only(out, testShippable); len(o) > 0 {
					offers, offeredAt = append(offers, o...), i
				}
			}
			if tc.at < 0 {
				if len(offers) != 0 {
					t.Fatalf("%d shippable records, want none", len(offers))
				}
				return
			}
			if len(offers) != 1 || offeredAt != tc.at {
				t.Fatalf("%d shippable records, the last at event %d; want one, at event %d", len(offers), offeredAt, tc.at)
			}
			var ev schemas.OrderEvent
			if err := json.Unmarshal(offers[0].Value, &ev); err != nil {
				t.Fatal(err)
			}
			wantKey := tc.buyer
			if wantKey == "" {
				wantKey = "o1"
			}
			if string(offers[0].Key) != wantKey || ev.OrderID != "o1" || ev.Status != tc.path[tc.at] || len(ev.LineItems) != 1 ||
				header(offers[0], schemas.HeaderType) != "order.shippable" {
				t.Fatalf("shippable record key %q: %+v", offers[0].Key, ev)
			}
			if got := metric(t, reg, "creatorflow_lifecycle_shippable_total"); got != 1 {
				t.Fatalf("shippable metric %v", got)
			}
		})
	}
}

// TestForget: 90 days of stream time after its last change an order's
// state goes, with a tombstone in the state topic; an event older than that
// for an order the processor does not know is expired, a newer one starts
// the order afresh.
func TestForget(t *testing.T) {
	d, reg := newDriver(t, 1) // one partition: the orders share a stream time
	pipe(t, d, orderRecord("o1", awaitingShipment, t0, "b1"))
	later := t0.Add(90*24*time.Hour + time.Minute)
	out := pipe(t, d, orderRecord("o2", unpaid, later, "b2"))
	var tomb *kgo.Record
	for _, r := range only(out, testStateTopic) {
		if string(r.Key) == "o1" {
			tomb = r
		}
	}
	if tomb == nil || tomb.Value != nil || header(tomb, schemas.HeaderType) != "order.state" {
		t.Fatalf("no tombstone for o1 in %d records", len(out))
	}
	if _, ok := d.Get(0, ordersStore, "o1"); ok {
		t.Fatal("o1 still in the store")
	}
	if got := metric(t, reg, "creatorflow_lifecycle_forgotten_total"); got != 1 {
		t.Fatalf("forgotten %v", got)
	}
	out = pipe(t, d, orderRecord("o1", inTransit, t0, "b1"))
	if len(out) != 1 || !strings.HasPrefix(header(out[0], stream.HeaderDLQError), ReasonExpired+": ") {
		t.Fatalf("an event of a forgotten order from before the horizon: %d records", len(out))
	}
	out = pipe(t, d, orderRecord("o1", delivered, later, "b1"))
	if st := states(t, out); len(st) != 1 || st[0].Version != 1 || st[0].PreviousStatus != "" {
		t.Fatalf("a forgotten order seen again: states %+v", st)
	}
}

// TestInvalid: records that are not what the topics hold go to the DLQ as
// invalid, and change nothing.
func TestInvalid(t *testing.T) {
	d, reg := newDriver(t, 12)
	good := orderRecord("o1", awaitingShipment, t0, "b1")
	pipe(t, d, good)
	mk := func(topic, key, value string) *kgo.Record {
		return &kgo.Record{Topic: topic, Key: []byte(key), Value: []byte(value), Headers: good.Headers}
	}
	recs := []*kgo.Record{
		mk(schemas.TopicOrders, "o1", "not json"),
		mk(schemas.TopicOrders, "o1", `{"order_id":"o1","status":"SHIPPED","update_time":"2026-03-02T10:00:00Z"}`),
		mk(schemas.TopicOrders, "o1", `{"order_id":"o1","status":"IN_TRANSIT"}`),
		mk(schemas.TopicOrders, "o1", `{"order_id":"o1","status":"IN_TRANSIT","update_time":"1969-12-31T23:59:59Z"}`),
		mk(schemas.TopicOrders, "other", `{"order_id":"o1","status":"IN_TRANSIT","update_time":"2026-03-02T10:00:00Z"}`),
		mk(schemas.TopicOrders, "", `{"order_id":"","status":"IN_TRANSIT","update_time":"2026-03-02T10:00:00Z"}`),
		mk(schemas.TopicOrders, "o\u0000", `{"order_id":"o\u0000","status":"IN_TRANSIT","update_time":"2026-03-02T10:00:00Z"}`),
		mk(schemas.TopicOrders, "o1", `{"order_id":"o1","buyer_id":"`+strings.Repeat("b", 200)+`","status":"IN_TRANSIT","update_time":"2026-03-02T10:00:00Z"}`),
		mk(schemas.TopicLabelActions, "o1", `{"order_id":"o1","action":"BUY"}`),
		mk(schemas.TopicLabelActions, "o1", `{"command_id":"c","order_id":"o1","action":"VOID"}`),
		mk(schemas.TopicLabelActions, "o2", `{"command_id":"c","order_id":"o1","action":"BUY"}`),
		mk(schemas.TopicLabelActions, "o1", `[]`),
	}
	for _, r := range recs {
		out := pipe(t, d, r)
		if len(out) != 1 || out[0].Topic != "dlq.v1" || !strings.HasPrefix(header(out[0], stream.HeaderDLQError), ReasonInvalid+": ") {
			t.Fatalf("%q on %s: %d records, want one dead letter for an invalid record", r.Value, r.Topic, len(out))
		}
	}
	if got := metric(t, reg, "creatorflow_lifecycle_rejected_total", ReasonInvalid); got != float64(len(recs)) {
		t.Fatalf("rejected{invalid} = %v, want %d", got, len(recs))
	}
	// CANCEL, the webhook's spelling, is CANCELLED.
	out := pipe(t, d, mk(schemas.TopicOrders, "o1", `{"order_id":"o1","status":"CANCEL","update_time":"2026-03-02T10:00:00Z"}`))
	if st := states(t, out); len(st) != 1 || st[0].Status != cancelled {
		t.Fatalf("CANCEL: %+v", st)
	}
}

func TestTopologyConfig(t *testing.T) {
	good := testConfig(nil)
	for name, mutate := range map[string]func(*Config){
		"no application":     func(c *Config) { c.Application = "" },
		"same inputs":        func(c *Config) { c.LabelActions = c.Orders },
		"shippable is input": func(c *Config) { c.Shippable.Name = c.Orders },
		"shippable is state": func(c *Config) { c.Shippable.Name = StateTopic(c.Application).Name },
		"short forget":       func(c *Config) { c.ForgetAfter = time.Minute },
	} {
		c := good
		mutate(&c)
		if _, err := Topology(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	topo, err := Topology(good)
	if err != nil {
		t.Fatal(err)
	}
	if s := StateTopic(testApp); !s.Compact || s.Partitions != 12 || !slices.Contains(topo.Internal, s) {
		t.Fatalf("state topic %+v, internal %+v", s, topo.Internal)
	}
}

// history is a random stream of order events and label commands, as a
// replay would read it: every order's events in time order with some
// swapped, repeated or cancelled, BUYs before and after.
func history(seed uint64, orders int) []*kgo.Record {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	paths := [][]schemas.OrderStatus{
		{unpaid, onHold, awaitingShipment, awaitingCollection, inTransit, delivered, completed},
		{unpaid, awaitingShipment, cancelled},
		{awaitingShipment, partiallyShipping, inTransit, cancelled},
		{unpaid, cancelled},
		{onHold, awaitingShipment, awaitingCollection, cancelled},
	}
	var recs []*kgo.Record
	var queues [][]*kgo.Record
	for i := range orders {
		id := fmt.Sprint("o", i)
		path := paths[rng.IntN(len(paths))]
		var own []*kgo.Record
		for j, s := range path {
			at := t0.Add(time.Duration(i)*time.Second + time.Duration(j)*time.Minute)
			own = append(own, orderRecord(id, s, at, fmt.Sprint("b", i%7)))
			if s == awaitingShipment && rng.IntN(2) == 0 {
				own = append(own, labelRecord(id, "buy-"+id, schemas.LabelBuy, at.Add(time.Second)))
			}
			if rng.IntN(4) == 0 {
				own = append(own, own[len(own)-1])
			}
		}
		if rng.IntN(4) == 0 {
			own = append(own, labelRecord(id, "late-buy-"+id, schemas.LabelBuy, t0.Add(time.Hour)))
		}
		if k := rng.IntN(len(own)); k > 0 && rng.IntN(3) == 0 {
			own[k-1], own[k] = own[k], own[k-1]
		}
		queues = append(queues, own)
	}
	// Orders interleave, each in its own order.
	for len(queues) > 0 {
		q := rng.IntN(len(queues))
		recs = append(recs, queues[q][0])
		if queues[q] = queues[q][1:]; len(queues[q]) == 0 {
			queues = slices.Delete(queues, q, q+1)
		}
	}
	return recs
}

// TestReplayDeterminism: the same input gives the same output, byte for
// byte; and the CANCELs do not depend on how the two input topics
// interleave.
func TestReplayDeterminism(t *testing.T) {
	recs := history(11, 300)
	run := func(recs []*kgo.Record) []*kgo.Record {
		d, _ := newDriver(t, 12)
		return pipe(t, d, recs...)
	}
	a, b := run(recs), run(recs)
	if len(a) != len(b) {
		t.Fatalf("%d records, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Topic != b[i].Topic || !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) ||
			!reflect.DeepEqual(a[i].Headers, b[i].Headers) || !a[i].Timestamp.Equal(b[i].Timestamp) {
			t.Fatalf("record %d differs: %s %q then %s %q", i, a[i].Topic, a[i].Value, b[i].Topic, b[i].Value)
		}
	}
	if len(cancels(t, a)) == 0 || len(only(a, testShippable)) == 0 {
		t.Fatal("the history exercised no CANCEL or no shippable order")
	}

	// All order events first, then all label commands: another
	// interleaving of the same topics.
	var orders, labels []*kgo.Record
	for _, r := range recs {
		if r.Topic == schemas.TopicOrders {
			orders = append(orders, r)
		} else {
			labels = append(labels, r)
		}
	}
	c := run(append(slices.Clone(orders), labels...))
	ids := func(recs []*kgo.Record) []string {
		var out []string
		for _, c := range cancels(t, recs) {
			v, _ := json.Marshal(c)
			out = append(out, string(v))
		}
		slices.Sort(out)
		return out
	}
	if !slices.Equal(ids(a), ids(c)) {
		t.Fatalf("CANCELs depend on the interleaving:\n%v\n%v", ids(a), ids(c))
	}
}
