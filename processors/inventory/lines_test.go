package inventory

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/schemas"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func TestOrderLines(t *testing.T) {
	items := []schemas.LineItem{{SKUID: "b", Quantity: 2}, {SKUID: "a", Quantity: 1}, {SKUID: "b", Quantity: 1}}
	type step struct {
		status schemas.OrderStatus
		want   []LineChange // At and OrderID left out
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"placed, shippable, shipped", []step{
			{schemas.OrderStatusUnpaid, []LineChange{{SKU: "a", Demand: 1, Orders: 1}, {SKU: "b", Demand: 3, Orders: 1}}},
			{schemas.OrderStatusAwaitingShipment, []LineChange{{SKU: "a", Reserved: 1}, {SKU: "b", Reserved: 3}}},
			{schemas.OrderStatusAwaitingShipment, nil}, // a repeat does nothing
			{schemas.OrderStatusInTransit, []LineChange{{SKU: "a", Reserved: -1, OnHand: -1}, {SKU: "b", Reserved: -3, OnHand: -3}}},
			{schemas.OrderStatusDelivered, nil},
		}},
		{"first seen shippable", []step{
			{schemas.OrderStatusAwaitingShipment, []LineChange{{SKU: "a", Demand: 1, Orders: 1, Reserved: 1}, {SKU: "b", Demand: 3, Orders: 1, Reserved: 3}}},
		}},
		{"cancelled after reserving releases", []step{
			{schemas.OrderStatusAwaitingShipment, []LineChange{{SKU: "a", Demand: 1, Orders: 1, Reserved: 1}, {SKU: "b", Demand: 3, Orders: 1, Reserved: 3}}},
			{schemas.OrderStatusCancelled, []LineChange{{SKU: "a", Reserved: -1}, {SKU: "b", Reserved: -3}}},
			{schemas.OrderStatusAwaitingShipment, nil}, // closed for good
		}},
		{"cancelled before reserving", []step{
			{schemas.OrderStatusUnpaid, []LineChange{{SKU: "a", Demand: 1, Orders: 1}, {SKU: "b", Demand: 3, Orders: 1}}},
			{schemas.OrderStatusCancelled, nil},
		}},
		{"shipped without a shippable event", []step{
			{schemas.OrderStatusOnHold, []LineChange{{SKU: "a", Demand: 1, Orders: 1}, {SKU: "b", Demand: 3, Orders: 1}}},
			{schemas.OrderStatusAwaitingCollection, []LineChange{{SKU: "a", OnHand: -1}, {SKU: "b", OnHand: -3}}},
			{schemas.OrderStatusCancelled, nil}, // after shipping: a return, not ours
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st orderLines
			for i, s := range tc.steps {
				got := st.apply(schemas.OrderEvent{OrderID: "o1", Status: s.status, UpdateTime: t0, LineItems: items}, i > 0)
				for j := range got {
					got[j].At, got[j].OrderID = time.Time{}, ""
				}
				if len(got) == 0 {
					got = nil
				}
				if !reflect.DeepEqual(got, s.want) {
					t.Fatalf("step %d (%s): got %+v, want %+v", i, s.status, got, s.want)
				}
			}
		})
	}
}

func TestDemandRates(t *testing.T) {
	var d demand
	start := t0.UnixMilli()
	d.advance(start)
	// 6 units an hour, one every 10 minutes, for 30 hours.
	for m := int64(0); m <= 30*60; m += 10 {
		at := start + m*minuteMs
		d.advance(at)
		d.add(at, 1, 1)
	}
	if s, l := d.short(), d.long(); math.Abs(s-6) > 0.7 || math.Abs(l-6) > 0.3 {
		t.Fatalf("short %v long %v, want about 6", s, l)
	}
	if sp := d.hourlySpread(d.long()); sp > 0.5 {
		t.Fatalf("spread of an even rate = %v, want about 0", sp)
	}
	// A burst of 60 units in the last minute lifts the short rate only.
	d.add(d.Clock, 60, 1)
	if s, l := d.short(), d.long(); s < 60 || l > 10 {
		t.Fatalf("after a burst: short %v long %v", s, l)
	}
	// A day of silence empties both rings.
	d.advance(d.Clock + 25*hourMs)
	if s, l := d.short(), d.long(); s != 0 || l != 0 {
		t.Fatalf("after a silent day: short %v long %v", s, l)
	}
}

func TestZScore(t *testing.T) {
	for _, tc := range []struct{ level, z float64 }{{0.5, 0}, {0.95, 1.6449}, {0.99, 2.3263}, {0.9999, 3.719}} {
		if got := zScore(tc.level); math.Abs(got-tc.z) > 1e-3 {
			t.Errorf("zScore(%v) = %v, want %v", tc.level, got, tc.z)
		}
	}
}
