package carrier_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas"
)

// FuzzParse checks that Parse never panics, that what it refuses is
// reported in at most MaxErrors lines plus the count of the rest, and that
// what it accepts is stable (Validate and a JSON round trip leave it as it
// is) and usable: Choose ranks its services without failing, unless the
// parcel is over every max weight.
func FuzzParse(f *testing.F) {
	for _, path := range shippedFiles {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, seed := range []string{
		goodCard,
		strings.Replace(goodCard, `"max_weight_lb": 5`, `"max_weight_lb": 4`, 1),
		`{"carrier": "x", "version": "1", "effective": "2025-01-01", "currency": "USD", "dim_divisor": 1, "dim_min_cubic_in": 1000000,
		  "services": [{"service": "g", "max_weight_lb": 1000, "transit_days": [30,30,30,30,30,30,30,30],
		  "prices": [{"up_to_lb": 1000, "cents": [10000000,10000000,10000000,10000000,10000000,10000000,10000000,10000000]}]}]}`,
		`{"carrier": 5, "services": [{"service": "g", "max_weight_lb": 1.5, "prices": [{"cents": [1]}, 7]}, null]}`,
		`{"services": null}`,
		`{"effective": "2025-07-13T00:00:00.123Z"}`,
		"\uFEFF{}",
		"[]",
		"",
	} {
		f.Add(seed)
	}
	now := time.Date(2025, 9, 10, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		c, err := carrier.Parse(strings.NewReader(in))
		if err != nil {
			if n := strings.Count(err.Error(), "\n") + 1; n > carrier.MaxErrors+1 {
				t.Fatalf("%d lines of problems:\n%v", n, err)
			}
			return
		}
		checkAccepted(t, c)
		req := carrier.Request{Origin: "10001", Destination: "94105", Parcel: carrier.Parcel{WeightOz: 12, LengthIn: 9, WidthIn: 6, HeightIn: 3},
			Priority: schemas.PriorityHigh, Now: now, ShipBy: now}
		d, err := carrier.Choose(req, []carrier.RateCard{c}, nil, nil)
		if err != nil {
			if !errors.Is(err, carrier.ErrTooHeavy) {
				t.Fatalf("Choose: %v", err)
			}
			return
		}
		if len(d.Options) == 0 || len(d.Options) > len(c.Services) {
			t.Fatalf("%d options of %d services", len(d.Options), len(c.Services))
		}
	})
}
