package inventory

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// LineChange is what one order event does to one SKU's stock: the record
// of the internal order-lines topic, keyed by SKU. Orders are keyed by order
// id and stock by SKU, so the order-lines stage, which knows each order's
// past, turns order events into these and the SKU stage, which knows each
// SKU's stock, applies them.
type LineChange struct {
	SKU     string `json:"sku"`
	OrderID string `json:"order_id"`
	// Demand is units newly ordered (the first event of an order), and
	// Orders 1 then: order velocity counts orders, not units, so one
	// large order is not a rush.
	Demand int64 `json:"demand,omitempty"`
	Orders int64 `json:"orders,omitempty"`
	// Reserved and OnHand are changes: an order that becomes shippable
	// reserves its units, a cancellation releases them, shipping takes
	// them off the shelf.
	Reserved int64 `json:"reserved,omitempty"`
	OnHand   int64 `json:"on_hand,omitempty"`
	// At is the order event's time.
	At time.Time `json:"at"`
}

// LinesTopic is the internal topic of line changes, keyed by SKU, of an
// inventory application: co-partitioned with the content signals, which
// the SKU stage reads beside it.
func LinesTopic(application string) stream.TopicSpec {
	return stream.TopicSpec{Name: application + "-order-lines", Partitions: SignalsTopic(application).Partitions}
}

// orderLines is what the order-lines stage remembers of an order.
type orderLines struct {
	// Units per SKU, as the order's first event listed them.
	Units    map[string]int64 `json:"u"`
	Reserved bool             `json:"r,omitempty"`
	Shipped  bool             `json:"s,omitempty"`
	Closed   bool             `json:"c,omitempty"` // cancelled
	Updated  int64            `json:"t"`           // Unix ms of the last event
}

// epoch bounds event times from below: minute and hour buckets are counted
// from it.
var epoch = time.Unix(0, 0)

const ordersStore = "orders"

// shippable statuses hold stock for the order; shipped statuses have taken
// it off the shelf.
var (
	shippable = map[schemas.OrderStatus]bool{schemas.OrderStatusAwaitingShipment: true, schemas.OrderStatusPartiallyShipping: true}
	shipped   = map[schemas.OrderStatus]bool{schemas.OrderStatusAwaitingCollection: true, schemas.OrderStatusInTransit: true,
		schemas.OrderStatusDelivered: true, schemas.OrderStatusCompleted: true}
)

// linesTopology is the order-lines stage: orders.v1 (keyed by order id) to
// line changes keyed by SKU.
func linesTopology(cfg Config, lines stream.TopicSpec) stream.Topology {
	states := stream.KV[orderLines]{Store: ordersStore, Codec: stream.JSON[orderLines]{}}
	return stream.Topology{
		Application: cfg.Application + "-lines",
		Inputs:      []string{cfg.Orders},
		Outputs:     []string{lines.Name},
		Internal:    []stream.TopicSpec{lines},
		Stores:      []stream.StoreSpec{{Name: ordersStore}},
		Process: func(c *stream.Context, r *kgo.Record) error {
			var o schemas.OrderEvent
			if err := json.Unmarshal(r.Value, &o); err != nil {
				return fmt.Errorf("order event: %w", err)
			}
			if o.OrderID == "" || o.UpdateTime.IsZero() {
				return fmt.Errorf("order event: order_id and update_time are required")
			}
			if o.UpdateTime.Before(epoch) {
				return fmt.Errorf("order event: update_time %s is before 1970", o.UpdateTime.Format(time.RFC3339))
			}
			st, seen, err := states.Get(c, o.OrderID)
			if err != nil {
				return err
			}
			changes := st.apply(o, seen)
			for _, ch := range changes {
				value, err := json.Marshal(ch)
				if err != nil {
					return err
				}
				env := schemas.Envelope{ID: schemas.EventID(o.UpdateTime, "order-line", o.OrderID, string(o.Status), ch.SKU),
					Type: "inventory.order-line", SchemaVersion: 1, Source: "creatorflow/inventory", Time: o.UpdateTime, IngestTime: o.UpdateTime}
				c.Emit(&kgo.Record{Topic: lines.Name, Key: []byte(ch.SKU), Value: value, Headers: env.Headers()})
			}
			states.ForgetAt(c, o.OrderID, o.UpdateTime.Add(cfg.ForgetOrdersAfter))
			return states.Put(c, o.OrderID, st)
		},
	}
}

// apply moves an order's stock state by one of its events and returns the
// changes per SKU, in SKU order. Each step happens once whatever the order
// of events: units are ordered at the first event, reserved when the order
// is first shippable, released if it is cancelled before it ships, taken
// when it first ships.
func (st *orderLines) apply(o schemas.OrderEvent, seen bool) []LineChange {
	at := o.UpdateTime.UTC()
	st.Updated = at.UnixMilli()
	delta := map[string]*LineChange{}
	change := func(sku string) *LineChange {
		if delta[sku] == nil {
			delta[sku] = &LineChange{SKU: sku, OrderID: o.OrderID, At: at}
		}
		return delta[sku]
	}
	if !seen {
		st.Units = map[string]int64{}
		for _, li := range o.LineItems {
			if li.SKUID != "" {
				st.Units[li.SKUID] += max(li.Quantity, 1)
			}
		}
		for sku, n := range st.Units {
			ch := change(sku)
			ch.Demand, ch.Orders = n, 1
		}
	}
	switch {
	case st.Closed || st.Shipped && o.Status != schemas.OrderStatusCancelled:
	case o.Status == schemas.OrderStatusCancelled:
		if st.Reserved && !st.Shipped {
			for sku, n := range st.Units {
				change(sku).Reserved = -n
			}
		}
		st.Closed = true
	case shippable[o.Status] && !st.Reserved:
		for sku, n := range st.Units {
			change(sku).Reserved = n
		}
		st.Reserved = true
	case shipped[o.Status]:
		for sku, n := range st.Units {
			ch := change(sku)
			ch.OnHand = -n
			if st.Reserved {
				ch.Reserved = -n
			}
		}
		st.Shipped = true
	}
	out := make([]LineChange, 0, len(delta))
	for _, ch := range delta {
		if ch.Demand != 0 || ch.Reserved != 0 || ch.OnHand != 0 {
			out = append(out, *ch)
		}
	}
	slices.SortFunc(out, func(a, b LineChange) int { return strings.Compare(a.SKU, b.SKU) })
	return out
}
