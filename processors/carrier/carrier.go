// Package carrier chooses how an order ships: it holds the carriers' rate
// cards (prices by zone and weight tier, transit days by zone, versioned)
// and ranks every carrier service that can carry a parcel by cost, speed,
// each carrier's observed on-time rate and the health of its API, for the
// carrier-choice stage that emits label commands (actions.label.v1). It is a
// library: it reads no topic.
//
// Rate cards come from JSON files (Parse, ReadFiles; deploy/ratecards) or
// from PostgreSQL (Import, Load), one version per carrier in effect at a
// time (Current). Zone computes the zone between two ZIP codes, ParcelFor
// the parcel of an order's line items, and Choose ranks the options. The
// formats and rules are in docs/carriers.md.
package carrier

import (
	"errors"
	"math"
	"time"
)

// Zones is the number of zones of a rate card: 1 (local) to 8 (farthest).
const Zones = 8

// Currency is the currency of every rate card: the carriers are US
// domestic.
const Currency = "USD"

// RateCard is one version of a carrier's prices and transit times. Once a
// version is imported it never changes: new prices are a new version with
// a later Effective time.
type RateCard struct {
	// Carrier names the carrier, lower case ("usps", "ups", "fedex"): the
	// key of the health and on-time maps Choose is given.
	Carrier string `json:"carrier"`
	// Version names this version of the card, unique per carrier.
	Version string `json:"version"`
	// Effective is when the version takes effect; it applies until the
	// next version's Effective.
	Effective time.Time `json:"effective"`
	// Currency is the currency of the prices: always USD.
	Currency string `json:"currency"`
	// DimDivisor turns a parcel's volume in cubic inches into its
	// dimensional weight in pounds (139 for UPS and FedEx, 166 for USPS).
	DimDivisor int `json:"dim_divisor"`
	// DimMinCubicIn is the volume up to which dimensional weight does not
	// apply: 1728 (one cubic foot) for USPS, 0 for UPS and FedEx.
	DimMinCubicIn int `json:"dim_min_cubic_in"`
	// Services are the carrier's service levels.
	Services []Service `json:"services"`
}

// Service is a carrier's service level on a rate card.
type Service struct {
	// Service names the service level, lower case ("ground", "express"),
	// unique on its card.
	Service string `json:"service"`
	// Name is the carrier's own name of the service, for people.
	Name string `json:"name,omitempty"`
	// MaxWeightLb is the heaviest billable weight the service carries.
	MaxWeightLb int `json:"max_weight_lb"`
	// TransitDays are the business days from pickup to delivery, by zone
	// (TransitDays[0] is zone 1).
	TransitDays [Zones]int `json:"transit_days"`
	// Prices are the weight tiers, lightest first; the last one's UpToLb
	// is MaxWeightLb.
	Prices []Tier `json:"prices"`
}

// Tier is the prices of one weight tier: parcels whose billable weight is
// more than the previous tier's UpToLb and at most this one's.
type Tier struct {
	UpToLb int `json:"up_to_lb"`
	// Cents are the prices in US cents by zone (Cents[0] is zone 1).
	Cents [Zones]int64 `json:"cents"`
}

// Errors of bad input to Choose, wrapped with the details.
var (
	// ErrNoRateCard: Choose was given no rate card.
	ErrNoRateCard = errors.New("no rate card")
	// ErrBadZIP: a ZIP code is malformed or has no zone (military, unused).
	ErrBadZIP = errors.New("bad ZIP code")
	// ErrBadParcel: a parcel's weight or dimensions are unusable.
	ErrBadParcel = errors.New("bad parcel")
	// ErrTooHeavy: the parcel's billable weight is over every service's
	// max weight.
	ErrTooHeavy = errors.New("parcel over every service's max weight")
	// ErrBadRequest: another field of the request or the configuration is
	// unusable.
	ErrBadRequest = errors.New("bad carrier request")
)

// Parcel is what is shipped: its weight and its box.
type Parcel struct {
	WeightOz                    int64
	LengthIn, WidthIn, HeightIn float64
}

// MaxDimensionIn bounds each side of a parcel: a longer side is a unit
// mistaken (centimetres, millimetres), not a box.
const MaxDimensionIn = 1000

// check reports what makes a parcel unusable, or nil.
func (p Parcel) check() error {
	if p.WeightOz <= 0 {
		return errorf(ErrBadParcel, "weight %d oz is not more than 0", p.WeightOz)
	}
	for _, d := range []struct {
		name string
		v    float64
	}{{"length", p.LengthIn}, {"width", p.WidthIn}, {"height", p.HeightIn}} {
		if !(d.v > 0 && d.v <= MaxDimensionIn) {
			return errorf(ErrBadParcel, "%s %v in is not more than 0 and at most %d", d.name, d.v, MaxDimensionIn)
		}
	}
	return nil
}

// roundingSlack absorbs the rounding of float products: 10 x 10 x 13.9 in
// is 1390.0000000000002 cubic inches, which is 10 pounds at 139, not 11.
const roundingSlack = 1e-9

// BillableLb is the weight a card charges a parcel: the larger of its
// actual weight and its dimensional weight, each in whole pounds rounded up
// (at least 1). Dimensional weight is length x width x height / DimDivisor,
// and applies only to parcels of more than DimMinCubicIn cubic inches. The
// parcel must be valid (Choose checks it).
func (c *RateCard) BillableLb(p Parcel) int64 {
	lb := (p.WeightOz + 15) / 16
	if p.WeightOz > math.MaxInt64-15 {
		lb = p.WeightOz / 16
	}
	lb = max(lb, 1)
	if c.DimDivisor <= 0 {
		return lb
	}
	vol := p.LengthIn * p.WidthIn * p.HeightIn
	if vol <= float64(c.DimMinCubicIn) {
		return lb
	}
	dim := int64(math.Ceil(vol/float64(c.DimDivisor) - roundingSlack))
	return max(lb, dim)
}

// Price is what the card's service costs for a billable weight to a zone,
// in cents; ok is false when the card has no such service, the weight is
// over the service's max weight or the zone is not 1 to 8.
func (c *RateCard) Price(service string, zone int, billableLb int64) (cents int64, ok bool) {
	for i := range c.Services {
		if c.Services[i].Service == service {
			return c.Services[i].price(zone, billableLb)
		}
	}
	return 0, false
}

func (s *Service) price(zone int, billableLb int64) (int64, bool) {
	if zone < 1 || zone > Zones || billableLb < 1 || billableLb > int64(s.MaxWeightLb) {
		return 0, false
	}
	// Tiers are few (tens): a scan is as fast as a binary search.
	for i := range s.Prices {
		if int64(s.Prices[i].UpToLb) >= billableLb {
			return s.Prices[i].Cents[zone-1], true
		}
	}
	return 0, false
}

// Transit is the service's business days of transit to a zone, or 0 when
// the zone is not 1 to 8.
func (s *Service) Transit(zone int) int {
	if zone < 1 || zone > Zones {
		return 0
	}
	return s.TransitDays[zone-1]
}
