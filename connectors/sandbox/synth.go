package sandbox

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// What the sandbox makes up when Config.Synthesize is on: a small catalog
// of the kind of products creators sell, orders over it, and videos. Each
// thing is a pure function of the seed and its id, so a test or a demo that
// asks for order "123" gets the same order every time.

// catalogItem is a product of the synthetic catalog; its variants are its
// SKUs (none: a single SKU).
type catalogItem struct {
	title, code string
	cents       int
	variants    []string
}

var catalogItems = []catalogItem{
	{"Glow Vitamin C Serum 30ml", "SERUM", 2499, nil},
	{"LED Ring Light 10in", "RING", 3999, []string{"BLK", "WHT"}},
	{"Oversized Graphic Tee", "TEE", 2200, []string{"S", "M", "L", "XL"}},
	{"Insulated Tumbler 40oz", "TUMB", 3499, []string{"SAGE", "ROSE", "BLK"}},
	{"Mini Waffle Maker", "WAFL", 1999, nil},
	{"Hydrating Lip Oil", "LIP", 1299, []string{"CLEAR", "PINK", "BERRY"}},
	{"Magnetic Phone Mount", "MOUNT", 1599, nil},
	{"Cloud Slides", "SLIDE", 2799, []string{"7", "8", "9", "10"}},
	{"Portable Blender", "BLEND", 3299, []string{"BLUE", "GREEN"}},
	{"Scalp Massager Brush", "SCALP", 899, nil},
	{"Sunset Projection Lamp", "LAMP", 2599, nil},
	{"Resistance Bands Set", "BAND", 1799, nil},
}

// Catalog ids look like TikTok's 19-digit ids and do not depend on the
// seed, so documentation and scripts can name them.
const (
	firstProductID = 1729000000000000001
	firstSKUID     = 1729500000000000000
	warehouseID    = "sandbox-warehouse-1"
)

func productID(i int) string { return strconv.FormatInt(firstProductID+int64(i), 10) }

func skuID(i, j int) string { return strconv.FormatInt(firstSKUID+int64(i+1)*100+int64(j+1), 10) }

// catalogSKU is one SKU of the catalog with its product, for order lines.
type catalogSKU struct {
	product int
	id      string
	seller  string
}

func (it catalogItem) skus(i int) []catalogSKU {
	if len(it.variants) == 0 {
		return []catalogSKU{{product: i, id: skuID(i, 0), seller: "CF-" + it.code}}
	}
	out := make([]catalogSKU, len(it.variants))
	for j, v := range it.variants {
		out[j] = catalogSKU{product: i, id: skuID(i, j), seller: "CF-" + it.code + "-" + v}
	}
	return out
}

// newCatalog returns the synthetic catalog's products with their starting
// stock, which the seed chooses.
func newCatalog(seed uint64) []tiktok.Product {
	r := rand.New(rand.NewPCG(seed, hashID("catalog", "")))
	out := make([]tiktok.Product, len(catalogItems))
	for i, it := range catalogItems {
		p := tiktok.Product{ID: productID(i), Title: it.title}
		for _, sku := range it.skus(i) {
			p.SKUs = append(p.SKUs, tiktok.ProductSKU{ID: sku.id, SellerSKU: sku.seller,
				Inventory: []tiktok.Inventory{{WarehouseID: warehouseID, Quantity: 50 + r.IntN(451)}}})
		}
		out[i] = p
	}
	return out
}

// hashID hashes a kind of thing and its id into a PCG seed half.
func hashID(kind, id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return h.Sum64()
}

// buyerPool is the number of distinct buyers orders are drawn from: small
// enough that repeat buyers are common in a few thousand orders.
const buyerPool = 2000

// Fractions of synthesized addresses with a flaw, so that address
// validation downstream has cases: no postal code, a malformed one, a PO
// box (which some carriers refuse).
const (
	missingPostalRate   = 0.02
	malformedPostalRate = 0.02
	poBoxRate           = 0.02
)

var (
	firstNames = []string{"Ava", "Liam", "Mia", "Noah", "Zoe", "Ethan", "Chloe", "Lucas", "Maya", "Owen", "Ruby", "Eli"}
	lastNames  = []string{"Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Davis", "Wilson"}
	streets    = []string{"Main St", "Oak Ave", "Maple Dr", "Sunset Blvd", "2nd St", "Pine Ln", "Lake Rd", "Elm St"}
	places     = []struct{ city, state, zip string }{
		{"Los Angeles", "California", "90012"}, {"Austin", "Texas", "78701"}, {"Brooklyn", "New York", "11201"},
		{"Miami", "Florida", "33130"}, {"Chicago", "Illinois", "60601"}, {"Seattle", "Washington", "98101"},
		{"Denver", "Colorado", "80202"}, {"Atlanta", "Georgia", "30303"}, {"Phoenix", "Arizona", "85004"},
		{"Columbus", "Ohio", "43215"}, {"Nashville", "Tennessee", "37203"}, {"Portland", "Oregon", "97204"},
	}
)

// synthOrder makes up order id as it stands at now: one to three lines over
// the catalog, popular products more often, awaiting shipment.
func synthOrder(seed uint64, id string, now time.Time) tiktok.Order {
	r := rand.New(rand.NewPCG(seed, hashID("order", id)))
	// A few products sell much more than the rest, as on TikTok Shop.
	popular := rand.NewZipf(r, 1.3, 1, uint64(len(catalogItems)-1))
	lines := 1
	if u := r.Float64(); u > 0.9 {
		lines = 3
	} else if u > 0.6 {
		lines = 2
	}
	o := tiktok.Order{
		ID:              id,
		Status:          statusAwaitingShipment,
		CreateTime:      now.Unix(),
		UpdateTime:      now.Unix(),
		RTSSLATime:      now.Add(48 * time.Hour).Unix(),
		ShippingDueTime: now.Add(72 * time.Hour).Unix(),
		UserID:          strconv.FormatUint(7_000_000_000_000_000_000+mix64(seed^uint64(r.IntN(buyerPool)))%1_000_000_000_000_000_000, 10),
	}
	total := 0
	for n := range lines {
		i := int(popular.Uint64())
		it := catalogItems[i]
		skus := it.skus(i)
		sku := skus[r.IntN(len(skus))]
		o.LineItems = append(o.LineItems, tiktok.LineItem{
			ID: id + "-" + strconv.Itoa(n+1), SKUID: sku.id, SellerSKU: sku.seller,
			ProductID: productID(i), ProductName: it.title, SalePrice: money(it.cents), Currency: "USD",
		})
		total += it.cents
	}
	o.Payment = tiktok.Payment{Currency: "USD", TotalAmount: money(total)}
	o.RecipientAddress = synthAddress(r)
	return o
}

func synthAddress(r *rand.Rand) tiktok.Address {
	place := places[r.IntN(len(places))]
	a := tiktok.Address{
		Name:          firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))],
		PhoneNumber:   fmt.Sprintf("(+1)555%07d", r.IntN(10_000_000)),
		PostalCode:    place.zip,
		RegionCode:    "US",
		AddressDetail: fmt.Sprintf("%d %s", 1+r.IntN(9899), streets[r.IntN(len(streets))]),
		DistrictInfo: []tiktok.District{
			{AddressLevelName: "Country", AddressName: "United States"},
			{AddressLevelName: "State", AddressName: place.state},
			{AddressLevelName: "City", AddressName: place.city},
		},
	}
	switch u := r.Float64(); {
	case u < missingPostalRate:
		a.PostalCode = ""
	case u < missingPostalRate+malformedPostalRate:
		if r.IntN(2) == 0 {
			a.PostalCode = place.zip[:4] // too short
		} else {
			a.PostalCode = place.zip[:3] + "O" + place.zip[4:] // a letter O in it
		}
	case u < missingPostalRate+malformedPostalRate+poBoxRate:
		a.AddressDetail = fmt.Sprintf("PO Box %d", 100+r.IntN(9900))
	}
	return a
}

// money writes cents as TikTok's decimal strings.
func money(cents int) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// missingPrefix marks ids that are never synthesized: a test's way to ask
// for something the API does not have.
const missingPrefix = "missing-"

func synthesizable(id string) bool { return !strings.HasPrefix(id, missingPrefix) }

// synthVideo makes up a video posted between an hour and a week before the
// sandbox started, with a modest steady audience.
func synthVideo(seed uint64, id string, start time.Time) VideoModel {
	r := rand.New(rand.NewPCG(seed, hashID("video", id)))
	age := time.Hour + time.Duration(r.Int64N(int64(7*24*time.Hour-time.Hour)))
	return VideoModel{
		ID:             id,
		Created:        start.Add(-age).Truncate(time.Second),
		ViewsPerMinute: 5 + 95*r.Float64(),
		LikeRate:       0.03 + 0.07*r.Float64(),
		CommentRate:    0.002 + 0.008*r.Float64(),
		ShareRate:      0.001 + 0.007*r.Float64(),
	}
}
