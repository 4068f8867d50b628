package carrier

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creatorflow/creatorflow/schemas"
)

// Health is a carrier's latest health report (carriers.health.v1, published
// by the label executor). Choose reads only its State.
type Health = schemas.CarrierHealth

// OnTime is a carrier's delivery record: how many of its shipments were
// delivered, and how many of those by their promise (from carrier.webhooks.v1
// and results.label.v1).
type OnTime struct {
	Delivered, OnTime int
}

// Request is what Choose needs to know of an order.
type Request struct {
	// Origin is the warehouse's ZIP code, Destination the recipient's
	// (RecipientAddress.PostalCode): 5 digits or ZIP+4.
	Origin, Destination string
	// Parcel is what ships (ParcelFor).
	Parcel Parcel
	// Priority is the order's class; MANUAL_REVIEW is ranked as STANDARD.
	Priority schemas.PriorityClass
	// ShipBy is the deadline to hand the parcel to the carrier (the
	// order's shipping_due_time). Choose notes when the parcel cannot make
	// it; it does not change the choice.
	ShipBy time.Time
	// Deadline is the delivery promise: the parcel must be delivered on or
	// before its date (in Config.Location). Zero: Config.Deadline(ShipBy).
	Deadline time.Time
	// Now is the decision's event time: the parcel is ready for pickup
	// Config.Handling after it.
	Now time.Time
}

// Config holds the rules' settings. docs/carriers.md explains each; every
// weight and threshold of the choice is here, none in the code.
type Config struct {
	// Location is the warehouse's time zone, in which ship dates, delivery
	// dates and the promise's date are counted; nil is UTC.
	Location *time.Location
	// Cutoff is the time of day (since midnight in Location) of the last
	// pickup: a parcel ready at or after it ships the next business day.
	Cutoff time.Duration
	// Handling is the time from the decision to the parcel being ready for
	// pickup (picking, packing).
	Handling time.Duration
	// Holidays are dates without pickups or deliveries, besides Saturdays
	// and Sundays. Each is its date in its own location.
	Holidays []time.Time
	// ShipWithin makes the ship-by time of an order that has neither a
	// shipping_due_time nor an rts_sla_time: its create time plus this
	// (NewRequest).
	ShipWithin time.Duration
	// PromiseDays is the delivery promise: delivered within this many
	// business days after the ship-by date (Deadline).
	PromiseDays int
	// LateCost is what a late delivery costs, in cents (refunds, support,
	// the shop's rating): an option's cost adds it times the carrier's
	// chance of being late.
	LateCost int64
	// OnTimePrior is the on-time rate assumed of a carrier without history,
	// and OnTimePriorWeight how many deliveries that assumption counts as
	// against the observed ones.
	OnTimePrior, OnTimePriorWeight float64
	// DayCost is what a business day of transit costs in cents, in the
	// ranking of STANDARD and MANUAL_REVIEW orders; HighDayCost for HIGH.
	DayCost, HighDayCost int64
	// HighMaxTransitDays ranks, for HIGH orders, the services of at most
	// this many business days of transit before the slower ones; 0 does
	// not.
	HighMaxTransitDays int
}

// DefaultConfig is the configuration Choose uses.
func DefaultConfig() Config {
	return Config{
		Location:           time.UTC,
		Cutoff:             15 * time.Hour,
		Handling:           time.Hour,
		ShipWithin:         72 * time.Hour,
		PromiseDays:        5,
		LateCost:           1000,
		OnTimePrior:        0.9,
		OnTimePriorWeight:  50,
		DayCost:            25,
		HighDayCost:        400,
		HighMaxTransitDays: 2,
	}
}

// Validate reports a setting out of its range.
func (c Config) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if !(c.Cutoff > 0 && c.Cutoff <= 24*time.Hour) {
		bad("cutoff %v is not a time of day after 0:00 and at most 24:00", c.Cutoff)
	}
	if c.Handling < 0 {
		bad("handling %v is negative", c.Handling)
	}
	if c.ShipWithin < 0 {
		bad("ship-within %v is negative", c.ShipWithin)
	}
	if c.PromiseDays < 0 || c.PromiseDays > 60 {
		bad("promise of %d business days is not 0 to 60", c.PromiseDays)
	}
	if c.LateCost < 0 || c.DayCost < 0 || c.HighDayCost < 0 {
		bad("late cost %d, day cost %d and high day cost %d must be >= 0", c.LateCost, c.DayCost, c.HighDayCost)
	}
	if !(c.OnTimePrior > 0 && c.OnTimePrior < 1) || !(c.OnTimePriorWeight > 0 && c.OnTimePriorWeight < 1e9) {
		bad("on-time prior %v must be between 0 and 1 and its weight %v more than 0", c.OnTimePrior, c.OnTimePriorWeight)
	}
	if c.HighMaxTransitDays < 0 {
		bad("high max transit days %d is negative", c.HighMaxTransitDays)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: config: %s", ErrBadRequest, strings.Join(errs, "; "))
	}
	return nil
}

func (c Config) location() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// Deadline is the delivery promise of an order that must ship by shipBy:
// the end of the day (in Location) PromiseDays business days after
// shipBy's date.
func (c Config) Deadline(shipBy time.Time) time.Time {
	loc := c.location()
	cal := newCalendar(loc, c.Holidays)
	d, _ := dayOf(shipBy, loc)
	return (cal.add(d, c.PromiseDays) + 1).at(loc).Add(-time.Nanosecond)
}

// NewRequest is the request of an order: to its recipient's postal code,
// ship-by its shipping_due_time (else its rts_sla_time, else its create
// time plus ShipWithin), promised by Deadline(ship-by), decided at now.
func (c Config) NewRequest(o schemas.OrderEvent, origin string, p Parcel, class schemas.PriorityClass, now time.Time) Request {
	shipBy := o.ShippingDueTime
	switch {
	case !shipBy.IsZero():
	case !o.RTSSLATime.IsZero():
		shipBy = o.RTSSLATime
	case !o.CreateTime.IsZero():
		shipBy = o.CreateTime.Add(c.ShipWithin)
	default:
		shipBy = now.Add(c.ShipWithin)
	}
	return Request{
		Origin: origin, Destination: o.RecipientAddress.PostalCode, Parcel: p, Priority: class,
		ShipBy: shipBy, Deadline: c.Deadline(shipBy), Now: now,
	}
}

// Quote is one ranked option with the figures behind its rank.
type Quote struct {
	Carrier, Service string
	// Version is the rate card's version the rate comes from.
	Version string
	// BillableLb is the weight the carrier charges (BillableLb).
	BillableLb int64
	// Rate is the price in cents.
	Rate int64
	// TransitDays are business days from the ship date.
	TransitDays int
	// Delivery is the estimated delivery date (midnight in the location).
	Delivery time.Time
	// MeetsPromise: Delivery is not after the promise's date.
	MeetsPromise bool
	// HalfOpen: the carrier's circuit is not closed (half-open, or a state
	// Choose does not know).
	HalfOpen bool
	// Slow: a HIGH order's service over HighMaxTransitDays.
	Slow bool
	// OnTimeRate is the carrier's estimated on-time rate.
	OnTimeRate float64
	// Cost is the ranking cost in cents: the rate, plus LateCost times the
	// chance of being late, plus the day cost of each transit day.
	Cost float64
	// Score is the option's score (CarrierOption.Score).
	Score float64
}

// Decision is the ranked options for an order and why.
type Decision struct {
	// Options are the carrier services to try, best first, for the label
	// command; Quotes the same with their figures.
	Options []schemas.CarrierOption
	Quotes  []Quote
	// MeetsPromise: the options meet the delivery promise. When none can,
	// Options are the fastest available instead, and the caller may send
	// the order to manual review.
	MeetsPromise bool
	// Reason explains the choice, for people.
	Reason string
	// Zone is the zone from the origin to the destination.
	Zone int
	// ShipDate is the day the parcel is picked up and Deadline the date
	// of the promise, both at midnight in the location.
	ShipDate, Deadline time.Time
}

// Choose ranks the carrier options of a request with DefaultConfig; see
// Config.Choose.
func Choose(req Request, cards []RateCard, health map[string]Health, onTime map[string]OnTime) (Decision, error) {
	return DefaultConfig().Choose(req, cards, health, onTime)
}

// Choose ranks every carrier service of cards (one card per carrier) that
// can carry the request's parcel to its destination by the promise:
//
//  1. Services whose max weight is under the parcel's billable weight, and
//     carriers whose circuit is OPEN, are out.
//  2. Only services whose delivery date (their transit days in business
//     days after the ship date) is not after the promise's date are
//     ranked. When none is, the available options are ranked fastest first
//     instead and the decision says the promise cannot be met.
//  3. Carriers whose circuit is CLOSED (or that have no health report)
//     come before those whose circuit is HALF_OPEN.
//  4. For HIGH orders, services of at most HighMaxTransitDays come first.
//  5. Then the lowest cost first: the rate, plus LateCost times the
//     carrier's chance of being late (one minus its on-time rate, a
//     Bayesian estimate starting from OnTimePrior), plus the day cost of
//     each transit day (HighDayCost for HIGH orders).
//  6. Ties go to the fewer transit days, the lower rate, then the
//     carrier's and the service's names: the ranking depends on nothing
//     else (not on the order of cards).
//
// An option's score is in a band per group of rules 3 and 4 (closed: above
// one half; for HIGH orders, closed and fast: above three quarters), and
// within its band it is the best cost of the band over its cost (the
// fewest transit days over its own when the promise cannot be met), so
// scores fall down the list. Choose fails only on bad input: no card, two
// cards of one carrier, a bad ZIP code, a bad parcel or one over every
// service's max weight, an unknown priority, no time or no promise.
func (c Config) Choose(req Request, cards []RateCard, health map[string]Health, onTime map[string]OnTime) (Decision, error) {
	if err := c.Validate(); err != nil {
		return Decision{}, err
	}
	if len(cards) == 0 {
		return Decision{}, ErrNoRateCard
	}
	for i := range cards {
		for j := range i {
			if cards[i].Carrier == cards[j].Carrier {
				return Decision{}, errorf(ErrBadRequest, "two rate cards of %s (versions %s and %s): give the one in effect (Current)",
					cards[i].Carrier, cards[j].Version, cards[i].Version)
			}
		}
	}
	from, err := ZIP3(req.Origin)
	if err != nil {
		return Decision{}, fmt.Errorf("origin: %w", err)
	}
	to, err := ZIP3(req.Destination)
	if err != nil {
		return Decision{}, fmt.Errorf("destination: %w", err)
	}
	if err := req.Parcel.check(); err != nil {
		return Decision{}, err
	}
	high := false
	switch req.Priority {
	case schemas.PriorityHigh:
		high = true
	case schemas.PriorityStandard, schemas.PriorityManualReview:
	default:
		return Decision{}, errorf(ErrBadRequest, "priority %q is not HIGH, STANDARD or MANUAL_REVIEW", req.Priority)
	}
	if req.Now.IsZero() {
		return Decision{}, errorf(ErrBadRequest, "no decision time (now)")
	}
	deadline := req.Deadline
	if deadline.IsZero() {
		if req.ShipBy.IsZero() {
			return Decision{}, errorf(ErrBadRequest, "no delivery promise: neither a deadline nor a ship-by time")
		}
		deadline = c.Deadline(req.ShipBy)
	}

	loc := c.location()
	cal := newCalendar(loc, c.Holidays)
	ready, clock := dayOf(req.Now.Add(c.Handling), loc)
	if clock >= c.Cutoff {
		ready++
	}
	ship := cal.onOrAfter(ready)
	promise, _ := dayOf(deadline, loc)
	zone := zip3Zone(from, to)
	dayCost := c.DayCost
	if high {
		dayCost = c.HighDayCost
	}

	var (
		quotes    = make([]Quote, 0, 8)
		fits      bool
		open      []string
		heavy     []string
		delivery  [MaxTransitDays + 1]day // by transit days, 0: not computed
		deliverAt [MaxTransitDays + 1]time.Time
		maxWeight int
	)
	for ci := range cards {
		card := &cards[ci]
		billable := card.BillableLb(req.Parcel)
		state := schemas.CircuitClosed
		if h, ok := health[card.Carrier]; ok && h.State != "" {
			state = h.State
		}
		rate := c.onTimeRate(onTime[card.Carrier])
		for si := range card.Services {
			s := &card.Services[si]
			maxWeight = max(maxWeight, s.MaxWeightLb)
			cents, ok := s.price(zone, billable)
			if !ok {
				heavy = append(heavy, fmt.Sprintf("%s %s (%d lb billable, max %d)", card.Carrier, s.Service, billable, s.MaxWeightLb))
				continue
			}
			fits = true
			if state == schemas.CircuitOpen {
				if !slices.Contains(open, card.Carrier) {
					open = append(open, card.Carrier)
				}
				continue
			}
			transit := min(max(s.Transit(zone), 0), MaxTransitDays)
			if delivery[transit] == 0 {
				delivery[transit] = cal.add(ship, transit)
				deliverAt[transit] = delivery[transit].at(loc)
			}
			q := Quote{
				Carrier: card.Carrier, Service: s.Service, Version: card.Version,
				BillableLb: billable, Rate: cents, TransitDays: transit,
				Delivery:     deliverAt[transit],
				MeetsPromise: delivery[transit] <= promise,
				HalfOpen:     state != schemas.CircuitClosed,
				Slow:         high && c.HighMaxTransitDays > 0 && transit > c.HighMaxTransitDays,
				OnTimeRate:   rate,
			}
			q.Cost = float64(cents) + (1-rate)*float64(c.LateCost) + float64(int64(transit)*dayCost)
			quotes = append(quotes, q)
		}
	}
	if !fits {
		return Decision{}, fmt.Errorf("%w: %d oz in %vx%vx%v in; heaviest service max %d lb: %s", ErrTooHeavy,
			req.Parcel.WeightOz, req.Parcel.LengthIn, req.Parcel.WidthIn, req.Parcel.HeightIn, maxWeight, strings.Join(heavy, ", "))
	}

	meeting := 0
	for _, q := range quotes {
		if q.MeetsPromise {
			meeting++
		}
	}
	d := Decision{MeetsPromise: meeting > 0, Zone: zone, ShipDate: ship.at(loc), Deadline: promise.at(loc)}
	if d.MeetsPromise {
		quotes = slices.DeleteFunc(quotes, func(q Quote) bool { return !q.MeetsPromise })
	} else {
		for i := range quotes {
			quotes[i].Slow = false // fastest first anyway
		}
	}
	quotes = sorted(quotes, d.MeetsPromise)
	score(quotes, d.MeetsPromise)
	d.Quotes = quotes
	d.Options = make([]schemas.CarrierOption, len(quotes))
	for i, q := range quotes {
		d.Options[i] = schemas.CarrierOption{Carrier: q.Carrier, Service: q.Service, Rate: q.Rate, Currency: Currency,
			EstimatedDays: q.TransitDays, Score: q.Score}
	}
	d.Reason = c.reason(req, &d, cards, onTime, open, heavy, meeting)
	return d, nil
}

// onTimeRate is the carrier's on-time rate: the observed one pulled towards
// the prior, (on time + prior x weight) / (delivered + weight), so a
// carrier without history gets the prior, neither penalized nor favoured.
// Counts below 0 count as 0, and more on time than delivered as all.
func (c Config) onTimeRate(o OnTime) float64 {
	delivered := float64(max(o.Delivered, 0))
	on := min(float64(max(o.OnTime, 0)), delivered)
	return (on + c.OnTimePrior*c.OnTimePriorWeight) / (delivered + c.OnTimePriorWeight)
}

// band is a quote's group in the ranking (rules 3 and 4), 0 the best.
func (q *Quote) band() int {
	b := 0
	if q.HalfOpen {
		b += 2
	}
	if q.Slow {
		b++
	}
	return b
}

// sorted orders quotes by cost (rules 3 to 6) or, when none meets the
// promise, fastest first. It sorts their indexes, not the quotes, which are
// large.
func sorted(quotes []Quote, byCost bool) []Quote {
	var buf [16]int
	order := buf[:0]
	for i := range quotes {
		order = append(order, i)
	}
	cmp := func(a, b int) int { return byTransit(&quotes[a], &quotes[b]) }
	if byCost {
		cmp = func(a, b int) int { return byCostOrder(&quotes[a], &quotes[b]) }
	}
	slices.SortFunc(order, cmp)
	out := make([]Quote, len(quotes))
	for i, j := range order {
		out[i] = quotes[j]
	}
	return out
}

// byCostOrder orders quotes that meet the promise (rules 3 to 6).
func byCostOrder(a, b *Quote) int {
	if c := a.band() - b.band(); c != 0 {
		return c
	}
	if a.Cost != b.Cost {
		return cmpFloat(a.Cost, b.Cost)
	}
	return tieBreak(a, b)
}

// byTransit orders quotes when none meets the promise: fastest first.
func byTransit(a, b *Quote) int {
	if c := a.band() - b.band(); c != 0 {
		return c
	}
	if a.TransitDays != b.TransitDays {
		return a.TransitDays - b.TransitDays
	}
	if a.Cost != b.Cost {
		return cmpFloat(a.Cost, b.Cost)
	}
	return tieBreak(a, b)
}

func tieBreak(a, b *Quote) int {
	switch {
	case a.TransitDays != b.TransitDays:
		return a.TransitDays - b.TransitDays
	case a.Rate != b.Rate:
		return cmpInt(a.Rate, b.Rate)
	case a.Carrier != b.Carrier:
		return strings.Compare(a.Carrier, b.Carrier)
	}
	return strings.Compare(a.Service, b.Service)
}

func cmpFloat(a, b float64) int {
	if a < b {
		return -1
	}
	return 1
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	return 1
}

// bands is the number of score bands: closed or half-open, fast or slow.
const bands = 4

// score sets the scores of ranked quotes: (bands - 1 - band + best/own) /
// bands, with the band's lowest cost (or fewest transit days) as best,
// rounded to 4 decimals.
func score(quotes []Quote, byCost bool) {
	metric := func(q *Quote) float64 {
		if byCost {
			return q.Cost
		}
		return float64(q.TransitDays)
	}
	for i := range quotes {
		q := &quotes[i]
		if i == 0 || q.band() != quotes[i-1].band() {
			best := metric(q)
			for j := i; j < len(quotes) && quotes[j].band() == q.band(); j++ {
				best = min(best, metric(&quotes[j]))
			}
			for j := i; j < len(quotes) && quotes[j].band() == q.band(); j++ {
				ratio := 1.0
				if m := metric(&quotes[j]); m > 0 {
					ratio = best / m
				}
				quotes[j].Score = math.Round((float64(bands-1-quotes[j].band())+ratio)/bands*1e4) / 1e4
			}
		}
	}
}

// reason explains a decision in one line. It appends to a byte slice
// rather than formatting: it is a third of the cost of Choose otherwise.
func (c Config) reason(req Request, d *Decision, cards []RateCard, onTime map[string]OnTime, open, heavy []string, meeting int) string {
	const date = "Mon 2006-01-02"
	b := make([]byte, 0, 320)
	switch req.Priority {
	case schemas.PriorityHigh:
		b = append(b, "HIGH priority: "...)
	case schemas.PriorityManualReview:
		b = append(b, "MANUAL_REVIEW (options for the reviewer): "...)
	}
	if len(d.Quotes) == 0 {
		b = append(b, "no carrier available: every carrier that can carry the parcel has its circuit open"...)
	} else {
		q := &d.Quotes[0]
		if !d.MeetsPromise {
			b = append(b, "the promise cannot be met: no option delivers by "...)
			b = d.Deadline.AppendFormat(b, date)
			b = append(b, "; the fastest is "...)
		}
		b = append(append(append(append(b, q.Carrier...), ' '), q.Service...), " at "...)
		b = appendDollars(b, q.Rate)
		b = append(b, " (zone "...)
		b = strconv.AppendInt(b, int64(d.Zone), 10)
		b = append(b, ", "...)
		b = strconv.AppendInt(b, q.BillableLb, 10)
		b = append(b, " lb billable), "...)
		b = appendPlural(b, q.TransitDays, "business day")
		b = append(b, ", delivery "...)
		b = q.Delivery.AppendFormat(b, date)
		if d.MeetsPromise {
			b = append(b, " (promise "...)
			b = d.Deadline.AppendFormat(b, date)
			b = append(b, "): "...)
			fast := 0
			for i := range d.Quotes {
				if !d.Quotes[i].Slow {
					fast++
				}
			}
			switch {
			case req.Priority == schemas.PriorityHigh && c.HighMaxTransitDays > 0 && fast > 0:
				b = append(b, "lowest weighted cost of "...)
				b = appendPlural(b, fast, "option")
				b = append(b, " within "...)
				b = appendPlural(b, c.HighMaxTransitDays, "business day")
				b = append(b, " ("...)
				b = strconv.AppendInt(b, int64(meeting), 10)
				b = append(b, " meet the promise)"...)
			case req.Priority == schemas.PriorityHigh && c.HighMaxTransitDays > 0:
				b = append(b, "no option within "...)
				b = appendPlural(b, c.HighMaxTransitDays, "business day")
				b = append(b, "; lowest weighted cost of "...)
				b = appendPlural(b, meeting, "option")
				b = append(b, " meeting the promise"...)
			default:
				b = append(b, "lowest weighted cost of "...)
				b = appendPlural(b, meeting, "option")
				b = append(b, " meeting the promise"...)
			}
			if q.HalfOpen {
				b = append(b, "; its circuit is half-open: no carrier with a closed circuit meets the promise"...)
			}
		} else {
			b = append(b, ", shipping "...)
			b = d.ShipDate.AppendFormat(b, date)
			b = append(b, "; "...)
			b = appendPlural(b, len(d.Quotes), "option")
			b = append(b, " ranked fastest first"...)
		}
	}
	b = append(b, "; on time:"...)
	var buf [8]string
	carriers := buf[:0]
	for i := range cards {
		carriers = append(carriers, cards[i].Carrier)
	}
	slices.Sort(carriers)
	for i, name := range carriers {
		if i > 0 {
			b = append(b, ',')
		}
		o := onTime[name]
		b = append(append(b, ' '), name...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(math.Round(100*c.onTimeRate(o))), 10)
		b = append(b, '%')
		if o.Delivered <= 0 {
			b = append(b, " (no history)"...)
		} else {
			b = append(b, " of "...)
			b = strconv.AppendInt(b, int64(o.Delivered), 10)
		}
	}
	if len(open) > 0 {
		slices.Sort(open)
		b = append(b, "; circuit open, excluded: "...)
		b = appendList(b, open)
	}
	if len(heavy) > 0 {
		slices.Sort(heavy)
		b = append(b, "; over max weight: "...)
		b = appendList(b, heavy)
	}
	if !req.ShipBy.IsZero() {
		loc := c.location()
		if by, _ := dayOf(req.ShipBy, loc); by.at(loc).Before(d.ShipDate) {
			b = append(b, "; ships "...)
			b = d.ShipDate.AppendFormat(b, date)
			b = append(b, ", after the ship-by time "...)
			b = req.ShipBy.In(loc).AppendFormat(b, "Mon 2006-01-02 15:04 MST")
		}
	}
	return string(b)
}

func appendDollars(b []byte, cents int64) []byte {
	if cents < 0 {
		b, cents = append(b, '-'), -cents
	}
	b = append(b, '$')
	b = strconv.AppendInt(b, cents/100, 10)
	b = append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10))
	return b
}

func appendPlural(b []byte, n int, unit string) []byte {
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(append(b, ' '), unit...)
	if n != 1 {
		b = append(b, 's')
	}
	return b
}

func appendList(b []byte, items []string) []byte {
	for i, s := range items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, s...)
	}
	return b
}

func errorf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}
