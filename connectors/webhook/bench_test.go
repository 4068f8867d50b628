package webhook

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// acker acknowledges every record at once: the benchmark measures the
// handler's own cost per webhook, without a broker.
type acker struct{}

func (acker) TryProduce(_ context.Context, r *kgo.Record, promise func(*kgo.Record, error)) {
	promise(r, nil)
}

// BenchmarkTikTok is one accepted webhook through the handler: every body is
// new (no dedupe hits), spread over 50 shops under their rate limit.
func BenchmarkTikTok(b *testing.B) {
	h, _ := newHandler(&testing.T{}, acker{}, func(c *Config) {
		c.ShopRatePerMinute, c.ShopBurst = 1<<30, 1<<30
		c.MaxAge = 0
	})
	bodies, sigs := make([]string, b.N), make([]string, b.N)
	for i := range b.N {
		bodies[i] = strings.Replace(orderBody(fmt.Sprint("bench-", i), clock.Unix()), "shop-9", fmt.Sprint("shop-", i%50), 1)
		sigs[i] = signature(current, bodies[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(http.MethodPost, RouteTikTok, "application/json", sigs[i], bodies[i]))
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
