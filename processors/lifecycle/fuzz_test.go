package lifecycle

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// FuzzRecords feeds arbitrary records to both inputs of the processor, after
// an order and its BUY: whatever the bytes, a record is processed or goes
// to the DLQ, nothing panics, and everything emitted decodes as what its
// topic holds.
func FuzzRecords(f *testing.F) {
	f.Add(false, []byte("o1"), []byte(`{"order_id":"o1","status":"CANCELLED","update_time":"2026-03-02T09:05:00Z"}`))
	f.Add(false, []byte("o1"), []byte(`{"order_id":"o1","status":"AWAITING_SHIPMENT","update_time":"2026-03-02T09:00:00Z"}`))
	f.Add(false, []byte("o2"), []byte(`{"order_id":"o2","status":"PARTIALLY_SHIPPING","buyer_id":"b","update_time":"2026-03-02T09:00:00Z"}`))
	f.Add(false, []byte("o1"), []byte(`{"order_id":"o1","status":"UNPAID","update_time":"0001-01-01T00:00:00Z"}`))
	f.Add(false, []byte("o1"), []byte(`{"order_id":"o1","status":"DELIVERED","update_time":"9999-12-31T23:59:59Z","create_time":"2026-01-01T00:00:00+05:00"}`))
	f.Add(true, []byte("o1"), []byte(`{"command_id":"buy-2","order_id":"o1","action":"BUY"}`))
	f.Add(true, []byte("o1"), []byte(`{"command_id":"x","order_id":"o1","action":"CANCEL","issued_at":"2026-03-02T09:00:00Z"}`))
	f.Add(true, []byte("o3"), []byte(`{"command_id":"x","order_id":"o3","action":"BUY","issued_at":"1970-01-01T00:00:00Z"}`))
	f.Add(true, []byte(""), []byte(`null`))
	f.Fuzz(func(t *testing.T, label bool, key, value []byte) {
		d, _ := newDriver(t, 12)
		pipe(t, d, orderRecord("o1", awaitingShipment, t0, "b1"), labelRecord("o1", "buy-1", schemas.LabelBuy, t0.Add(time.Second)))
		topic := schemas.TopicOrders
		if label {
			topic = schemas.TopicLabelActions
		}
		for i := range 2 { // twice: the second sees what the first left
			out, err := d.Pipe(&kgo.Record{Topic: topic, Key: key, Value: value, Timestamp: t0.Add(time.Duration(i+2) * time.Minute)})
			if err != nil {
				t.Fatalf("pipe: %v", err)
			}
			for _, r := range out {
				check(t, r)
			}
		}
		// The order still moves on as its table says.
		out := pipe(t, d, orderRecord("o1", cancelled, t0.Add(time.Hour), "b1"))
		for _, r := range out {
			check(t, r)
		}
	})
}

// check fails the test if r is not a record the processor may write.
func check(t *testing.T, r *kgo.Record) {
	t.Helper()
	var err error
	switch r.Topic {
	case "dlq.v1":
		if !strings.Contains(header(r, stream.HeaderDLQError), ": ") {
			t.Fatalf("dead letter %q without a reason", r.Value)
		}
		return
	case testStateTopic:
		if r.Value == nil {
			return // a tombstone
		}
		var s OrderState
		if err = json.Unmarshal(r.Value, &s); err == nil && (s.OrderID != string(r.Key) || !Legal(s.Status, s.Status) || s.Version < 1) {
			err = fmt.Errorf("state %+v", s)
		}
	case testShippable:
		var ev schemas.OrderEvent
		if err = json.Unmarshal(r.Value, &ev); err == nil && !shippable(ev.Status) {
			err = fmt.Errorf("shippable record of a %s order", ev.Status)
		}
	case schemas.TopicLabelActions:
		var c schemas.LabelCommand
		if err = json.Unmarshal(r.Value, &c); err == nil && (c.Action != schemas.LabelCancel || c.OrderID != string(r.Key)) {
			err = fmt.Errorf("label command %+v", c)
		}
	default:
		err = fmt.Errorf("emitted to %s", r.Topic)
	}
	if err == nil && !slices.ContainsFunc(r.Headers, func(h kgo.RecordHeader) bool { return h.Key == schemas.HeaderID }) {
		err = errors.New("no ce_id")
	}
	if err != nil {
		t.Fatalf("%s %q: %v", r.Topic, r.Value, err)
	}
}
