package scenario

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creatorflow/creatorflow/connectors/catalog"
)

// generator holds a scenario while it is made: the plan of every item and
// SKU (drawn first, from their own streams) and then what the plans
// produce.
type generator struct {
	cfg            Config
	m              *Model
	start, end     time.Time
	winFrom, winTo time.Time
	items          []*itemPlan
	skus           []*skuPlan
	shopSKUs       [][]*skuPlan
	catalog        catalog.Catalog
	results        []itemResult
}

// itemPlan is everything drawn about a content item before its readings.
type itemPlan struct {
	idx       int
	id        string
	shop      int
	kind      Kind
	skus      []*skuPlan
	base      float64 // views per minute
	likeRatio float64
	comRatio  float64
	shrRatio  float64
	initial   counters
	// spike and slow_burn
	onset, peakAt time.Time
	peak          float64
	rise, hold    time.Duration // spike
	halfLife      time.Duration // spike
	floor         float64       // spike: what it decays towards
	growStart     time.Time     // slow_burn
	growth        time.Duration // slow_burn
	// burst and glitch
	anomalyAt time.Time
	factor    float64
	// always_hot: phase of the daily swing, in radians
	phase float64
	// faults
	resetAt, gapStart, gapEnd time.Time
}

// skuPlan is everything drawn about a SKU.
type skuPlan struct {
	idx        int
	shop       int
	id         string
	product    string
	seller     string
	title      string
	priceCents int64
	items      []*itemPlan // promoting items
	viral      []*itemPlan // the viral ones among them
	hot        bool        // an always_hot item promotes it
	base       float64     // orders per hour
	stock      int
	supplier   int
	lead       time.Duration
	peak       float64 // largest demand multiplier of its viral items (1: none)
}

func newGenerator(cfg Config) *generator {
	g := &generator{cfg: cfg, m: cfg.Model, start: cfg.Start, end: cfg.End()}
	g.winFrom, g.winTo = cfg.EpisodeWindow()
	return g
}

// plan draws the kinds, the catalog and every item's and SKU's plan.
func (g *generator) plan() {
	kinds := g.kinds()
	r := stream(g.cfg.Seed, "catalog", 0)
	g.items = make([]*itemPlan, len(kinds))
	byShop := make([][]*itemPlan, g.cfg.Shops)
	for i, k := range kinds {
		p := &itemPlan{idx: i, id: strconv.FormatInt(firstContentID+int64(i), 10), kind: k, shop: r.IntN(g.cfg.Shops)}
		g.items[i] = p
		byShop[p.shop] = append(byShop[p.shop], p)
	}
	g.shopSKUs = make([][]*skuPlan, g.cfg.Shops)
	for shop, items := range byShop {
		g.linkShop(r, shop, items)
	}
	for _, p := range g.items {
		g.planItem(p)
	}
	g.planSKUs(r)
	g.buildCatalog()
}

// kinds returns the kind of every item: exact shares of the mix (largest
// remainders), in a random order so that ids say nothing of kinds.
func (g *generator) kinds() []Kind {
	n := g.cfg.Items
	counts := make([]int, len(Kinds))
	rem := make([]float64, len(Kinds))
	left := n
	for i, k := range Kinds {
		exact := g.cfg.Mix[k] * float64(n)
		counts[i] = int(math.Floor(exact))
		rem[i] = exact - float64(counts[i])
		left -= counts[i]
	}
	order := make([]int, len(Kinds))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case rem[a] > rem[b]:
			return -1
		case rem[a] < rem[b]:
			return 1
		}
		return 0
	})
	for i := 0; left > 0; i++ {
		if g.cfg.Mix[Kinds[order[i%len(order)]]] > 0 {
			counts[order[i%len(order)]]++
			left--
		}
	}
	out := make([]Kind, 0, n)
	for i, k := range Kinds {
		for range counts[i] {
			out = append(out, k)
		}
	}
	r := stream(g.cfg.Seed, "kinds", 0)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// First ids, shaped like TikTok's 19-digit ids and apart from the demo
// catalog's, so a scenario can be imported next to it.
const (
	firstContentID = 7310000000000000001
	firstProductID = 1731000000000000001
	firstSKUID     = 1731500000000000001
	firstOrderID   = 5770000000000000001
	firstLineID    = 5780000000000000001
)

// linkShop creates a shop's SKUs and decides which items promote which.
// Viral items take SKUs nobody viral has taken yet (while there are any),
// so that a SKU's episode is mostly one item's; the other items then take
// the SKUs nobody promotes yet first, so that every SKU is promoted, and
// the rest at random. SKUs left unpromoted (a shop of few, mostly viral
// items) are dropped.
func (g *generator) linkShop(r rng, shop int, items []*itemPlan) {
	if len(items) == 0 {
		return
	}
	n := max(1, int(math.Round(g.m.SKUsPerItem*float64(len(items)))))
	slots := make([][]*itemPlan, n)
	free := r.Perm(n) // SKUs not yet promoted, in the order they are handed out
	links := func() int { return 1 + r.weighted(g.m.LinkWeights) }
	take := func(p *itemPlan, s int) {
		if !slices.Contains(slots[s], p) {
			slots[s] = append(slots[s], p)
		}
	}
	randomOther := func(p *itemPlan) int {
		for range 8 {
			if s := r.IntN(n); !slices.Contains(slots[s], p) {
				return s
			}
		}
		return r.IntN(n)
	}
	for _, viral := range []bool{true, false} {
		for _, p := range items {
			if p.kind.Viral() != viral {
				continue
			}
			for range links() {
				if len(free) > 0 {
					take(p, free[0])
					free = free[1:]
				} else {
					take(p, randomOther(p))
				}
			}
		}
	}
	for _, promoters := range slots {
		if len(promoters) == 0 {
			continue
		}
		sku := &skuPlan{idx: len(g.skus), shop: shop, items: promoters, id: strconv.FormatInt(firstSKUID+int64(len(g.skus)), 10)}
		g.skus = append(g.skus, sku)
		g.shopSKUs[shop] = append(g.shopSKUs[shop], sku)
		for _, p := range promoters {
			p.skus = append(p.skus, sku)
		}
	}
	for _, p := range items {
		slices.SortFunc(p.skus, func(a, b *skuPlan) int { return a.idx - b.idx })
	}
}

// planItem draws an item's audience, episode and faults from its own
// stream.
func (g *generator) planItem(p *itemPlan) {
	m := g.m
	r := stream(g.cfg.Seed, "item", p.idx)
	switch p.kind {
	case Quiet:
		p.base = r.uniform(m.QuietViewsPerMinute)
	case AlwaysHot:
		p.base = r.uniform(m.HotViewsPerMinute)
		p.phase = r.Float64() * 2 * math.Pi
	default:
		p.base = r.uniform(m.SteadyViewsPerMinute)
	}
	p.likeRatio, p.comRatio, p.shrRatio = r.uniform(m.LikeRatio), r.uniform(m.CommentRatio), r.uniform(m.ShareRatio)
	hist := p.base * r.uniform(m.HistoryMinutes)
	p.initial = counters{views: int64(hist), likes: int64(hist * p.likeRatio), comments: int64(hist * p.comRatio),
		shares: int64(hist * p.shrRatio)}

	switch p.kind {
	case Spike:
		p.peak = r.uniform(m.SpikePeak)
		p.rise = minutes(r.uniform(m.SpikeRiseMinutes))
		p.hold = minutes(r.uniform(m.SpikeHoldMinutes))
		p.halfLife = minutes(r.uniform(m.SpikeHalfLifeMinutes))
		p.floor = m.SpikeFloor
		p.onset = r.between(g.winFrom, g.winTo)
		p.peakAt = p.onset.Add(p.rise)
	case SlowBurn:
		p.peak = r.uniform(m.SlowBurnPeak)
		p.growth = hours(r.uniform(m.SlowBurnGrowthHours))
		// The growth starts before the onset (the moment it reaches
		// SlowBurnOnsetMultiplier); it starts after the warmup too, unless
		// the window is too short for that.
		lead := time.Duration(float64(p.growth) * math.Log(m.SlowBurnOnsetMultiplier) / math.Log(p.peak)).Truncate(time.Millisecond)
		from := g.winFrom.Add(lead)
		if from.After(g.winTo) {
			from = g.winTo
		}
		p.onset = r.between(from, g.winTo)
		p.growStart = p.onset.Add(-lead)
		p.peakAt = p.growStart.Add(p.growth)
	case Burst:
		p.factor = r.uniform(m.BurstFactor)
		p.anomalyAt = r.between(g.winFrom, g.winTo)
	case Glitch:
		p.factor = r.uniform(m.GlitchFactor)
		p.anomalyAt = r.between(g.winFrom, g.winTo)
	}

	faultsFrom := g.start.Add(g.cfg.Warmup)
	if r.chance(m.ResetShare) {
		p.resetAt = r.between(faultsFrom, g.end)
	}
	if r.chance(m.GapShare) {
		length := minutes(r.uniform(m.GapMinutes))
		// The gap avoids the reading that shows a burst or a glitch, whose
		// truth would otherwise be unobservable.
		for range 20 {
			p.gapStart = r.between(faultsFrom, g.end.Add(-length))
			p.gapEnd = p.gapStart.Add(length)
			if p.anomalyAt.IsZero() || p.gapEnd.Before(p.anomalyAt.Add(-time.Minute)) || p.gapStart.After(p.anomalyAt.Add(3*time.Minute)) {
				break
			}
			p.gapStart, p.gapEnd = time.Time{}, time.Time{}
		}
	}
}

// multiplier is the item's engagement multiplier m(t): 1 except during a
// spike or a slow burn (bursts and glitches are not multipliers: they touch
// one interval or one reading).
func (p *itemPlan) multiplier(t time.Time) float64 {
	switch p.kind {
	case Spike:
		d := t.Sub(p.onset)
		switch {
		case d <= 0:
			return 1
		case d < p.rise:
			return math.Pow(p.peak, float64(d)/float64(p.rise))
		case d < p.rise+p.hold:
			return p.peak
		}
		return p.floor + (p.peak-p.floor)*math.Exp2(-float64(d-p.rise-p.hold)/float64(p.halfLife))
	case SlowBurn:
		d := t.Sub(p.growStart)
		switch {
		case d <= 0:
			return 1
		case d < p.growth:
			return math.Pow(p.peak, float64(d)/float64(p.growth))
		}
		return p.peak
	}
	return 1
}

// planSKUs draws each SKU's supplier, price, demand and stock.
func (g *generator) planSKUs(r rng) {
	m := g.m
	weights := make([]float64, len(m.Suppliers))
	for i, s := range m.Suppliers {
		weights[i] = s.Weight
	}
	for _, shop := range g.shopSKUs {
		// SKUs come as the variants of products, one to three each.
		for i := 0; i < len(shop); {
			n := min(len(shop)-i, 1+r.IntN(3))
			name := productNames[r.IntN(len(productNames))]
			variants := variantNames[r.IntN(len(variantNames))]
			cents := int64(r.logUniform(m.PriceCents))/100*100 + 99
			product := strconv.FormatInt(firstProductID+int64(shop[i].idx), 10)
			for j := range n {
				s := shop[i+j]
				s.product, s.priceCents = product, cents
				s.title, s.seller = name.title, fmt.Sprintf("SCN-%s-%d", name.code, shop[i].idx)
				if n > 1 {
					s.title += ", " + variants[j]
					s.seller += "-" + variants[j]
				}
			}
			i += n
		}
	}
	for _, s := range g.skus {
		s.peak = 1
		for _, p := range s.items {
			s.hot = s.hot || p.kind == AlwaysHot
			if p.kind.Viral() {
				s.viral = append(s.viral, p)
				s.peak = max(s.peak, p.peak)
			}
		}
		s.supplier = r.weighted(weights)
		s.lead = hours(m.Suppliers[s.supplier].LeadTimeHours)
		if s.hot {
			s.base = r.logUniform(m.HotOrdersPerHour)
		} else {
			s.base = r.logUniform(m.OrdersPerHour)
		}
		perDay := s.base * 24 * (1 + m.TwoUnitShare)
		s.stock = max(m.MinStock, int(math.Round(perDay*r.logUniform(m.StockCoverDays))))
	}
}

// demand is a SKU's demand multiplier: the largest engagement multiplier of
// the viral items promoting it.
func (s *skuPlan) demand(t time.Time) float64 {
	d := 1.0
	for _, p := range s.viral {
		d = max(d, p.multiplier(t))
	}
	return d
}

// buildCatalog writes the plans as a catalog.
func (g *generator) buildCatalog() {
	c := &g.catalog
	for i := range g.cfg.Shops {
		c.Shops = append(c.Shops, catalog.Shop{ID: shopID(i), Cipher: fmt.Sprintf("GCP_scenario_%03d", i+1),
			Name: shopNames[i%len(shopNames)] + suffix(i/len(shopNames))})
	}
	for i, s := range g.m.Suppliers {
		c.Suppliers = append(c.Suppliers, catalog.Supplier{ID: supplierID(i), Name: supplierNames[i%len(supplierNames)] + suffix(i/len(supplierNames)),
			LeadTimeHours: s.LeadTimeHours})
	}
	for _, s := range g.skus {
		c.SKUs = append(c.SKUs, catalog.SKU{ID: s.id, ShopID: shopID(s.shop), ProductID: s.product, SellerSKU: s.seller,
			Title: s.title, StartingStock: s.stock, UnitPrice: fmt.Sprintf("%d.%02d", s.priceCents/100, s.priceCents%100),
			SupplierID: supplierID(s.supplier)})
	}
	for _, p := range g.items {
		ids := make([]string, len(p.skus))
		for i, s := range p.skus {
			ids[i] = s.id
		}
		slices.Sort(ids)
		c.Content = append(c.Content, catalog.Content{ID: p.id, ShopID: shopID(p.shop), Active: true, SKUIDs: ids})
	}
}

func shopID(i int) string     { return fmt.Sprintf("shop-%03d", i+1) }
func supplierID(i int) string { return fmt.Sprintf("supplier-%02d", i+1) }

// suffix tells apart names reused when there are more shops or suppliers
// than names.
func suffix(round int) string {
	if round == 0 {
		return ""
	}
	return " " + strconv.Itoa(round+1)
}

// itemTruths returns the truth of every item, once its readings are made.
func (g *generator) itemTruths() []ItemTruth {
	out := make([]ItemTruth, len(g.items))
	for i, p := range g.items {
		res := g.results[i]
		t := ItemTruth{ContentID: p.id, ShopID: shopID(p.shop), SKUIDs: slices.Clone(g.catalog.Content[i].SKUIDs), Kind: p.kind,
			Viral: p.kind.Viral(), BaseViewsPerMinute: p.base, ResetAt: p.resetAt, GapStart: p.gapStart, GapEnd: p.gapEnd,
			Readings: res.readings, Late: res.late, Missing: res.missing}
		switch p.kind {
		case Spike, SlowBurn:
			t.Onset, t.PeakAt, t.Peak = p.onset, p.peakAt, p.peak
		case Burst, Glitch:
			t.Onset, t.Peak = res.shown, p.factor
		}
		if !p.resetAt.IsZero() {
			t.Faults = append(t.Faults, FaultReset)
		}
		if res.late > 0 {
			t.Faults = append(t.Faults, FaultLate)
		}
		if res.missing > 0 {
			t.Faults = append(t.Faults, FaultMissing)
		}
		if !p.gapStart.IsZero() {
			t.Faults = append(t.Faults, FaultGap)
		}
		out[i] = t
	}
	return out
}

// parallel runs f(0) ... f(n-1) on every CPU. Each call must write only its
// own results, so the outcome does not depend on the scheduling.
func parallel(n int, f func(i int)) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}

// Names of the made-up catalog.
var (
	shopNames     = []string{"Glow Lab", "Creator Gear", "Home & Fit", "Snack Drop", "Pet Pals", "Tiny Threads", "Desk Setup", "Sun Club", "Kitchen Hacks", "Trail Mix Outdoors"}
	supplierNames = []string{"Local Warehouse Transfer", "Same-Day Wholesale", "Express Fulfilment", "Regional Wholesale",
		"National Distributor", "Overseas Partner", "Factory Direct"}
	productNames = []struct{ title, code string }{
		{"Vitamin C Serum 30ml", "SERUM"}, {"LED Ring Light 10in", "RING"}, {"Oversized Graphic Tee", "TEE"},
		{"Insulated Tumbler 40oz", "TUMB"}, {"Mini Waffle Maker", "WAFL"}, {"Hydrating Lip Oil", "LIP"},
		{"Magnetic Phone Mount", "MOUNT"}, {"Cloud Slides", "SLIDE"}, {"Portable Blender", "BLEND"},
		{"Scalp Massager Brush", "SCALP"}, {"Sunset Projection Lamp", "LAMP"}, {"Resistance Bands Set", "BAND"},
		{"Cat Tunnel Toy", "CAT"}, {"Matcha Starter Kit", "MATCHA"}, {"Cable Organizer Box", "CABLE"},
		{"Heatless Curling Rod", "CURL"}, {"Silicone Air Fryer Liners", "LINER"}, {"Weighted Jump Rope", "ROPE"},
		{"Desk Mat XL", "DESK"}, {"Reusable Ice Cubes", "ICE"}, {"Travel Jewelry Case", "JEWEL"},
		{"Mushroom Night Light", "NIGHT"}, {"Hair Claw Clips 4pk", "CLAW"}, {"Pimple Patches 36ct", "PATCH"},
	}
	variantNames = [][]string{{"Black", "White", "Sage"}, {"S", "M", "L"}, {"Rose", "Clear", "Berry"}, {"Blue", "Green", "Grey"}}
)
