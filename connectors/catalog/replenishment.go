package catalog

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// Plan is what the inventory processors need to reorder a SKU: its
// settings with every default applied, so that they hold no defaults of
// their own. They reorder
//
//	forecast demand over LeadTime+ReviewPeriod + z(ServiceLevel)·σ·√LeadTime
//	− on hand − on order
//
// and at least MinOrderQty, where σ is the spread of the demand forecast.
type Plan struct {
	SKU, ShopID   string
	StartingStock int
	// UnitPrice is as in SKU: two decimals, or empty when unknown.
	UnitPrice string
	// SupplierID is empty for a SKU that is not reordered automatically.
	SupplierID string
	// LeadTime is the SKU's own lead time, else its supplier's; 0 when it
	// has neither (no supplier, or one Plans does not know).
	LeadTime time.Duration
	// ServiceLevel is the SKU's, else DefaultServiceLevel.
	ServiceLevel float64
	// ReviewPeriod is the SKU's, else DefaultReviewPeriodHours.
	ReviewPeriod time.Duration
	// MinOrderQty is the SKU's, else 1: every order is of at least one.
	MinOrderQty int
}

// Plans computes the plans of the catalog's SKUs, in the order of c.SKUs,
// as Replenishment does from the database. A SKU whose supplier is not in
// c (one imported before) has the lead time of its own setting, or 0. c is
// taken to be valid, as Parse and Validate return it.
func (c Catalog) Plans() []Plan {
	leadTimes := make(map[string]float64, len(c.Suppliers))
	for _, s := range c.Suppliers {
		leadTimes[s.ID] = s.LeadTimeHours
	}
	var out []Plan
	for _, s := range c.SKUs {
		out = append(out, planOf(s, leadTimes[s.SupplierID]))
	}
	return out
}

// Replenishment reads the plans of every SKU, ordered by SKU id bytewise,
// in one query: what the inventory processors read at start.
func Replenishment(ctx context.Context, q Querier) ([]Plan, error) {
	rows, err := q.Query(ctx, `
SELECT k.sku_id, k.shop_id, k.starting_stock, coalesce(k.unit_price::text, ''), coalesce(k.supplier_id, ''),
	coalesce(k.lead_time_hours, 0)::float8, coalesce(k.service_level, 0)::float8,
	coalesce(k.review_period_hours, 0)::float8, k.min_order_qty, coalesce(s.lead_time_hours, 0)::float8
FROM catalog_skus k LEFT JOIN catalog_suppliers s ON s.supplier_id = k.supplier_id
ORDER BY k.sku_id COLLATE "C"`)
	if err != nil {
		return nil, dbError("read catalog replenishment", err)
	}
	var (
		out          []Plan
		s            SKU
		supplierLead float64
	)
	_, err = pgx.ForEachRow(rows, []any{&s.ID, &s.ShopID, &s.StartingStock, &s.UnitPrice, &s.SupplierID,
		&s.LeadTimeHours, &s.ServiceLevel, &s.ReviewPeriodHours, &s.MinOrderQty, &supplierLead}, func() error {
		out = append(out, planOf(s, supplierLead))
		return nil
	})
	if err != nil {
		return nil, dbError("read catalog replenishment", err)
	}
	return out, nil
}

// planOf applies the defaults to a SKU's settings. supplierLeadHours is
// the lead time of its supplier, 0 when it has none. Plans and
// Replenishment both use it, so a catalog file and the database it is
// imported into give the same plans.
func planOf(s SKU, supplierLeadHours float64) Plan {
	p := Plan{
		SKU: s.ID, ShopID: s.ShopID, StartingStock: s.StartingStock, UnitPrice: s.UnitPrice, SupplierID: s.SupplierID,
		ServiceLevel: s.ServiceLevel, MinOrderQty: s.MinOrderQty,
	}
	switch {
	case s.LeadTimeHours != 0:
		p.LeadTime = hours(s.LeadTimeHours)
	case s.SupplierID != "":
		p.LeadTime = hours(supplierLeadHours)
	}
	if p.ServiceLevel == 0 {
		p.ServiceLevel = DefaultServiceLevel
	}
	reviewHours := s.ReviewPeriodHours
	if reviewHours == 0 {
		reviewHours = DefaultReviewPeriodHours
	}
	p.ReviewPeriod = hours(reviewHours)
	if p.MinOrderQty == 0 {
		p.MinOrderQty = 1
	}
	return p
}

// hours converts a number of hours to a duration, to the nearest
// nanosecond; MaxHours keeps it far from overflowing.
func hours(h float64) time.Duration {
	return time.Duration(math.Round(h * float64(time.Hour)))
}
