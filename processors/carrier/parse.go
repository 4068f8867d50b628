package carrier

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of a rate card. They are far beyond any real card, so that a unit
// mistaken (dollars for cents, ounces for pounds) or a runaway file is
// caught, not stored.
const (
	// MaxErrors is how many problems Parse and Validate report; the rest
	// are only counted.
	MaxErrors = 20
	// MaxIDLength is the most characters of a carrier, service or version.
	MaxIDLength = 64
	// MaxNameLength is the most characters of a service's name.
	MaxNameLength = 200
	// MaxServices is the most services of a card.
	MaxServices = 32
	// MaxTiers is the most weight tiers of a service.
	MaxTiers = 200
	// MaxWeightLb is the largest max weight of a service.
	MaxWeightLb = 1000
	// MaxTransitDays is the longest transit time.
	MaxTransitDays = 30
	// MaxCents is the highest price: $100,000.
	MaxCents = 10_000_000
	// MaxDimDivisor is the largest dimensional-weight divisor.
	MaxDimDivisor = 10_000
	// MaxDimMinCubicIn is the largest volume exempt from dimensional
	// weight.
	MaxDimMinCubicIn = 1_000_000
)

// place is where a problem is: the card (service and tier -1), a service
// (tier -1) or a weight tier.
type place struct {
	name          string
	service, tier int
}

var top = place{service: -1, tier: -1}

func servicePlace(i int) place { return place{fmt.Sprintf("services[%d]", i), i, -1} }

func tierPlace(i, j int) place { return place{fmt.Sprintf("services[%d].prices[%d]", i, j), i, j} }

// problems collects what is wrong with a card.
type problems struct{ list []problem }

type problem struct {
	at  place
	msg string
}

func (p *problems) add(at place, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if at.name != "" {
		msg = at.name + ": " + msg
	}
	p.list = append(p.list, problem{at, msg})
}

// err returns the first MaxErrors problems in the order of their places
// in the card, one a line, or nil.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b problem) int {
		if a.at.service != b.at.service {
			return a.at.service - b.at.service
		}
		return a.at.tier - b.at.tier
	})
	var errs []error
	for i, pr := range p.list {
		msg := pr.msg
		if i == MaxErrors {
			errs = append(errs, fmt.Errorf("... and %d more problems (only the first %d are shown)", len(p.list)-MaxErrors, MaxErrors))
			break
		}
		errs = append(errs, errors.New(msg))
	}
	return errors.Join(errs...)
}

// The JSON format's outline. Each service and each tier is decoded on its
// own, so that a problem in one is reported with its place and the others
// are still checked.
type (
	jsonCard struct {
		Carrier       string            `json:"carrier"`
		Version       string            `json:"version"`
		Effective     string            `json:"effective"`
		Currency      string            `json:"currency"`
		DimDivisor    int               `json:"dim_divisor"`
		DimMinCubicIn int               `json:"dim_min_cubic_in"`
		Services      []json.RawMessage `json:"services"`
	}
	jsonService struct {
		Service     string            `json:"service"`
		Name        string            `json:"name"`
		MaxWeightLb int               `json:"max_weight_lb"`
		TransitDays []int             `json:"transit_days"`
		Prices      []json.RawMessage `json:"prices"`
	}
	jsonTier struct {
		UpToLb int     `json:"up_to_lb"`
		Cents  []int64 `json:"cents"`
	}
)

// skipped are the parts of a card that did not decode: their values are
// unknown, so they are not checked further.
type skipped struct {
	top       bool
	effective bool
	list      bool // the services list itself
	services  map[int]bool
	transit   map[int]bool
	tiers     map[[2]int]bool
}

// Parse reads one rate card in the JSON format of docs/carriers.md and
// checks it as Validate does. A card that is readable but wrong yields
// every problem found, up to MaxErrors, joined with errors.Join, each
// naming its place ("services[1].prices[3]: ...") or, for JSON syntax, its
// line.
func Parse(r io.Reader) (RateCard, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return RateCard{}, fmt.Errorf("read rate card: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var (
		f  jsonCard
		p  problems
		sk = skipped{services: map[int]bool{}, transit: map[int]bool{}, tiers: map[[2]int]bool{}}
	)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var typ *json.UnmarshalTypeError
		if !errors.As(err, &typ) || typ.Field == "" {
			return RateCard{}, jsonError(data, err)
		}
		// The decoder went on past a value of the wrong type: the other
		// fields and the services are there to check.
		p.add(top, "line %d: %sexpected %s, found %s", lineAt(data, typ.Offset), fieldPath(typ.Field), jsonKind(typ.Type), typ.Value)
		sk.top = true
		sk.list = typ.Field == "services"
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return RateCard{}, fmt.Errorf("line %d: more after the rate card's closing brace", lineAt(data, dec.InputOffset()))
	}

	c := RateCard{Carrier: f.Carrier, Version: f.Version, Currency: f.Currency, DimDivisor: f.DimDivisor, DimMinCubicIn: f.DimMinCubicIn}
	if !sk.top && f.Effective != "" {
		if c.Effective, err = parseEffective(f.Effective); err != nil {
			p.add(top, "effective: %s is not a date (2025-07-13) or a time (2025-07-13T00:00:00-04:00)", quoted(f.Effective))
			sk.effective = true
		}
	}
	if f.Services != nil {
		c.Services = make([]Service, len(f.Services))
	}
	for i, b := range f.Services {
		at := servicePlace(i)
		var s jsonService
		if !decodeEntry(&p, at, b, &s) {
			sk.services[i] = true
			continue
		}
		svc := Service{Service: s.Service, Name: s.Name, MaxWeightLb: s.MaxWeightLb}
		if !zoneList(&p, at, "transit_days", len(s.TransitDays)) {
			sk.transit[i] = true
		}
		copy(svc.TransitDays[:], s.TransitDays)
		if s.Prices != nil {
			svc.Prices = make([]Tier, len(s.Prices))
		}
		for j, tb := range s.Prices {
			tat := tierPlace(i, j)
			var t jsonTier
			if !decodeEntry(&p, tat, tb, &t) || !zoneList(&p, tat, "cents", len(t.Cents)) {
				sk.tiers[[2]int{i, j}] = true
				continue
			}
			svc.Prices[j].UpToLb = t.UpToLb
			copy(svc.Prices[j].Cents[:], t.Cents)
		}
		c.Services[i] = svc
	}
	c.Effective = c.Effective.UTC()
	check(&c, &p, sk)
	if err := p.err(); err != nil {
		return RateCard{}, err
	}
	return c, nil
}

// zoneList reports a list of per-zone values that does not have one value
// per zone.
func zoneList(p *problems, at place, field string, n int) bool {
	if n == Zones {
		return true
	}
	if n == 0 {
		p.add(at, "%s is required: %d values, for zones 1 to %d", field, Zones, Zones)
	} else {
		p.add(at, "%s: has %d values, want %d (zones 1 to %d)", field, n, Zones, Zones)
	}
	return false
}

// parseEffective reads a date (midnight UTC) or an RFC 3339 time.
func parseEffective(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// Validate checks a rate card and returns it as Import writes it: its
// Effective time in UTC. Its errors are Parse's, with places such as
// "services[2].prices[0]".
func Validate(c RateCard) (RateCard, error) {
	var p problems
	c.Effective = c.Effective.UTC()
	check(&c, &p, skipped{})
	if err := p.err(); err != nil {
		return RateCard{}, err
	}
	return c, nil
}

// check reports everything wrong with a card's values, except in the parts
// that did not decode.
func check(c *RateCard, p *problems, sk skipped) {
	if !sk.top {
		checkName(p, top, "carrier", c.Carrier)
		checkVersion(p, c.Version)
		switch e := c.Effective; {
		case sk.effective:
		case e.IsZero():
			p.add(top, "effective is required: the date (2025-07-13) or time the version takes effect")
		case e.Year() < 2000 || e.Year() > 9999:
			p.add(top, "effective: %s is not in the years 2000 to 9999", e.Format(time.RFC3339))
		case e.Nanosecond() != 0:
			p.add(top, "effective: %s has a fraction of a second", e.Format(time.RFC3339Nano))
		}
		switch c.Currency {
		case Currency:
		case "":
			p.add(top, "currency is required: %s", Currency)
		default:
			p.add(top, "currency: %s is not %s (rate cards are in US cents)", quoted(c.Currency), Currency)
		}
		if !(c.DimDivisor >= 1 && c.DimDivisor <= MaxDimDivisor) {
			p.add(top, "dim_divisor: %d is not a whole number of cubic inches per pound from 1 to %d (139 for UPS and FedEx, 166 for USPS)", c.DimDivisor, MaxDimDivisor)
		}
		if !(c.DimMinCubicIn >= 0 && c.DimMinCubicIn <= MaxDimMinCubicIn) {
			p.add(top, "dim_min_cubic_in: %d is not a whole number of cubic inches from 0 to %d", c.DimMinCubicIn, MaxDimMinCubicIn)
		}
	}
	switch n := len(c.Services); {
	case sk.list:
		return
	case n == 0:
		p.add(top, "services is required: a card has at least one service")
	case n > MaxServices:
		p.add(top, "services: %d is more than %d", n, MaxServices)
		return
	}
	seen := map[string]int{}
	for i := range c.Services {
		if sk.services[i] {
			continue
		}
		s := &c.Services[i]
		at := servicePlace(i)
		if checkName(p, at, "service", s.Service) {
			if prev, dup := seen[s.Service]; dup {
				p.add(at, "service %q is also services[%d]", s.Service, prev)
			} else {
				seen[s.Service] = i
			}
		}
		if msg := textProblem(s.Name, MaxNameLength); msg != "" {
			p.add(at, "name: %s", msg)
		}
		weightOK := s.MaxWeightLb >= 1 && s.MaxWeightLb <= MaxWeightLb
		if !weightOK {
			p.add(at, "max_weight_lb: %d is not a whole number of pounds from 1 to %d", s.MaxWeightLb, MaxWeightLb)
		}
		for z, d := range s.TransitDays {
			switch {
			case sk.transit[i]:
			case d < 1 || d > MaxTransitDays:
				p.add(at, "transit_days: zone %d: %d is not a whole number of business days from 1 to %d", z+1, d, MaxTransitDays)
			case z > 0 && d < s.TransitDays[z-1]:
				p.add(at, "transit_days: zone %d takes %d days, fewer than zone %d's %d: a farther zone is not faster", z+1, d, z, s.TransitDays[z-1])
			}
		}
		checkPrices(p, at, s, i, sk, weightOK)
	}
}

// checkPrices checks a service's weight tiers: whole pounds up to the max
// weight, each heavier than the last, prices that do not fall with weight
// or distance.
func checkPrices(p *problems, at place, s *Service, i int, sk skipped, weightOK bool) {
	switch n := len(s.Prices); {
	case n == 0:
		p.add(at, "prices is required: at least one weight tier")
		return
	case n > MaxTiers:
		p.add(at, "prices: %d tiers is more than %d", n, MaxTiers)
		return
	}
	var prev *Tier // the last tier checked
	for j := range s.Prices {
		if sk.tiers[[2]int{i, j}] {
			continue
		}
		t := &s.Prices[j]
		tat := tierPlace(i, j)
		switch {
		case t.UpToLb < 1 || t.UpToLb > MaxWeightLb:
			p.add(tat, "up_to_lb: %d is not a whole number of pounds from 1 to %d", t.UpToLb, MaxWeightLb)
		case prev != nil && t.UpToLb <= prev.UpToLb:
			p.add(tat, "up_to_lb: %d is not more than the previous tier's %d: list the tiers lightest first", t.UpToLb, prev.UpToLb)
		case weightOK && t.UpToLb > s.MaxWeightLb:
			p.add(tat, "up_to_lb: %d is more than max_weight_lb %d", t.UpToLb, s.MaxWeightLb)
		}
		for z, c := range t.Cents {
			switch {
			case c < 1 || c > MaxCents:
				p.add(tat, "cents: zone %d: %d is not a price in cents from 1 to %d", z+1, c, MaxCents)
			case z > 0 && c < t.Cents[z-1]:
				p.add(tat, "cents: zone %d costs %d, less than zone %d's %d: a farther zone is not cheaper", z+1, c, z, t.Cents[z-1])
			case prev != nil && c < prev.Cents[z]:
				p.add(tat, "cents: zone %d costs %d, less than the lighter tier's %d: a heavier parcel is not cheaper", z+1, c, prev.Cents[z])
			}
		}
		prev = t
	}
	last := len(s.Prices) - 1
	if weightOK && !sk.tiers[[2]int{i, last}] && s.Prices[last].UpToLb >= 1 && s.Prices[last].UpToLb < s.MaxWeightLb {
		p.add(place{at.name, i, last}, "prices: the last tier is up to %d lb but max_weight_lb is %d: the tiers end at the max weight", s.Prices[last].UpToLb, s.MaxWeightLb)
	}
}

// checkName reports a carrier or service name that is not lower-case
// letters, digits and underscores, starting with a letter.
func checkName(p *problems, at place, field, v string) bool {
	ok := v != "" && len(v) <= MaxIDLength && v[0] >= 'a' && v[0] <= 'z'
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	switch {
	case v == "":
		p.add(at, "%s is required", field)
	case !ok:
		p.add(at, "%s: %s is not lower-case letters, digits and _ starting with a letter, at most %d", field, quoted(v), MaxIDLength)
	}
	return ok
}

// checkVersion reports a version that is not letters, digits, ".", "_"
// and "-", starting with a letter or digit.
func checkVersion(p *problems, v string) {
	ok := v != "" && len(v) <= MaxIDLength && isAlnum(v[0])
	for i := 0; ok && i < len(v); i++ {
		ok = isAlnum(v[i]) || v[i] == '.' || v[i] == '_' || v[i] == '-'
	}
	switch {
	case v == "":
		p.add(top, "version is required: a name of this version of the card, such as 2025-07-13")
	case !ok:
		p.add(top, "version: %s is not letters, digits, '.', '_' and '-' starting with a letter or digit, at most %d", quoted(v), MaxIDLength)
	}
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// textProblem describes what makes v unfit for a text column, or "".
func textProblem(v string, max int) string {
	switch {
	case !utf8.ValidString(v):
		return fmt.Sprintf("%q is not valid UTF-8", v)
	case utf8.RuneCountInString(v) > max:
		return fmt.Sprintf("%s... has %d characters, more than %d", quoted(v), utf8.RuneCountInString(v), max)
	case strings.ContainsFunc(v, unicode.IsControl):
		return fmt.Sprintf("%q contains a control character", v)
	}
	return ""
}

// quoted quotes a value for a message, cut short when long.
func quoted(v string) string {
	if r := []rune(v); len(r) > 40 {
		return fmt.Sprintf("%q...", string(r[:40]))
	}
	return fmt.Sprintf("%q", v)
}

// decodeEntry decodes one service or tier into v, reporting an unknown
// field or a value of the wrong type; false when it did not decode.
func decodeEntry(p *problems, at place, b json.RawMessage, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &typ):
		p.add(at, "%sexpected %s, found %s", fieldPath(typ.Field), jsonKind(typ.Type), typ.Value)
	default:
		p.add(at, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return false
}

// fieldPath is a decoding error's field with a colon, or "" for the entry
// itself.
func fieldPath(f string) string {
	if f == "" {
		return ""
	}
	return f + ": "
}

// jsonError turns an error decoding the card's outline into a message with
// a line number and the format's words instead of Go's.
func jsonError(data []byte, err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("line %d: the file ends in the middle of the rate card", lineAt(data, int64(len(data))))
	case errors.Is(err, io.EOF):
		return errors.New(`the file is empty: a rate card is an object {"carrier": ..., "version": ..., "services": [...]}`)
	case errors.As(err, &syntax):
		return fmt.Errorf("line %d: %w", lineAt(data, syntax.Offset), err)
	case errors.As(err, &typ):
		return fmt.Errorf("line %d: the rate card: expected %s, found %s", lineAt(data, typ.Offset), jsonKind(typ.Type), typ.Value)
	}
	// An unknown field: the decoder says which, not where.
	return fmt.Errorf("%s: a rate card has carrier, version, effective, currency, dim_divisor, dim_min_cubic_in and services",
		strings.TrimPrefix(err.Error(), "json: "))
}

func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// jsonKind names a Go type the way the format's documentation does.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Slice, reflect.Array:
		return "a list [...]"
	case reflect.Struct:
		return "an object {...}"
	}
	return t.String()
}

// ReadFiles parses rate card files, one card each, and checks that no two
// are the same version of a carrier or take effect at the same time. It
// returns them by carrier, then by effective time; every problem names its
// file.
func ReadFiles(paths ...string) ([]RateCard, error) {
	var (
		cards []RateCard
		from  []string
		errs  []error
	)
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := Parse(f)
		f.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path, err))
			continue
		}
		for i, o := range cards {
			switch {
			case o.Carrier != c.Carrier:
			case o.Version == c.Version:
				errs = append(errs, fmt.Errorf("%s: %s version %s is also in %s", path, c.Carrier, c.Version, from[i]))
			case o.Effective.Equal(c.Effective):
				errs = append(errs, fmt.Errorf("%s: %s version %s takes effect at %s, as version %s of %s does",
					path, c.Carrier, c.Version, c.Effective.Format(time.RFC3339), o.Version, from[i]))
			}
		}
		cards = append(cards, c)
		from = append(from, path)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(cards, func(a, b RateCard) int {
		if a.Carrier != b.Carrier {
			return strings.Compare(a.Carrier, b.Carrier)
		}
		return a.Effective.Compare(b.Effective)
	})
	return cards, nil
}

// Current is, for each carrier of cards, the version in effect at a time:
// the one with the latest Effective not after at. Carriers none of whose
// versions is in effect yet are left out. The result is ordered by
// carrier.
func Current(cards []RateCard, at time.Time) []RateCard {
	var out []RateCard
	for _, c := range cards {
		if c.Effective.After(at) {
			continue
		}
		i := slices.IndexFunc(out, func(o RateCard) bool { return o.Carrier == c.Carrier })
		switch {
		case i < 0:
			out = append(out, c)
		case c.Effective.After(out[i].Effective) || c.Effective.Equal(out[i].Effective) && c.Version > out[i].Version:
			out[i] = c
		}
	}
	slices.SortFunc(out, func(a, b RateCard) int { return strings.Compare(a.Carrier, b.Carrier) })
	return out
}
