package ops

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHandler(t *testing.T) {
	h := NewHandler(NewRegistry(), 50*time.Millisecond)
	h.AddCheck("kafka", func(context.Context) error { return nil })

	tests := []struct {
		name     string
		path     string
		setup    func()
		wantCode int
		wantBody string
	}{
		{name: "live", path: "/healthz", wantCode: 200, wantBody: `"ok"`},
		{name: "metrics", path: "/metrics", wantCode: 200, wantBody: "go_goroutines"},
		{name: "ready", path: "/readyz", wantCode: 200, wantBody: `"ready"`},
		{name: "failing check", path: "/readyz", setup: func() {
			h.AddCheck("clickhouse", func(context.Context) error { return errors.New("connection refused") })
		}, wantCode: 503, wantBody: "connection refused"},
		{name: "hung check times out", path: "/readyz", setup: func() {
			h.AddCheck("clickhouse", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		}, wantCode: 503, wantBody: "deadline exceeded"},
		{name: "wrong method", path: "/healthz", wantCode: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			method := http.MethodGet
			if tt.wantCode == 405 {
				method = http.MethodPost
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, tt.path, nil))
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Fatalf("%s %s = %d %q, want %d containing %q", method, tt.path, rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
		})
	}
}
