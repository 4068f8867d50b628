package priority

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/creatorflow/creatorflow/schemas"
)

// Config holds the weights and thresholds of the priority rules; nothing
// about them is a constant in code.
type Config struct {
	// Viral is the score of an order with a SKU in a viral episode, at a
	// demand multiplier of ViralFullAt or more (less in proportion).
	Viral       float64
	ViralFullAt float64
	// Critical and Warning are the scores of an order with a SKU whose
	// stock alert is at that level: it should ship before the shelf is
	// empty.
	Critical, Warning float64
	// VIP and Repeat are the scores of the buyer's tier. A buyer is a VIP
	// after VIPOrders earlier orders or VIPSpend (minor units) spent.
	VIP, Repeat float64
	VIPOrders   int
	VIPSpend    int64
	// Deadline is the score of an order whose shipping deadline is within
	// DeadlineWithin of the decision.
	Deadline       float64
	DeadlineWithin time.Duration
	// High is the score from which an order is HIGH priority.
	High float64
	// Regions are the ISO country codes shipped to; ExcludedZIP3 the US
	// ZIP prefixes no carrier in the rate cards serves (military mail).
	Regions      []string
	ExcludedZIP3 []string
}

// DefaultConfig: a viral SKU alone makes an order HIGH, so do critical
// stock with a repeat buyer, or a VIP with a close deadline.
var DefaultConfig = Config{
	Viral: 60, ViralFullAt: 5,
	Critical: 40, Warning: 15,
	VIP: 30, Repeat: 10, VIPOrders: 5, VIPSpend: 50_000,
	Deadline: 25, DeadlineWithin: 24 * time.Hour,
	High:         50,
	Regions:      []string{"US"},
	ExcludedZIP3: []string{"090", "091", "092", "093", "094", "095", "096", "097", "098", "340", "962", "963", "964", "965", "966"},
}

// Validate says what is wrong with a configuration.
func (c Config) Validate() error {
	if c.ViralFullAt <= 1 || c.High <= 0 || c.VIPOrders < 1 || c.VIPSpend < 0 || c.DeadlineWithin < 0 || len(c.Regions) == 0 {
		return fmt.Errorf("priority: want viral full-at > 1, high > 0, VIP orders >= 1, VIP spend >= 0, a deadline window >= 0 and at least one region")
	}
	for _, w := range []float64{c.Viral, c.Critical, c.Warning, c.VIP, c.Repeat, c.Deadline} {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("priority: weights must be finite and >= 0")
		}
	}
	return nil
}

// Buyer is what the priority stage knows of a buyer before an order.
type Buyer struct {
	Orders int   `json:"n"`
	Spend  int64 `json:"s"` // minor units
}

// Tier names a buyer's standing.
func (c Config) Tier(b Buyer) string {
	switch {
	case b.Orders >= c.VIPOrders || c.VIPSpend > 0 && b.Spend >= c.VIPSpend:
		return "VIP"
	case b.Orders > 0:
		return "repeat"
	}
	return "new"
}

// Facts are what the SKU-keyed topics say of a SKU now: its open viral
// episode and its last stock alert (nil: none).
type Facts struct {
	Viral *schemas.ViralAlert
	Stock *schemas.StockAlert
}

// Decision is an order's priority.
type Decision struct {
	Class   schemas.PriorityClass
	Score   float64
	Reasons []string
}

var (
	zip    = regexp.MustCompile(`^[0-9]{5}(-[0-9]{4})?$`)
	poBox  = regexp.MustCompile(`(?i)\b(p\.?\s*o\.?\s*box|post\s+office\s+box)\b`)
	spaces = strings.NewReplacer("\n", " ", "\t", " ")
)

// addressProblem is why an address needs a person, or "".
func (c Config) addressProblem(a schemas.RecipientAddress) string {
	region := strings.ToUpper(strings.TrimSpace(a.RegionCode))
	switch {
	case !slices.Contains(c.Regions, region):
		return fmt.Sprintf("undeliverable region %q (shipping to %s)", a.RegionCode, strings.Join(c.Regions, ", "))
	case strings.TrimSpace(a.PostalCode) == "":
		return "missing postal code"
	case region == "US" && !zip.MatchString(strings.TrimSpace(a.PostalCode)):
		return fmt.Sprintf("malformed postal code %q", a.PostalCode)
	case region == "US" && slices.Contains(c.ExcludedZIP3, strings.TrimSpace(a.PostalCode)[:3]):
		return fmt.Sprintf("postal code %s is military mail (APO/FPO), which the carriers do not serve", a.PostalCode)
	case poBox.MatchString(spaces.Replace(a.AddressDetail)):
		return "PO box: ground carriers (UPS, FedEx) do not deliver there"
	}
	return ""
}

// Decide scores an order that has become shippable: the class, the score
// and the reasons, for people. facts looks up a SKU's current facts.
func (c Config) Decide(o schemas.OrderEvent, b Buyer, facts func(sku string) Facts, at time.Time) Decision {
	var d Decision
	add := func(score float64, reason string) {
		d.Score += score
		d.Reasons = append(d.Reasons, fmt.Sprintf("%s (+%.0f)", reason, score))
	}
	// The strongest signal of each kind among the order's SKUs counts once.
	var viral *schemas.ViralAlert
	var stock *schemas.StockAlert
	for _, sku := range skus(o) {
		f := facts(sku)
		if f.Viral != nil && f.Viral.Phase != schemas.ViralEnded && (viral == nil || f.Viral.DemandMultiplier > viral.DemandMultiplier) {
			viral = f.Viral
		}
		if f.Stock != nil && f.Stock.Level != schemas.StockRecovered && (stock == nil || f.Stock.HoursOfCover < stock.HoursOfCover) {
			stock = f.Stock
		}
	}
	if viral != nil {
		share := min(max(viral.DemandMultiplier-1, 0)/(c.ViralFullAt-1), 1)
		add(c.Viral*share, fmt.Sprintf("SKU %s is viral (demand x%.1f)", viral.SKU, viral.DemandMultiplier))
	}
	if stock != nil {
		w := c.Warning
		if stock.Level == schemas.StockCritical {
			w = c.Critical
		}
		add(w, fmt.Sprintf("SKU %s stock %s: %.1f h of cover", stock.SKU, strings.ToLower(string(stock.Level)), stock.HoursOfCover))
	}
	switch tier := c.Tier(b); tier {
	case "VIP":
		add(c.VIP, fmt.Sprintf("VIP buyer (%d earlier orders)", b.Orders))
	case "repeat":
		add(c.Repeat, fmt.Sprintf("repeat buyer (%d earlier orders)", b.Orders))
	default:
		d.Reasons = append(d.Reasons, "new buyer (+0)")
	}
	if due := o.ShippingDueTime; !due.IsZero() && due.Sub(at) <= c.DeadlineWithin {
		add(c.Deadline, fmt.Sprintf("ships by %s, within %s", due.UTC().Format(time.RFC3339), c.DeadlineWithin))
	}
	d.Class = schemas.PriorityStandard
	if d.Score >= c.High {
		d.Class = schemas.PriorityHigh
	}
	if p := c.addressProblem(o.RecipientAddress); p != "" {
		d.Class = schemas.PriorityManualReview
		d.Reasons = append([]string{"address: " + p}, d.Reasons...)
	}
	return d
}

// skus are an order's distinct SKUs, sorted.
func skus(o schemas.OrderEvent) []string {
	var out []string
	for _, li := range o.LineItems {
		if li.SKUID != "" {
			out = append(out, li.SKUID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// orderValue is an order's total in minor units.
func orderValue(o schemas.OrderEvent) int64 {
	var v int64
	for _, li := range o.LineItems {
		v += li.SalePrice * max(li.Quantity, 1)
	}
	return v
}
