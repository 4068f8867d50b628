package webhook

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/schemas"
)

// recorder is a Producer that keeps what it was given; the real broker is
// exercised by the end-to-end test of cmd/creatorflow.
type recorder struct {
	mu     sync.Mutex
	recs   []*kgo.Record
	err    error
	silent bool // never acknowledge, like a broker that hangs
}

func (r *recorder) TryProduce(ctx context.Context, rec *kgo.Record, promise func(*kgo.Record, error)) {
	if ctx.Done() != nil {
		panic("the record's context can be cancelled: a client hanging up would cancel it")
	}
	if r.silent {
		return
	}
	r.mu.Lock()
	if r.err == nil {
		r.recs = append(r.recs, rec)
	}
	r.mu.Unlock()
	promise(rec, r.err)
}

var (
	current = App{Key: "app-2", Secret: "new-secret"}
	old     = App{Key: "app-1", Secret: "old-secret"}
)

const orderBody = `{"type":1,"tts_notification_id":"n-1","shop_id":"shop-9","timestamp":1764000000,"data":{"order_id":"576461413038785752","order_status":"AWAITING_SHIPMENT","is_on_hold_order":false,"update_time":1764000000}}`

func signature(app App, body string) string { return hex.EncodeToString(Sign(app, []byte(body))) }

func TestTikTok(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		ctype      string
		auth       string
		body       string
		produceErr error
		silent     bool
		wantCode   int
		wantReason string
	}{
		{name: "accepted", body: orderBody, auth: signature(current, orderBody), wantCode: 200},
		{name: "accepted with the other app's key", body: orderBody, auth: signature(old, orderBody), wantCode: 200},
		{name: "uppercase hex is the same signature", body: orderBody, auth: strings.ToUpper(signature(current, orderBody)), wantCode: 200},
		{name: "json with charset", ctype: "application/json; charset=utf-8", body: orderBody, auth: signature(current, orderBody), wantCode: 200},
		{name: "wrong method", method: http.MethodGet, wantCode: 405, wantReason: ReasonMethod},
		{name: "not json", ctype: "text/plain", body: orderBody, auth: signature(current, orderBody), wantCode: 415, wantReason: ReasonContentType},
		{name: "missing signature", body: orderBody, wantCode: 401, wantReason: ReasonSignature},
		{name: "signature of another body", body: orderBody, auth: signature(current, orderBody+" "), wantCode: 401, wantReason: ReasonSignature},
		{name: "signature with unknown secret", body: orderBody, auth: signature(App{Key: "app-2", Secret: "guess"}, orderBody), wantCode: 401, wantReason: ReasonSignature},
		{name: "signature not hex", body: orderBody, auth: "zz", wantCode: 401, wantReason: ReasonSignature},
		{name: "too large", body: `{"pad":"` + strings.Repeat("x", 2048) + `"}`, wantCode: 413, wantReason: ReasonTooLarge},
		{name: "invalid envelope", body: `{"type":1}`, auth: signature(current, `{"type":1}`), wantCode: 400, wantReason: ReasonEnvelope},
		{name: "unknown status", body: strings.Replace(orderBody, "AWAITING_SHIPMENT", "TELEPORTED", 1),
			auth: signature(current, strings.Replace(orderBody, "AWAITING_SHIPMENT", "TELEPORTED", 1)), wantCode: 400, wantReason: ReasonEnvelope},
		{name: "kafka down", body: orderBody, auth: signature(current, orderBody), produceErr: errors.New("broker unreachable"), wantCode: 503, wantReason: ReasonUnavailable},
		{name: "kafka does not answer in time", body: orderBody, auth: signature(current, orderBody), silent: true, wantCode: 503, wantReason: ReasonUnavailable},
		{name: "empty body", body: "", auth: signature(current, ""), wantCode: 400, wantReason: ReasonEnvelope},
		{name: "no content type", ctype: "-", body: orderBody, auth: signature(current, orderBody), wantCode: 415, wantReason: ReasonContentType},
		{name: "oversized with a valid signature", body: orderBody + strings.Repeat(" ", 1024), auth: signature(current, orderBody+strings.Repeat(" ", 1024)), wantCode: 413, wantReason: ReasonTooLarge},
		{name: "trailing bytes after the object", body: orderBody + "{}", auth: signature(current, orderBody+"{}"), wantCode: 400, wantReason: ReasonEnvelope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &recorder{err: tt.produceErr, silent: tt.silent}
			m := NewMetrics(prometheus.NewRegistry())
			cfg := DefaultConfig()
			cfg.Apps = []App{old, current}
			cfg.MaxBodyBytes = 1024
			cfg.ProduceTimeout = 50 * time.Millisecond
			h, err := NewTikTok(cfg, p, m, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			method, ctype := tt.method, tt.ctype
			if method == "" {
				method = http.MethodPost
			}
			if ctype == "" {
				ctype = "application/json"
			}
			req := httptest.NewRequest(method, "/webhooks/tiktok", strings.NewReader(tt.body))
			if ctype != "-" {
				req.Header.Set("Content-Type", ctype)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d (%s), want %d", rec.Code, rec.Body, tt.wantCode)
			}
			if tt.wantCode != 200 {
				if !strings.Contains(rec.Body.String(), `"error":"`+tt.wantReason+`"`) || !strings.Contains(rec.Body.String(), `"reason":"`) {
					t.Fatalf("body = %s, want error %q and a reason", rec.Body, tt.wantReason)
				}
				if len(p.recs) != 0 {
					t.Fatalf("a rejected request produced %d records", len(p.recs))
				}
				if got := testutil.ToFloat64(m.rejections.WithLabelValues(routeTikTok, tt.wantReason)); got != 1 {
					t.Fatalf("rejections{reason=%s} = %v, want 1", tt.wantReason, got)
				}
				if tt.wantCode == 503 && rec.Header().Get("Retry-After") == "" {
					t.Fatal("503 without Retry-After")
				}
				return
			}
			if len(p.recs) != 1 {
				t.Fatalf("produced %d records, want 1", len(p.recs))
			}
			r := p.recs[0]
			if !bytes.Equal(r.Value, []byte(tt.body)) || string(r.Key) != "576461413038785752" || r.Topic != schemas.TopicTikTokWebhooks {
				t.Fatalf("record = topic %s key %s value %s", r.Topic, r.Key, r.Value)
			}
			env, err := schemas.ParseHeaders(r.Headers)
			if err != nil {
				t.Fatal(err)
			}
			if env.Time.Unix() != 1764000000 || env.Source != "tiktok-shop/shop-9" || !strings.Contains(rec.Body.String(), env.ID.String()) ||
				env.ID != schemas.EventID(env.Time, "shop-9", "n-1") {
				t.Fatalf("envelope %+v, answer %s", env, rec.Body)
			}
		})
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

func TestNewTikTokRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Topic: "t", MaxBodyBytes: 1, ProduceTimeout: 1},
		{Topic: "t", Apps: []App{{Key: "k"}}, MaxBodyBytes: 1, ProduceTimeout: 1},
		{Apps: []App{current}, MaxBodyBytes: 1, ProduceTimeout: 1},
		{Topic: "t", Apps: []App{current}},
	} {
		if _, err := NewTikTok(cfg, &recorder{}, nil, nil); err == nil {
			t.Errorf("NewTikTok(%+v) accepted a bad config", cfg)
		}
	}
}

func FuzzSignature(f *testing.F) {
	f.Add(signature(current, orderBody), []byte(orderBody))
	f.Add("", []byte{})
	h, err := NewTikTok(Config{Topic: "t", Apps: []App{current}, MaxBodyBytes: 1, ProduceTimeout: 1}, &recorder{}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, auth string, body []byte) {
		want := auth == signature(current, string(body)) || strings.EqualFold(auth, signature(current, string(body)))
		if got := h.signed(auth, body); got != want {
			t.Fatalf("signed(%q, %q) = %v, want %v", auth, body, got, want)
		}
	})
}
