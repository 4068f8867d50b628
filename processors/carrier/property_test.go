package carrier_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas"
)

// zip3s are prefixes that have a zone.
var zip3s = func() []int {
	var out []int
	for z := range 1000 {
		if _, err := carrier.ZIP3(fmt.Sprintf("%03d00", z)); err == nil {
			out = append(out, z)
		}
	}
	return out
}()

// randomCards are 1 to 4 carriers of 1 to 4 services with random, valid
// tables: prices and transit days that do not fall with zone or weight.
func randomCards(r *rand.Rand) []carrier.RateCard {
	n := 1 + r.IntN(4)
	cards := make([]carrier.RateCard, n)
	for i := range cards {
		c := card(fmt.Sprintf("c%d", i))
		c.DimDivisor = []int{139, 166, 194}[r.IntN(3)]
		c.DimMinCubicIn = []int{0, 1728}[r.IntN(2)]
		for j := range 1 + r.IntN(4) {
			s := carrier.Service{Service: fmt.Sprintf("s%d", j), MaxWeightLb: 1 + r.IntN(150)}
			days := 1 + r.IntN(3)
			for z := range carrier.Zones {
				days += r.IntN(2)
				s.TransitDays[z] = days
			}
			var prev [carrier.Zones]int64
			for lb := 1; lb <= s.MaxWeightLb; lb += 1 + r.IntN(20) {
				t := carrier.Tier{UpToLb: lb}
				for z := range carrier.Zones {
					t.Cents[z] = max(prev[z], 100+int64(r.IntN(5000)))
					if z > 0 {
						t.Cents[z] = max(t.Cents[z], t.Cents[z-1])
					}
				}
				s.Prices, prev = append(s.Prices, t), t.Cents
			}
			last := &s.Prices[len(s.Prices)-1]
			if last.UpToLb != s.MaxWeightLb {
				s.Prices = append(s.Prices, carrier.Tier{UpToLb: s.MaxWeightLb, Cents: last.Cents})
			}
			c.Services = append(c.Services, s)
		}
		if _, err := carrier.Validate(c); err != nil {
			panic(err)
		}
		cards[i] = c
	}
	return cards
}

// oracle computes ship and delivery dates the slow way, day by day with
// the time package.
type oracle struct {
	cfg carrier.Config
}

func (o oracle) business(t time.Time) bool {
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	for _, h := range o.cfg.Holidays {
		hy, hm, hd := h.Date()
		if y, m, d := t.Date(); y == hy && m == hm && d == hd {
			return false
		}
	}
	return true
}

// date is t's date at midnight in the configuration's location.
func (o oracle) date(t time.Time) time.Time {
	t = t.In(o.cfg.Location)
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, o.cfg.Location)
}

func (o oracle) ship(now time.Time) time.Time {
	ready := now.Add(o.cfg.Handling)
	d := o.date(ready)
	if ready.In(o.cfg.Location).Sub(d) >= o.cfg.Cutoff {
		d = d.AddDate(0, 0, 1)
	}
	for !o.business(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

func (o oracle) delivery(ship time.Time, transit int) time.Time {
	d := ship
	for transit > 0 {
		d = d.AddDate(0, 0, 1)
		if o.business(d) {
			transit--
		}
	}
	return d
}

type option struct {
	carrier, service string
	rate             int64
	transit          int
	meets            bool
}

// TestChooseProperties checks, over thousands of random requests (random
// places, parcels, priorities, times, promises, circuit states, records,
// holidays and time zones, on the shipped cards and on random ones):
// the options meet the promise whenever any service can; when none can,
// they are every available option; never a carrier whose circuit is open;
// closed circuits before half-open ones; scores falling down the list;
// rates and transit days as the cards have them; the same decision
// whatever the order of the cards; errors only for a parcel over every
// max weight.
func TestChooseProperties(t *testing.T) {
	const seed = 20250910
	r := rand.New(rand.NewPCG(seed, 1))
	shipped := shippedCards(t)
	est := time.FixedZone("EST", -5*3600)
	states := []schemas.CircuitState{"", schemas.CircuitClosed, schemas.CircuitHalfOpen, schemas.CircuitOpen}
	priorities := []schemas.PriorityClass{schemas.PriorityHigh, schemas.PriorityStandard, schemas.PriorityManualReview}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	zip := func() string {
		z := fmt.Sprintf("%03d%02d", zip3s[r.IntN(len(zip3s))], r.IntN(100))
		if r.IntN(4) == 0 {
			z += fmt.Sprintf("-%04d", r.IntN(10000))
		}
		return z
	}
	var meeting, fallback, empty, tooHeavy int
	for i := range 5000 {
		cards := shipped
		if i%2 == 1 {
			cards = randomCards(r)
		}
		cfg := carrier.DefaultConfig()
		if r.IntN(2) == 0 {
			cfg.Location = est
		}
		for range r.IntN(4) {
			cfg.Holidays = append(cfg.Holidays, start.AddDate(0, 0, r.IntN(380)))
		}
		cfg.Handling = time.Duration(r.IntN(6)) * time.Hour
		cfg.HighMaxTransitDays = r.IntN(4)
		health := map[string]carrier.Health{}
		onTime := map[string]carrier.OnTime{}
		for _, c := range cards {
			if s := states[r.IntN(len(states))]; s != "" {
				health[c.Carrier] = carrier.Health{Carrier: c.Carrier, State: s}
			}
			delivered := r.IntN(3) * r.IntN(2000)
			onTime[c.Carrier] = carrier.OnTime{Delivered: delivered, OnTime: delivered - r.IntN(delivered/4+1)}
		}
		now := start.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
		req := carrier.Request{
			Origin: zip(), Destination: zip(), Priority: priorities[r.IntN(len(priorities))], Now: now,
			Parcel: carrier.Parcel{WeightOz: 1 + r.Int64N(100*16), LengthIn: 1 + 30*r.Float64(), WidthIn: 1 + 20*r.Float64(), HeightIn: 1 + 20*r.Float64()},
		}
		if r.IntN(3) == 0 {
			req.ShipBy = now.Add(time.Duration(r.IntN(72)) * time.Hour)
		} else {
			req.Deadline = now.Add(time.Duration(r.IntN(12*24)) * time.Hour)
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("request %d (seed %d): %s\nrequest %+v\nconfig %+v\nhealth %v", i, seed, fmt.Sprintf(format, args...), req, cfg, health)
		}

		// What the answer must be, the slow way.
		o := oracle{cfg}
		ship := o.ship(now)
		deadline := req.Deadline
		if deadline.IsZero() {
			deadline = cfg.Deadline(req.ShipBy)
		}
		promise := o.date(deadline)
		zone, err := carrier.Zone(req.Origin, req.Destination)
		if err != nil {
			fail("zone: %v", err)
		}
		var available []option
		fits := false
		for _, c := range cards {
			lb := c.BillableLb(req.Parcel)
			for _, s := range c.Services {
				rate, ok := c.Price(s.Service, zone, lb)
				fits = fits || ok
				if !ok || health[c.Carrier].State == schemas.CircuitOpen {
					continue
				}
				meets := !o.delivery(ship, s.Transit(zone)).After(promise)
				available = append(available, option{c.Carrier, s.Service, rate, s.Transit(zone), meets})
			}
		}
		anyMeets := false
		for _, a := range available {
			anyMeets = anyMeets || a.meets
		}

		d, err := cfg.Choose(req, cards, health, onTime)
		if !fits {
			if !errors.Is(err, carrier.ErrTooHeavy) {
				fail("no service fits, but: %+v, %v", d, err)
			}
			tooHeavy++
			continue
		}
		if err != nil {
			fail("%v", err)
		}
		if d.MeetsPromise != anyMeets {
			fail("meets the promise: %t, but some option does: %t\n%s", d.MeetsPromise, anyMeets, d.Reason)
		}
		if !d.ShipDate.Equal(ship) {
			fail("ships %v, want %v", d.ShipDate, ship)
		}
		want := 0
		for _, a := range available {
			if a.meets || !anyMeets {
				want++
			}
		}
		if len(d.Options) != want {
			fail("%d options, want %d: %v", len(d.Options), want, ranked(d))
		}
		switch {
		case len(d.Options) == 0:
			empty++
		case anyMeets:
			meeting++
		default:
			fallback++
		}
		halfOpenSeen := false
		for k, opt := range d.Options {
			idx := -1
			for j, a := range available {
				if a.carrier == opt.Carrier && a.service == opt.Service {
					idx = j
				}
			}
			if idx < 0 {
				fail("option %+v is not available (circuit open?)", opt)
			}
			a := available[idx]
			if anyMeets && !a.meets {
				fail("option %+v does not meet the promise %v", opt, promise)
			}
			if opt.Rate != a.rate || opt.EstimatedDays != a.transit || opt.Currency != "USD" {
				fail("option %+v, want rate %d and %d days", opt, a.rate, a.transit)
			}
			halfOpen := health[opt.Carrier].State == schemas.CircuitHalfOpen
			if halfOpenSeen && !halfOpen {
				fail("%s (closed) after a half-open carrier: %v", opt.Carrier, ranked(d))
			}
			halfOpenSeen = halfOpenSeen || halfOpen
			if !(opt.Score > 0 && opt.Score <= 1) || k > 0 && opt.Score > d.Options[k-1].Score {
				fail("scores %+v", d.Options)
			}
			if k > 0 && !anyMeets && d.Quotes[k-1].HalfOpen == d.Quotes[k].HalfOpen && opt.EstimatedDays < d.Options[k-1].EstimatedDays {
				fail("not fastest first: %+v", d.Options)
			}
		}

		// The same decision, whatever the order of the cards.
		shuffled := append([]carrier.RateCard(nil), cards...)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		again, err := cfg.Choose(req, shuffled, health, onTime)
		if err != nil || !reflect.DeepEqual(again, d) {
			fail("shuffled cards change the decision:\n%+v\n%+v\n%v", d, again, err)
		}
	}
	t.Logf("5000 requests: %d meeting the promise, %d not, %d with every carrier open, %d too heavy", meeting, fallback, empty, tooHeavy)
	if meeting < 1000 || fallback < 100 || empty < 10 || tooHeavy < 10 {
		t.Errorf("the random requests do not cover every outcome")
	}
}
