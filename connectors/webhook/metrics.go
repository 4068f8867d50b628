package webhook

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest's Prometheus collectors.
type Metrics struct {
	reg        prometheus.Registerer
	requests   *prometheus.CounterVec
	rejections *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	produce    prometheus.Histogram
	dedupeHits prometheus.Counter
}

// NewMetrics registers the ingest's collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	latency := prometheus.ExponentialBuckets(0.0005, 2, 14) // 0.5 ms to 4 s
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creatorflow_ingest_requests_total", Help: "Webhook requests by route and HTTP status code.",
		}, []string{"route", "code"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creatorflow_ingest_rejections_total", Help: "Webhook requests answered with an error, by route and reason.",
		}, []string{"route", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "creatorflow_ingest_request_duration_seconds", Help: "Time from request to answer.", Buckets: latency,
		}, []string{"route"}),
		produce: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "creatorflow_ingest_produce_duration_seconds", Help: "Time for the broker to acknowledge a webhook.", Buckets: latency,
		}),
		dedupeHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "creatorflow_ingest_dedupe_hits_total", Help: "Repeated deliveries answered 200 without producing them again.",
		}),
	}
	reg.MustRegister(m.requests, m.rejections, m.duration, m.produce, m.dedupeHits)
	return m
}

// gauges exposes the handler's state, read when scraped rather than
// written on every request.
func (m *Metrics) gauges(dedupeEntries func() int, inFlight func() int64) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "creatorflow_ingest_dedupe_entries", Help: "Webhooks remembered for deduplication.",
		}, func() float64 { return float64(dedupeEntries()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "creatorflow_ingest_in_flight_requests", Help: "Webhook requests being handled.",
		}, func() float64 { return float64(inFlight()) }),
	)
}
