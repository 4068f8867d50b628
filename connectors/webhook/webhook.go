// Package webhook is the front door of the pipeline: it verifies, validates
// and lands TikTok Shop and carrier webhooks in Kafka, answering 200 only once
// the broker has acknowledged the record durably (acks=all, idempotent
// producer), so a webhook that the sender sees accepted is never lost, and
// one that is rejected has produced nothing.
//
// Each request goes through the same steps, cheapest first, and stops at the
// first that fails: load shedding (503), method (405), content type (415),
// body size while reading (413), signature before any parsing (401),
// envelope (400), the shop's rate (429), duplicate delivery (200 without a
// second record), then Kafka (200, or 503 with Retry-After).
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/ksuid"
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

// Config configures the webhook endpoints.
type Config struct {
	// TikTokTopic and CarrierTopic receive the accepted webhooks
	// (tiktok.webhooks.v1 and carrier.webhooks.v1, possibly prefixed).
	TikTokTopic, CarrierTopic string
	// Apps are the accepted TikTok app key/secret pairs; at least one.
	Apps []App
	// CarrierSecrets maps a carrier name, as it appears in the path
	// /webhooks/carriers/{carrier}, to its HMAC secret. Carriers not in the
	// map get 404.
	CarrierSecrets map[string]string
	// MaxBodyBytes is the largest body accepted; a larger one gets 413
	// without being read further.
	MaxBodyBytes int64
	// ProduceTimeout bounds how long a request waits for the broker's
	// acknowledgement before answering 503.
	ProduceTimeout time.Duration
	// RetryAfter is what 503 answers tell the sender to wait.
	RetryAfter time.Duration
	// ShopRatePerMinute and ShopBurst size each shop's token bucket.
	ShopRatePerMinute, ShopBurst int
	// MaxInFlight bounds the requests being handled at once; more are
	// shed with 503, so memory stays bounded under overload.
	MaxInFlight int
	// DedupeWindow is how long an accepted webhook is remembered to answer
	// its repeated deliveries without producing them; DedupeEntries bounds
	// the memory. A zero window disables it.
	DedupeWindow  time.Duration
	DedupeEntries int
	// MaxAge and MaxSkew bound a webhook's own timestamp against the clock:
	// older or further in the future is refused (400), so a captured signed
	// request cannot be replayed indefinitely. Zero disables the check.
	MaxAge, MaxSkew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the defaults of CONTRACTS.md and the seed, without
// credentials.
func DefaultConfig() Config {
	return Config{
		TikTokTopic:       schemas.TopicTikTokWebhooks,
		CarrierTopic:      schemas.TopicCarrierWebhooks,
		MaxBodyBytes:      1 << 20,
		ProduceTimeout:    2 * time.Second,
		RetryAfter:        time.Second,
		ShopRatePerMinute: 1000,
		ShopBurst:         1000,
		MaxInFlight:       2048,
		DedupeWindow:      10 * time.Minute,
		DedupeEntries:     200_000,
		MaxAge:            72 * time.Hour,
		MaxSkew:           5 * time.Minute,
	}
}

// Rejection codes: the "error" of an error answer (whose "reason" explains it
// in words) and the reason label of creatorflow_ingest_rejections_total.
const (
	ReasonOverloaded     = "overloaded"
	ReasonMethod         = "method_not_allowed"
	ReasonNotFound       = "not_found"
	ReasonContentType    = "unsupported_content_type"
	ReasonTooLarge       = "body_too_large"
	ReasonReadBody       = "body_unreadable"
	ReasonSignature      = "bad_signature"
	ReasonEnvelope       = "invalid_envelope"
	ReasonStale          = "stale_timestamp"
	ReasonCarrierMatches = "carrier_mismatch"
	ReasonRateLimited    = "rate_limited"
	ReasonUnavailable    = "kafka_unavailable"
)

// Headers of a 200 answer: the accepted event's id, and whether this
// delivery repeated one accepted before (and so produced nothing).
const (
	HeaderEventID   = "Creatorflow-Event-Id"
	HeaderDuplicate = "Creatorflow-Duplicate"
)

// Routes, also the route label of the metrics.
const (
	RouteTikTok   = "/webhooks/tiktok"
	RouteCarriers = "/webhooks/carriers/{carrier}"
)

// Handler serves the webhook endpoints.
type Handler struct {
	cfg                                            Config
	produce                                        Producer
	metrics                                        *Metrics
	log                                            *slog.Logger
	tiktokEndpoint, carrierEndpoint, otherEndpoint http.Handler
	limiter                                        *shopLimiter
	inFlight                                       atomic.Int64
	waiters                                        sync.Pool
	// Built once: the TikTok parser and one parser per carrier.
	tiktokParser   parser
	carrierParsers map[string]parser
}

// New validates cfg and returns the handler.
func New(cfg Config, p Producer, m *Metrics, log *slog.Logger) (*Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{
		cfg:     cfg,
		produce: p,
		metrics: m,
		log:     log,
		limiter: newShopLimiter(cfg.ShopRatePerMinute, cfg.ShopBurst, 100_000),
	}
	// One dedupe per topic: event ids are unique within a topic.
	tiktokDedupe, carrierDedupe := newDedupe(cfg.DedupeWindow, cfg.DedupeEntries), newDedupe(cfg.DedupeWindow, cfg.DedupeEntries)
	h.tiktokParser = h.newTikTokParser(tiktokDedupe)
	h.carrierParsers = map[string]parser{}
	for name, secret := range cfg.CarrierSecrets {
		h.carrierParsers[name] = h.newCarrierParser(name, secret, carrierDedupe)
	}
	h.tiktokEndpoint = h.endpoint(RouteTikTok, func(*http.Request) (parser, *rejection) { return h.tiktokParser, nil })
	h.carrierEndpoint = h.endpoint(RouteCarriers, h.carrier)
	h.otherEndpoint = h.endpoint("other", nil)
	m.gauges(func() int { return tiktokDedupe.size() + carrierDedupe.size() }, h.inFlight.Load)
	return h, nil
}

func (c Config) validate() error {
	var errs []error
	if c.TikTokTopic == "" || c.CarrierTopic == "" {
		errs = append(errs, errors.New("no topic"))
	}
	if len(c.Apps) == 0 {
		errs = append(errs, errors.New("no TikTok app key/secret configured"))
	}
	for i, a := range c.Apps {
		if a.Key == "" || a.Secret == "" {
			errs = append(errs, fmt.Errorf("TikTok app %d has an empty key or secret", i+1))
		}
	}
	for carrier, secret := range c.CarrierSecrets {
		if carrier == "" || secret == "" || carrier != strings.ToLower(carrier) {
			errs = append(errs, fmt.Errorf("carrier %q: names are lowercase and secrets non-empty", carrier))
		}
	}
	if c.MaxBodyBytes <= 0 || c.ProduceTimeout <= 0 || c.RetryAfter <= 0 || c.MaxInFlight <= 0 {
		errs = append(errs, errors.New("max body size, produce timeout, retry-after and max in-flight must be positive"))
	}
	if c.ShopRatePerMinute <= 0 || c.ShopBurst <= 0 {
		errs = append(errs, errors.New("shop rate and burst must be positive"))
	}
	if c.DedupeWindow < 0 || (c.DedupeWindow > 0 && c.DedupeEntries <= 0) || c.MaxAge < 0 || c.MaxSkew < 0 {
		errs = append(errs, errors.New("dedupe window and entries, max age and skew cannot be negative"))
	}
	return errors.Join(errs...)
}

// ServeHTTP routes by hand: two fixed paths need no pattern matching on
// every request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.Path; {
	case path == RouteTikTok:
		h.tiktokEndpoint.ServeHTTP(w, r)
	case strings.HasPrefix(path, carriersPrefix) && len(path) > len(carriersPrefix) && !strings.Contains(path[len(carriersPrefix):], "/"):
		h.carrierEndpoint.ServeHTTP(w, r)
	default:
		h.otherEndpoint.ServeHTTP(w, r)
	}
}

const carriersPrefix = "/webhooks/carriers/"

// event is what an endpoint makes of a verified body.
type event struct {
	topic     string
	key       string
	eventType string
	source    string
	time      time.Time
	id        ksuid.KSUID
	shop      string // rate-limited per shop when set
}

// parser turns a request's verified body into an event, or rejects it.
type parser struct {
	// signers check the signature: it may be made with any of them.
	signers []*signer
	parse   func(body []byte) (event, *rejection)
	// dedupe remembers the events of the parser's topic.
	dedupe *dedupe
}

// resolve picks an endpoint's parser for a request; nil rejection means go on.
type resolve func(r *http.Request) (parser, *rejection)

// rejection is an error answer.
type rejection struct {
	code   int
	reason string
	msg    string
	header map[string]string
}

func reject(code int, reason, msg string) *rejection {
	return &rejection{code: code, reason: reason, msg: msg}
}

// endpoint wraps an endpoint's resolver in the steps every webhook takes.
func (h *Handler) endpoint(route string, res resolve) http.Handler {
	// The label lookups of the common answer are done once, not per request.
	accepted := h.metrics.requests.WithLabelValues(route, "200")
	duration := h.metrics.duration.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		code := h.handle(w, r, route, res, h.inFlight.Add(1))
		h.inFlight.Add(-1)
		if code == http.StatusOK {
			accepted.Inc()
		} else {
			h.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
		}
		duration.Observe(time.Since(start).Seconds())
	})
}

func (h *Handler) handle(w http.ResponseWriter, r *http.Request, route string, res resolve, inFlight int64) int {
	if res == nil {
		return h.answer(w, route, reject(http.StatusNotFound, ReasonNotFound, "no such endpoint: webhooks go to /webhooks/tiktok or /webhooks/carriers/{carrier}"))
	}
	ev, accepted, rej := h.accept(w, r, res, inFlight)
	if rej != nil {
		return h.answer(w, route, rej)
	}
	// No body: TikTok reads only the status, and writing one costs the
	// whole endpoint about 6% of its throughput. The event id is a header.
	// Direct assignment: the names are canonical already.
	header := w.Header()
	header[HeaderEventID] = []string{ev.id.String()}
	if !accepted {
		header[HeaderDuplicate] = []string{"true"}
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

// accept runs the steps and returns the event and whether this request
// produced it (false: a duplicate of one accepted before).
func (h *Handler) accept(w http.ResponseWriter, r *http.Request, res resolve, inFlight int64) (event, bool, *rejection) {
	if inFlight > int64(h.cfg.MaxInFlight) {
		return event{}, false, h.unavailable(ReasonOverloaded, "too many webhooks in flight; retry")
	}
	if r.Method != http.MethodPost {
		rej := reject(http.StatusMethodNotAllowed, ReasonMethod, "only POST is allowed")
		rej.header = map[string]string{"Allow": http.MethodPost}
		return event{}, false, rej
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return event{}, false, reject(http.StatusUnsupportedMediaType, ReasonContentType, "Content-Type must be application/json")
	}
	p, rej := res(r)
	if rej != nil {
		return event{}, false, rej
	}
	// The limit is enforced while reading: an oversized body is never
	// buffered whole.
	body, err := readBody(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return event{}, false, reject(http.StatusRequestEntityTooLarge, ReasonTooLarge, fmt.Sprintf("body is larger than %d bytes", h.cfg.MaxBodyBytes))
		}
		return event{}, false, reject(http.StatusBadRequest, ReasonReadBody, "could not read the body")
	}
	// The signature is checked before the body is parsed: an unsigned
	// request costs one HMAC per secret, never a JSON parse.
	if !signed(r.Header.Get("Authorization"), body, p.signers) {
		return event{}, false, reject(http.StatusUnauthorized, ReasonSignature, "Authorization is not a valid signature of this body")
	}
	ev, rej := p.parse(body)
	if rej != nil {
		return event{}, false, rej
	}
	now := h.cfg.Now()
	if rej := h.fresh(ev.time, now); rej != nil {
		return event{}, false, rej
	}
	if ev.shop != "" {
		if ok, wait := h.limiter.allow(ev.shop, now); !ok {
			rej := reject(http.StatusTooManyRequests, ReasonRateLimited,
				fmt.Sprintf("shop %s is over %d webhooks a minute", ev.shop, h.cfg.ShopRatePerMinute))
			rej.header = map[string]string{"Retry-After": seconds(wait)}
			return event{}, false, rej
		}
	}
	return h.produceOnce(r.Context(), p.dedupe, ev, body, now)
}

// produceOnce produces the event unless the same event was accepted within
// the dedupe window.
func (h *Handler) produceOnce(ctx context.Context, d *dedupe, ev event, body []byte, now time.Time) (event, bool, *rejection) {
	if h.cfg.DedupeWindow == 0 {
		return ev, true, h.deliver(ctx, ev, body)
	}
	c, owner := d.claim(ev.id, now)
	if !owner {
		select {
		case <-c.done:
		case <-ctx.Done():
			return event{}, false, h.unavailable(ReasonUnavailable, "the first delivery of this webhook is still in flight; retry")
		}
		if !c.ok {
			return event{}, false, h.unavailable(ReasonUnavailable, "Kafka did not acknowledge the first delivery of this webhook; retry")
		}
		h.metrics.dedupeHits.Inc()
		return ev, false, nil
	}
	rej := h.deliver(ctx, ev, body)
	d.finish(ev.id, c, rej == nil, h.cfg.Now())
	return ev, true, rej
}

// deliver produces the body and waits at most ProduceTimeout for the
// broker's acknowledgement. The record is not tied to the request's context,
// since a client hanging up must not fail a record that is being written, but
// it is cancelled when the timeout answers 503: a record still in the
// client's buffer (the broker is down) is then never written, as the answer
// promises. One already on the wire may still land; the sender's retry then
// carries the same event id, so the two are one event downstream.
func (h *Handler) deliver(ctx context.Context, ev event, body []byte) *rejection {
	env := schemas.Envelope{ID: ev.id, Type: ev.eventType, SchemaVersion: 1, Source: ev.source, Time: ev.time, IngestTime: time.Now().UTC()}
	rec := &kgo.Record{Topic: ev.topic, Key: []byte(ev.key), Value: body, Headers: env.Headers(), Timestamp: env.IngestTime}
	start := time.Now()
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	w := h.waiter()
	h.produce.TryProduce(rctx, rec, func(_ *kgo.Record, err error) { w.acked <- err })
	var err error
	select {
	case err = <-w.acked:
		w.timer.Stop()
		h.waiters.Put(w) // the promise has sent: nothing can reach it any more
	case <-w.timer.C:
		err = fmt.Errorf("no acknowledgement within %v", h.cfg.ProduceTimeout)
	}
	if err != nil {
		h.log.Warn("webhook not acknowledged by Kafka", "err", err, "topic", ev.topic, "event_id", ev.id)
		return h.unavailable(ReasonUnavailable, "Kafka did not acknowledge the webhook in time; retry")
	}
	h.metrics.produce.Observe(time.Since(start).Seconds())
	return nil
}

// waiter is what a request waits on for its record's acknowledgement. They
// are pooled: a channel and a timer for every request showed in the
// ingest's CPU profile.
type waiter struct {
	acked chan error
	timer *time.Timer
}

// waiter returns a waiter whose timer fires after ProduceTimeout.
func (h *Handler) waiter() *waiter {
	if w, ok := h.waiters.Get().(*waiter); ok {
		w.timer.Reset(h.cfg.ProduceTimeout)
		return w
	}
	return &waiter{acked: make(chan error, 1), timer: time.NewTimer(h.cfg.ProduceTimeout)}
}

// isJSON reports whether a Content-Type is JSON, parameters such as charset
// allowed; the exact common value skips parsing.
func isJSON(ct string) bool {
	if ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// readBody reads at most limit bytes of the body, in one allocation when the
// sender declared the length.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= limit {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	return buf.Bytes(), err
}

// fresh refuses event times outside [now-MaxAge, now+MaxSkew].
func (h *Handler) fresh(t, now time.Time) *rejection {
	switch {
	case h.cfg.MaxAge > 0 && t.Before(now.Add(-h.cfg.MaxAge)):
		return reject(http.StatusBadRequest, ReasonStale, fmt.Sprintf("timestamp %s is older than %v", t.Format(time.RFC3339), h.cfg.MaxAge))
	case h.cfg.MaxSkew > 0 && t.After(now.Add(h.cfg.MaxSkew)):
		return reject(http.StatusBadRequest, ReasonStale, fmt.Sprintf("timestamp %s is more than %v in the future", t.Format(time.RFC3339), h.cfg.MaxSkew))
	}
	return nil
}

func (h *Handler) unavailable(reason, msg string) *rejection {
	rej := reject(http.StatusServiceUnavailable, reason, msg)
	rej.header = map[string]string{"Retry-After": seconds(h.cfg.RetryAfter)}
	return rej
}

func (h *Handler) answer(w http.ResponseWriter, route string, rej *rejection) int {
	h.metrics.rejections.WithLabelValues(route, rej.reason).Inc()
	for k, v := range rej.header {
		w.Header().Set(k, v)
	}
	ops.WriteJSON(w, rej.code, map[string]string{"error": rej.reason, "reason": rej.msg})
	return rej.code
}

// seconds renders a wait as a Retry-After value: whole seconds, at least 1.
func seconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// newTikTokParser parses POST /webhooks/tiktok.
func (h *Handler) newTikTokParser(d *dedupe) parser {
	signers := make([]*signer, len(h.cfg.Apps))
	for i, app := range h.cfg.Apps {
		signers[i] = newSigner(app)
	}
	return parser{signers: signers, dedupe: d, parse: func(body []byte) (event, *rejection) {
		hook, err := schemas.ParseTikTokWebhook(body)
		if err != nil {
			return event{}, reject(http.StatusBadRequest, ReasonEnvelope, err.Error())
		}
		return event{
			topic:     h.cfg.TikTokTopic,
			key:       hook.Key(),
			eventType: tiktokEventType,
			source:    "tiktok-shop/" + hook.ShopID,
			time:      hook.EventTime(),
			id:        schemas.EventID(hook.EventTime(), hook.ShopID, hook.NotificationID),
			shop:      hook.ShopID,
		}, nil
	}}
}

// carrier resolves POST /webhooks/carriers/{carrier}.
func (h *Handler) carrier(r *http.Request) (parser, *rejection) {
	name := strings.TrimPrefix(r.URL.Path, carriersPrefix)
	p, ok := h.carrierParsers[strings.ToLower(name)]
	if !ok {
		return parser{}, reject(http.StatusNotFound, ReasonNotFound, fmt.Sprintf("no carrier %q is configured", name))
	}
	return p, nil
}

// newCarrierParser parses the webhooks of one carrier, which signs with its
// own secret over the body alone: an App with an empty key.
func (h *Handler) newCarrierParser(name, secret string, d *dedupe) parser {
	return parser{signers: []*signer{newSigner(App{Secret: secret})}, dedupe: d, parse: func(body []byte) (event, *rejection) {
		hook, err := schemas.ParseCarrierWebhook(body)
		if err != nil {
			return event{}, reject(http.StatusBadRequest, ReasonEnvelope, err.Error())
		}
		if !strings.EqualFold(hook.Carrier, name) {
			return event{}, reject(http.StatusBadRequest, ReasonCarrierMatches,
				fmt.Sprintf("carrier: body says %q, the URL says %q", hook.Carrier, name))
		}
		at := time.Unix(hook.OccurredAt, 0).UTC()
		return event{
			topic:     h.cfg.CarrierTopic,
			key:       hook.TrackingNumber,
			eventType: carrierEventType,
			source:    "carrier/" + name,
			time:      at,
			id:        schemas.EventID(at, name, hook.TrackingNumber, string(hook.Status)),
		}, nil
	}}
}

var tiktokEventType, carrierEventType = eventType(schemas.TopicTikTokWebhooks), eventType(schemas.TopicCarrierWebhooks)

func eventType(topic string) string {
	t, _ := schemas.Lookup(topic)
	return t.EventType
}

// signed reports whether auth is the hex signature of body by any of the
// signers. Every signer is tried, each compared in constant time.
func signed(auth string, body []byte, signers []*signer) bool {
	var got [sha256.Size]byte
	if len(auth) != 2*sha256.Size {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(auth)); err != nil {
		return false
	}
	ok := false
	for _, s := range signers {
		if s.matches(got[:], body) {
			ok = true
		}
	}
	return ok
}

// Sign returns the raw HMAC-SHA256 signature, keyed with the secret, of the
// key followed by the body: what TikTok puts hex-encoded in the
// Authorization header of a webhook from an app, and what a carrier puts
// there with an empty key.
func Sign(s App, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(s.Secret))
	mac.Write([]byte(s.Key))
	mac.Write(body)
	return mac.Sum(nil)
}

// signer checks one app's signatures with pooled HMAC states: keying a new
// one for every request would cost two SHA-256 blocks and several
// allocations on the hottest path.
type signer struct {
	key  []byte
	pool sync.Pool
}

func newSigner(app App) *signer {
	s := &signer{key: []byte(app.Key)}
	s.pool.New = func() any { return hmac.New(sha256.New, []byte(app.Secret)) }
	return s
}

func (s *signer) matches(sig, body []byte) bool {
	mac := s.pool.Get().(hash.Hash)
	defer s.pool.Put(mac)
	mac.Reset()
	mac.Write(s.key)
	mac.Write(body)
	var sum [sha256.Size]byte
	return hmac.Equal(sig, mac.Sum(sum[:0]))
}
