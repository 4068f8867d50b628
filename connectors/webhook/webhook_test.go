package webhook

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/ksuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/schemas"
)

// recorder is a Producer that keeps what it was given; the real broker is
// exercised by integration_test.go.
type recorder struct {
	mu      sync.Mutex
	recs    []*kgo.Record
	err     error
	silent  bool          // never acknowledge, like a broker that hangs
	release chan struct{} // when set, acknowledge only once it is closed
}

func (r *recorder) TryProduce(ctx context.Context, rec *kgo.Record, promise func(*kgo.Record, error)) {
	if errors.Is(ctx.Err(), context.Canceled) {
		panic("the record's context is cancelled before it is produced")
	}
	if r.silent {
		return
	}
	ack := func() {
		r.mu.Lock()
		if r.err == nil {
			r.recs = append(r.recs, rec)
		}
		err := r.err
		r.mu.Unlock()
		promise(rec, err)
	}
	if r.release != nil {
		go func() { <-r.release; ack() }()
		return
	}
	ack()
}

func (r *recorder) records() []*kgo.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*kgo.Record(nil), r.recs...)
}

var (
	current = App{Key: "app-2", Secret: "new-secret"}
	old     = App{Key: "app-1", Secret: "old-secret"}
	ups     = App{Secret: "ups-secret"}
	clock   = time.Unix(1764000000, 0).UTC()
)

func orderBody(notification string, ts int64) string {
	return fmt.Sprintf(`{"type":1,"tts_notification_id":%q,"shop_id":"shop-9","timestamp":%d,"data":{"order_id":"576461413038785752","order_status":"AWAITING_SHIPMENT","is_on_hold_order":false,"update_time":%d}}`, notification, ts, ts)
}

func carrierBody(carrier string) string {
	return fmt.Sprintf(`{"carrier":%q,"tracking_number":"1Z999","status":"IN_TRANSIT","occurred_at":%d}`, carrier, clock.Unix())
}

var body = orderBody("n-1", clock.Unix())

func signature(app App, body string) string { return hex.EncodeToString(Sign(app, []byte(body))) }

func newHandler(t *testing.T, p Producer, change func(*Config)) (*Handler, *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	cfg := DefaultConfig()
	cfg.Apps = []App{old, current}
	cfg.CarrierSecrets = map[string]string{"ups": ups.Secret}
	cfg.MaxBodyBytes = 1024
	cfg.ProduceTimeout = 50 * time.Millisecond
	cfg.Now = func() time.Time { return clock }
	if change != nil {
		change(&cfg)
	}
	h, err := New(cfg, p, m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return h, m
}

func request(method, path, ctype, auth, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "-" {
		req.Header.Set("Content-Type", ctype)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

func TestStatuses(t *testing.T) {
	stale, future := orderBody("n-2", clock.Add(-73*time.Hour).Unix()), orderBody("n-3", clock.Add(6*time.Minute).Unix())
	unknownStatus := strings.Replace(body, "AWAITING_SHIPMENT", "TELEPORTED", 1)
	big := body + strings.Repeat(" ", 1024)
	tests := []struct {
		name       string
		method     string
		path       string
		ctype      string
		auth       string
		body       string
		produceErr error
		silent     bool
		wantCode   int
		wantReason string
		wantKey    string
		wantTopic  string
	}{
		{name: "tiktok accepted", body: body, auth: signature(current, body), wantCode: 200, wantKey: "576461413038785752", wantTopic: schemas.TopicTikTokWebhooks},
		{name: "other app's key", body: body, auth: signature(old, body), wantCode: 200, wantKey: "576461413038785752", wantTopic: schemas.TopicTikTokWebhooks},
		{name: "uppercase hex", body: body, auth: strings.ToUpper(signature(current, body)), wantCode: 200, wantKey: "576461413038785752", wantTopic: schemas.TopicTikTokWebhooks},
		{name: "json with charset", ctype: "application/json; charset=utf-8", body: body, auth: signature(current, body), wantCode: 200, wantKey: "576461413038785752", wantTopic: schemas.TopicTikTokWebhooks},
		{name: "carrier accepted", path: "/webhooks/carriers/ups", body: carrierBody("UPS"), auth: signature(ups, carrierBody("UPS")), wantCode: 200, wantKey: "1Z999", wantTopic: schemas.TopicCarrierWebhooks},
		{name: "carrier name in any case", path: "/webhooks/carriers/UPS", body: carrierBody("ups"), auth: signature(ups, carrierBody("ups")), wantCode: 200, wantKey: "1Z999", wantTopic: schemas.TopicCarrierWebhooks},
		{name: "wrong method", method: http.MethodGet, wantCode: 405, wantReason: ReasonMethod},
		{name: "unknown path", path: "/webhooks/shopify", body: body, auth: signature(current, body), wantCode: 404, wantReason: ReasonNotFound},
		{name: "carrier path too deep", path: "/webhooks/carriers/ups/x", body: carrierBody("ups"), auth: signature(ups, carrierBody("ups")), wantCode: 404, wantReason: ReasonNotFound},
		{name: "no carrier", path: "/webhooks/carriers/", body: carrierBody("ups"), auth: signature(ups, carrierBody("ups")), wantCode: 404, wantReason: ReasonNotFound},
		{name: "unknown carrier", path: "/webhooks/carriers/dhl", body: carrierBody("dhl"), auth: signature(ups, carrierBody("dhl")), wantCode: 404, wantReason: ReasonNotFound},
		{name: "not json", ctype: "text/plain", body: body, auth: signature(current, body), wantCode: 415, wantReason: ReasonContentType},
		{name: "no content type", ctype: "-", body: body, auth: signature(current, body), wantCode: 415, wantReason: ReasonContentType},
		{name: "missing signature", body: body, wantCode: 401, wantReason: ReasonSignature},
		{name: "signature of another body", body: body, auth: signature(current, body+" "), wantCode: 401, wantReason: ReasonSignature},
		{name: "unknown secret", body: body, auth: signature(App{Key: "app-2", Secret: "guess"}, body), wantCode: 401, wantReason: ReasonSignature},
		{name: "signature not hex", body: body, auth: "zz", wantCode: 401, wantReason: ReasonSignature},
		{name: "carrier signed with a TikTok secret", path: "/webhooks/carriers/ups", body: carrierBody("ups"), auth: signature(current, carrierBody("ups")), wantCode: 401, wantReason: ReasonSignature},
		{name: "too large unsigned", body: big, wantCode: 413, wantReason: ReasonTooLarge},
		{name: "too large signed", body: big, auth: signature(current, big), wantCode: 413, wantReason: ReasonTooLarge},
		{name: "empty body", body: "", auth: signature(current, ""), wantCode: 400, wantReason: ReasonEnvelope},
		{name: "invalid envelope", body: `{"type":1}`, auth: signature(current, `{"type":1}`), wantCode: 400, wantReason: ReasonEnvelope},
		{name: "unknown status", body: unknownStatus, auth: signature(current, unknownStatus), wantCode: 400, wantReason: ReasonEnvelope},
		{name: "trailing bytes", body: body + "{}", auth: signature(current, body+"{}"), wantCode: 400, wantReason: ReasonEnvelope},
		{name: "stale timestamp", body: stale, auth: signature(current, stale), wantCode: 400, wantReason: ReasonStale},
		{name: "timestamp in the future", body: future, auth: signature(current, future), wantCode: 400, wantReason: ReasonStale},
		{name: "carrier mismatch", path: "/webhooks/carriers/ups", body: carrierBody("fedex"), auth: signature(ups, carrierBody("fedex")), wantCode: 400, wantReason: ReasonCarrierMatches},
		{name: "kafka refuses", body: body, auth: signature(current, body), produceErr: errors.New("broker unreachable"), wantCode: 503, wantReason: ReasonUnavailable},
		{name: "kafka does not answer in time", body: body, auth: signature(current, body), silent: true, wantCode: 503, wantReason: ReasonUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &recorder{err: tt.produceErr, silent: tt.silent}
			h, m := newHandler(t, p, nil)
			method, path, ctype := tt.method, tt.path, tt.ctype
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = RouteTikTok
			}
			if ctype == "" {
				ctype = "application/json"
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(method, path, ctype, tt.auth, tt.body))

			if rec.Code != tt.wantCode || (rec.Code != 200 && rec.Header().Get("Content-Type") != "application/json") {
				t.Fatalf("answer %d %s (%s), want %d, errors in JSON", rec.Code, rec.Header().Get("Content-Type"), rec.Body, tt.wantCode)
			}
			if tt.wantCode != 200 {
				if !strings.Contains(rec.Body.String(), `"error":"`+tt.wantReason+`"`) || !strings.Contains(rec.Body.String(), `"reason":"`) {
					t.Fatalf("body = %s, want error %q and a reason", rec.Body, tt.wantReason)
				}
				if n := len(p.records()); n != 0 {
					t.Fatalf("a rejected request produced %d records", n)
				}
				var total float64
				for _, route := range []string{RouteTikTok, RouteCarriers, "other"} {
					total += testutil.ToFloat64(m.rejections.WithLabelValues(route, tt.wantReason))
				}
				if total != 1 {
					t.Fatalf("rejections{reason=%s} = %v, want 1", tt.wantReason, total)
				}
				if tt.wantCode == 503 && rec.Header().Get("Retry-After") != "1" {
					t.Fatalf("503 with Retry-After %q", rec.Header().Get("Retry-After"))
				}
				if tt.wantCode == 405 && rec.Header().Get("Allow") != "POST" {
					t.Fatal("405 without Allow: POST")
				}
				return
			}
			recs := p.records()
			if len(recs) != 1 {
				t.Fatalf("produced %d records, want 1", len(recs))
			}
			r := recs[0]
			if !bytes.Equal(r.Value, []byte(tt.body)) || string(r.Key) != tt.wantKey || r.Topic != tt.wantTopic {
				t.Fatalf("record = topic %s key %s value %s", r.Topic, r.Key, r.Value)
			}
			env, err := schemas.ParseHeaders(r.Headers)
			if err != nil {
				t.Fatal(err)
			}
			if !env.Time.Equal(clock) || rec.Header().Get(HeaderEventID) != env.ID.String() || rec.Header().Get(HeaderDuplicate) != "" {
				t.Fatalf("envelope %+v, answer %s", env, rec.Body)
			}
			if tt.wantTopic == schemas.TopicTikTokWebhooks && (env.Source != "tiktok-shop/shop-9" || env.ID != schemas.EventID(clock, "shop-9", "n-1")) {
				t.Fatalf("envelope %+v", env)
			}
		})
	}
}

func TestRateLimitPerShop(t *testing.T) {
	p := &recorder{}
	h, _ := newHandler(t, p, func(c *Config) { c.ShopRatePerMinute, c.ShopBurst = 60, 3 })
	send := func(shop string, i int) *httptest.ResponseRecorder {
		b := strings.Replace(orderBody(fmt.Sprintf("n-%s-%d", shop, i), clock.Unix()), "shop-9", shop, 1)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(http.MethodPost, RouteTikTok, "application/json", signature(current, b), b))
		return rec
	}
	for i := range 3 {
		if rec := send("a", i); rec.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	rec := send("a", 3)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), ReasonRateLimited) {
		t.Fatalf("over the limit: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := send("b", 0); rec.Code != 200 {
		t.Fatalf("another shop is limited too: %d", rec.Code)
	}
	if n := len(p.records()); n != 4 {
		t.Fatalf("produced %d, want 4", n)
	}
}

func TestShopLimiterRefills(t *testing.T) {
	l := newShopLimiter(60, 2, 2)
	at := clock
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.allow("s", at); ok != want {
			t.Fatalf("take %d: %v, want %v", i, ok, want)
		}
	}
	if _, wait := l.allow("s", at); wait != time.Second {
		t.Fatalf("wait %v, want 1s at one token a second", wait)
	}
	if ok, _ := l.allow("s", at.Add(time.Second)); !ok {
		t.Fatal("no token after a second")
	}
	// Bounded memory: a full table forgets shops whose bucket refilled.
	l.allow("t", at.Add(time.Second))
	l.allow("u", at.Add(time.Hour))
	if len(l.buckets) > 2 {
		t.Fatalf("%d buckets kept, bound is 2", len(l.buckets))
	}
}

func TestDuplicateDeliveries(t *testing.T) {
	t.Run("repeat within the window is answered without producing", func(t *testing.T) {
		p := &recorder{}
		h, m := newHandler(t, p, nil)
		for i, want := range []string{"", "true"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body))
			if rec.Code != 200 || rec.Header().Get(HeaderDuplicate) != want || rec.Header().Get(HeaderEventID) == "" {
				t.Fatalf("delivery %d: %d %v", i+1, rec.Code, rec.Header())
			}
		}
		if n := len(p.records()); n != 1 || testutil.ToFloat64(m.dedupeHits) != 1 {
			t.Fatalf("produced %d, dedupe hits %v", n, testutil.ToFloat64(m.dedupeHits))
		}
	})
	t.Run("a retry after a failed delivery is produced", func(t *testing.T) {
		p := &recorder{err: errors.New("down")}
		h, _ := newHandler(t, p, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body))
		if rec.Code != 503 {
			t.Fatalf("first: %d", rec.Code)
		}
		p.mu.Lock()
		p.err = nil
		p.mu.Unlock()
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body))
		if rec.Code != 200 || len(p.records()) != 1 {
			t.Fatalf("retry: %d, %d records", rec.Code, len(p.records()))
		}
	})
	t.Run("concurrent copies wait for the first", func(t *testing.T) {
		for _, fail := range []bool{false, true} {
			p := &recorder{release: make(chan struct{})}
			if fail {
				p.err = errors.New("down")
			}
			h, _ := newHandler(t, p, func(c *Config) { c.ProduceTimeout = 5 * time.Second })
			codes := inFlight(h, 3)
			close(p.release)
			want := 200
			if fail {
				want = 503
			}
			for range 3 {
				if code := <-codes; code != want {
					t.Fatalf("fail=%v: a copy answered %d, want %d", fail, code, want)
				}
			}
			if n := len(p.records()); (n != 1) != fail {
				t.Fatalf("fail=%v: %d records", fail, n)
			}
		}
	})
	t.Run("disabled", func(t *testing.T) {
		p := &recorder{}
		h, _ := newHandler(t, p, func(c *Config) { c.DedupeWindow = 0 })
		for range 2 {
			h.ServeHTTP(httptest.NewRecorder(), request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body))
		}
		if n := len(p.records()); n != 2 {
			t.Fatalf("produced %d, want 2", n)
		}
	})
}

func TestDedupeForgets(t *testing.T) {
	d := newDedupe(time.Minute, 2)
	accept := func(name string, at time.Time) bool {
		id := ksuid.KSUID{name[0]}
		c, owner := d.claim(id, at)
		if owner {
			d.finish(id, c, true, at)
		}
		return owner
	}
	if !accept("a", clock) || accept("a", clock.Add(30*time.Second)) {
		t.Fatal("a repeat within the window was not recognised")
	}
	if !accept("a", clock.Add(61*time.Second)) {
		t.Fatal("a repeat after the window was still remembered")
	}
	accept("b", clock.Add(62*time.Second))
	accept("c", clock.Add(63*time.Second))
	if d.size() > 2 {
		t.Fatalf("%d entries, bound is 2", d.size())
	}
}

// TestDedupeRing fills the ring past its bound many times over, every 7th
// delivery failing: exactly the newest accepted ids within both the window
// and the bound are remembered.
func TestDedupeRing(t *testing.T) {
	const bound, total = 100, 1000
	id := func(i int) ksuid.KSUID { return ksuid.KSUID{byte(i >> 8), byte(i)} }
	at := func(i int) time.Time { return clock.Add(time.Duration(i) * 100 * time.Millisecond) }
	for _, tc := range []struct {
		name   string
		window time.Duration
		newest int // the accepted ids remembered at the end
	}{
		{"bound decides", time.Hour, bound},
		{"window decides", 5 * time.Second, 43}, // ids 950..999 less the failed
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDedupe(tc.window, bound)
			var accepted []int
			for i := range total {
				c, owner := d.claim(id(i), at(i))
				if !owner {
					t.Fatalf("id %d: a new id was taken for a duplicate", i)
				}
				d.finish(id(i), c, i%7 != 0, at(i))
				if i%7 != 0 {
					accepted = append(accepted, i)
				}
				if d.size() > bound {
					t.Fatalf("after %d: %d entries, bound is %d", i, d.size(), bound)
				}
			}
			want := map[int]bool{}
			for _, i := range accepted[len(accepted)-tc.newest:] {
				want[i] = true
			}
			now := at(total - 1)
			for i := range total {
				c, owner := d.claim(id(i), now)
				if owner {
					d.finish(id(i), c, false, now)
				}
				if !owner != want[i] {
					t.Fatalf("id %d: remembered %v, want %v", i, !owner, want[i])
				}
			}
		})
	}
}

// inFlight starts n deliveries of body and returns once all n are being
// handled; their status codes arrive on the channel.
func inFlight(h *Handler, n int) <-chan int {
	codes := make(chan int, n)
	for range n {
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body))
			codes <- rec.Code
		}()
	}
	for h.inFlight.Load() < int64(n) {
		time.Sleep(time.Millisecond)
	}
	return codes
}

func TestLoadShedding(t *testing.T) {
	p := &recorder{release: make(chan struct{})}
	h, _ := newHandler(t, p, func(c *Config) { c.MaxInFlight, c.ProduceTimeout, c.DedupeWindow = 2, 5*time.Second, 0 })
	done := inFlight(h, 2)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), ReasonOverloaded) || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("over the bound: %d %s", rec.Code, rec.Body)
	}
	close(p.release)
	for range 2 {
		if code := <-done; code != 200 {
			t.Fatalf("in-flight request answered %d", code)
		}
	}
	if n := h.inFlight.Load(); n != 0 {
		t.Fatalf("%d requests in flight after all answered", n)
	}
}

// TestSignKnownAnswer pins Sign to a signature computed independently, as
// the README shows: printf '%s%s' app-1 '{"a":1}' | openssl dgst -sha256 -hmac secret
func TestSignKnownAnswer(t *testing.T) {
	const want = "34a37d62e8db7ce2cbc7847ca6bb09debc4f9708993576be34ff1dd37c5f1986"
	if got := hex.EncodeToString(Sign(App{Key: "app-1", Secret: "secret"}, []byte(`{"a":1}`))); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for name, change := range map[string]func(*Config){
		"no apps":              func(c *Config) { c.Apps = nil },
		"empty secret":         func(c *Config) { c.Apps = []App{{Key: "k"}} },
		"no topic":             func(c *Config) { c.TikTokTopic = "" },
		"uppercase carrier":    func(c *Config) { c.CarrierSecrets = map[string]string{"UPS": "s"} },
		"empty carrier secret": func(c *Config) { c.CarrierSecrets = map[string]string{"ups": ""} },
		"no body limit":        func(c *Config) { c.MaxBodyBytes = 0 },
		"no rate":              func(c *Config) { c.ShopRatePerMinute = 0 },
		"negative window":      func(c *Config) { c.DedupeWindow = -1 },
	} {
		cfg := DefaultConfig()
		cfg.Apps = []App{current}
		change(&cfg)
		if _, err := New(cfg, &recorder{}, NewMetrics(prometheus.NewRegistry()), nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzSignature(f *testing.F) {
	f.Add(signature(current, body), []byte(body))
	f.Add("", []byte{})
	f.Fuzz(func(t *testing.T, auth string, body []byte) {
		want := strings.EqualFold(auth, signature(current, string(body)))
		if got := signed(auth, body, []*signer{newSigner(current)}); got != want {
			t.Fatalf("signed(%q, %q) = %v, want %v", auth, body, got, want)
		}
	})
}

// TestClientHangUp checks that a sender dropping the connection does not
// cancel its record: the record may already share a batch with others.
func TestClientHangUp(t *testing.T) {
	p := &recorder{}
	h, _ := newHandler(t, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body).WithContext(ctx)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if n := len(p.records()); n != 1 {
		t.Fatalf("produced %d records, want 1", n)
	}
}
