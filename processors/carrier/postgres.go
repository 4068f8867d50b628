package carrier

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is a PostgreSQL connection or pool: *pgx.Conn and *pgxpool.Pool both
// are one.
type DB interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Querier is what a read needs: a connection, a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ErrNotMigrated reports that the rate card tables do not exist yet.
var ErrNotMigrated = errors.New("the rate card tables do not exist: run creatorflow migrate first")

// ErrVersionChanged reports a card whose version was imported before with
// other contents: a changed card needs a new version.
var ErrVersionChanged = errors.New("rate card version already imported with other contents")

// ImportResult names the versions ("usps 2025-07-13") an import wrote and
// those that were already there, as the file has them.
type ImportResult struct {
	Inserted, Unchanged []string
}

// Version is an imported version of a carrier's rate card.
type Version struct {
	Carrier, Version      string
	Effective, ImportedAt time.Time
}

// Import writes rate cards in one transaction, all or nothing. A version
// that is not in the database is inserted; one that is, with the same
// contents, is left alone, so importing the same files again changes
// nothing. Nothing is ever updated or deleted: a version imported before
// with other contents fails the import (ErrVersionChanged), as does a new
// version taking effect at the same time as another version of its
// carrier. Each card is first checked as by Validate; problems name the
// card as cards[i].
func Import(ctx context.Context, db DB, cards []RateCard) (ImportResult, error) {
	cards, err := validateAll(cards)
	if err != nil {
		return ImportResult{}, err
	}
	tx, err := db.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return ImportResult{}, dbError("begin rate card transaction", err)
	}
	// After a commit this does nothing; otherwise it undoes everything.
	defer func() { _ = tx.Rollback(context.Background()) }()

	// One import at a time, so that two cannot both find a version new;
	// Load goes on reading meanwhile.
	if _, err := tx.Exec(ctx, "LOCK TABLE carrier_ratecards IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return ImportResult{}, dbError("lock rate cards", err)
	}
	var carriers []string
	for _, c := range cards {
		if !slices.Contains(carriers, c.Carrier) {
			carriers = append(carriers, c.Carrier)
		}
	}
	rows, err := tx.Query(ctx, `SELECT carrier, version, effective_at, imported_at FROM carrier_ratecards WHERE carrier = ANY($1)`, carriers)
	if err != nil {
		return ImportResult{}, dbError("read rate card versions", err)
	}
	existing, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Version])
	if err != nil {
		return ImportResult{}, dbError("read rate card versions", err)
	}

	var (
		res        ImportResult
		fresh      []RateCard
		known      []RateCard // cards whose version is in the database
		errs       []error
		carrierVer []string
		versions   []string
	)
	for _, c := range cards {
		i := slices.IndexFunc(existing, func(v Version) bool { return v.Carrier == c.Carrier && v.Version == c.Version })
		if i >= 0 {
			known = append(known, c)
			carrierVer, versions = append(carrierVer, c.Carrier), append(versions, c.Version)
			continue
		}
		if j := slices.IndexFunc(existing, func(v Version) bool { return v.Carrier == c.Carrier && v.Effective.Equal(c.Effective) }); j >= 0 {
			errs = append(errs, fmt.Errorf("%s version %s takes effect at %s, as version %s imported before does: give it another effective time",
				c.Carrier, c.Version, c.Effective.Format(time.RFC3339), existing[j].Version))
			continue
		}
		fresh = append(fresh, c)
	}
	if len(known) > 0 {
		stored, err := readCards(ctx, tx, "read rate cards", `
SELECT * FROM carrier_ratecards WHERE (carrier, version) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, carrierVer, versions)
		if err != nil {
			return ImportResult{}, err
		}
		for _, c := range known {
			i := slices.IndexFunc(stored, func(s RateCard) bool { return s.Carrier == c.Carrier && s.Version == c.Version })
			if i < 0 {
				return ImportResult{}, fmt.Errorf("%s version %s: the database has the version but not its services and prices", c.Carrier, c.Version)
			}
			if d := difference(stored[i], c); d != "" {
				errs = append(errs, fmt.Errorf("%w: %s version %s: %s; a changed card needs a new version", ErrVersionChanged, c.Carrier, c.Version, d))
				continue
			}
			res.Unchanged = append(res.Unchanged, c.Carrier+" "+c.Version)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return ImportResult{}, err
	}
	if len(fresh) > 0 {
		if err := insert(ctx, tx, fresh); err != nil {
			return ImportResult{}, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return ImportResult{}, dbError("commit rate cards", err)
	}
	for _, c := range fresh {
		res.Inserted = append(res.Inserted, c.Carrier+" "+c.Version)
	}
	return res, nil
}

// validateAll checks every card, and that the cards given twice are the
// same and no two versions of a carrier take effect at once; it returns
// each card once.
func validateAll(in []RateCard) ([]RateCard, error) {
	var (
		out  []RateCard
		errs []error
	)
	for i, c := range in {
		v, err := Validate(c)
		if err != nil {
			lines := strings.Split(err.Error(), "\n")
			for j := range lines {
				lines[j] = fmt.Sprintf("cards[%d]: %s", i, lines[j])
			}
			errs = append(errs, errors.New(strings.Join(lines, "\n")))
			continue
		}
		dup := false
		for _, o := range out {
			switch {
			case o.Carrier != v.Carrier:
			case o.Version == v.Version:
				dup = true
				if d := difference(o, v); d != "" {
					errs = append(errs, fmt.Errorf("cards[%d]: %s version %s is given twice, differently: %s", i, v.Carrier, v.Version, d))
				}
			case o.Effective.Equal(v.Effective):
				dup = true
				errs = append(errs, fmt.Errorf("cards[%d]: %s versions %s and %s take effect at the same time %s",
					i, v.Carrier, o.Version, v.Version, v.Effective.Format(time.RFC3339)))
			}
		}
		if !dup {
			out = append(out, v)
		}
	}
	if len(in) == 0 {
		errs = append(errs, errors.New("no rate card to import"))
	}
	return out, errors.Join(errs...)
}

// insert writes new versions: the cards, their services, their prices.
func insert(ctx context.Context, tx pgx.Tx, cards []RateCard) error {
	var (
		carriers, versions, currencies []string
		effective                      []time.Time
		divisors, minVolumes           []int32
		sCarrier, sVersion, sService   []string
		sNames, sTransit               []string
		sPosition, sMaxWeight          []int32
		pCarrier, pVersion, pService   []string
		pUpTo, pZone                   []int32
		pCents                         []int64
	)
	for _, c := range cards {
		carriers, versions, currencies = append(carriers, c.Carrier), append(versions, c.Version), append(currencies, c.Currency)
		effective = append(effective, c.Effective)
		divisors, minVolumes = append(divisors, int32(c.DimDivisor)), append(minVolumes, int32(c.DimMinCubicIn))
		for i, s := range c.Services {
			sCarrier, sVersion, sService = append(sCarrier, c.Carrier), append(sVersion, c.Version), append(sService, s.Service)
			sPosition, sNames, sMaxWeight = append(sPosition, int32(i)), append(sNames, s.Name), append(sMaxWeight, int32(s.MaxWeightLb))
			days := make([]string, Zones)
			for z, d := range s.TransitDays {
				days[z] = strconv.Itoa(d)
			}
			sTransit = append(sTransit, "{"+strings.Join(days, ",")+"}")
			for _, t := range s.Prices {
				for z, cents := range t.Cents {
					pCarrier, pVersion, pService = append(pCarrier, c.Carrier), append(pVersion, c.Version), append(pService, s.Service)
					pUpTo, pZone, pCents = append(pUpTo, int32(t.UpToLb)), append(pZone, int32(z+1)), append(pCents, cents)
				}
			}
		}
	}
	// Validate bounds every number well within integer.
	if _, err := tx.Exec(ctx, `
INSERT INTO carrier_ratecards (carrier, version, effective_at, currency, dim_divisor, dim_min_cubic_in)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::integer[], $6::integer[])`,
		carriers, versions, effective, currencies, divisors, minVolumes); err != nil {
		return dbError("write rate cards", err)
	}
	if _, err := tx.Exec(ctx, `
INSERT INTO carrier_ratecard_services (carrier, version, service, position, name, max_weight_lb, transit_days)
SELECT c, v, s, pos, n, w, t::integer[]
FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::integer[], $7::text[]) AS u(c, v, s, pos, n, w, t)`,
		sCarrier, sVersion, sService, sPosition, sNames, sMaxWeight, sTransit); err != nil {
		return dbError("write rate card services", err)
	}
	if _, err := tx.Exec(ctx, `
INSERT INTO carrier_ratecard_prices (carrier, version, service, up_to_lb, zone, cents)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::smallint[], $6::bigint[])`,
		pCarrier, pVersion, pService, pUpTo, pZone, pCents); err != nil {
		return dbError("write rate card prices", err)
	}
	return nil
}

// Load reads, for each carrier, the version of its rate card in effect at
// a time: the one with the latest effective time not after at. Carriers
// none of whose versions is in effect yet are left out. The cards are
// ordered by carrier, and read in one statement, so from one snapshot.
func Load(ctx context.Context, q Querier, at time.Time) ([]RateCard, error) {
	return readCards(ctx, q, "read rate cards", `
SELECT DISTINCT ON (carrier) * FROM carrier_ratecards WHERE effective_at <= $1 ORDER BY carrier, effective_at DESC`, at)
}

// Versions lists every imported version, by carrier and effective time.
func Versions(ctx context.Context, q Querier) ([]Version, error) {
	rows, err := q.Query(ctx, `SELECT carrier, version, effective_at, imported_at FROM carrier_ratecards ORDER BY carrier COLLATE "C", effective_at`)
	if err != nil {
		return nil, dbError("read rate card versions", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Version, error) {
		var v Version
		err := r.Scan(&v.Carrier, &v.Version, &v.Effective, &v.ImportedAt)
		v.Effective, v.ImportedAt = v.Effective.UTC(), v.ImportedAt.UTC()
		return v, err
	})
	if err != nil {
		return nil, dbError("read rate card versions", err)
	}
	return out, nil
}

// readCards reads whole cards: picked is a query of carrier_ratecards rows
// choosing the versions.
func readCards(ctx context.Context, q Querier, step, picked string, args ...any) ([]RateCard, error) {
	rows, err := q.Query(ctx, `
WITH picked AS (`+picked+`)
SELECT c.carrier, c.version, c.effective_at, c.currency, c.dim_divisor, c.dim_min_cubic_in,
	s.service, s.name, s.max_weight_lb, s.transit_days, p.up_to_lb, array_agg(p.cents ORDER BY p.zone)
FROM picked c
JOIN carrier_ratecard_services s ON s.carrier = c.carrier AND s.version = c.version
JOIN carrier_ratecard_prices p ON p.carrier = s.carrier AND p.version = s.version AND p.service = s.service
GROUP BY c.carrier, c.version, c.effective_at, c.currency, c.dim_divisor, c.dim_min_cubic_in,
	s.service, s.position, s.name, s.max_weight_lb, s.transit_days, p.up_to_lb
ORDER BY c.carrier COLLATE "C", c.effective_at, s.position, p.up_to_lb`, args...)
	if err != nil {
		return nil, dbError(step, err)
	}
	var (
		out                        []RateCard
		carrier, version, currency string
		effective                  time.Time
		divisor, minVolume         int32
		service, name              string
		maxWeight, upTo            int32
		transit                    []int32
		cents                      []int64
	)
	_, err = pgx.ForEachRow(rows, []any{&carrier, &version, &effective, &currency, &divisor, &minVolume,
		&service, &name, &maxWeight, &transit, &upTo, &cents}, func() error {
		if len(transit) != Zones || len(cents) != Zones {
			return fmt.Errorf("%s version %s, service %s: %d transit days and %d prices of %d lb, want %d of each",
				carrier, version, service, len(transit), len(cents), upTo, Zones)
		}
		if n := len(out); n == 0 || out[n-1].Carrier != carrier || out[n-1].Version != version {
			out = append(out, RateCard{Carrier: carrier, Version: version, Effective: effective.UTC(), Currency: currency,
				DimDivisor: int(divisor), DimMinCubicIn: int(minVolume)})
		}
		c := &out[len(out)-1]
		if n := len(c.Services); n == 0 || c.Services[n-1].Service != service {
			s := Service{Service: service, Name: name, MaxWeightLb: int(maxWeight)}
			for z, d := range transit {
				s.TransitDays[z] = int(d)
			}
			c.Services = append(c.Services, s)
		}
		s := &c.Services[len(c.Services)-1]
		t := Tier{UpToLb: int(upTo)}
		copy(t.Cents[:], cents)
		s.Prices = append(s.Prices, t)
		return nil
	})
	if err != nil {
		return nil, dbError(step, err)
	}
	return out, nil
}

// difference describes the first difference between a stored card and
// another version of it, or is "".
func difference(stored, c RateCard) string {
	if reflect.DeepEqual(stored, c) {
		return ""
	}
	differ := func(field string, was, is any) string {
		return fmt.Sprintf("%s is %v, was %v", field, is, was)
	}
	switch {
	case !stored.Effective.Equal(c.Effective):
		return differ("effective", stored.Effective.Format(time.RFC3339), c.Effective.Format(time.RFC3339))
	case stored.Currency != c.Currency:
		return differ("currency", stored.Currency, c.Currency)
	case stored.DimDivisor != c.DimDivisor:
		return differ("dim_divisor", stored.DimDivisor, c.DimDivisor)
	case stored.DimMinCubicIn != c.DimMinCubicIn:
		return differ("dim_min_cubic_in", stored.DimMinCubicIn, c.DimMinCubicIn)
	case len(stored.Services) != len(c.Services):
		return fmt.Sprintf("it has %d services, was %d", len(c.Services), len(stored.Services))
	}
	for i, s := range c.Services {
		was := stored.Services[i]
		at := fmt.Sprintf("services[%d]", i)
		switch {
		case was.Service != s.Service:
			return differ(at+".service", was.Service, s.Service)
		case was.Name != s.Name:
			return differ(at+".name", strconv.Quote(was.Name), strconv.Quote(s.Name))
		case was.MaxWeightLb != s.MaxWeightLb:
			return differ(at+".max_weight_lb", was.MaxWeightLb, s.MaxWeightLb)
		case was.TransitDays != s.TransitDays:
			return differ(at+".transit_days", was.TransitDays, s.TransitDays)
		case len(was.Prices) != len(s.Prices):
			return fmt.Sprintf("%s has %d weight tiers, was %d", at, len(s.Prices), len(was.Prices))
		}
		for j, t := range s.Prices {
			tat := fmt.Sprintf("%s.prices[%d]", at, j)
			if t.UpToLb != was.Prices[j].UpToLb {
				return differ(tat+".up_to_lb", was.Prices[j].UpToLb, t.UpToLb)
			}
			for z, cents := range t.Cents {
				if cents != was.Prices[j].Cents[z] {
					return differ(fmt.Sprintf("%s.cents, zone %d,", tat, z+1), was.Prices[j].Cents[z], cents)
				}
			}
		}
	}
	return "it differs" // not reached: the fields above are all there is
}

// dbError names the step that failed, and says what to do when the
// migration that creates the tables has not run.
func dbError(step string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "42703") { // undefined_table, undefined_column
		return fmt.Errorf("%s: %w (%s)", step, ErrNotMigrated, pe.Message)
	}
	return fmt.Errorf("%s: %w", step, err)
}
