package scenario

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creatorflow/creatorflow/schemas"
)

// order is a generated order and what happens to it.
type order struct {
	id       string
	create   time.Time
	first    *skuPlan // the SKU whose demand made it
	seq      int      // its number among first's orders
	lines    []orderLine
	buyer    string
	address  schemas.RecipientAddress
	cancelAt time.Time // zero: not cancelled within the scenario
	shipAt   time.Time // zero: not shipped within the scenario
}

type orderLine struct {
	sku *skuPlan
	qty int64
}

// orderEvent is an order's event with the stock change it stands for.
type orderEvent struct {
	Event
	o    *order
	sign int64 // -1: units ordered, +1: units back (cancelled), 0: none
}

// orderSet is every order and its events, in arrival order.
type orderSet struct {
	orders []*order
	events []orderEvent
}

// allOrders draws every SKU's orders (in parallel, each SKU from its own
// stream), numbers them by creation time and makes their events.
func (g *generator) allOrders() orderSet {
	perSKU := make([][]*order, len(g.skus))
	parallel(len(g.skus), func(i int) { perSKU[i] = g.orders(g.skus[i]) })
	var set orderSet
	for _, os := range perSKU {
		set.orders = append(set.orders, os...)
	}
	slices.SortFunc(set.orders, func(a, b *order) int {
		if c := a.create.Compare(b.create); c != 0 {
			return c
		}
		if c := cmp.Compare(a.first.idx, b.first.idx); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i, o := range set.orders {
		o.id = strconv.FormatInt(firstOrderID+int64(i), 10)
	}
	for i, o := range set.orders {
		set.events = append(set.events, g.orderEvent(o, i, o.create, schemas.OrderStatusAwaitingShipment, "", -1))
		if !o.cancelAt.IsZero() {
			set.events = append(set.events, g.orderEvent(o, i, o.cancelAt, schemas.OrderStatusCancelled, schemas.OrderStatusAwaitingShipment, 1))
		}
		if !o.shipAt.IsZero() {
			set.events = append(set.events, g.orderEvent(o, i, o.shipAt, schemas.OrderStatusInTransit, schemas.OrderStatusAwaitingShipment, 0))
		}
	}
	slices.SortFunc(set.events, func(a, b orderEvent) int { return compareEvents(&a.Event, &b.Event) })
	return set
}

// orders draws a SKU's orders: a Poisson process of rate base x demand(t),
// by thinning one of rate base x the largest demand.
func (g *generator) orders(s *skuPlan) []*order {
	m := g.m
	r := stream(g.cfg.Seed, "orders", s.idx)
	shop := g.shopSKUs[s.shop]
	perHour := s.base * s.peak
	var out []*order
	for t := g.start; ; {
		t = t.Add(hours(r.ExpFloat64() / perHour))
		if !t.Before(g.end) {
			return out
		}
		// u < 1: the order is base demand; 1 <= u < demand(t): the viral
		// extra; above: no order.
		u := r.Float64() * s.peak
		if u >= 1 && u >= s.demand(t) {
			continue
		}
		o := &order{create: t, first: s, seq: len(out)}
		qty := func() int64 {
			if r.chance(m.TwoUnitShare) {
				return 2
			}
			return 1
		}
		o.lines = append(o.lines, orderLine{sku: s, qty: qty()})
		// Only base orders carry a second SKU: a viral product's extra
		// orders would otherwise raise its neighbours' demand too, and
		// run them out with no viral truth to show for it.
		if u < 1 && len(shop) > 1 && r.chance(m.TwoLineShare) {
			other := shop[r.IntN(len(shop)-1)]
			if other == s {
				other = shop[len(shop)-1]
			}
			o.lines = append(o.lines, orderLine{sku: other, qty: qty()})
		}
		o.buyer = strconv.FormatInt(7494000000000000000+r.Int64N(buyerPool), 10)
		o.address = address(r)
		if r.chance(m.CancelShare) {
			if at := t.Add(minutes(r.uniform(m.CancelMinutes))); at.Before(g.end) {
				o.cancelAt = at
			}
		} else if at := t.Add(hours(r.uniform(m.ShipHours))); at.Before(g.end) {
			o.shipAt = at
		}
		out = append(out, o)
	}
}

// buyerPool is how many buyers there are: repeat buyers are common.
const buyerPool = 200000

// orderEvent returns the orders.v1 event of an order reaching status at.
func (g *generator) orderEvent(o *order, n int, at time.Time, status, previous schemas.OrderStatus, sign int64) orderEvent {
	v := schemas.OrderEvent{OrderID: o.id, ShopID: shopID(o.first.shop), Status: status, PreviousStatus: previous,
		BuyerID: o.buyer, CreateTime: o.create, UpdateTime: at, RTSSLATime: o.create.Add(48 * time.Hour),
		ShippingDueTime: o.create.Add(72 * time.Hour), RecipientAddress: o.address}
	for i, l := range o.lines {
		v.LineItems = append(v.LineItems, schemas.LineItem{ID: strconv.FormatInt(firstLineID+int64(n)*4+int64(i), 10),
			SKUID: l.sku.id, SellerSKU: l.sku.seller, ProductID: l.sku.product, ProductName: l.sku.title,
			Quantity: l.qty, SalePrice: l.sku.priceCents, Currency: "USD"})
	}
	value, err := json.Marshal(v)
	if err != nil {
		panic(err) // unreachable: the value is plain data
	}
	return orderEvent{Event: Event{Topic: schemas.TopicOrders, Key: o.id, Value: value, Time: at, Arrival: at,
		ID: schemas.EventID(at, schemas.TopicOrders, o.id, string(status)).String()}, o: o, sign: sign}
}

// stockOuts returns when each SKU's available stock first reaches 0 or
// less, walking the order events in the order they are published.
func stockOuts(skus []*skuPlan, events []orderEvent) []time.Time {
	avail := make([]int64, len(skus))
	out := make([]time.Time, len(skus))
	for i, s := range skus {
		avail[i] = int64(s.stock)
	}
	for _, e := range events {
		if e.sign == 0 {
			continue
		}
		for _, l := range e.o.lines {
			avail[l.sku.idx] += e.sign * l.qty
			if avail[l.sku.idx] <= 0 && out[l.sku.idx].IsZero() {
				out[l.sku.idx] = e.Time
			}
		}
	}
	return out
}

// skuTruths returns the truth of every SKU.
func (g *generator) skuTruths(set orderSet) []SKUTruth {
	outs := stockOuts(g.skus, set.events)
	out := make([]SKUTruth, len(g.skus))
	for i, s := range g.skus {
		t := SKUTruth{SKUID: s.id, ShopID: shopID(s.shop), Viral: len(s.viral) > 0, StartingStock: s.stock,
			LeadTime: s.lead, BaseOrdersPerHour: s.base, StockOut: outs[i]}
		for _, p := range s.viral {
			if t.Onset.IsZero() || p.onset.Before(t.Onset) {
				t.Onset = p.onset
			}
		}
		t.Possible = t.Viral && !t.StockOut.IsZero() && t.Onset.Add(t.LeadTime).Before(t.StockOut)
		out[i] = t
	}
	return out
}

// compareEvents orders events as they are published: by arrival, then
// event time, topic, key and id, which no two events share.
func compareEvents(a, b *Event) int {
	// Not cmp.Or: it would evaluate every comparison, and this runs some
	// twenty million times for a default scenario.
	if c := a.Arrival.Compare(b.Arrival); c != 0 {
		return c
	}
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	if c := strings.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// mergeEvents returns the readings and order events in arrival order.
func mergeEvents(readings []itemResult, orders []orderEvent) []Event {
	all := make([]*Event, 0, len(orders))
	for i := range readings {
		for j := range readings[i].events {
			all = append(all, &readings[i].events[j])
		}
	}
	for i := range orders {
		all = append(all, &orders[i].Event)
	}
	// Sorting pointers, keyed by the arrival in nanoseconds, moves a
	// tenth of the memory sorting the events would.
	type keyed struct {
		arrival int64
		e       *Event
	}
	keys := make([]keyed, len(all))
	for i, e := range all {
		keys[i] = keyed{e.Arrival.UnixNano(), e}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if a.arrival != b.arrival {
			return cmp.Compare(a.arrival, b.arrival)
		}
		return compareEvents(a.e, b.e)
	})
	out := make([]Event, len(keys))
	for i, k := range keys {
		out[i] = *k.e
	}
	return out
}

// Places of made-up US addresses: each with its state, county and the
// first three digits of its ZIP codes.
var places = []struct{ city, county, state, zip3 string }{
	{"Los Angeles", "Los Angeles County", "California", "900"}, {"Austin", "Travis County", "Texas", "787"},
	{"Brooklyn", "Kings County", "New York", "112"}, {"Miami", "Miami-Dade County", "Florida", "331"},
	{"Chicago", "Cook County", "Illinois", "606"}, {"Seattle", "King County", "Washington", "981"},
	{"Denver", "Denver County", "Colorado", "802"}, {"Atlanta", "Fulton County", "Georgia", "303"},
	{"Phoenix", "Maricopa County", "Arizona", "850"}, {"Columbus", "Franklin County", "Ohio", "432"},
	{"Nashville", "Davidson County", "Tennessee", "372"}, {"Portland", "Multnomah County", "Oregon", "972"},
	{"Charlotte", "Mecklenburg County", "North Carolina", "282"}, {"Minneapolis", "Hennepin County", "Minnesota", "554"},
	{"Boston", "Suffolk County", "Massachusetts", "021"}, {"Salt Lake City", "Salt Lake County", "Utah", "841"},
}

var (
	firstNames = []string{"Ava", "Liam", "Mia", "Noah", "Zoe", "Ethan", "Chloe", "Lucas", "Maya", "Owen", "Ruby", "Eli", "Sofia", "Mateo", "Aria", "Jayden"}
	lastNames  = []string{"Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Davis", "Wilson", "Martinez", "Lee"}
	streets    = []string{"Main St", "Oak Ave", "Maple Dr", "Sunset Blvd", "2nd St", "Pine Ln", "Lake Rd", "Elm St", "Cedar Ct", "Park Pl"}
)

// address makes up a plausible US address in TikTok's shape.
func address(r rng) schemas.RecipientAddress {
	p := places[r.IntN(len(places))]
	return schemas.RecipientAddress{
		Name:          firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))],
		PostalCode:    fmt.Sprintf("%s%02d", p.zip3, r.IntN(100)),
		RegionCode:    "US",
		AddressDetail: fmt.Sprintf("%d %s", 1+r.IntN(9899), streets[r.IntN(len(streets))]),
		DistrictInfo: []schemas.DistrictInfo{
			{AddressLevelName: "country", AddressName: "United States", AddressLevel: "L0"},
			{AddressLevelName: "state", AddressName: p.state, AddressLevel: "L1"},
			{AddressLevelName: "county", AddressName: p.county, AddressLevel: "L2"},
			{AddressLevelName: "city", AddressName: p.city, AddressLevel: "L3"},
		},
	}
}
