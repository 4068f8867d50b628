// Package webhook is the front door of the pipeline: it verifies, validates
// and lands TikTok Shop webhooks in Kafka, answering 200 only once the broker
// has acknowledged the record durably (acks=all, idempotent producer), so a
// webhook that TikTok sees accepted is never lost, and one that is rejected
// has produced nothing.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/ops"
	"github.com/creatorflow/creatorflow/schemas"
)

// App is one TikTok Shop app whose webhooks are accepted. Several apps can be
// configured at once, which is also how a secret is rotated: add the new
// pair, switch TikTok over, remove the old one.
type App struct {
	Key    string
	Secret string
}

// Producer is the part of a franz-go client the handler needs. TryProduce
// fails at once when the client's buffer is full instead of blocking, so an
// outage sheds load rather than piling up waiting requests.
type Producer interface {
	TryProduce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
}

// Config configures the TikTok webhook handler.
type Config struct {
	// Topic receives every accepted webhook (tiktok.webhooks.v1, possibly
	// with a deployment prefix).
	Topic string
	// Apps are the accepted app key/secret pairs; at least one.
	Apps []App
	// MaxBodyBytes is the largest body accepted; larger ones get 413
	// without being read further.
	MaxBodyBytes int64
	// ProduceTimeout bounds how long a request waits for the broker's
	// acknowledgement before answering 503.
	ProduceTimeout time.Duration
	// RetryAfter is what 503 answers tell TikTok to wait.
	RetryAfter time.Duration
}

// DefaultConfig returns the defaults of CONTRACTS.md, without apps.
func DefaultConfig() Config {
	return Config{
		Topic:          schemas.TopicTikTokWebhooks,
		MaxBodyBytes:   1 << 20,
		ProduceTimeout: 2 * time.Second,
		RetryAfter:     time.Second,
	}
}

// Rejection codes: the "error" of an error answer (whose "reason" explains it
// in words) and the reason label of creatorflow_ingest_rejections_total.
const (
	ReasonMethod      = "method_not_allowed"
	ReasonContentType = "unsupported_content_type"
	ReasonTooLarge    = "body_too_large"
	ReasonSignature   = "bad_signature"
	ReasonEnvelope    = "invalid_envelope"
	ReasonUnavailable = "kafka_unavailable"
	ReasonReadBody    = "body_unreadable"
)

// Metrics are the ingest's Prometheus collectors.
type Metrics struct {
	requests   *prometheus.CounterVec
	rejections *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	produce    prometheus.Histogram
}

// NewMetrics registers the ingest's collectors with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creatorflow_ingest_requests_total", Help: "Webhook requests by route and HTTP status code.",
		}, []string{"route", "code"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creatorflow_ingest_rejections_total", Help: "Webhook requests answered with an error, by reason.",
		}, []string{"route", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "creatorflow_ingest_request_duration_seconds", Help: "Time from request to answer.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
		produce: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "creatorflow_ingest_produce_duration_seconds", Help: "Time for the broker to acknowledge a webhook.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	reg.MustRegister(m.requests, m.rejections, m.duration, m.produce)
	return m
}

// TikTok handles POST /webhooks/tiktok.
type TikTok struct {
	cfg     Config
	produce Producer
	metrics *Metrics
	log     *slog.Logger
}

// NewTikTok returns the handler; cfg must name a topic and at least one app.
func NewTikTok(cfg Config, p Producer, m *Metrics, log *slog.Logger) (*TikTok, error) {
	if cfg.Topic == "" {
		return nil, errors.New("webhook: no topic")
	}
	if len(cfg.Apps) == 0 {
		return nil, errors.New("webhook: no TikTok app key/secret configured")
	}
	for i, a := range cfg.Apps {
		if a.Key == "" || a.Secret == "" {
			return nil, fmt.Errorf("webhook: app %d has an empty key or secret", i+1)
		}
	}
	if cfg.MaxBodyBytes <= 0 || cfg.ProduceTimeout <= 0 {
		return nil, errors.New("webhook: max body size and produce timeout must be positive")
	}
	return &TikTok{cfg: cfg, produce: p, metrics: m, log: log}, nil
}

const routeTikTok = "/webhooks/tiktok"

// ServeHTTP implements http.Handler.
func (h *TikTok) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code := h.serve(w, r)
	h.metrics.requests.WithLabelValues(routeTikTok, strconv.Itoa(code)).Inc()
	h.metrics.duration.WithLabelValues(routeTikTok).Observe(time.Since(start).Seconds())
}

// serve answers the request and returns the status code it answered.
func (h *TikTok) serve(w http.ResponseWriter, r *http.Request) int {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return h.reject(w, http.StatusMethodNotAllowed, ReasonMethod, "only POST is allowed")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return h.reject(w, http.StatusUnsupportedMediaType, ReasonContentType, "Content-Type must be application/json")
	}
	// The limit is enforced while reading: an oversized body is never
	// buffered whole.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return h.reject(w, http.StatusRequestEntityTooLarge, ReasonTooLarge,
				fmt.Sprintf("body is larger than %d bytes", h.cfg.MaxBodyBytes))
		}
		return h.reject(w, http.StatusBadRequest, ReasonReadBody, "could not read the body")
	}
	// The signature is checked before the body is parsed: an unsigned
	// request costs one HMAC, never a JSON parse.
	if !h.signed(r.Header.Get("Authorization"), body) {
		return h.reject(w, http.StatusUnauthorized, ReasonSignature, "Authorization is not a valid signature of this body")
	}
	hook, err := schemas.ParseTikTokWebhook(body)
	if err != nil {
		return h.reject(w, http.StatusBadRequest, ReasonEnvelope, err.Error())
	}

	env := schemas.NewEnvelope(eventType, 1, "tiktok-shop/"+hook.ShopID, hook.EventTime())
	env.ID = schemas.EventID(hook.EventTime(), hook.ShopID, hook.NotificationID)
	rec := &kgo.Record{Topic: h.cfg.Topic, Key: []byte(hook.Key()), Value: body, Headers: env.Headers(), Timestamp: env.IngestTime}
	if err := h.deliver(r.Context(), rec); err != nil {
		h.log.Warn("webhook not acknowledged by Kafka", "err", err, "notification_id", hook.NotificationID)
		w.Header().Set("Retry-After", strconv.Itoa(int(h.cfg.RetryAfter.Seconds()+0.5)))
		return h.reject(w, http.StatusServiceUnavailable, ReasonUnavailable, "Kafka did not acknowledge the webhook in time; retry")
	}
	ops.WriteJSON(w, http.StatusOK, map[string]string{"status": "accepted", "event_id": env.ID.String()})
	return http.StatusOK
}

var eventType = func() string {
	t, _ := schemas.Lookup(schemas.TopicTikTokWebhooks)
	return t.EventType
}()

// errNoAck is a produce that outlived ProduceTimeout.
var errNoAck = errors.New("no acknowledgement within the produce timeout")

// deliver produces rec and waits at most ProduceTimeout for the broker's
// acknowledgement. The record is not tied to the request's context: a
// client hanging up must not cancel a record that may already share a batch
// with other requests' records. A record still unacknowledged when the
// timeout answers 503 may land later; TikTok's retry then carries the same
// event id, so the two are one event downstream.
func (h *TikTok) deliver(ctx context.Context, rec *kgo.Record) error {
	start := time.Now()
	acked := make(chan error, 1)
	h.produce.TryProduce(context.WithoutCancel(ctx), rec, func(_ *kgo.Record, err error) { acked <- err })
	timer := time.NewTimer(h.cfg.ProduceTimeout)
	defer timer.Stop()
	select {
	case err := <-acked:
		if err == nil {
			h.metrics.produce.Observe(time.Since(start).Seconds())
		}
		return err
	case <-timer.C:
		return errNoAck
	}
}

// signed reports whether auth is the hex HMAC-SHA256 of app_key+body under
// any configured app's secret. Every app is tried, in constant time each.
func (h *TikTok) signed(auth string, body []byte) bool {
	got, err := hex.DecodeString(auth)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, app := range h.cfg.Apps {
		if hmac.Equal(got, Sign(app, body)) {
			ok = true
		}
	}
	return ok
}

// Sign returns the raw HMAC-SHA256 signature TikTok puts, hex-encoded, in
// the Authorization header of a webhook from app.
func Sign(app App, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(app.Secret))
	mac.Write([]byte(app.Key))
	mac.Write(body)
	return mac.Sum(nil)
}

func (h *TikTok) reject(w http.ResponseWriter, code int, reason, msg string) int {
	h.metrics.rejections.WithLabelValues(routeTikTok, reason).Inc()
	ops.WriteJSON(w, code, map[string]string{"error": reason, "reason": msg})
	return code
}
