package webhook

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest's Prometheus collectors.
type Metrics struct {
	reg        prometheus.Registerer
	requests   *prometheus.CounterVec
	rejections *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	produce    prometheus.Histogram
	inFlight   prometheus.Gauge
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
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "creatorflow_ingest_in_flight_requests", Help: "Webhook requests being handled.",
		}),
		dedupeHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "creatorflow_ingest_dedupe_hits_total", Help: "Repeated deliveries answered 200 without producing them again.",
		}),
	}
	reg.MustRegister(m.requests, m.rejections, m.duration, m.produce, m.inFlight, m.dedupeHits)
	return m
}

// dedupeSize exposes the dedupe memory's size as a gauge.
func (m *Metrics) dedupeSize(size func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "creatorflow_ingest_dedupe_entries", Help: "Webhooks remembered for deduplication.",
	}, func() float64 { return float64(size()) }))
}
