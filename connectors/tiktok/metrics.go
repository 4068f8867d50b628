package tiktok

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the client's Prometheus metrics. One set serves every client
// of a process; a nil *Metrics records nothing.
type Metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	retries   *prometheus.CounterVec
	breaker   prometheus.Gauge
	refreshes *prometheus.CounterVec
	cache     *prometheus.CounterVec
}

// NewMetrics registers the client's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_tiktok_requests_total",
			Help: "TikTok Shop API attempts by route and outcome (ok, throttled, error, auth, rejected, circuit_open, cancelled, token)."},
			[]string{"route", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "creatorflow_tiktok_request_duration_seconds",
			Help: "Duration of TikTok Shop API attempts, rate-limit waits included.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)},
			[]string{"route"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_tiktok_retries_total",
			Help: "TikTok Shop API attempts that were retried, by route."}, []string{"route"}),
		breaker: prometheus.NewGauge(prometheus.GaugeOpts{Name: "creatorflow_tiktok_circuit_state",
			Help: "State of the TikTok Shop API circuit breaker: 0 closed, 1 open, 2 half-open."}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_tiktok_token_refreshes_total",
			Help: "Access-token refreshes by result (ok, failed)."}, []string{"result"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_tiktok_product_cache_requests_total",
			Help: "Product reads by cache result (hit, miss)."}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.retries, m.breaker, m.refreshes, m.cache)
	}
	return m
}

func (m *Metrics) request(route, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, outcome).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) retry(route string) {
	if m != nil {
		m.retries.WithLabelValues(route).Inc()
	}
}

func (m *Metrics) breakerState(s BreakerState) {
	if m != nil {
		m.breaker.Set(float64(s))
	}
}

func (m *Metrics) tokenRefresh(ok bool) {
	if m == nil {
		return
	}
	result := "ok"
	if !ok {
		result = "failed"
	}
	m.refreshes.WithLabelValues(result).Inc()
}

func (m *Metrics) cacheResult(hit bool) {
	if m == nil {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.cache.WithLabelValues(result).Inc()
}
