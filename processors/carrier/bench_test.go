package carrier_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas"
)

// BenchmarkChoose ranks the shipped cards' 8 services for varied orders:
// places across the country, parcels of a few ounces to 20 lb from two
// line items, both priorities, one carrier half-open, every carrier with a
// delivery record. The target is well under 50 µs an order.
func BenchmarkChoose(b *testing.B) {
	cards := shippedCards(b)
	r := rand.New(rand.NewPCG(1, 2))
	cfg := carrier.DefaultConfig()
	units := map[string]carrier.Unit{"a": {WeightOz: 6, LengthIn: 6, WidthIn: 4, HeightIn: 2}, "b": {WeightOz: 40, LengthIn: 14, WidthIn: 10, HeightIn: 4}}
	unitOf := func(sku string) (carrier.Unit, bool) { u, ok := units[sku]; return u, ok }
	reqs := make([]carrier.Request, 1024)
	now := time.Date(2025, 9, 10, 10, 0, 0, 0, time.UTC)
	for i := range reqs {
		items := []schemas.LineItem{{SKUID: "a", Quantity: 1 + r.Int64N(3)}, {SKUID: []string{"b", "c"}[r.IntN(2)], Quantity: r.Int64N(3)}}
		order := schemas.OrderEvent{
			CreateTime: now, ShippingDueTime: now.Add(time.Duration(r.IntN(72)) * time.Hour),
			RecipientAddress: schemas.RecipientAddress{PostalCode: fmt.Sprintf("%03d%02d", zip3s[r.IntN(len(zip3s))], r.IntN(100))},
		}
		priority := []schemas.PriorityClass{schemas.PriorityHigh, schemas.PriorityStandard}[r.IntN(2)]
		reqs[i] = cfg.NewRequest(order, "90021", carrier.ParcelFor(order.LineItems, unitOf), priority, now)
		reqs[i].Parcel = carrier.ParcelFor(items, unitOf)
	}
	health := map[string]carrier.Health{"usps": {State: schemas.CircuitClosed}, "fedex": {State: schemas.CircuitHalfOpen}}
	onTime := map[string]carrier.OnTime{"usps": {Delivered: 12000, OnTime: 10900}, "ups": {Delivered: 8000, OnTime: 7700}, "fedex": {Delivered: 300, OnTime: 280}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := cfg.Choose(reqs[i%len(reqs)], cards, health, onTime); err != nil {
			b.Fatal(err)
		}
	}
}
