package carrier

import (
	"math"
	"slices"

	"github.com/creatorflow/creatorflow/schemas"
)

// Unit is the weight and size of one unit of a SKU as it ships.
type Unit struct {
	WeightOz                    int64
	LengthIn, WidthIn, HeightIn float64
}

// DefaultUnit is the unit ParcelFor assumes for a SKU whose weight or size
// is unknown: 8 oz in an 8 x 6 x 4 in box, a typical small TikTok Shop
// item (a serum, a phone case, a T-shirt).
var DefaultUnit = Unit{WeightOz: 8, LengthIn: 8, WidthIn: 6, HeightIn: 4}

// UnitOf looks up a SKU's unit by its TikTok SKU id; ok is false when it is
// unknown.
type UnitOf func(skuID string) (u Unit, ok bool)

// ParcelFor is the parcel of an order's line items, all in one box:
//
//   - its weight is the sum of every unit's;
//   - its box is as long as the longest side of any unit and as wide as
//     the longest middle side, and as high as it takes to hold the volume
//     of all the units (at least the highest unit's smallest side).
//
// A SKU that unitOf does not know (or a nil unitOf) counts as DefaultUnit;
// so does any of a known unit's values that is not more than 0 (or not a
// finite number), on its own. Line items with a quantity below 1 are left
// out. An order with no units is an empty Parcel, which Choose refuses.
func ParcelFor(items []schemas.LineItem, unitOf UnitOf) Parcel {
	var (
		weight      int64
		volume      float64
		long, mid   float64
		minHeight   float64
		anyQuantity bool
	)
	for _, it := range items {
		if it.Quantity < 1 {
			continue
		}
		anyQuantity = true
		u := DefaultUnit
		if unitOf != nil {
			if got, ok := unitOf(it.SKUID); ok {
				u = withDefaults(got)
			}
		}
		weight = addSat(weight, mulSat(u.WeightOz, it.Quantity))
		sides := []float64{u.LengthIn, u.WidthIn, u.HeightIn}
		slices.Sort(sides)
		long, mid = max(long, sides[2]), max(mid, sides[1])
		minHeight = max(minHeight, sides[0])
		volume += sides[0] * sides[1] * sides[2] * float64(it.Quantity)
	}
	if !anyQuantity {
		return Parcel{}
	}
	height := max(minHeight, volume/(long*mid))
	return Parcel{WeightOz: weight, LengthIn: long, WidthIn: mid, HeightIn: height}
}

// withDefaults replaces each unusable value of u by DefaultUnit's.
func withDefaults(u Unit) Unit {
	if u.WeightOz <= 0 {
		u.WeightOz = DefaultUnit.WeightOz
	}
	for _, d := range []struct{ v, def *float64 }{
		{&u.LengthIn, &DefaultUnit.LengthIn}, {&u.WidthIn, &DefaultUnit.WidthIn}, {&u.HeightIn, &DefaultUnit.HeightIn},
	} {
		if !(*d.v > 0) || math.IsInf(*d.v, 0) {
			*d.v = *d.def
		}
	}
	return u
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}
