package carrier_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/creatorflow/creatorflow/pipeline/migrate"
	"github.com/creatorflow/creatorflow/pipeline/stacktest"
	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas/migrations"
)

// database returns a connection to a fresh database of the local stack,
// with the migrations applied when migrated is set.
func database(t *testing.T, migrated bool) *pgx.Conn {
	t.Helper()
	url := stacktest.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if migrated {
		ms, err := migrate.Load(migrations.FS, migrations.Postgres)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := migrate.Run(ctx, migrate.Postgres{Conn: conn}, ms); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// raised is a card with every price up by percent, as a new version.
func raised(c carrier.RateCard, version string, effective time.Time, percent int64) carrier.RateCard {
	c.Version, c.Effective = version, effective
	c.Services = append([]carrier.Service(nil), c.Services...)
	for i := range c.Services {
		s := &c.Services[i]
		s.Prices = append([]carrier.Tier(nil), s.Prices...)
		for j := range s.Prices {
			for z := range s.Prices[j].Cents {
				s.Prices[j].Cents[z] += s.Prices[j].Cents[z] * percent / 100
			}
		}
	}
	return c
}

func names(vs []carrier.Version) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Carrier+" "+v.Version+" "+v.Effective.Format(time.DateOnly))
	}
	return out
}

// TestImportLoad imports the shipped cards, again, a new version of one,
// and changed or clashing versions, and checks what Load gives as of
// several times and that old versions stay as they were.
func TestImportLoad(t *testing.T) {
	t.Parallel()
	conn := database(t, true)
	ctx := context.Background()
	shipped := shippedCards(t) // fedex, ups, usps
	now := time.Date(2025, 9, 10, 0, 0, 0, 0, time.UTC)

	res, err := carrier.Import(ctx, conn, shipped)
	if err != nil {
		t.Fatal(err)
	}
	if want := (carrier.ImportResult{Inserted: []string{"fedex 2025-01-06", "ups 2024-12-23", "usps 2025-07-13"}}); !reflect.DeepEqual(res, want) {
		t.Errorf("first import: %+v, want %+v", res, want)
	}
	loaded, err := carrier.Load(ctx, conn, now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded, shipped) {
		t.Fatalf("loaded\n%+v\nwant the files\n%+v", loaded, shipped)
	}
	before, err := carrier.Versions(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}

	// The same files again: nothing is written.
	res, err = carrier.Import(ctx, conn, append(shipped, shipped[0]))
	if err != nil {
		t.Fatal(err)
	}
	if want := (carrier.ImportResult{Unchanged: []string{"fedex 2025-01-06", "ups 2024-12-23", "usps 2025-07-13"}}); !reflect.DeepEqual(res, want) {
		t.Errorf("second import: %+v, want %+v", res, want)
	}
	if after, err := carrier.Versions(ctx, conn); err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("versions after importing the same cards: %+v, %v; want %+v", after, err, before)
	}

	// A new USPS version, in effect from January; the old one stays.
	usps2026 := raised(shipped[2], "2026-01-18", time.Date(2026, 1, 18, 5, 0, 0, 0, time.UTC), 6)
	res, err = carrier.Import(ctx, conn, []carrier.RateCard{shipped[2], usps2026})
	if err != nil {
		t.Fatal(err)
	}
	if want := (carrier.ImportResult{Inserted: []string{"usps 2026-01-18"}, Unchanged: []string{"usps 2025-07-13"}}); !reflect.DeepEqual(res, want) {
		t.Errorf("new version: %+v, want %+v", res, want)
	}
	for _, tt := range []struct {
		at   time.Time
		want []carrier.RateCard
	}{
		{time.Date(2024, 12, 22, 0, 0, 0, 0, time.UTC), nil},
		{time.Date(2024, 12, 23, 0, 0, 0, 0, time.UTC), shipped[1:2]},
		{now, shipped},
		{usps2026.Effective.Add(-time.Second), shipped},
		{usps2026.Effective, []carrier.RateCard{shipped[0], shipped[1], usps2026}},
	} {
		loaded, err := carrier.Load(ctx, conn, tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(loaded, tt.want) {
			var got []string
			for _, c := range loaded {
				got = append(got, c.Carrier+" "+c.Version)
			}
			t.Errorf("Load(%v): %v", tt.at, got)
		}
	}
	versions, err := carrier.Versions(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"fedex 2025-01-06 2025-01-06", "ups 2024-12-23 2024-12-23", "usps 2025-07-13 2025-07-13", "usps 2026-01-18 2026-01-18"}; !reflect.DeepEqual(names(versions), want) {
		t.Errorf("versions %v, want %v", names(versions), want)
	}

	// Refused, and nothing of them written: a changed card under a version
	// already imported, a new version taking effect with another, a card
	// given twice differently, an invalid card.
	changed := raised(shipped[1], shipped[1].Version, shipped[1].Effective, 1)
	clash := raised(shipped[0], "2025-01-06b", shipped[0].Effective, 2)
	renamed := shipped[0]
	renamed.Services = append([]carrier.Service(nil), shipped[0].Services...)
	renamed.Services[1].Name = "FedEx Express Saver"
	invalid := shipped[0]
	invalid.Version = "2099-01-01"
	invalid.Effective = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	invalid.Currency = "CAD"
	fresh := raised(shipped[1], "2026-12-22", time.Date(2026, 12, 22, 0, 0, 0, 0, time.UTC), 5)
	for _, tt := range []struct {
		name  string
		cards []carrier.RateCard
		is    error
		want  string
	}{
		{"changed prices", []carrier.RateCard{fresh, changed}, carrier.ErrVersionChanged,
			"rate card version already imported with other contents: ups version 2024-12-23: services[0].prices[0].cents, zone 1, is 1025, was 1015; " +
				"a changed card needs a new version"},
		{"changed name", []carrier.RateCard{renamed}, carrier.ErrVersionChanged,
			`fedex version 2025-01-06: services[1].name is "FedEx Express Saver", was "FedEx 2Day"`},
		{"same effective time", []carrier.RateCard{fresh, clash}, nil,
			"fedex version 2025-01-06b takes effect at 2025-01-06T00:00:00Z, as version 2025-01-06 imported before does: give it another effective time"},
		{"given twice", []carrier.RateCard{fresh, raised(fresh, fresh.Version, fresh.Effective, 1)}, nil,
			"cards[1]: ups version 2026-12-22 is given twice, differently: services[0].prices[0].cents, zone 1, is 1075, was 1065"},
		{"invalid", []carrier.RateCard{fresh, invalid}, nil, `cards[1]: currency: "CAD" is not USD (rate cards are in US cents)`},
		{"none", nil, nil, "no rate card to import"},
	} {
		res, err := carrier.Import(ctx, conn, tt.cards)
		if err == nil || tt.is != nil && !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %+v, error %v; want one with %q", tt.name, res, err, tt.want)
		}
		if after, err := carrier.Versions(ctx, conn); err != nil || !reflect.DeepEqual(after, versions) {
			t.Errorf("%s left a trace: %v, %v", tt.name, names(after), err)
		}
	}
	loaded, err = carrier.Load(ctx, conn, now)
	if err != nil || !reflect.DeepEqual(loaded, shipped) {
		t.Errorf("the old versions changed: %v", err)
	}

	// What is loaded is what Choose ranks.
	req := carrier.Request{Origin: "90021", Destination: "10001", Priority: "STANDARD", Now: now, Deadline: now.AddDate(0, 0, 7),
		Parcel: carrier.Parcel{WeightOz: 20, LengthIn: 10, WidthIn: 8, HeightIn: 4}}
	fromDB, err := carrier.Choose(req, loaded, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	fromFiles, err := carrier.Choose(req, shipped, nil, nil)
	if err != nil || !reflect.DeepEqual(fromDB, fromFiles) {
		t.Errorf("decisions differ:\n%+v\n%+v (%v)", fromDB, fromFiles, err)
	}
}

// TestImportConcurrent runs imports of the same new version side by side:
// one inserts it, the others find it unchanged, none fails.
func TestImportConcurrent(t *testing.T) {
	t.Parallel()
	url := stacktest.Postgres(t)
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close(ctx)
	ms, err := migrate.Load(migrations.FS, migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate.Run(ctx, migrate.Postgres{Conn: setup}, ms); err != nil {
		t.Fatal(err)
	}
	shipped := shippedCards(t)
	const n = 4
	type outcome struct {
		res carrier.ImportResult
		err error
	}
	outcomes := make(chan outcome, n)
	for range n {
		go func() {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				outcomes <- outcome{err: err}
				return
			}
			defer conn.Close(ctx)
			res, err := carrier.Import(ctx, conn, shipped)
			outcomes <- outcome{res, err}
		}()
	}
	inserted := 0
	for range n {
		o := <-outcomes
		if o.err != nil {
			t.Fatal(o.err)
		}
		inserted += len(o.res.Inserted)
		if len(o.res.Inserted)+len(o.res.Unchanged) != len(shipped) {
			t.Errorf("result %+v", o.res)
		}
	}
	if inserted != len(shipped) {
		t.Errorf("%d versions inserted, want %d", inserted, len(shipped))
	}
}

func TestNotMigrated(t *testing.T) {
	t.Parallel()
	conn := database(t, false)
	ctx := context.Background()
	_, errImport := carrier.Import(ctx, conn, shippedCards(t))
	_, errLoad := carrier.Load(ctx, conn, time.Now())
	_, errVersions := carrier.Versions(ctx, conn)
	for _, err := range []error{errImport, errLoad, errVersions} {
		if !errors.Is(err, carrier.ErrNotMigrated) || !strings.Contains(err.Error(), "run creatorflow migrate first") {
			t.Errorf("error %v, want ErrNotMigrated", err)
		}
	}
}
