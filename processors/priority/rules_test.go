package priority

import (
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/schemas"
)

var t0 = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

func order(addr schemas.RecipientAddress, skus ...string) schemas.OrderEvent {
	o := schemas.OrderEvent{OrderID: "o1", BuyerID: "b1", Status: schemas.OrderStatusAwaitingShipment, UpdateTime: t0, RecipientAddress: addr}
	for _, s := range skus {
		o.LineItems = append(o.LineItems, schemas.LineItem{SKUID: s, Quantity: 1, SalePrice: 2499})
	}
	return o
}

var good = schemas.RecipientAddress{Name: "A", PostalCode: "94107", RegionCode: "US", AddressDetail: "1 Main St"}

func TestDecide(t *testing.T) {
	viral := &schemas.ViralAlert{SKU: "v", Phase: schemas.ViralStarted, DemandMultiplier: 8}
	half := &schemas.ViralAlert{SKU: "h", Phase: schemas.ViralUpdated, DemandMultiplier: 3}
	ended := &schemas.ViralAlert{SKU: "e", Phase: schemas.ViralEnded, DemandMultiplier: 8}
	critical := &schemas.StockAlert{SKU: "c", Level: schemas.StockCritical, HoursOfCover: 3}
	warning := &schemas.StockAlert{SKU: "w", Level: schemas.StockWarning, HoursOfCover: 20}
	recovered := &schemas.StockAlert{SKU: "r", Level: schemas.StockRecovered, HoursOfCover: 40}
	facts := func(sku string) Facts {
		return map[string]Facts{"v": {Viral: viral}, "h": {Viral: half}, "e": {Viral: ended}, "c": {Stock: critical},
			"w": {Stock: warning}, "r": {Stock: recovered}}[sku]
	}
	cfg := DefaultConfig
	tests := []struct {
		name   string
		o      schemas.OrderEvent
		buyer  Buyer
		class  schemas.PriorityClass
		score  float64
		reason string
	}{
		{"plain order of a new buyer", order(good, "x"), Buyer{}, schemas.PriorityStandard, 0, "new buyer"},
		{"viral SKU", order(good, "x", "v"), Buyer{}, schemas.PriorityHigh, 60, "SKU v is viral (demand x8.0)"},
		{"viral at x3 counts in proportion", order(good, "h"), Buyer{}, schemas.PriorityStandard, 30, "SKU h is viral"},
		{"an ended episode counts nothing", order(good, "e"), Buyer{}, schemas.PriorityStandard, 0, "new buyer"},
		{"critical stock with a repeat buyer", order(good, "c"), Buyer{Orders: 1}, schemas.PriorityHigh, 50, "stock critical: 3.0 h of cover"},
		{"warning stock", order(good, "w"), Buyer{}, schemas.PriorityStandard, 15, "stock warning"},
		{"recovered stock counts nothing", order(good, "r"), Buyer{}, schemas.PriorityStandard, 0, "new buyer"},
		{"VIP by orders", order(good, "x"), Buyer{Orders: 5}, schemas.PriorityStandard, 30, "VIP buyer"},
		{"VIP by spend", order(good, "x"), Buyer{Orders: 1, Spend: 60_000}, schemas.PriorityStandard, 30, "VIP buyer"},
		{"VIP with a close deadline", func() schemas.OrderEvent {
			o := order(good, "x")
			o.ShippingDueTime = t0.Add(6 * time.Hour)
			return o
		}(), Buyer{Orders: 7}, schemas.PriorityHigh, 55, "ships by"},
		{"missing postal code", order(schemas.RecipientAddress{RegionCode: "US", AddressDetail: "1 Main St"}, "v"), Buyer{}, schemas.PriorityManualReview, 60, "address: missing postal code"},
		{"malformed postal code", order(schemas.RecipientAddress{PostalCode: "9410", RegionCode: "US"}, "x"), Buyer{}, schemas.PriorityManualReview, 0, `malformed postal code "9410"`},
		{"ZIP+4 is fine", order(schemas.RecipientAddress{PostalCode: "94107-1234", RegionCode: "US"}, "x"), Buyer{}, schemas.PriorityStandard, 0, "new buyer"},
		{"PO box", order(schemas.RecipientAddress{PostalCode: "94107", RegionCode: "US", AddressDetail: "P.O. Box 12"}, "x"), Buyer{}, schemas.PriorityManualReview, 0, "PO box"},
		{"military mail", order(schemas.RecipientAddress{PostalCode: "09012", RegionCode: "US"}, "x"), Buyer{}, schemas.PriorityManualReview, 0, "military mail"},
		{"undeliverable region", order(schemas.RecipientAddress{PostalCode: "75001", RegionCode: "FR"}, "x"), Buyer{}, schemas.PriorityManualReview, 0, `undeliverable region "FR"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := cfg.Decide(tc.o, tc.buyer, facts, t0)
			if d.Class != tc.class || d.Score != tc.score || !strings.Contains(strings.Join(d.Reasons, "; "), tc.reason) {
				t.Fatalf("got %s %.1f %q, want %s %.1f with %q", d.Class, d.Score, d.Reasons, tc.class, tc.score, tc.reason)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	bad := DefaultConfig
	bad.Viral = -1
	if bad.Validate() == nil || DefaultConfig.Validate() != nil {
		t.Fatal("validation")
	}
	noRegions := DefaultConfig
	noRegions.Regions = nil
	if noRegions.Validate() == nil {
		t.Fatal("no regions accepted")
	}
}
