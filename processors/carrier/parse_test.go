package carrier_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/processors/carrier"
)

// shippedFiles are the rate cards of deploy/ratecards.
var shippedFiles = []string{"../../deploy/ratecards/usps.json", "../../deploy/ratecards/ups.json", "../../deploy/ratecards/fedex.json"}

// shippedCards reads deploy/ratecards: fedex, ups, usps.
func shippedCards(t testing.TB) []carrier.RateCard {
	t.Helper()
	cards, err := carrier.ReadFiles(shippedFiles...)
	if err != nil {
		t.Fatal(err)
	}
	return cards
}

// TestShippedCards checks deploy/ratecards beyond what Parse checks: the
// carriers and services the issue names, the divisors, and that a faster
// service of a carrier costs more than a slower one at every weight and
// zone both carry.
func TestShippedCards(t *testing.T) {
	cards := shippedCards(t)
	want := map[string]struct {
		divisor, minVolume int
		services           []string
	}{
		"usps":  {166, 1728, []string{"ground_advantage", "priority", "priority_express"}},
		"ups":   {139, 0, []string{"ground", "next_day_air"}},
		"fedex": {139, 0, []string{"ground", "express", "overnight"}},
	}
	if len(cards) != len(want) {
		t.Fatalf("%d cards", len(cards))
	}
	for _, c := range cards {
		w := want[c.Carrier]
		var names []string
		for _, s := range c.Services {
			names = append(names, s.Service)
		}
		if c.DimDivisor != w.divisor || c.DimMinCubicIn != w.minVolume || !reflect.DeepEqual(names, w.services) {
			t.Errorf("%s: divisor %d, min volume %d, services %v", c.Carrier, c.DimDivisor, c.DimMinCubicIn, names)
		}
		// Services are listed slowest first (FedEx 2Day is slower than
		// Ground nearby, as it is in fact, but not far away).
		for i := 1; i < len(c.Services); i++ {
			slow, fast := c.Services[i-1], c.Services[i]
			if fast.Transit(carrier.Zones) >= slow.Transit(carrier.Zones) {
				t.Errorf("%s %s is not faster than %s in zone 8", c.Carrier, fast.Service, slow.Service)
			}
			for z := 1; z <= carrier.Zones; z++ {
				for lb := int64(1); lb <= int64(min(slow.MaxWeightLb, fast.MaxWeightLb)); lb++ {
					ps, _ := c.Price(slow.Service, z, lb)
					pf, _ := c.Price(fast.Service, z, lb)
					if pf <= ps {
						t.Fatalf("%s %s costs %d, not more than %s's %d (zone %d, %d lb)", c.Carrier, fast.Service, pf, slow.Service, ps, z, lb)
					}
				}
			}
		}
	}
}

const goodCard = `{
  "carrier": "acme",
  "version": "v1",
  "effective": "2025-07-13T00:00:00-04:00",
  "currency": "USD",
  "dim_divisor": 139,
  "dim_min_cubic_in": 0,
  "services": [
    {"service": "ground", "name": "Acme Ground", "max_weight_lb": 5, "transit_days": [1, 1, 2, 3, 3, 4, 4, 5],
     "prices": [
       {"up_to_lb": 1, "cents": [500, 510, 520, 530, 540, 550, 560, 570]},
       {"up_to_lb": 5, "cents": [900, 910, 920, 930, 940, 950, 960, 970]}
     ]},
    {"service": "fast", "max_weight_lb": 1, "transit_days": [1, 1, 1, 1, 1, 1, 1, 1],
     "prices": [{"up_to_lb": 1, "cents": [2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000]}]}
  ]
}`

func TestParseGood(t *testing.T) {
	c, err := carrier.Parse(strings.NewReader("\uFEFF" + goodCard))
	if err != nil {
		t.Fatal(err)
	}
	want := carrier.RateCard{
		Carrier: "acme", Version: "v1", Effective: time.Date(2025, 7, 13, 4, 0, 0, 0, time.UTC), Currency: "USD", DimDivisor: 139,
		Services: []carrier.Service{
			{Service: "ground", Name: "Acme Ground", MaxWeightLb: 5, TransitDays: [8]int{1, 1, 2, 3, 3, 4, 4, 5}, Prices: []carrier.Tier{
				{UpToLb: 1, Cents: [8]int64{500, 510, 520, 530, 540, 550, 560, 570}},
				{UpToLb: 5, Cents: [8]int64{900, 910, 920, 930, 940, 950, 960, 970}},
			}},
			{Service: "fast", MaxWeightLb: 1, TransitDays: [8]int{1, 1, 1, 1, 1, 1, 1, 1}, Prices: []carrier.Tier{
				{UpToLb: 1, Cents: [8]int64{2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000}},
			}},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", c, want)
	}
	checkAccepted(t, c)
	// A date is midnight UTC.
	c, err = carrier.Parse(strings.NewReader(strings.Replace(goodCard, "2025-07-13T00:00:00-04:00", "2025-07-13", 1)))
	if err != nil || !c.Effective.Equal(time.Date(2025, 7, 13, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("date: %v, %v", c.Effective, err)
	}
}

// checkAccepted holds for every card Parse accepts: Validate leaves it as
// it is, and its JSON reads back the same.
func checkAccepted(t *testing.T, c carrier.RateCard) {
	t.Helper()
	again, err := carrier.Validate(c)
	if err != nil {
		t.Fatalf("accepted card fails Validate: %v", err)
	}
	if !reflect.DeepEqual(again, c) {
		t.Fatalf("Validate changed an accepted card:\n%+v\n%+v", c, again)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := carrier.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("its JSON %s is refused: %v", b, err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("JSON round trip changed the card:\n%+v\n%+v", c, back)
	}
}

func TestParseBad(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want string // the whole error
	}{
		{"empty", "", `the file is empty: a rate card is an object {"carrier": ..., "version": ..., "services": [...]}`},
		{"not an object", "[]", "line 1: the rate card: expected an object {...}, found array"},
		{"syntax", "{\n\"carrier\": \"x\",\n}", "line 3: invalid character '}' looking for beginning of object key string"},
		{"unknown field", `{"carier": "x"}`, `unknown field "carier": a rate card has carrier, version, effective, currency, dim_divisor, dim_min_cubic_in and services`},
		{"trailing", `{} {}`, "line 1: more after the rate card's closing brace"},
		{"nothing in it", `{}`, `carrier is required
version is required: a name of this version of the card, such as 2025-07-13
effective is required: the date (2025-07-13) or time the version takes effect
currency is required: USD
dim_divisor: 0 is not a whole number of cubic inches per pound from 1 to 10000 (139 for UPS and FedEx, 166 for USPS)
services is required: a card has at least one service`},
		{"top-level values", `{"carrier": "UPS", "version": "-1", "effective": "13/07/2025", "currency": "EUR", "dim_divisor": 139,
			"dim_min_cubic_in": -1, "services": []}`, `effective: "13/07/2025" is not a date (2025-07-13) or a time (2025-07-13T00:00:00-04:00)
carrier: "UPS" is not lower-case letters, digits and _ starting with a letter, at most 64
version: "-1" is not letters, digits, '.', '_' and '-' starting with a letter or digit, at most 64
currency: "EUR" is not USD (rate cards are in US cents)
dim_min_cubic_in: -1 is not a whole number of cubic inches from 0 to 1000000
services is required: a card has at least one service`},
		{"an empty service", `{"carrier": "x", "version": "1", "effective": "2025-01-01", "currency": "USD", "dim_divisor": 139, "services": [{}]}`,
			`services[0]: transit_days is required: 8 values, for zones 1 to 8
services[0]: service is required
services[0]: max_weight_lb: 0 is not a whole number of pounds from 1 to 1000
services[0]: prices is required: at least one weight tier`},
		{"wrong type on top, services still checked", `{"carrier": 5, "services": [{"service": "g", "max_weight_lb": 1.5}]}`,
			`line 1: carrier: expected a string, found number
services[0]: max_weight_lb: expected a whole number, found number 1.5`},
		{"services of the wrong type", `{"carrier": "x", "services": {}}`, `line 1: services: expected a list [...], found object`},
		{"effective with a fraction", strings.Replace(goodCard, "2025-07-13T00:00:00-04:00", "2025-07-13T00:00:00.5-04:00", 1),
			`effective: 2025-07-13T04:00:00.5Z has a fraction of a second`},
		{"effective too early", strings.Replace(goodCard, "2025-07-13T00:00:00-04:00", "1999-12-31T21:00:00-02:00", 1),
			`effective: 1999-12-31T23:00:00Z is not in the years 2000 to 9999`},
		{"service problems", `{"carrier": "x", "version": "1", "effective": "2025-01-01", "currency": "USD", "dim_divisor": 139, "services": [
			{"service": "ground", "name": "a\u0007", "max_weight_lb": 10, "transit_days": [1, 2, 3, 2, 5, 6, 7, 31],
			 "prices": [
			   {"up_to_lb": 2, "cents": [100, 100, 90, 100, 100, 100, 100, 100]},
			   {"up_to_lb": 2, "cents": [100, 100, 100, 100, 100, 100, 100, 99]},
			   {"up_to_lb": 5, "cents": [100, 100, 100, 100, 100, 100, 100]},
			   {"up_to_lb": 6, "cents": [100, 100, 100, 100, 100, 100, 100, 0], "zone": 1},
			   {"up_to_lb": 8, "cents": [99, 100, 100, 100, 100, 100, 100, 100]}
			 ]},
			{"service": "ground", "max_weight_lb": 0, "transit_days": [1, 1], "prices": [{"up_to_lb": 1.5, "cents": []}]},
			{"service": "Express", "max_weight_lb": 5, "transit_days": [1, 1, 1, 1, 1, 1, 1, 1], "prices": []},
			{"service": "x", "max_weight_lb": 3, "transit_days": [1, 1, 1, 1, 1, 1, 1, 1], "prices": [{"up_to_lb": 4, "cents": [1,1,1,1,1,1,1,1]}]},
			"ground"
		]}`, `services[0]: name: "a\a" contains a control character
services[0]: transit_days: zone 4 takes 2 days, fewer than zone 3's 3: a farther zone is not faster
services[0]: transit_days: zone 8: 31 is not a whole number of business days from 1 to 30
services[0].prices[0]: cents: zone 3 costs 90, less than zone 2's 100: a farther zone is not cheaper
services[0].prices[1]: up_to_lb: 2 is not more than the previous tier's 2: list the tiers lightest first
services[0].prices[1]: cents: zone 8 costs 99, less than zone 7's 100: a farther zone is not cheaper
services[0].prices[2]: cents: has 7 values, want 8 (zones 1 to 8)
services[0].prices[3]: unknown field "zone"
services[0].prices[4]: cents: zone 1 costs 99, less than the lighter tier's 100: a heavier parcel is not cheaper
services[0]: prices: the last tier is up to 8 lb but max_weight_lb is 10: the tiers end at the max weight
services[1]: transit_days: has 2 values, want 8 (zones 1 to 8)
services[1]: service "ground" is also services[0]
services[1]: max_weight_lb: 0 is not a whole number of pounds from 1 to 1000
services[1].prices[0]: up_to_lb: expected a whole number, found number 1.5
services[2]: service: "Express" is not lower-case letters, digits and _ starting with a letter, at most 64
services[2]: prices is required: at least one weight tier
services[3].prices[0]: up_to_lb: 4 is more than max_weight_lb 3
services[4]: expected an object {...}, found string`},
	} {
		_, err := carrier.Parse(strings.NewReader(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: error\n%v\nwant\n%s", tt.name, err, tt.want)
		}
	}
}

// TestParseManyProblems checks that a card with many problems reports
// MaxErrors of them and counts the rest.
func TestParseManyProblems(t *testing.T) {
	var tiers []string
	for i := range 30 {
		tiers = append(tiers, `{"up_to_lb": 1, "cents": [1,1,1,1,1,1,1,1]}`)
		_ = i
	}
	in := `{"carrier": "x", "version": "1", "effective": "2025-01-01", "currency": "USD", "dim_divisor": 139, "services": [
		{"service": "g", "max_weight_lb": 1, "transit_days": [1,1,1,1,1,1,1,1], "prices": [` + strings.Join(tiers, ",") + `]}]}`
	_, err := carrier.Parse(strings.NewReader(in))
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != carrier.MaxErrors+1 || lines[carrier.MaxErrors] != "... and 9 more problems (only the first 20 are shown)" {
		t.Errorf("%d lines:\n%v", len(lines), err)
	}
}

func TestValidate(t *testing.T) {
	c, err := carrier.Parse(strings.NewReader(goodCard))
	if err != nil {
		t.Fatal(err)
	}
	local := c
	local.Effective = c.Effective.In(time.FixedZone("EDT", -4*3600))
	got, err := carrier.Validate(local)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("Validate: %+v, %v; want the effective time in UTC", got, err)
	}
	bad := c
	bad.Services = append([]carrier.Service(nil), c.Services...)
	bad.Services[1].Prices = nil
	bad.Effective = time.Time{}
	if _, err := carrier.Validate(bad); err == nil || err.Error() != "effective is required: the date (2025-07-13) or time the version takes effect\n"+
		"services[1]: prices is required: at least one weight tier" {
		t.Errorf("error %v", err)
	}
}

func TestReadFilesAndCurrent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, version, effective string) string {
		path := filepath.Join(dir, name)
		card := strings.Replace(strings.Replace(goodCard, `"v1"`, `"`+version+`"`, 1), "2025-07-13T00:00:00-04:00", effective, 1)
		if err := os.WriteFile(path, []byte(card), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	v1 := write("v1.json", "v1", "2025-01-01")
	v2 := write("v2.json", "v2", "2025-07-01")
	cards, err := carrier.ReadFiles(v2, v1, "../../deploy/ratecards/ups.json")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cards {
		got = append(got, c.Carrier+" "+c.Version)
	}
	if want := []string{"acme v1", "acme v2", "ups 2024-12-23"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cards %v, want %v", got, want)
	}
	for _, tt := range []struct {
		at   time.Time
		want []string
	}{
		{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), []string{"acme v1", "ups 2024-12-23"}},
		{time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC), []string{"acme v1", "ups 2024-12-23"}},
		{time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), []string{"acme v2", "ups 2024-12-23"}},
	} {
		got = nil
		for _, c := range carrier.Current(cards, tt.at) {
			got = append(got, c.Carrier+" "+c.Version)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Current(%v) = %v, want %v", tt.at, got, tt.want)
		}
	}

	same := write("same.json", "v1", "2025-03-01")
	clash := write("clash.json", "v3", "2025-07-01")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"carrier": "x"`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = carrier.ReadFiles(v1, v2, same, clash, bad)
	want := same + ": acme version v1 is also in " + v1 + "\n" +
		clash + ": acme version v3 takes effect at 2025-07-01T00:00:00Z, as version v2 of " + v2 + " does\n" +
		bad + ": line 1: the file ends in the middle of the rate card"
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
}
