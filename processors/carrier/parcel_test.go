package carrier_test

import (
	"math"
	"testing"

	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas"
)

func TestBillableLb(t *testing.T) {
	usps := carrier.RateCard{DimDivisor: 166, DimMinCubicIn: 1728}
	ups := carrier.RateCard{DimDivisor: 139}
	for _, tt := range []struct {
		name   string
		card   carrier.RateCard
		parcel carrier.Parcel
		want   int64
	}{
		{"1 oz is a pound", ups, carrier.Parcel{WeightOz: 1, LengthIn: 1, WidthIn: 1, HeightIn: 1}, 1},
		{"16 oz", ups, carrier.Parcel{WeightOz: 16, LengthIn: 1, WidthIn: 1, HeightIn: 1}, 1},
		{"17 oz rounds up", ups, carrier.Parcel{WeightOz: 17, LengthIn: 1, WidthIn: 1, HeightIn: 1}, 2},
		// 8x6x4 = 192 in3 / 139 = 1.38: 2 lb at UPS
		{"ups: small box, dim weight", ups, carrier.Parcel{WeightOz: 8, LengthIn: 8, WidthIn: 6, HeightIn: 4}, 2},
		{"usps: small box, no dim weight", usps, carrier.Parcel{WeightOz: 8, LengthIn: 8, WidthIn: 6, HeightIn: 4}, 1},
		// 12x12x12 = 1728 in3: not over one cubic foot
		{"usps: one cubic foot", usps, carrier.Parcel{WeightOz: 16, LengthIn: 12, WidthIn: 12, HeightIn: 12}, 1},
		// 12x12x12.5 = 1800 / 166 = 10.84
		{"usps: over one cubic foot", usps, carrier.Parcel{WeightOz: 16, LengthIn: 12, WidthIn: 12, HeightIn: 12.5}, 11},
		{"ups: the same box", ups, carrier.Parcel{WeightOz: 16, LengthIn: 12, WidthIn: 12, HeightIn: 12.5}, 13},
		// 10x10x13.9 is 1390.0000000000002 in floating point: 10 lb, not 11
		{"float rounding", ups, carrier.Parcel{WeightOz: 16, LengthIn: 10, WidthIn: 10, HeightIn: 13.9}, 10},
		{"actual over dim", ups, carrier.Parcel{WeightOz: 50 * 16, LengthIn: 12, WidthIn: 12, HeightIn: 12}, 50},
		{"no divisor: actual", carrier.RateCard{}, carrier.Parcel{WeightOz: 33, LengthIn: 100, WidthIn: 100, HeightIn: 100}, 3},
		{"huge weight", ups, carrier.Parcel{WeightOz: math.MaxInt64, LengthIn: 1, WidthIn: 1, HeightIn: 1}, math.MaxInt64 / 16},
	} {
		if got := tt.card.BillableLb(tt.parcel); got != tt.want {
			t.Errorf("%s: %d lb, want %d", tt.name, got, tt.want)
		}
	}
}

func TestPrice(t *testing.T) {
	cards := shippedCards(t)
	usps := cards[2]
	for _, tt := range []struct {
		service string
		zone    int
		lb      int64
		want    int64 // 0: not offered
	}{
		{"ground_advantage", 1, 1, 545},
		{"ground_advantage", 8, 1, 860},
		{"ground_advantage", 5, 11, 2630}, // tier "up to 12 lb"
		{"ground_advantage", 5, 12, 2630},
		{"ground_advantage", 5, 13, 3170}, // tier "up to 15 lb"
		{"ground_advantage", 8, 70, 21560},
		{"ground_advantage", 8, 71, 0}, // over max weight
		{"ground_advantage", 0, 1, 0},
		{"ground_advantage", 9, 1, 0},
		{"ground_advantage", 1, 0, 0},
		{"parcel_select", 1, 1, 0},
	} {
		got, ok := usps.Price(tt.service, tt.zone, tt.lb)
		if got != tt.want || ok != (tt.want != 0) {
			t.Errorf("usps %s zone %d %d lb: %d, %t; want %d", tt.service, tt.zone, tt.lb, got, ok, tt.want)
		}
	}
}

func TestParcelFor(t *testing.T) {
	units := map[string]carrier.Unit{
		"serum":  {WeightOz: 4, LengthIn: 2, WidthIn: 2, HeightIn: 6},
		"hoodie": {WeightOz: 20, LengthIn: 12, WidthIn: 10, HeightIn: 3},
		"broken": {WeightOz: -1, LengthIn: math.NaN(), WidthIn: math.Inf(1), HeightIn: 0},
	}
	unitOf := func(sku string) (carrier.Unit, bool) {
		u, ok := units[sku]
		return u, ok
	}
	item := func(sku string, qty int64) schemas.LineItem { return schemas.LineItem{SKUID: sku, Quantity: qty} }
	for _, tt := range []struct {
		name   string
		items  []schemas.LineItem
		unitOf carrier.UnitOf
		want   carrier.Parcel
	}{
		{"one known unit, sides sorted", []schemas.LineItem{item("serum", 1)}, unitOf,
			carrier.Parcel{WeightOz: 4, LengthIn: 6, WidthIn: 2, HeightIn: 2}},
		{"three units stack", []schemas.LineItem{item("serum", 3)}, unitOf,
			carrier.Parcel{WeightOz: 12, LengthIn: 6, WidthIn: 2, HeightIn: 6}},
		{"unknown SKU: 8 oz, 8x6x4", []schemas.LineItem{item("mystery", 1)}, unitOf,
			carrier.Parcel{WeightOz: 8, LengthIn: 8, WidthIn: 6, HeightIn: 4}},
		{"no lookup", []schemas.LineItem{item("serum", 2)}, nil,
			carrier.Parcel{WeightOz: 16, LengthIn: 8, WidthIn: 6, HeightIn: 8}},
		{"unusable values default one by one", []schemas.LineItem{item("broken", 1)}, unitOf,
			carrier.Parcel{WeightOz: 8, LengthIn: 8, WidthIn: 6, HeightIn: 4}},
		// 12x10 footprint; volume 360 + 2x24 = 408 in3: 3.4 in high
		{"mixed", []schemas.LineItem{item("hoodie", 1), item("serum", 2), item("gone", 0)}, unitOf,
			carrier.Parcel{WeightOz: 28, LengthIn: 12, WidthIn: 10, HeightIn: 3.4}},
		{"nothing to ship", []schemas.LineItem{item("serum", 0), item("hoodie", -2)}, unitOf, carrier.Parcel{}},
		{"no items", nil, unitOf, carrier.Parcel{}},
	} {
		got := carrier.ParcelFor(tt.items, tt.unitOf)
		if got.WeightOz != tt.want.WeightOz || got.LengthIn != tt.want.LengthIn || got.WidthIn != tt.want.WidthIn ||
			math.Abs(got.HeightIn-tt.want.HeightIn) > 1e-9 {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if p := carrier.ParcelFor([]schemas.LineItem{item("serum", math.MaxInt64)}, unitOf); p.WeightOz != math.MaxInt64 {
		t.Errorf("weight of a huge order: %d, want it saturated", p.WeightOz)
	}
}
