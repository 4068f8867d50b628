package carrier_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas"
)

// svc is a service of a test card: one price and one transit time for
// every zone and weight up to 70 lb.
func svc(name string, cents int64, days int) carrier.Service {
	s := carrier.Service{Service: name, MaxWeightLb: 70}
	var prices [carrier.Zones]int64
	for z := range carrier.Zones {
		s.TransitDays[z] = days
		prices[z] = cents
	}
	s.Prices = []carrier.Tier{{UpToLb: 70, Cents: prices}}
	return s
}

func card(name string, services ...carrier.Service) carrier.RateCard {
	return carrier.RateCard{Carrier: name, Version: "test", Effective: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Currency: "USD", DimDivisor: 139, Services: services}
}

// day is a date at midnight UTC.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// wednesday is the decision time of the rule tests: ready for pickup at
// 11:00, before the cutoff, so it ships the same day.
var wednesday = time.Date(2025, 9, 10, 10, 0, 0, 0, time.UTC)

func request(priority schemas.PriorityClass, deadline time.Time) carrier.Request {
	return carrier.Request{Origin: "10001", Destination: "60601", Priority: priority, Now: wednesday, Deadline: deadline,
		Parcel: carrier.Parcel{WeightOz: 12, LengthIn: 8, WidthIn: 6, HeightIn: 2}}
}

func ranked(d carrier.Decision) []string {
	var out []string
	for _, o := range d.Options {
		out = append(out, o.Carrier+"/"+o.Service)
	}
	return out
}

// TestChooseRules has a case per rule of Config.Choose, on cards with
// flat prices (the default config: late cost $10, prior 90% over 50
// deliveries, a day costs 25 cents, $4 for HIGH, whose fast tier is 2
// business days).
func TestChooseRules(t *testing.T) {
	var (
		friday    = day(2025, 9, 12) // 2 business days after Wednesday
		nextWeek  = day(2025, 9, 17) // 5
		today     = day(2025, 9, 10)
		slowFast  = card("a", svc("slow", 500, 5), svc("fast", 2000, 1))
		x1000     = card("x", svc("ground", 1000, 2))
		y1050     = card("y", svc("ground", 1050, 2))
		closed    = carrier.Health{State: schemas.CircuitClosed}
		open      = carrier.Health{State: schemas.CircuitOpen}
		halfOpen  = carrier.Health{State: schemas.CircuitHalfOpen}
		noHistory = map[string]carrier.OnTime(nil)
		light     = svc("light", 500, 3) // up to 10 lb
	)
	light.MaxWeightLb, light.Prices[0].UpToLb = 10, 10
	for _, tt := range []struct {
		name       string
		cards      []carrier.RateCard
		health     map[string]carrier.Health
		onTime     map[string]carrier.OnTime
		priority   schemas.PriorityClass
		deadline   time.Time
		config     func(*carrier.Config)
		parcel     carrier.Parcel
		want       []string
		wantScores []float64
		notMeeting bool
		reason     []string // substrings of the reason
	}{
		{
			name: "promise: only the services in time", cards: []carrier.RateCard{slowFast}, priority: schemas.PriorityStandard, deadline: friday,
			want:   []string{"a/fast"},
			reason: []string{"a fast at $20.00 (zone 5, 1 lb billable), 1 business day, delivery Thu 2025-09-11 (promise Fri 2025-09-12): lowest weighted cost of 1 option meeting the promise"},
		},
		{
			name: "promise: both in time, the cheaper first", cards: []carrier.RateCard{slowFast}, priority: schemas.PriorityStandard, deadline: nextWeek,
			// 500 + 100 late + 5 x 25 = 725 against 2000 + 100 + 25 = 2125
			want: []string{"a/slow", "a/fast"}, wantScores: []float64{1, 0.75 + 0.25*725/2125},
		},
		{
			name: "the promise's date counts, not its time", cards: []carrier.RateCard{slowFast}, priority: schemas.PriorityStandard,
			deadline: friday.Add(time.Minute), want: []string{"a/fast"},
		},
		{
			name: "HIGH: services within 2 business days first", cards: []carrier.RateCard{slowFast}, priority: schemas.PriorityHigh, deadline: nextWeek,
			want: []string{"a/fast", "a/slow"}, wantScores: []float64{1, 0.75},
			reason: []string{"HIGH priority: a fast at $20.00", "lowest weighted cost of 1 option within 2 business days (2 meet the promise)"},
		},
		{
			name:  "HIGH without the fast tier: the speed weight decides",
			cards: []carrier.RateCard{card("a", svc("ground", 800, 3), svc("express", 1500, 1))}, priority: schemas.PriorityHigh, deadline: nextWeek,
			config: func(c *carrier.Config) { c.HighMaxTransitDays = 0 },
			// 800 + 100 + 3 x 400 = 2100 against 1500 + 100 + 400 = 2000
			want: []string{"a/express", "a/ground"},
		},
		{
			name:  "STANDARD: the same services, the cheaper first",
			cards: []carrier.RateCard{card("a", svc("ground", 800, 3), svc("express", 1500, 1))}, priority: schemas.PriorityStandard, deadline: nextWeek,
			want: []string{"a/ground", "a/express"},
		},
		{
			name:  "HIGH with nothing within 2 days: the speed weight still counts",
			cards: []carrier.RateCard{card("a", svc("slow", 500, 5), svc("mid", 900, 3))}, priority: schemas.PriorityHigh, deadline: nextWeek,
			// 500 + 100 + 2000 = 2600 against 900 + 100 + 1200 = 2200
			want:   []string{"a/mid", "a/slow"},
			reason: []string{"no option within 2 business days; lowest weighted cost of 2 options meeting the promise"},
		},
		{
			name: "on time: a poor record outweighs a lower rate", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			// x: (700 + 45) / (1000 + 50) = 71%: 1000 + 290 + 50 against 1050 + 100 + 50
			onTime: map[string]carrier.OnTime{"x": {Delivered: 1000, OnTime: 700}},
			want:   []string{"y/ground", "x/ground"},
			reason: []string{"on time: x 71% of 1000, y 90% (no history)"},
		},
		{
			name: "on time: a good record earns a higher rate", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			onTime: map[string]carrier.OnTime{"y": {Delivered: 1000, OnTime: 1000}},
			want:   []string{"y/ground", "x/ground"},
		},
		{
			name: "on time: no history is the prior, neither penalized nor favoured", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard,
			deadline: nextWeek, onTime: map[string]carrier.OnTime{"y": {Delivered: 1000, OnTime: 900}},
			want: []string{"x/ground", "y/ground"},
		},
		{
			name: "on time: one late delivery is no verdict", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			// x: 45 / 51 = 88%: 1000 + 118 + 50 against 1050 + 100 + 50
			onTime: map[string]carrier.OnTime{"x": {Delivered: 1, OnTime: 0}},
			want:   []string{"x/ground", "y/ground"},
		},
		{
			name: "on time: nonsense counts are clamped", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			onTime: map[string]carrier.OnTime{"x": {Delivered: -5, OnTime: 7}, "y": {Delivered: 100, OnTime: 700}},
			want:   []string{"y/ground", "x/ground"}, // y: 100 of 100
		},
		{
			name: "open circuit: excluded", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			health: map[string]carrier.Health{"x": open, "y": closed},
			want:   []string{"y/ground"},
			reason: []string{"; circuit open, excluded: x"},
		},
		{
			name: "half-open circuit: after the closed ones", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			health: map[string]carrier.Health{"x": halfOpen},
			want:   []string{"y/ground", "x/ground"}, wantScores: []float64{1, 0.5},
		},
		{
			name: "half-open circuit: first when nothing closed meets the promise", priority: schemas.PriorityStandard, deadline: friday,
			cards:  []carrier.RateCard{card("x", svc("fast", 2000, 1)), card("y", svc("slow", 500, 5))},
			health: map[string]carrier.Health{"x": halfOpen},
			want:   []string{"x/fast"}, wantScores: []float64{0.5},
			reason: []string{"its circuit is half-open: no carrier with a closed circuit meets the promise"},
		},
		{
			name: "unknown circuit state: as half-open", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			health: map[string]carrier.Health{"x": {State: "WOBBLY"}, "y": {}},
			want:   []string{"y/ground", "x/ground"},
		},
		{
			name: "HIGH: half-open after closed, fast before slow within each", priority: schemas.PriorityHigh, deadline: nextWeek,
			cards:  []carrier.RateCard{slowFast, card("b", svc("slow", 400, 5), svc("fast", 1900, 1))},
			health: map[string]carrier.Health{"b": halfOpen},
			want:   []string{"a/fast", "a/slow", "b/fast", "b/slow"}, wantScores: []float64{1, 0.75, 0.5, 0.25},
		},
		{
			name: "no option meets the promise: the fastest first", priority: schemas.PriorityStandard, deadline: today,
			cards:      []carrier.RateCard{slowFast, card("b", svc("two_day", 700, 2)), card("c", svc("overnight", 3000, 1))},
			health:     map[string]carrier.Health{"c": open},
			want:       []string{"a/fast", "b/two_day", "a/slow"},
			wantScores: []float64{1, 0.75 + 0.25/2, 0.75 + 0.25/5},
			notMeeting: true,
			reason: []string{"the promise cannot be met: no option delivers by Wed 2025-09-10; the fastest is a fast at $20.00 (zone 5, 1 lb billable), " +
				"1 business day, delivery Thu 2025-09-11, shipping Wed 2025-09-10; 3 options ranked fastest first", "circuit open, excluded: c"},
		},
		{
			name: "no option meets the promise, HIGH: fastest first too", priority: schemas.PriorityHigh, deadline: today,
			cards: []carrier.RateCard{slowFast}, want: []string{"a/fast", "a/slow"}, notMeeting: true,
		},
		{
			name: "every carrier open: no option, no error", cards: []carrier.RateCard{x1000, y1050}, priority: schemas.PriorityStandard, deadline: nextWeek,
			health:     map[string]carrier.Health{"x": open, "y": open},
			notMeeting: true,
			reason:     []string{"no carrier available: every carrier that can carry the parcel has its circuit open; on time: x 90% (no history), y 90% (no history); circuit open, excluded: x, y"},
		},
		{
			name: "services over their max weight: left out", priority: schemas.PriorityStandard, deadline: nextWeek,
			cards:  []carrier.RateCard{card("a", svc("ground", 900, 3), light)},
			parcel: carrier.Parcel{WeightOz: 20 * 16, LengthIn: 12, WidthIn: 12, HeightIn: 12},
			want:   []string{"a/ground"},
			reason: []string{"a ground at $9.00 (zone 5, 20 lb billable)", "over max weight: a light (20 lb billable, max 10)"},
		},
		{
			name: "dimensional weight counts towards the max weight", priority: schemas.PriorityStandard, deadline: nextWeek,
			cards: []carrier.RateCard{card("a", svc("ground", 900, 3), light)},
			// 1 lb, but 24x12x12 / 139 = 25 lb
			parcel: carrier.Parcel{WeightOz: 16, LengthIn: 24, WidthIn: 12, HeightIn: 12},
			want:   []string{"a/ground"},
		},
		{
			name: "MANUAL_REVIEW: ranked as STANDARD", cards: []carrier.RateCard{slowFast}, priority: schemas.PriorityManualReview, deadline: nextWeek,
			want: []string{"a/slow", "a/fast"}, reason: []string{"MANUAL_REVIEW (options for the reviewer): a slow"},
		},
		{
			name: "ties: the carrier's name", cards: []carrier.RateCard{y1050, card("x", svc("ground", 1050, 2))}, priority: schemas.PriorityStandard,
			deadline: nextWeek, want: []string{"x/ground", "y/ground"}, wantScores: []float64{1, 1},
		},
	} {
		cfg := carrier.DefaultConfig()
		if tt.config != nil {
			tt.config(&cfg)
		}
		req := request(tt.priority, tt.deadline)
		if tt.parcel != (carrier.Parcel{}) {
			req.Parcel = tt.parcel
		}
		onTime := tt.onTime
		if onTime == nil {
			onTime = noHistory
		}
		d, err := cfg.Choose(req, tt.cards, tt.health, onTime)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := ranked(d); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ranked %v, want %v\n%s", tt.name, got, tt.want, d.Reason)
		}
		if d.MeetsPromise == tt.notMeeting {
			t.Errorf("%s: meets the promise %t", tt.name, d.MeetsPromise)
		}
		for i, want := range tt.wantScores {
			if i < len(d.Options) && math.Abs(d.Options[i].Score-want) > 1e-4 {
				t.Errorf("%s: option %d scores %v, want %v", tt.name, i, d.Options[i].Score, want)
			}
		}
		for _, want := range tt.reason {
			if !strings.Contains(d.Reason, want) {
				t.Errorf("%s: reason\n%s\nwant it to contain\n%s", tt.name, d.Reason, want)
			}
		}
		if len(d.Options) != len(d.Quotes) {
			t.Fatalf("%s: %d options, %d quotes", tt.name, len(d.Options), len(d.Quotes))
		}
		for i, o := range d.Options {
			q := d.Quotes[i]
			if o != (schemas.CarrierOption{Carrier: q.Carrier, Service: q.Service, Rate: q.Rate, Currency: "USD", EstimatedDays: q.TransitDays, Score: q.Score}) {
				t.Errorf("%s: option %+v is not its quote %+v", tt.name, o, q)
			}
		}
	}
}

// TestChooseDays checks the ship date (the cutoff, weekends, holidays, the
// location) and the delivery date in business days.
func TestChooseDays(t *testing.T) {
	cards := []carrier.RateCard{card("a", svc("two_day", 1000, 2))}
	est := time.FixedZone("EST", -5*3600)
	labourDay := time.Date(2025, 9, 1, 12, 0, 0, 0, est) // a date: its location's
	for _, tt := range []struct {
		name           string
		now            time.Time
		config         func(*carrier.Config)
		ship, delivery time.Time
	}{
		{"before the cutoff: today", wednesday, nil, day(2025, 9, 10), day(2025, 9, 12)},
		{"ready at the cutoff: tomorrow", time.Date(2025, 9, 10, 14, 0, 0, 0, time.UTC), nil, day(2025, 9, 11), day(2025, 9, 15)},
		{"Friday evening: Monday", time.Date(2025, 9, 12, 16, 0, 0, 0, time.UTC), nil, day(2025, 9, 15), day(2025, 9, 17)},
		{"Saturday: Monday", time.Date(2025, 9, 13, 9, 0, 0, 0, time.UTC), nil, day(2025, 9, 15), day(2025, 9, 17)},
		{"a holiday Monday", time.Date(2025, 8, 29, 16, 0, 0, 0, time.UTC), func(c *carrier.Config) { c.Holidays = []time.Time{labourDay} },
			day(2025, 9, 2), day(2025, 9, 4)},
		{"a holiday in transit", time.Date(2025, 8, 28, 9, 0, 0, 0, time.UTC), func(c *carrier.Config) { c.Holidays = []time.Time{labourDay} },
			day(2025, 8, 28), day(2025, 9, 2)},
		{"longer handling", wednesday, func(c *carrier.Config) { c.Handling = 5 * time.Hour }, day(2025, 9, 11), day(2025, 9, 15)},
		// Friday noon in New York is 17:00 UTC, after the cutoff there.
		{"UTC: Friday 17:00 is after the cutoff", time.Date(2025, 9, 12, 17, 0, 0, 0, time.UTC), nil, day(2025, 9, 15), day(2025, 9, 17)},
		{"EST: Friday 12:00 is before it", time.Date(2025, 9, 12, 17, 0, 0, 0, time.UTC), func(c *carrier.Config) { c.Location = est },
			time.Date(2025, 9, 12, 0, 0, 0, 0, est), time.Date(2025, 9, 16, 0, 0, 0, 0, est)},
	} {
		cfg := carrier.DefaultConfig()
		if tt.config != nil {
			tt.config(&cfg)
		}
		req := request(schemas.PriorityStandard, tt.now.AddDate(0, 1, 0))
		req.Now = tt.now
		d, err := cfg.Choose(req, cards, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !d.ShipDate.Equal(tt.ship) || !d.Quotes[0].Delivery.Equal(tt.delivery) {
			t.Errorf("%s: ships %v, delivered %v; want %v, %v", tt.name, d.ShipDate, d.Quotes[0].Delivery, tt.ship, tt.delivery)
		}
	}
}

func TestDeadlineAndNewRequest(t *testing.T) {
	cfg := carrier.DefaultConfig()
	shipBy := time.Date(2025, 9, 12, 15, 0, 0, 0, time.UTC) // a Friday
	want := time.Date(2025, 9, 19, 23, 59, 59, 999999999, time.UTC)
	if got := cfg.Deadline(shipBy); !got.Equal(want) {
		t.Errorf("Deadline(%v) = %v, want %v", shipBy, got, want)
	}
	cfg.Holidays = []time.Time{day(2025, 9, 15)}
	if got := cfg.Deadline(shipBy); !got.Equal(want.AddDate(0, 0, 3)) {
		t.Errorf("Deadline with a holiday = %v", got)
	}

	cfg = carrier.DefaultConfig()
	created := time.Date(2025, 9, 10, 8, 0, 0, 0, time.UTC)
	order := schemas.OrderEvent{OrderID: "o1", CreateTime: created, RecipientAddress: schemas.RecipientAddress{PostalCode: "94105-1234"}}
	parcel := carrier.Parcel{WeightOz: 8, LengthIn: 8, WidthIn: 6, HeightIn: 4}
	for _, tt := range []struct {
		name       string
		due, rts   time.Time
		wantShipBy time.Time
	}{
		{"shipping_due_time", shipBy, created.Add(24 * time.Hour), shipBy},
		{"rts_sla_time", time.Time{}, created.Add(24 * time.Hour), created.Add(24 * time.Hour)},
		{"neither: create time + 72 h", time.Time{}, time.Time{}, created.Add(72 * time.Hour)},
	} {
		o := order
		o.ShippingDueTime, o.RTSSLATime = tt.due, tt.rts
		req := cfg.NewRequest(o, "10001", parcel, schemas.PriorityHigh, wednesday)
		want := carrier.Request{Origin: "10001", Destination: "94105-1234", Parcel: parcel, Priority: schemas.PriorityHigh,
			ShipBy: tt.wantShipBy, Deadline: cfg.Deadline(tt.wantShipBy), Now: wednesday}
		if req != want {
			t.Errorf("%s: %+v, want %+v", tt.name, req, want)
		}
	}

	// A request with a ship-by time and no deadline gets Deadline(ship-by),
	// and the reason notes a parcel that cannot be handed over in time.
	req := request(schemas.PriorityStandard, time.Time{})
	req.ShipBy = time.Date(2025, 9, 9, 15, 0, 0, 0, time.UTC) // Tuesday, before now
	d, err := carrier.Choose(req, shippedCards(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Deadline.Equal(day(2025, 9, 16)) || !strings.HasSuffix(d.Reason, "; ships Wed 2025-09-10, after the ship-by time Tue 2025-09-09 15:00 UTC") {
		t.Errorf("deadline %v, reason %s", d.Deadline, d.Reason)
	}
}

func TestChooseBadInput(t *testing.T) {
	cards := shippedCards(t)
	good := request(schemas.PriorityStandard, day(2025, 9, 17))
	for _, tt := range []struct {
		name   string
		change func(*carrier.Request, *[]carrier.RateCard, *carrier.Config)
		want   error
		msg    string
	}{
		{"no card", func(_ *carrier.Request, c *[]carrier.RateCard, _ *carrier.Config) { *c = nil }, carrier.ErrNoRateCard, "no rate card"},
		{"two cards of a carrier", func(_ *carrier.Request, c *[]carrier.RateCard, _ *carrier.Config) {
			*c = append(*c, card("ups", svc("ground", 1, 1)))
		}, carrier.ErrBadRequest, "bad carrier request: two rate cards of ups (versions 2024-12-23 and test): give the one in effect (Current)"},
		{"bad origin", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Origin = "1001" }, carrier.ErrBadZIP,
			`origin: bad ZIP code: "1001" is not a ZIP code of 5 digits or ZIP+4 (12345-6789)`},
		{"bad destination", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Destination = "" }, carrier.ErrBadZIP, ""},
		{"military destination", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Destination = "09001" }, carrier.ErrBadZIP,
			`destination: bad ZIP code: "09001": prefix 090 has no zone (unassigned or military APO/FPO)`},
		{"no weight", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Parcel.WeightOz = 0 }, carrier.ErrBadParcel,
			"bad parcel: weight 0 oz is not more than 0"},
		{"no parcel", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) {
			r.Parcel = carrier.ParcelFor(nil, nil)
		}, carrier.ErrBadParcel, ""},
		{"NaN side", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Parcel.HeightIn = math.NaN() }, carrier.ErrBadParcel,
			"bad parcel: height NaN in is not more than 0 and at most 1000"},
		{"too heavy", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Parcel.WeightOz = 151 * 16 }, carrier.ErrTooHeavy, ""},
		{"too bulky", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) {
			r.Parcel = carrier.Parcel{WeightOz: 16, LengthIn: 60, WidthIn: 60, HeightIn: 60}
		}, carrier.ErrTooHeavy, ""},
		{"too heavy even when the carrier is open", func(r *carrier.Request, c *[]carrier.RateCard, _ *carrier.Config) {
			r.Parcel.WeightOz = 151 * 16
			*c = (*c)[:1]
		}, carrier.ErrTooHeavy, ""},
		{"no priority", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Priority = "" }, carrier.ErrBadRequest,
			`bad carrier request: priority "" is not HIGH, STANDARD or MANUAL_REVIEW`},
		{"no time", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Now = time.Time{} }, carrier.ErrBadRequest, ""},
		{"no promise", func(r *carrier.Request, _ *[]carrier.RateCard, _ *carrier.Config) { r.Deadline = time.Time{} }, carrier.ErrBadRequest,
			"bad carrier request: no delivery promise: neither a deadline nor a ship-by time"},
		{"bad config", func(_ *carrier.Request, _ *[]carrier.RateCard, c *carrier.Config) { c.OnTimePrior = 1; c.Cutoff = 0 }, carrier.ErrBadRequest,
			"bad carrier request: config: cutoff 0s is not a time of day after 0:00 and at most 24:00; on-time prior 1 must be between 0 and 1 and its weight 50 more than 0"},
	} {
		req, cs, cfg := good, append([]carrier.RateCard(nil), cards...), carrier.DefaultConfig()
		tt.change(&req, &cs, &cfg)
		d, err := cfg.Choose(req, cs, map[string]carrier.Health{"fedex": {State: schemas.CircuitOpen}}, nil)
		if !errors.Is(err, tt.want) || tt.msg != "" && err.Error() != tt.msg {
			t.Errorf("%s: %+v, %v; want %v %q", tt.name, d, err, tt.want, tt.msg)
		}
	}
}
