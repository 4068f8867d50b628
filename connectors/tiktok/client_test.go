package tiktok

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSignVectors pins Sign to TikTok's algorithm with signatures computed
// independently (Python's hmac over the documented concatenation).
func TestSignVectors(t *testing.T) {
	shop := "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"
	tests := []struct {
		name, path, body string
		query            url.Values
		multipart        bool
		want             string
	}{
		{"GET, sign and access_token left out", "/order/202309/orders", "",
			url.Values{"app_key": {"29a39d"}, "timestamp": {"1700000000"}, "shop_cipher": {shop},
				"ids": {"576461413038785752,576461413038785753"}, "sign": {"ignored"}, "access_token": {"ignored"}},
			false, "67f6fa418ebe571980921f807b9a360a8655f4a401d2cc6fa71f6cbf13700b5f"},
		{"POST with a JSON body", "/fulfillment/202309/orders/576461413038785752/shipping_info/update",
			`{"tracking_number":"1Z999AA10123456784","shipping_provider_id":"6617675021119438849"}`,
			url.Values{"app_key": {"29a39d"}, "timestamp": {"1700000123"}, "shop_cipher": {shop}},
			false, "91cfe669e4e910489a23e23a27a16a9aea99bd30622401492b0b37a823e7a4f5"},
		{"multipart: the body is not signed", "/product/202309/images/upload", "--boundary\r\nbinary",
			url.Values{"app_key": {"29a39d"}, "timestamp": {"1700000123"}, "shop_cipher": {shop}},
			true, "59cd812874eaceefb2e04c3b631196f0e09e28e6ac27df19cf802cfe42e4d91a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sign("e59af819cc", tt.path, tt.query, []byte(tt.body), tt.multipart)
			if got != tt.want {
				t.Fatalf("sign %s, want %s", got, tt.want)
			}
			if !ValidSign("e59af819cc", tt.path, tt.query, []byte(tt.body), tt.multipart, strings.ToUpper(got)) {
				t.Fatal("ValidSign refused the signature")
			}
			if ValidSign("other", tt.path, tt.query, []byte(tt.body), tt.multipart, got) {
				t.Fatal("ValidSign accepted another secret's signature")
			}
		})
	}
}

// fakeClock is a clock whose Sleep moves time on at once and records the
// waits.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d > 0 {
		f.sleeps = append(f.sleeps, d)
		f.t = f.t.Add(d)
	}
	return ctx.Err()
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

// fakeAPI answers each request with the next scripted answer (the last one
// repeats), after checking the request is signed with the client's secret,
// and records what it was asked.
type fakeAPI struct {
	t       *testing.T
	mu      sync.Mutex
	answers []answer
	calls   []*http.Request
	bodies  []string
}

type answer struct {
	status int
	code   int
	header map[string]string
	data   any
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, r)
	f.bodies = append(f.bodies, string(body))
	a := f.answers[min(len(f.calls), len(f.answers))-1]
	f.mu.Unlock()
	if r.URL.Path != PathTokenRefresh && !ValidSign("secret", r.URL.Path, r.URL.Query(), body, false, r.URL.Query().Get("sign")) {
		f.t.Errorf("request %s is not signed right", r.URL)
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	data, _ := json.Marshal(a.data)
	_ = json.NewEncoder(w).Encode(Envelope{Code: a.code, Message: fmt.Sprintf("code %d", a.code), RequestID: "req", Data: data})
}

func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func newTestClient(t *testing.T, clock *fakeClock, cfg Config, answers ...answer) (*Client, *fakeAPI) {
	t.Helper()
	api := &fakeAPI{t: t, answers: answers}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cfg.BaseURL, cfg.AppKey, cfg.AppSecret = srv.URL, "key", "secret"
	if cfg.AccessToken == "" {
		cfg.AccessToken, cfg.RefreshToken = "access-1", "refresh-1"
	}
	cfg.Now, cfg.Sleep, cfg.Jitter = clock.Now, clock.Sleep, func() float64 { return 0.5 }
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, api
}

var (
	ok       = answer{status: 200, data: OrdersData{Orders: []Order{{ID: "1"}}}}
	failure  = answer{status: 500, code: CodeInternalError}
	notFound = answer{status: 200, code: CodeNotFound}
)

// TestRetries checks which answers are retried, how often, and the
// jittered exponential waits between attempts.
func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		answers   []answer
		wantErr   bool
		wantCalls int
		wantWaits []time.Duration
	}{
		{"success at once", []answer{ok}, false, 1, nil},
		{"two failures then success", []answer{failure, failure, ok}, false, 3, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{"four failures: gives up after 4 attempts", []answer{failure}, true, 4,
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		{"not found is not retried", []answer{notFound}, true, 1, nil},
		{"throttled: waits Retry-After, then succeeds", []answer{{status: 429, code: CodeRateLimited, header: map[string]string{"Retry-After": "3"}}, ok},
			false, 2, []time.Duration{3 * time.Second}},
		{"throttling code without header: backs off", []answer{{status: 200, code: CodeRateLimited}, ok}, false, 2, []time.Duration{200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c, api := newTestClient(t, clock, Config{}, tt.answers...)
			_, err := c.Orders(context.Background(), "shop", []string{"1"})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if api.count() != tt.wantCalls {
				t.Fatalf("%d calls, want %d", api.count(), tt.wantCalls)
			}
			if fmt.Sprint(clock.sleeps) != fmt.Sprint(tt.wantWaits) {
				t.Fatalf("waits %v, want %v", clock.sleeps, tt.wantWaits)
			}
		})
	}
}

// TestTimeoutRetried checks that an attempt that outlives Timeout is
// abandoned and retried.
func TestTimeoutRetried(t *testing.T) {
	n := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			<-r.Context().Done() // hangs until the client gives up
			return
		}
		_ = json.NewEncoder(w).Encode(Envelope{Data: json.RawMessage(`{"orders":[{"id":"1"}]}`)})
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, AppKey: "k", AppSecret: "s", Timeout: 50 * time.Millisecond, BackoffBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	orders, err := c.Orders(context.Background(), "shop", []string{"1"})
	mu.Lock()
	calls := n
	mu.Unlock()
	if err != nil || len(orders) != 1 || calls != 2 {
		t.Fatalf("orders %v, err %v after %d calls; want the order after a timed-out attempt", orders, err, calls)
	}
}

// TestTokenRefresh checks refresh before expiry, and refresh once on an
// auth error.
func TestTokenRefresh(t *testing.T) {
	refreshed := answer{status: 200, data: Token{AccessToken: "access-2", RefreshToken: "refresh-2",
		AccessTokenExpireIn: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC).Unix()}}
	expired := answer{status: 401, code: CodeTokenExpired}

	t.Run("on an auth error, once", func(t *testing.T) {
		c, api := newTestClient(t, newFakeClock(), Config{}, expired, refreshed, ok)
		if _, err := c.Orders(context.Background(), "shop", []string{"1"}); err != nil {
			t.Fatal(err)
		}
		if api.count() != 3 || api.calls[1].URL.Path != PathTokenRefresh ||
			api.calls[1].URL.Query().Get("refresh_token") != "refresh-1" || api.calls[2].Header.Get("x-tts-access-token") != "access-2" {
			t.Fatalf("calls: %v", paths(api.calls))
		}
	})
	t.Run("a second auth error is returned", func(t *testing.T) {
		c, api := newTestClient(t, newFakeClock(), Config{}, expired, refreshed, expired)
		_, err := c.Orders(context.Background(), "shop", []string{"1"})
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Code != CodeTokenExpired || api.count() != 3 {
			t.Fatalf("err %v after %v", err, paths(api.calls))
		}
	})
	t.Run("the refresh is not one of the 4 attempts", func(t *testing.T) {
		c, api := newTestClient(t, newFakeClock(), Config{}, expired, refreshed, failure, failure, failure, ok)
		if _, err := c.Orders(context.Background(), "shop", []string{"1"}); err != nil || api.count() != 6 {
			t.Fatalf("err %v after %v", err, paths(api.calls))
		}
	})
	t.Run("before expiry", func(t *testing.T) {
		clock := newFakeClock()
		c, api := newTestClient(t, clock, Config{AccessTokenExpiry: clock.Now().Add(5 * time.Minute)}, refreshed, ok)
		if _, err := c.Orders(context.Background(), "shop", []string{"1"}); err != nil {
			t.Fatal(err)
		}
		if api.count() != 2 || api.calls[0].URL.Path != PathTokenRefresh || api.calls[1].Header.Get("x-tts-access-token") != "access-2" {
			t.Fatalf("calls: %v", paths(api.calls))
		}
	})
}

func paths(reqs []*http.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.URL.Path)
	}
	return out
}

// TestBreaker walks the breaker through its states with a fake clock.
func TestBreaker(t *testing.T) {
	clock := newFakeClock()
	b := NewBreaker(BreakerConfig{}, clock.Now, nil)
	call := func(ok bool) {
		t.Helper()
		gen, err := b.Allow()
		if err != nil {
			t.Fatalf("call refused while %s: %v", b.State(), err)
		}
		b.Done(gen, ok)
	}
	refused := func() bool { _, err := b.Allow(); return errors.Is(err, ErrCircuitOpen) }
	lateGen, _ := b.Allow() // a slow call, allowed while closed
	for range 4 {
		call(false)
	}
	if b.State() != Closed {
		t.Fatal("opened after 4 failures")
	}
	call(false)
	if b.State() != Open || !refused() {
		t.Fatal("not open after 5 failures")
	}
	clock.Advance(59 * time.Second)
	if !refused() {
		t.Fatal("let a call through before the 60 s recovery")
	}
	clock.Advance(time.Second)
	var gens []uint64
	for i := range 3 {
		gen, err := b.Allow()
		if err != nil {
			t.Fatalf("trial call %d refused: %v", i, err)
		}
		gens = append(gens, gen)
	}
	if b.State() != HalfOpen || !refused() {
		t.Fatal("half-open let more than 3 trial calls through")
	}
	b.Done(lateGen, true) // ends now: it is not one of the trials
	b.Done(gens[0], true)
	b.Done(gens[1], true)
	if b.State() != HalfOpen {
		t.Fatalf("state %s after 2 good trials (and a call from before), want half-open", b.State())
	}
	b.Release(gens[2]) // cancelled: its place is free again
	gen, err := b.Allow()
	if err != nil {
		t.Fatal("a released trial call did not give its place back")
	}
	b.Done(gen, false) // a trial fails: open again
	if b.State() != Open {
		t.Fatalf("state %s after a failed trial, want open", b.State())
	}
	clock.Advance(time.Minute)
	for range 3 {
		call(true)
	}
	if b.State() != Closed {
		t.Fatalf("state %s after 3 good trials, want closed", b.State())
	}
}

// TestLimiterPause checks that a pause holds calls back and that they resume
// at the steady rate, not in a burst of the tokens saved up.
func TestLimiterPause(t *testing.T) {
	clock := newFakeClock()
	l := newLimiter(600, 60, clock.Now) // 540 a minute refilled, 60 at once
	clock.Advance(time.Minute)          // a quiet minute: the bucket is full
	l.pause(30 * time.Second)
	var at []time.Duration
	for range 100 {
		at = append(at, l.reserve())
	}
	if at[0] != 30*time.Second {
		t.Fatalf("first call after a 30 s pause waits %s", at[0])
	}
	// 540 a minute is one every 111 ms: the 100th call, 11 s after the first.
	if got, want := at[99]-at[0], 99*time.Minute/540; got < want-time.Millisecond || got > want+time.Millisecond {
		t.Fatalf("100 calls spread over %s after the pause, want %s", got, want)
	}
}

// TestClientBreaker checks that once the API failed 5 times in a row the
// client stops calling it, and fails fast.
func TestClientBreaker(t *testing.T) {
	clock := newFakeClock()
	c, api := newTestClient(t, clock, Config{}, failure)
	_, _ = c.Orders(context.Background(), "shop", []string{"1"}) // 4 attempts
	_, _ = c.Orders(context.Background(), "shop", []string{"1"}) // the 5th opens the circuit
	if api.count() != 5 || c.Breaker().State() != Open {
		t.Fatalf("%d calls, breaker %s", api.count(), c.Breaker().State())
	}
	_, err := c.Orders(context.Background(), "shop", []string{"1"})
	if !errors.Is(err, ErrCircuitOpen) || api.count() != 5 {
		t.Fatalf("err %v after %d calls; want a fast failure without calling", err, api.count())
	}
}

// TestProductCache checks the 5-minute cache and that a stock update drops
// the entry.
func TestProductCache(t *testing.T) {
	clock := newFakeClock()
	c, api := newTestClient(t, clock, Config{}, answer{status: 200, data: Product{ID: "p1", Title: "Serum"}})
	get := func() {
		t.Helper()
		p, err := c.Product(context.Background(), "shop", "p1")
		if err != nil || p.Title != "Serum" {
			t.Fatalf("product %+v, err %v", p, err)
		}
	}
	get()
	clock.Advance(4*time.Minute + 59*time.Second)
	get()
	if api.count() != 1 {
		t.Fatalf("%d calls within 5 minutes, want 1", api.count())
	}
	clock.Advance(time.Second)
	get()
	if api.count() != 2 {
		t.Fatalf("%d calls after 5 minutes, want 2", api.count())
	}
	if err := c.UpdateInventory(context.Background(), "shop", "p1", InventoryUpdate{}); err != nil {
		t.Fatal(err)
	}
	get()
	if api.count() != 4 {
		t.Fatalf("%d calls; the stock update should have dropped the cached product", api.count())
	}
}

// TestBatching checks that reads carry at most 50 distinct ids each.
func TestBatching(t *testing.T) {
	clock := newFakeClock()
	c, api := newTestClient(t, clock, Config{}, ok)
	var ids []string
	for i := range 120 {
		ids = append(ids, fmt.Sprint(i), fmt.Sprint(i)) // every id twice
	}
	if _, err := c.Orders(context.Background(), "shop", ids); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, r := range api.calls {
		sizes = append(sizes, len(strings.Split(r.URL.Query().Get("ids"), ",")))
	}
	if fmt.Sprint(sizes) != "[50 50 20]" {
		t.Fatalf("batches of %v ids, want [50 50 20]", sizes)
	}
	if _, err := c.Videos(context.Background(), "shop", ids[:140]); err != nil {
		t.Fatal(err)
	}
	var q VideoQuery
	if err := json.Unmarshal([]byte(api.bodies[len(api.bodies)-1]), &q); err != nil || len(q.VideoIDs) != 20 {
		t.Fatalf("last video batch %v (%v), want 20 ids", q.VideoIDs, err)
	}
}

// TestRateLimits checks that no 60-second window holds more calls than the
// app's rate, and that a shop's own limit holds within it.
func TestRateLimits(t *testing.T) {
	tests := []struct {
		name              string
		appRate, shopRate int
		shops             int
		limit             int // most calls in any minute, per shop
	}{
		{"app limit", 120, 0, 1, 120},
		{"shop limit under the app's", 1000, 30, 3, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			c, api := newTestClient(t, clock, Config{AppRate: tt.appRate, ShopRate: tt.shopRate}, ok)
			times := map[string][]time.Time{}
			for i := range 400 {
				shop := fmt.Sprint("shop", i%tt.shops)
				if _, err := c.Orders(context.Background(), shop, []string{"1"}); err != nil {
					t.Fatal(err)
				}
				times[shop] = append(times[shop], clock.Now())
			}
			if api.count() != 400 {
				t.Fatalf("%d calls", api.count())
			}
			for shop, ts := range times {
				for i := range ts {
					j := i
					for j < len(ts) && ts[j].Sub(ts[i]) < time.Minute {
						j++
					}
					if j-i > tt.limit {
						t.Fatalf("%s: %d calls in the minute from %s, limit %d", shop, j-i, ts[i].Format(time.TimeOnly), tt.limit)
					}
				}
				// The limiter must not be far below the rate either.
				if span := ts[len(ts)-1].Sub(ts[0]); span > time.Duration(float64(len(ts))/float64(tt.limit)*1.25*float64(time.Minute)) {
					t.Fatalf("%s: %d calls took %s, too slow for %d a minute", shop, len(ts), span, tt.limit)
				}
			}
		})
	}
}
