package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// clock is a settable clock, safe for concurrent reads.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// epoch is a minute boundary, so rate-limit windows are easy to reason about.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is a sandbox on an injected clock.
type fixture struct {
	t     *testing.T
	s     *Server
	cfg   Config
	clock *clock
	token string
}

func newFixture(t *testing.T, edit func(*Config)) *fixture {
	t.Helper()
	c := &clock{t: epoch}
	cfg := DefaultConfig()
	cfg.Clock = c.Now
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, s: s, cfg: cfg, clock: c, token: cfg.AccessToken}
}

// req is an API request before it is signed.
type req struct {
	method, path string
	query        url.Values
	body         []byte
}

func get(path string, q url.Values) req { return req{method: http.MethodGet, path: path, query: q} }

func post(path string, body any) req {
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return req{method: http.MethodPost, path: path, query: url.Values{}, body: b}
}

// sign completes r's query as a client does (app key, timestamp, shop,
// signature) and returns the HTTP request.
func (f *fixture) sign(r req) *http.Request {
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	q.Set("app_key", f.cfg.AppKey)
	if !q.Has("timestamp") {
		q.Set("timestamp", strconv.FormatInt(f.clock.Now().Unix(), 10))
	}
	if !q.Has("shop_cipher") {
		q.Set("shop_cipher", "shop-1")
	}
	q.Set("sign", tiktok.Sign(f.cfg.AppSecret, r.path, q, r.body, false))
	hr := httptest.NewRequest(r.method, r.path+"?"+q.Encode(), bytes.NewReader(r.body))
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("x-tts-access-token", f.token)
	return hr
}

// answerOf is a decoded sandbox answer.
type answerOf struct {
	status int
	header http.Header
	env    tiktok.Envelope
}

func (f *fixture) serve(hr *http.Request) answerOf {
	f.t.Helper()
	w := httptest.NewRecorder()
	f.s.ServeHTTP(w, hr)
	var env tiktok.Envelope
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
		f.t.Fatalf("%s %s: answer is not an envelope: %v: %s", hr.Method, hr.URL, err, w.Body)
	}
	return answerOf{status: w.Code, header: w.Header(), env: env}
}

// call signs and serves r.
func (f *fixture) call(r req) answerOf { f.t.Helper(); return f.serve(f.sign(r)) }

// data calls r, requires a success and decodes its data into out.
func (f *fixture) data(r req, out any) {
	f.t.Helper()
	a := f.call(r)
	if a.status != http.StatusOK || a.env.Code != tiktok.CodeOK {
		f.t.Fatalf("%s %s: HTTP %d code %d %q", r.method, r.path, a.status, a.env.Code, a.env.Message)
	}
	if out != nil {
		if err := json.Unmarshal(a.env.Data, out); err != nil {
			f.t.Fatal(err)
		}
	}
}

// admin calls an admin route and returns the status and envelope.
func (f *fixture) admin(method, path string, body any) answerOf {
	f.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			f.t.Fatal(err)
		}
	}
	return f.serve(httptest.NewRequest(method, path, bytes.NewReader(b)))
}

func want(t *testing.T, a answerOf, status, code int) {
	t.Helper()
	if a.status != status || a.env.Code != code {
		t.Fatalf("got HTTP %d code %d %q, want HTTP %d code %d", a.status, a.env.Code, a.env.Message, status, code)
	}
}

func TestSandboxSignature(t *testing.T) {
	f := newFixture(t, nil)
	search := post(tiktok.PathOrderSearch, tiktok.OrderSearch{OrderStatus: "AWAITING_SHIPMENT"})
	search.query.Set("page_size", "10")
	tests := []struct {
		name   string
		r      req
		tamper func(*http.Request)
		status int
		code   int
	}{
		{"good GET", get(tiktok.ProductPath(productID(0)), nil), nil, 200, tiktok.CodeOK},
		{"good POST", search, nil, 200, tiktok.CodeOK},
		{"other path", get(tiktok.ProductPath(productID(0)), nil), func(r *http.Request) {
			r.URL.Path = tiktok.ProductPath(productID(1))
		}, 401, tiktok.CodeSignInvalid},
		{"changed param", get(tiktok.ProductPath(productID(0)), nil), func(r *http.Request) {
			q := r.URL.Query()
			q.Set("shop_cipher", "shop-2")
			r.URL.RawQuery = q.Encode()
		}, 401, tiktok.CodeSignInvalid},
		{"added param", get(tiktok.ProductPath(productID(0)), nil), func(r *http.Request) {
			r.URL.RawQuery += "&extra=1"
		}, 401, tiktok.CodeSignInvalid},
		{"changed body", search, func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"order_status":"CANCELLED"}`))
		}, 401, tiktok.CodeSignInvalid},
		{"wrong secret", get(tiktok.ProductPath(productID(0)), nil), func(r *http.Request) {
			q := r.URL.Query()
			q.Del("sign")
			q.Set("sign", tiktok.Sign("not-the-secret", r.URL.Path, q, nil, false))
			r.URL.RawQuery = q.Encode()
		}, 401, tiktok.CodeSignInvalid},
		{"no sign", get(tiktok.ProductPath(productID(0)), nil), func(r *http.Request) {
			q := r.URL.Query()
			q.Del("sign")
			r.URL.RawQuery = q.Encode()
		}, 401, tiktok.CodeSignInvalid},
		{"unknown app key", get(tiktok.ProductPath(productID(0)), nil), func(r *http.Request) {
			q := r.URL.Query()
			q.Set("app_key", "someone-else")
			r.URL.RawQuery = q.Encode()
		}, 401, tiktok.CodeSignInvalid},
		{"multipart body is not signed", get(tiktok.ProductPath(productID(0)), nil), func(r *http.Request) {
			r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			r.Body = io.NopCloser(strings.NewReader("--x\r\n\r\nimage\r\n--x--"))
		}, 200, tiktok.CodeOK},
		{"no shop", get(tiktok.ProductPath(productID(0)), url.Values{"shop_cipher": {""}}), nil, 400, tiktok.CodeBadRequest},
		{"wrong method", req{method: http.MethodDelete, path: tiktok.PathOrders, query: url.Values{"ids": {"1"}}}, nil, 405, tiktok.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.t = t
			hr := f.sign(tt.r)
			if tt.tamper != nil {
				tt.tamper(hr)
			}
			want(t, f.serve(hr), tt.status, tt.code)
		})
	}
}

func TestSandboxTimestamp(t *testing.T) {
	f := newFixture(t, nil)
	now := epoch.Unix()
	for _, tt := range []struct {
		ts   string
		code int
	}{
		{strconv.FormatInt(now, 10), tiktok.CodeOK},
		{strconv.FormatInt(now-299, 10), tiktok.CodeOK},
		{strconv.FormatInt(now+299, 10), tiktok.CodeOK},
		{strconv.FormatInt(now-301, 10), tiktok.CodeSignInvalid},
		{strconv.FormatInt(now+301, 10), tiktok.CodeSignInvalid},
		{"yesterday", tiktok.CodeSignInvalid},
	} {
		t.Run(tt.ts, func(t *testing.T) {
			f.t = t
			a := f.call(get(tiktok.ProductPath(productID(0)), url.Values{"timestamp": {tt.ts}}))
			if a.env.Code != tt.code {
				t.Fatalf("code %d %q, want %d", a.env.Code, a.env.Message, tt.code)
			}
			if tt.code != tiktok.CodeOK && (a.status != 401 || !strings.Contains(a.env.Message, "timestamp")) {
				t.Fatalf("HTTP %d %q: want 401 and a message about the timestamp", a.status, a.env.Message)
			}
		})
	}
}

// refresh calls the token service.
func (f *fixture) refresh(refreshToken string, edit func(url.Values)) (answerOf, tiktok.Token) {
	f.t.Helper()
	q := url.Values{"app_key": {f.cfg.AppKey}, "app_secret": {f.cfg.AppSecret},
		"refresh_token": {refreshToken}, "grant_type": {"refresh_token"}}
	if edit != nil {
		edit(q)
	}
	a := f.serve(httptest.NewRequest(http.MethodGet, tiktok.PathTokenRefresh+"?"+q.Encode(), nil))
	var tok tiktok.Token
	if a.env.Code == tiktok.CodeOK {
		if err := json.Unmarshal(a.env.Data, &tok); err != nil {
			f.t.Fatal(err)
		}
	}
	return a, tok
}

func TestSandboxTokens(t *testing.T) {
	f := newFixture(t, nil)
	product := get(tiktok.ProductPath(productID(0)), nil)

	f.token = "forged"
	want(t, f.call(product), 401, tiktok.CodeTokenInvalid)
	f.token = ""
	want(t, f.call(product), 401, tiktok.CodeTokenInvalid)
	f.token = "sandbox-access-0"
	want(t, f.call(product), 200, tiktok.CodeOK)

	// The token service checks the app's credentials and the grant.
	a, _ := f.refresh("sandbox-refresh-0", func(q url.Values) { q.Set("app_secret", "guess") })
	want(t, a, 401, tiktok.CodeSignInvalid)
	a, _ = f.refresh("sandbox-refresh-0", func(q url.Values) { q.Set("grant_type", "authorization_code") })
	want(t, a, 400, tiktok.CodeBadRequest)

	f.clock.Add(time.Hour)
	a, tok := f.refresh("sandbox-refresh-0", nil)
	want(t, a, 200, tiktok.CodeOK)
	if tok.AccessToken == "" || tok.AccessToken == "sandbox-access-0" || tok.RefreshToken == "sandbox-refresh-0" {
		t.Fatalf("refresh gave %+v, want new tokens", tok)
	}
	if wantExp := f.clock.Now().Add(4 * time.Hour).Unix(); tok.AccessTokenExpireIn != wantExp {
		t.Fatalf("access token expires at %d, want %d (Unix seconds)", tok.AccessTokenExpireIn, wantExp)
	}
	if wantExp := f.clock.Now().Add(30 * 24 * time.Hour).Unix(); tok.RefreshTokenExpireIn != wantExp {
		t.Fatalf("refresh token expires at %d, want %d", tok.RefreshTokenExpireIn, wantExp)
	}
	// The old access token lives on until its own expiry; the used
	// refresh token is dead.
	want(t, f.call(product), 200, tiktok.CodeOK)
	a, _ = f.refresh("sandbox-refresh-0", nil)
	want(t, a, 401, tiktok.CodeTokenInvalid)

	f.clock.Add(3 * time.Hour) // 4 h after the start: the first token expired
	want(t, f.call(product), 401, tiktok.CodeTokenExpired)
	f.token = tok.AccessToken
	want(t, f.call(product), 200, tiktok.CodeOK)

	// The admin route expires every token at once, as a revoked grant
	// would; a refresh brings the client back.
	if a := f.admin(http.MethodPost, "/sandbox/token/expire", nil); a.status != 200 {
		t.Fatalf("expire: HTTP %d", a.status)
	}
	want(t, f.call(product), 401, tiktok.CodeTokenExpired)
	a, tok2 := f.refresh(tok.RefreshToken, nil)
	want(t, a, 200, tiktok.CodeOK)
	f.token = tok2.AccessToken
	want(t, f.call(product), 200, tiktok.CodeOK)

	// A refresh token past its lifetime is refused as expired.
	f.clock.Add(31 * 24 * time.Hour)
	a, _ = f.refresh(tok2.RefreshToken, nil)
	want(t, a, 401, tiktok.CodeTokenExpired)
}

func TestSandboxRateLimit(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AppRate, c.ShopRate = 5, 0 })
	f.clock.Add(10 * time.Second)
	product := get(tiktok.ProductPath(productID(0)), nil)
	for i := range 5 {
		if a := f.call(product); a.status != 200 {
			t.Fatalf("request %d: HTTP %d %q", i+1, a.status, a.env.Message)
		}
	}
	a := f.call(product)
	want(t, a, 429, tiktok.CodeRateLimited)
	if got := a.header.Get("Retry-After"); got != "50" {
		t.Fatalf("Retry-After %q, want 50 (seconds to the next minute)", got)
	}
	f.clock.Add(50 * time.Second)
	want(t, f.call(product), 200, tiktok.CodeOK)

	// Per shop: one shop's limit leaves the others alone.
	f = newFixture(t, func(c *Config) { c.AppRate, c.ShopRate = 0, 2 })
	shop := func(s string) req { return get(tiktok.ProductPath(productID(0)), url.Values{"shop_cipher": {s}}) }
	want(t, f.call(shop("a")), 200, tiktok.CodeOK)
	want(t, f.call(shop("a")), 200, tiktok.CodeOK)
	want(t, f.call(shop("a")), 429, tiktok.CodeRateLimited)
	want(t, f.call(shop("b")), 200, tiktok.CodeOK)
	f.clock.Add(time.Minute)
	want(t, f.call(shop("a")), 200, tiktok.CodeOK)
}

// outcomes sends n signed order reads and returns their HTTP statuses.
func outcomes(t *testing.T, seed uint64, n int, between func(f *fixture)) []int {
	f := newFixture(t, func(c *Config) { c.Seed, c.ErrorRate, c.ThrottleRate, c.AppRate = seed, 0.3, 0.2, 0 })
	out := make([]int, n)
	for i := range out {
		if between != nil {
			between(f)
		}
		a := f.call(get(tiktok.PathOrders, url.Values{"ids": {strconv.Itoa(i)}}))
		out[i] = a.status
		if a.status == 429 && a.header.Get("Retry-After") == "" {
			t.Fatal("an injected 429 has no Retry-After")
		}
	}
	return out
}

func TestSandboxFaultsDeterministic(t *testing.T) {
	a := outcomes(t, 1, 200, nil)
	count := map[int]int{}
	for _, s := range a {
		count[s]++
	}
	// 200 draws at 0.3 and 0.2: far outside these bounds is a broken schedule.
	if count[500] < 40 || count[500] > 80 || count[429] < 20 || count[429] > 60 || count[200]+count[500]+count[429] != 200 {
		t.Fatalf("outcomes %v, want about 60 errors, 40 throttles, the rest ok", count)
	}
	// Admin calls between API calls neither see faults nor move the schedule.
	b := outcomes(t, 1, 200, func(f *fixture) {
		if a := f.admin(http.MethodGet, "/sandbox/catalog", nil); a.status != 200 {
			t.Fatalf("admin route got HTTP %d", a.status)
		}
	})
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed, different outcomes:\n%v\n%v", a, b)
	}
	if c := outcomes(t, 2, 200, nil); fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatal("seeds 1 and 2 gave the same outcomes")
	}
}

func TestSandboxLatencySchedule(t *testing.T) {
	cfg := Config{Seed: 9, Latency: 10 * time.Millisecond, LatencyJitter: 5 * time.Millisecond}
	distinct := map[time.Duration]bool{}
	for n := uint64(1); n <= 100; n++ {
		d := cfg.faultFor(n).delay
		if d < 10*time.Millisecond || d >= 15*time.Millisecond {
			t.Fatalf("request %d delayed %s, want within [10ms, 15ms)", n, d)
		}
		if again := cfg.faultFor(n).delay; again != d {
			t.Fatalf("request %d: %s then %s", n, d, again)
		}
		distinct[d] = true
	}
	if len(distinct) < 90 {
		t.Fatalf("only %d distinct delays in 100 requests: the jitter is not spread", len(distinct))
	}
	// The delay is really waited for.
	f := newFixture(t, func(c *Config) { c.Latency = 30 * time.Millisecond })
	began := time.Now()
	f.call(get(tiktok.ProductPath(productID(0)), nil))
	if d := time.Since(began); d < 30*time.Millisecond {
		t.Fatalf("answered after %s, want at least the 30ms latency", d)
	}
}

func TestSandboxOutage(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Outages = []Outage{{Start: 10 * time.Minute, End: 12 * time.Minute}} })
	product := get(tiktok.ProductPath(productID(0)), nil)
	for _, tt := range []struct {
		at     time.Duration
		status int
	}{
		{9*time.Minute + 59*time.Second, 200},
		{10 * time.Minute, 503},
		{11*time.Minute + 59*time.Second, 503},
		{12 * time.Minute, 200},
	} {
		f.clock.Set(epoch.Add(tt.at))
		a := f.call(product)
		if a.status != tt.status {
			t.Fatalf("at %s: HTTP %d, want %d", tt.at, a.status, tt.status)
		}
		if tt.status == 503 && (a.env.Code != tiktok.CodeInternalError || a.env.Message != "outage") {
			t.Fatalf("at %s: code %d %q, want %d \"outage\"", tt.at, a.env.Code, a.env.Message, tiktok.CodeInternalError)
		}
	}
	// The token service is an API route too: it is down as well.
	f.clock.Set(epoch.Add(11 * time.Minute))
	a, _ := f.refresh("sandbox-refresh-0", nil)
	want(t, a, 503, tiktok.CodeInternalError)
	if a := f.admin(http.MethodGet, "/sandbox/catalog", nil); a.status != 200 {
		t.Fatalf("admin route during the outage: HTTP %d", a.status)
	}
}

func TestSandboxParseOutage(t *testing.T) {
	for in, wantOut := range map[string]string{"10m+2m": "10m0s+2m0s", " 0s+90s ": "0s+1m30s", "1h+1ns": "1h0m0s+1ns"} {
		o, err := ParseOutage(in)
		if err != nil || o.String() != wantOut {
			t.Errorf("ParseOutage(%q) = %v, %v; want %s", in, o, err, wantOut)
		}
	}
	for _, bad := range []string{"", "10m", "10m-2m", "x+2m", "10m+y", "10m+0s", "-1m+2m"} {
		if _, err := ParseOutage(bad); err == nil {
			t.Errorf("ParseOutage(%q) succeeded", bad)
		}
	}
}

func TestSandboxConfigValidate(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"negative error rate": func(c *Config) { c.ErrorRate = -0.1 },
		"rates over 1":        func(c *Config) { c.ErrorRate, c.ThrottleRate = 0.6, 0.5 },
		"negative latency":    func(c *Config) { c.Latency = -time.Second },
		"negative app rate":   func(c *Config) { c.AppRate = -1 },
		"empty outage":        func(c *Config) { c.Outages = []Outage{{Start: time.Minute, End: time.Minute}} },
	} {
		cfg := DefaultConfig()
		edit(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	// A zero Config works: the credentials and lifetimes are defaulted.
	if _, err := New(Config{}); err != nil {
		t.Fatal(err)
	}
}

func TestSandboxRequestLogAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	f := newFixture(t, func(c *Config) { c.Registerer = reg })
	f.call(get(tiktok.PathOrders, url.Values{"ids": {"1,2"}}))
	f.call(get(tiktok.PathOrders, url.Values{"ids": {"3"}, "shop_cipher": {"shop-9"}}))
	f.token = "forged"
	f.call(get(tiktok.ProductPath(productID(0)), nil))

	reqs := f.s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests logged, want 3: %+v", len(reqs), reqs)
	}
	if r := reqs[1]; r.Route != routeOrders || r.Shop != "shop-9" || r.Status != 200 || r.Method != "GET" || !r.Time.Equal(epoch) {
		t.Fatalf("second request logged as %+v", r)
	}
	if r := reqs[2]; r.Status != 401 || r.Code != tiktok.CodeTokenInvalid || r.Outcome != outcomeUnauthorized {
		t.Fatalf("third request logged as %+v", r)
	}
	a := f.admin(http.MethodGet, "/sandbox/requests", nil)
	var data struct{ Requests []Request }
	if err := json.Unmarshal(a.env.Data, &data); err != nil || len(data.Requests) != 3 {
		t.Fatalf("GET /sandbox/requests: %v, %d requests", err, len(data.Requests))
	}
	if got := testutil.ToFloat64(f.s.metrics.requests.WithLabelValues(routeOrders, outcomeOK)); got != 2 {
		t.Fatalf("orders ok counted %v, want 2", got)
	}
	if got := testutil.ToFloat64(f.s.metrics.requests.WithLabelValues(routeProduct, outcomeUnauthorized)); got != 1 {
		t.Fatalf("product unauthorized counted %v, want 1", got)
	}
	if n, err := testutil.GatherAndCount(reg, "creatorflow_sandbox_request_duration_seconds"); err != nil || n != 2 {
		t.Fatalf("duration histograms: %d, %v; want one per route (2)", n, err)
	}
	if a := f.admin(http.MethodDelete, "/sandbox/requests", nil); a.status != 200 || len(f.s.Requests()) != 0 {
		t.Fatalf("DELETE /sandbox/requests: HTTP %d, %d left", a.status, len(f.s.Requests()))
	}
	// A second sandbox on the same registry is refused, not a panic.
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Fatal("registering the metrics twice succeeded")
	}
}

func TestSandboxRequestLogBounded(t *testing.T) {
	s := &Server{}
	for i := range maxLoggedRequests + 5 {
		s.reqs.add(Request{RequestID: strconv.Itoa(i)})
	}
	got := s.Requests()
	if len(got) != maxLoggedRequests || got[0].RequestID != "5" || got[len(got)-1].RequestID != strconv.Itoa(maxLoggedRequests+4) {
		t.Fatalf("log of %d from %s to %s, want the last %d", len(got), got[0].RequestID, got[len(got)-1].RequestID, maxLoggedRequests)
	}
}

// TestSandboxConcurrent runs every kind of request at once, for the race
// detector.
func TestSandboxConcurrent(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.ErrorRate, c.ShopRate = 0.1, 1000 })
	srv := httptest.NewServer(f.s)
	defer srv.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 30 {
				id := fmt.Sprintf("%d-%d", g, i%5)
				rs := []req{
					get(tiktok.PathOrders, url.Values{"ids": {id}}),
					post(tiktok.ShippingInfoPath(id), tiktok.ShippingInfo{TrackingNumber: "T" + id, ShippingProviderID: "usps"}),
					post(tiktok.PathVideoQuery, tiktok.VideoQuery{VideoIDs: []string{id}}),
					post(tiktok.InventoryPath(productID(g)), tiktok.InventoryUpdate{SKUs: []tiktok.ProductSKU{{ID: skuID(g, 0), Inventory: []tiktok.Inventory{{Quantity: i}}}}}),
				}
				for _, r := range rs {
					hr := f.sign(r)
					hr.RequestURI = ""
					hr.URL, _ = url.Parse(srv.URL + hr.URL.String())
					resp, err := http.DefaultClient.Do(hr)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
				}
				if _, err := f.s.SetOrderStatus(id, "AWAITING_SHIPMENT"); err != nil {
					t.Error(err)
				}
				f.s.Requests()
			}
		})
	}
	wg.Wait()
	if n := len(f.s.Requests()); n != 8*30*4 {
		t.Fatalf("%d requests logged, want %d", n, 8*30*4)
	}
}
