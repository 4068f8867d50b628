package loadgen

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/connectors/webhook"
	"github.com/creatorflow/creatorflow/schemas"
)

var app = webhook.App{Key: "lg-app", Secret: "lg-secret"}

// server answers 200 to correctly signed valid webhooks and counts them; every
// tenth is answered 503 to check that answers are tallied by code.
func server(t *testing.T, seen *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != hex.EncodeToString(webhook.Sign(app, body)) {
			t.Errorf("bad signature on %s", body)
		}
		if _, err := schemas.ParseTikTokWebhook(body); err != nil {
			t.Errorf("invalid webhook %s: %v", body, err)
		}
		if seen.Add(1)%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
}

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		rate float64
	}{
		{"closed loop", 0},
		{"open loop", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen atomic.Int64
			srv := server(t, &seen)
			defer srv.Close()
			res, err := Run(context.Background(), Config{
				URL: srv.URL, App: app, Shops: 10, Orders: 100, Connections: 4,
				Duration: 300 * time.Millisecond, Rate: tt.rate, KeepAccepted: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Sent == 0 || int64(res.Sent) > seen.Load() || res.Codes[200]+res.Codes[503] != res.Sent || res.Errors != 0 {
				t.Fatalf("result %+v, server saw %d", res, seen.Load())
			}
			if len(res.Accepted) != res.Codes[200] || res.P50 > res.P99 || res.P99 > res.Max {
				t.Fatalf("accepted %d of %d, p50 %v p99 %v max %v", len(res.Accepted), res.Codes[200], res.P50, res.P99, res.Max)
			}
			if tt.rate > 0 && (res.Sent < 100 || res.Sent > 160) {
				t.Fatalf("open loop at %v/s for 0.3 s sent %d", tt.rate, res.Sent)
			}
		})
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{App: app, Shops: 1, Orders: 1, Connections: 1, Duration: time.Second},
		{URL: "http://x", Shops: 1, Orders: 1, Connections: 1, Duration: time.Second},
		{URL: "http://x", App: app, Orders: 1, Connections: 1, Duration: time.Second},
		{URL: "http://x", App: app, Shops: 1, Orders: 1, Connections: 1, Duration: time.Second, Rate: -1},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) accepted a bad config", cfg)
		}
	}
}
