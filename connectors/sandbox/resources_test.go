package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

func ids(n int, prefix string) string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return strings.Join(out, ",")
}

func TestSandboxOrdersBatch(t *testing.T) {
	f := newFixture(t, nil)
	want(t, f.call(get(tiktok.PathOrders, url.Values{"ids": {ids(51, "o")}})), 400, tiktok.CodeBadRequest)
	want(t, f.call(get(tiktok.PathOrders, nil)), 400, tiktok.CodeBadRequest)

	var data tiktok.OrdersData
	f.data(get(tiktok.PathOrders, url.Values{"ids": {ids(50, "o")}}), &data)
	if len(data.Orders) != 50 {
		t.Fatalf("%d orders for 50 synthesizable ids", len(data.Orders))
	}
	// Unknown orders are missing from the list, not an error; duplicates
	// are answered once, in the order asked.
	f.data(get(tiktok.PathOrders, url.Values{"ids": {"b,missing-1,a,b"}}), &data)
	var got []string
	for _, o := range data.Orders {
		got = append(got, o.ID)
	}
	if fmt.Sprint(got) != "[b a]" {
		t.Fatalf("orders %v, want [b a]", got)
	}
	// Without synthesis only registered orders exist.
	f = newFixture(t, func(c *Config) { c.Synthesize = false })
	if err := f.s.UpsertOrders([]tiktok.Order{{ID: "r1"}}); err != nil {
		t.Fatal(err)
	}
	f.data(get(tiktok.PathOrders, url.Values{"ids": {"r1,s1"}}), &data)
	if len(data.Orders) != 1 || data.Orders[0].ID != "r1" || data.Orders[0].Status != statusAwaitingShipment || data.Orders[0].CreateTime != epoch.Unix() {
		t.Fatalf("orders %+v, want r1 only, with the defaults filled", data.Orders)
	}
}

func orderOf(t *testing.T, seed uint64, id string) tiktok.Order {
	t.Helper()
	f := newFixture(t, func(c *Config) { c.Seed = seed })
	var data tiktok.OrdersData
	f.data(get(tiktok.PathOrders, url.Values{"ids": {id}}), &data)
	if len(data.Orders) != 1 {
		t.Fatalf("order %s not synthesized", id)
	}
	return data.Orders[0]
}

func cents(t *testing.T, s string) int {
	t.Helper()
	if !regexp.MustCompile(`^\d+\.\d\d$`).MatchString(s) {
		t.Fatalf("amount %q is not a decimal string with cents", s)
	}
	c, _ := strconv.Atoi(strings.Replace(s, ".", "", 1))
	return c
}

func TestSandboxSynthesizedOrder(t *testing.T) {
	a, b := orderOf(t, 7, "576461413"), orderOf(t, 7, "576461413")
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed and id, different orders:\n%+v\n%+v", a, b)
	}
	if c := orderOf(t, 8, "576461413"); reflect.DeepEqual(a, c) {
		t.Fatal("seeds 7 and 8 gave the same order")
	}
	if a.Status != statusAwaitingShipment || a.CreateTime != epoch.Unix() || a.UpdateTime != epoch.Unix() || a.UserID == "" {
		t.Fatalf("order %+v", a)
	}
	total := 0
	for _, li := range a.LineItems {
		total += cents(t, li.SalePrice)
		if li.SKUID == "" || li.ProductID == "" || li.SellerSKU == "" || li.ProductName == "" {
			t.Fatalf("line item %+v lacks catalog fields", li)
		}
	}
	if n := len(a.LineItems); n < 1 || n > 3 || cents(t, a.Payment.TotalAmount) != total {
		t.Fatalf("%d line items totalling %d cents, payment %s", n, total, a.Payment.TotalAmount)
	}
}

// TestSandboxSynthesizedPopulation checks what the made-up orders are for:
// repeat buyers, popular products, and a few flawed addresses.
func TestSandboxSynthesizedPopulation(t *testing.T) {
	const n = 4000
	buyers, products := map[string]int{}, map[string]int{}
	var missing, malformed, poBox, lines int
	zip := regexp.MustCompile(`^\d{5}$`)
	for i := range n {
		o := synthOrder(1, strconv.Itoa(i), epoch)
		buyers[o.UserID]++
		for _, li := range o.LineItems {
			products[li.ProductID]++
		}
		lines += len(o.LineItems)
		switch pc := o.RecipientAddress.PostalCode; {
		case pc == "":
			missing++
		case !zip.MatchString(pc):
			malformed++
		}
		if strings.HasPrefix(o.RecipientAddress.AddressDetail, "PO Box") {
			poBox++
		}
	}
	if len(buyers) > n*3/4 || len(buyers) > buyerPool {
		t.Errorf("%d distinct buyers in %d orders: too few repeat buyers", len(buyers), n)
	}
	for name, c := range map[string]int{"missing postal": missing, "malformed postal": malformed, "PO box": poBox} {
		if c < n/200 || c > n/20 { // 0.5% to 5% each, 2% expected
			t.Errorf("%d of %d orders with a %s", c, n, name)
		}
	}
	if top := products[productID(0)]; top < 2*products[productID(len(catalogItems)-1)] {
		t.Errorf("product popularity is flat: %v", products)
	}
	if avg := float64(lines) / n; avg < 1.3 || avg > 1.7 {
		t.Errorf("%.2f line items per order, want about 1.5", avg)
	}
}

func TestSandboxOrderSearch(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Synthesize = false })
	var orders []tiktok.Order
	for i := range 137 {
		status := statusAwaitingShipment
		if i%3 == 0 {
			status = statusCancelled
		}
		// Many orders share an update time: the id breaks ties.
		orders = append(orders, tiktok.Order{ID: fmt.Sprintf("o%03d", i), Status: status, UpdateTime: epoch.Unix() + int64(i%7)})
	}
	if a := f.admin(http.MethodPost, "/sandbox/orders", orders); a.status != 200 {
		t.Fatalf("upsert: HTTP %d %q", a.status, a.env.Message)
	}

	page := func(search tiktok.OrderSearch, size int) []tiktok.Order {
		var all []tiktok.Order
		token := ""
		for range 100 {
			r := post(tiktok.PathOrderSearch, search)
			r.query.Set("page_size", strconv.Itoa(size))
			if token != "" {
				r.query.Set("page_token", token)
			}
			var data tiktok.OrdersData
			f.data(r, &data)
			if len(data.Orders) > size {
				t.Fatalf("page of %d, size %d", len(data.Orders), size)
			}
			all = append(all, data.Orders...)
			if data.NextPageToken == "" {
				return all
			}
			token = data.NextPageToken
		}
		t.Fatal("paging does not end")
		return nil
	}
	check := func(got []tiktok.Order, wantN int) {
		t.Helper()
		seen := map[string]bool{}
		for i, o := range got {
			if seen[o.ID] {
				t.Fatalf("order %s twice", o.ID)
			}
			seen[o.ID] = true
			if i > 0 && (o.UpdateTime < got[i-1].UpdateTime || o.UpdateTime == got[i-1].UpdateTime && o.ID < got[i-1].ID) {
				t.Fatalf("%s after %s: not by update time then id", o.ID, got[i-1].ID)
			}
		}
		if len(got) != wantN {
			t.Fatalf("%d orders, want %d", len(got), wantN)
		}
	}
	check(page(tiktok.OrderSearch{}, 10), 137)
	check(page(tiktok.OrderSearch{}, 100), 137)
	check(page(tiktok.OrderSearch{OrderStatus: statusCancelled}, 7), 46)
	got := page(tiktok.OrderSearch{UpdateTimeGE: epoch.Unix() + 2, UpdateTimeLT: epoch.Unix() + 4}, 9)
	check(got, 40) // i%7 in {2, 3}: 20 each
	for _, o := range got {
		if o.UpdateTime < epoch.Unix()+2 || o.UpdateTime >= epoch.Unix()+4 {
			t.Fatalf("order %s updated at %d, outside the range", o.ID, o.UpdateTime)
		}
	}

	for name, q := range map[string]url.Values{
		"no page size":  {},
		"page size 0":   {"page_size": {"0"}},
		"page size 101": {"page_size": {"101"}},
		"bad token":     {"page_size": {"10"}, "page_token": {"!!"}},
	} {
		r := post(tiktok.PathOrderSearch, tiktok.OrderSearch{})
		r.query = q
		if a := f.call(r); a.status != 400 || a.env.Code != tiktok.CodeBadRequest {
			t.Errorf("%s: HTTP %d code %d", name, a.status, a.env.Code)
		}
	}
	r := post(tiktok.PathOrderSearch, tiktok.OrderSearch{OrderStatus: "LOST"})
	r.query.Set("page_size", "10")
	want(t, f.call(r), 400, tiktok.CodeBadRequest)
}

func TestSandboxShippingInfo(t *testing.T) {
	f := newFixture(t, nil)
	info := tiktok.ShippingInfo{TrackingNumber: "1Z999", ShippingProviderID: "ups"}
	f.clock.Add(time.Minute)
	f.data(post(tiktok.ShippingInfoPath("777"), info), nil)
	st, err := f.s.Order("777")
	if err != nil {
		t.Fatal(err)
	}
	if st.Order.Status != statusAwaitingCollection || st.Shipping == nil || *st.Shipping != info || len(st.Order.Packages) != 1 {
		t.Fatalf("after shipping info: %+v", st)
	}
	updated := st.Order.UpdateTime
	if updated != epoch.Add(time.Minute).Unix() {
		t.Fatalf("update time %d, want the clock's %d", updated, epoch.Add(time.Minute).Unix())
	}

	// The same tracking number again changes nothing, even once the
	// order has moved on: a client's retry is harmless.
	f.clock.Add(time.Minute)
	if _, err := f.s.SetOrderStatus("777", statusInTransit); err != nil {
		t.Fatal(err)
	}
	f.data(post(tiktok.ShippingInfoPath("777"), info), nil)
	if again, _ := f.s.Order("777"); again.Order.UpdateTime != epoch.Add(2*time.Minute).Unix() || len(again.Order.Packages) != 1 {
		t.Fatalf("a repeated update changed the order: %+v", again)
	}
	// A different tracking number for an order in transit is refused, as
	// a business error: HTTP 200 with the code.
	want(t, f.call(post(tiktok.ShippingInfoPath("777"), tiktok.ShippingInfo{TrackingNumber: "other", ShippingProviderID: "ups"})), 200, tiktok.CodeBadRequest)

	want(t, f.call(post(tiktok.ShippingInfoPath("missing-9"), info)), 200, tiktok.CodeNotFound)
	want(t, f.call(post(tiktok.ShippingInfoPath("778"), tiktok.ShippingInfo{TrackingNumber: "x"})), 400, tiktok.CodeBadRequest)

	// The admin API shows it and sets statuses.
	a := f.admin(http.MethodPost, "/sandbox/orders/779/status", map[string]string{"status": statusCancelled})
	want(t, a, 200, tiktok.CodeOK)
	want(t, f.call(post(tiktok.ShippingInfoPath("779"), info)), 200, tiktok.CodeBadRequest)
	want(t, f.admin(http.MethodPost, "/sandbox/orders/779/status", map[string]string{"status": "LOST"}), 400, tiktok.CodeBadRequest)
	want(t, f.admin(http.MethodPost, "/sandbox/orders/missing-1/status", map[string]string{"status": statusCancelled}), 404, tiktok.CodeNotFound)
	a = f.admin(http.MethodGet, "/sandbox/orders/777", nil)
	var shown OrderState
	if err := json.Unmarshal(a.env.Data, &shown); err != nil || shown.Shipping == nil || shown.Shipping.TrackingNumber != "1Z999" {
		t.Fatalf("GET /sandbox/orders/777: %v %+v", err, shown)
	}
}

func stock(p tiktok.Product, sku string) []tiktok.Inventory {
	for _, s := range p.SKUs {
		if s.ID == sku {
			return s.Inventory
		}
	}
	return nil
}

func TestSandboxProducts(t *testing.T) {
	f := newFixture(t, nil)
	id, sku := productID(2), skuID(2, 1)
	var p tiktok.Product
	f.data(get(tiktok.ProductPath(id), nil), &p)
	if p.ID != id || len(p.SKUs) != len(catalogItems[2].variants) || len(stock(p, sku)) != 1 {
		t.Fatalf("catalog product %+v", p)
	}
	f.data(post(tiktok.InventoryPath(id), tiktok.InventoryUpdate{SKUs: []tiktok.ProductSKU{{ID: sku, Inventory: []tiktok.Inventory{{Quantity: 7}}}}}), nil)
	f.data(get(tiktok.ProductPath(id), nil), &p)
	if inv := stock(p, sku); len(inv) != 1 || inv[0].Quantity != 7 || inv[0].WarehouseID != warehouseID {
		t.Fatalf("stock after the update: %+v", inv)
	}
	if inv := stock(f.s.Catalog()[2], sku); len(inv) != 1 || inv[0].Quantity != 7 {
		t.Fatalf("catalog after the update: %+v", inv)
	}
	for name, up := range map[string]tiktok.InventoryUpdate{
		"unknown sku":       {SKUs: []tiktok.ProductSKU{{ID: "nope", Inventory: []tiktok.Inventory{{Quantity: 1}}}}},
		"negative quantity": {SKUs: []tiktok.ProductSKU{{ID: sku, Inventory: []tiktok.Inventory{{Quantity: -1}}}}},
		"no skus":           {},
	} {
		if a := f.call(post(tiktok.InventoryPath(id), up)); a.status != 400 {
			t.Errorf("%s: HTTP %d code %d", name, a.status, a.env.Code)
		}
	}
	want(t, f.call(get(tiktok.ProductPath("404"), nil)), 200, tiktok.CodeNotFound)

	// Registered products are served, and win over the catalog.
	mine := tiktok.Product{ID: "p-1", Title: "Mine", SKUs: []tiktok.ProductSKU{{ID: "s-1", SellerSKU: "MINE"}}}
	want(t, f.admin(http.MethodPost, "/sandbox/products", []tiktok.Product{mine}), 200, tiktok.CodeOK)
	f.data(get(tiktok.ProductPath("p-1"), nil), &p)
	if !reflect.DeepEqual(p, mine) {
		t.Fatalf("registered product served as %+v", p)
	}
	want(t, f.admin(http.MethodPost, "/sandbox/products", []tiktok.Product{{Title: "no id"}}), 400, tiktok.CodeBadRequest)
}

func TestSandboxVideos(t *testing.T) {
	f := newFixture(t, nil)
	spikeAt := epoch.Add(10 * time.Minute)
	model := VideoModel{ID: "v1", Created: epoch, ViewsPerMinute: 60, LikeRate: 0.1, CommentRate: 0.01, ShareRate: 0.005,
		Spikes: []Spike{{At: spikeAt, Duration: 10 * time.Minute, Multiplier: 10}}}
	// Through the admin route, so the JSON form of spikes is exercised.
	b, _ := json.Marshal([]VideoModel{model})
	if !strings.Contains(string(b), `"duration":"10m0s"`) {
		t.Fatalf("spike JSON %s", b)
	}
	var raw any
	_ = json.Unmarshal(b, &raw)
	want(t, f.admin(http.MethodPost, "/sandbox/videos", raw), 200, tiktok.CodeOK)

	read := func(at time.Duration, ids ...string) []tiktok.Video {
		f.clock.Set(epoch.Add(at))
		var data tiktok.VideosData
		f.data(post(tiktok.PathVideoQuery, tiktok.VideoQuery{VideoIDs: ids}), &data)
		return data.Videos
	}
	// The integral of the rate: 60 a minute, 600 a minute during the spike.
	for _, tt := range []struct {
		at    time.Duration
		views int64
	}{{0, 0}, {5 * time.Minute, 300}, {10 * time.Minute, 600}, {15 * time.Minute, 3600}, {20 * time.Minute, 6600}, {30 * time.Minute, 7200}} {
		v := read(tt.at, "v1")[0]
		if v.ViewCount != tt.views || v.LikeCount != tt.views/10 || v.CreateTime != epoch.Unix() {
			t.Errorf("at %s: %+v, want %d views and a tenth as many likes", tt.at, v, tt.views)
		}
	}
	// Counters never decrease, for registered and synthesized videos.
	var prev []tiktok.Video
	for at := time.Duration(0); at <= 40*time.Minute; at += 7 * time.Second {
		vs := read(at, "v1", "8123")
		if len(vs) != 2 {
			t.Fatalf("%d videos", len(vs))
		}
		for i, v := range vs {
			if prev != nil {
				p := prev[i]
				if v.ViewCount < p.ViewCount || v.LikeCount < p.LikeCount || v.CommentCount < p.CommentCount || v.ShareCount < p.ShareCount {
					t.Fatalf("video %s went back at %s: %+v after %+v", v.ID, at, v, p)
				}
			}
		}
		prev = vs
	}
	if prev[1].ViewCount == 0 || prev[1].CreateTime >= epoch.Unix() {
		t.Fatalf("synthesized video %+v: want views and an earlier creation", prev[1])
	}
	if got := read(time.Hour, "missing-v", "v1"); len(got) != 1 || got[0].ID != "v1" {
		t.Fatalf("videos %+v, want v1 alone", got)
	}
	many := strings.Split(ids(51, "v"), ",")
	want(t, f.call(post(tiktok.PathVideoQuery, tiktok.VideoQuery{VideoIDs: many})), 400, tiktok.CodeBadRequest)
	want(t, f.call(post(tiktok.PathVideoQuery, tiktok.VideoQuery{})), 400, tiktok.CodeBadRequest)
	want(t, f.admin(http.MethodPost, "/sandbox/videos", []VideoModel{{ID: "bad", LikeRate: 2}}), 400, tiktok.CodeBadRequest)

	// The same seed synthesizes the same video.
	g := newFixture(t, nil)
	g.clock.Set(epoch.Add(time.Hour))
	var data tiktok.VideosData
	g.data(post(tiktok.PathVideoQuery, tiktok.VideoQuery{VideoIDs: []string{"8123"}}), &data)
	if again := read(time.Hour, "8123"); !slices.Equal(again, data.Videos) {
		t.Fatalf("same seed, different videos: %+v vs %+v", again, data.Videos)
	}
}
