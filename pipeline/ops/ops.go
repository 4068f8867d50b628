// Package ops serves what operators and orchestrators probe on every
// process: Prometheus metrics on /metrics, liveness on /healthz and
// readiness on /readyz (every dependency the process needs answers).
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports whether one dependency is usable; nil means ready.
type Check func(ctx context.Context) error

// NewRegistry returns a metrics registry with the Go runtime and process
// collectors, which every CreatorFlow process exposes.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves /metrics, /healthz and /readyz. Checks are added with
// AddCheck as roles start; readiness fails until every one passes.
type Handler struct {
	mux     *http.ServeMux
	timeout time.Duration

	mu     sync.Mutex
	checks map[string]Check
}

// NewHandler returns a handler exposing reg. Each readiness check gets at most
// checkTimeout, so a hung dependency makes /readyz fail rather than hang.
func NewHandler(reg *prometheus.Registry, checkTimeout time.Duration) *Handler {
	h := &Handler{mux: http.NewServeMux(), timeout: checkTimeout, checks: map[string]Check{}}
	h.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	h.mux.HandleFunc("GET /readyz", h.ready)
	return h
}

// EnableProfiling serves Go's profiles under /debug/pprof/ for diagnosing a
// live process; off by default because profiles reveal internals.
func (h *Handler) EnableProfiling() {
	h.mux.HandleFunc("/debug/pprof/", pprof.Index)
	h.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	h.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// AddCheck registers a readiness check under a name shown in /readyz.
func (h *Handler) AddCheck(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = c
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) ready(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	checks := make(map[string]Check, len(h.checks))
	for k, v := range h.checks {
		checks[k] = v
	}
	h.mu.Unlock()

	type result struct {
		Name  string `json:"name"`
		Error string `json:"error,omitempty"`
	}
	results := make([]result, 0, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), h.timeout)
			defer cancel()
			res := result{Name: name}
			if err := check(ctx); err != nil {
				res.Error = err.Error()
			}
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
		})
	}
	wg.Wait()
	sort.Slice(results, func(i, j int) bool { return results[i].Name < results[j].Name })
	status, code := "ready", http.StatusOK
	for _, res := range results {
		if res.Error != "" {
			status, code = "not ready", http.StatusServiceUnavailable
		}
	}
	WriteJSON(w, code, map[string]any{"status": status, "checks": results})
}

// WriteJSON answers code with v as a JSON body.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Serve listens on addr and serves handler until ctx is done, then shuts down
// gracefully, giving in-flight requests up to grace to finish. ready, if not
// nil, is called with the bound address once listening.
func Serve(ctx context.Context, addr string, handler http.Handler, grace time.Duration, log *slog.Logger, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// Timeouts bound what a slow or idle client can hold: a body trickled
	// byte by byte, an answer never read, a connection left open.
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
