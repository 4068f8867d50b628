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

func BenchmarkTikTok(b *testing.B) {
	h, _ := newHandler(&testing.T{}, acker{}, func(c *Config) {
		c.ShopRatePerMinute, c.ShopBurst = 1<<30, 1<<30
		c.MaxAge = 0
	})
	bodies := make([]string, 1024)
	for i := range bodies {
		bodies[i] = strings.Replace(orderBody(fmt.Sprint("bench-", i), clock.Unix()), "shop-9", fmt.Sprint("shop-", i%50), 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := bodies[i%len(bodies)]
		req := request(http.MethodPost, RouteTikTok, "application/json", signature(current, body), body)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
