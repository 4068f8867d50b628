// Package sandbox is a stand-in for the TikTok Shop Open API (version
// 202309): it serves the same paths and JSON shapes as the real API
// (connectors/tiktok's wire types), checks signatures, timestamps and access
// tokens as TikTok does, enforces rate limits, and injects latency, errors,
// throttling and outages on a schedule that is a pure function of a seed.
// Demos, tests and the simulator use it to rehearse a viral spike without a
// TikTok account; the client under test only changes its base URL.
//
// Orders, products and videos either come from the admin API under
// /sandbox/ or, with Config.Synthesize, are made up deterministically from
// the seed and the id asked for. The admin API has no auth and no faults:
// it is the test's or the operator's side of the sandbox.
package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// Config configures a Server. Start from DefaultConfig: New fills zero
// credentials, token lifetimes, MaxSkew and Clock with the defaults, but a
// zero rate or fault probability means "off".
type Config struct {
	// AppKey and AppSecret are the one app whose requests are accepted.
	AppKey, AppSecret string
	// AccessToken and RefreshToken are the seller authorization the
	// sandbox starts with, valid from its start for TokenTTL and
	// RefreshTTL; refreshes replace them.
	AccessToken, RefreshToken string
	TokenTTL, RefreshTTL      time.Duration
	// MaxSkew is how far a request's timestamp may be from the clock.
	MaxSkew time.Duration
	// Seed drives every made-up thing: the fault schedule, synthesized
	// orders, products' stock and videos.
	Seed uint64
	// AppRate and ShopRate are the requests allowed per clock minute for
	// the app and for each shop (shop_cipher); zero is unlimited.
	AppRate, ShopRate int
	// Latency is added to every API request, plus a uniform share of
	// LatencyJitter drawn from the fault schedule.
	Latency, LatencyJitter time.Duration
	// ErrorRate and ThrottleRate are the fractions of API requests
	// answered 500 and 429 regardless of their content.
	ErrorRate, ThrottleRate float64
	// Outages are windows, relative to the server's start, in which every
	// API request is answered 503.
	Outages []Outage
	// Synthesize makes up orders, catalog products and videos that were
	// not registered through the admin API.
	Synthesize bool
	// Clock is the time the sandbox lives in; nil means time.Now. Tests
	// inject one to cross rate-limit minutes, token expiries and outage
	// windows without waiting.
	Clock func() time.Time
	// Registerer receives the metrics; nil keeps none.
	Registerer prometheus.Registerer
	// Logger receives the logs; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the defaults: the development app and tokens, the
// seed's 1000 requests a minute per app, no shop limit, no faults, and
// synthesis on.
func DefaultConfig() Config {
	return Config{
		AppKey:       "creatorflow-dev",
		AppSecret:    "creatorflow-dev-secret",
		AccessToken:  "sandbox-access-0",
		RefreshToken: "sandbox-refresh-0",
		TokenTTL:     4 * time.Hour,
		RefreshTTL:   30 * 24 * time.Hour,
		MaxSkew:      5 * time.Minute,
		Seed:         1,
		AppRate:      1000,
		Synthesize:   true,
	}
}

// withDefaults fills the fields whose zero value cannot work.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	for _, f := range []struct{ v, def *string }{
		{&c.AppKey, &d.AppKey}, {&c.AppSecret, &d.AppSecret},
		{&c.AccessToken, &d.AccessToken}, {&c.RefreshToken, &d.RefreshToken},
	} {
		if *f.v == "" {
			*f.v = *f.def
		}
	}
	for _, f := range []struct{ v, def *time.Duration }{
		{&c.TokenTTL, &d.TokenTTL}, {&c.RefreshTTL, &d.RefreshTTL}, {&c.MaxSkew, &d.MaxSkew},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first setting that makes no sense.
func (c Config) Validate() error {
	switch {
	case c.TokenTTL < 0 || c.RefreshTTL < 0 || c.MaxSkew < 0:
		return errors.New("token lifetimes and the timestamp skew must not be negative")
	case c.AppRate < 0 || c.ShopRate < 0:
		return errors.New("rates must not be negative (zero is unlimited)")
	case c.Latency < 0 || c.LatencyJitter < 0:
		return errors.New("latency and its jitter must not be negative")
	case c.ErrorRate < 0 || c.ErrorRate > 1 || c.ThrottleRate < 0 || c.ThrottleRate > 1:
		return errors.New("error and throttle rates are fractions between 0 and 1")
	case c.ErrorRate+c.ThrottleRate > 1:
		return fmt.Errorf("error rate %g plus throttle rate %g exceed 1", c.ErrorRate, c.ThrottleRate)
	}
	for _, o := range c.Outages {
		if o.Start < 0 || o.End <= o.Start {
			return fmt.Errorf("outage %s: it must start at or after 0 and last more than 0", o)
		}
	}
	return nil
}

// Server is the sandbox: an http.Handler serving the API and the admin
// routes. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	start   time.Time
	metrics *metrics

	// seq numbers the API requests: the n of the fault schedule.
	seq     atomic.Uint64
	tokens  *tokens
	limits  *rateLimits
	catalog []tiktok.Product
	store   store
	reqs    requestLog
}

// New returns a sandbox whose clock starts now (Config.Clock), which is
// the origin of Config.Outages.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	start := cfg.Clock()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		mux:     http.NewServeMux(),
		start:   start,
		metrics: m,
		tokens:  newTokens(cfg, start),
		limits:  &rateLimits{app: cfg.AppRate, shop: cfg.ShopRate},
		catalog: newCatalog(cfg.Seed),
		store:   newStore(),
	}
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Route names, the route label of the metrics and the request log.
const (
	routeTokenRefresh = "token_refresh"
	routeOrders       = "orders"
	routeOrderSearch  = "order_search"
	routeShippingInfo = "shipping_info_update"
	routeProduct      = "product"
	routeInventory    = "inventory_update"
	routeVideos       = "video_query"
)

func (s *Server) routes() {
	api := []struct {
		pattern, method, route string
		signed                 bool
		h                      func(*call) answer
	}{
		{tiktok.PathTokenRefresh, http.MethodGet, routeTokenRefresh, false, s.refreshToken},
		{tiktok.PathOrders, http.MethodGet, routeOrders, true, s.getOrders},
		{tiktok.PathOrderSearch, http.MethodPost, routeOrderSearch, true, s.searchOrders},
		{tiktok.ShippingInfoPath("{id}"), http.MethodPost, routeShippingInfo, true, s.updateShippingInfo},
		{tiktok.ProductPath("{id}"), http.MethodGet, routeProduct, true, s.getProduct},
		{tiktok.InventoryPath("{id}"), http.MethodPost, routeInventory, true, s.updateInventory},
		{tiktok.PathVideoQuery, http.MethodPost, routeVideos, true, s.queryVideos},
	}
	// API patterns carry no method, so that a wrong method is answered with
	// an envelope (405) like every other API answer instead of the mux's
	// plain-text page.
	for _, a := range api {
		s.mux.Handle(a.pattern, s.api(a.method, a.route, a.signed, a.h))
	}
	s.adminRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, "", answer{status: http.StatusNotFound, code: tiktok.CodeNotFound,
			msg: fmt.Sprintf("no API at %s %s", r.Method, r.URL.Path)})
	})
}

// call is one API request that passed the gate: faults, auth, rate limits.
type call struct {
	r    *http.Request
	body []byte
	shop string    // shop_cipher
	now  time.Time // the clock when the request arrived
}

// answer is what a handler answers; it becomes the JSON envelope.
type answer struct {
	status     int
	code       int
	msg        string
	data       any
	retryAfter int // seconds; 0 sends no Retry-After
}

func success(data any) answer {
	return answer{status: http.StatusOK, code: tiktok.CodeOK, msg: "Success", data: data}
}

func failure(status, code int, format string, args ...any) answer {
	return answer{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) answer {
	return failure(http.StatusBadRequest, tiktok.CodeBadRequest, format, args...)
}

// notFound is TikTok's way of saying a resource does not exist: HTTP 200
// and the code in the envelope, as for every business error.
func notFound(format string, args ...any) answer {
	return failure(http.StatusOK, tiktok.CodeNotFound, format, args...)
}

// maxBody bounds an API request's body; the API's bodies are small.
const maxBody = 1 << 20

// api wraps an API route with what every request meets before the handler,
// in order: the fault schedule (outage, latency, injected error or
// throttle), the body, the signature, timestamp and token (signed routes),
// shop_cipher, and the rate limits. Every request is logged and counted.
func (s *Server) api(method, route string, signed bool, h func(*call) answer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		n := s.seq.Add(1)
		c := &call{r: r, shop: r.URL.Query().Get("shop_cipher"), now: s.cfg.Clock()}
		a, ok := s.gate(w, c, n, method, signed)
		if !ok {
			return // the client left during the injected latency
		}
		if a.status == 0 {
			a = h(c)
		}
		requestID := "sandbox-" + strconv.FormatUint(n, 10)
		writeEnvelope(w, requestID, a)
		out := outcome(a)
		s.metrics.observe(route, out, time.Since(began))
		s.reqs.add(Request{Time: c.now, Method: r.Method, Path: r.URL.Path, Route: route, Shop: c.shop,
			Status: a.status, Code: a.code, Outcome: out, RequestID: requestID})
		s.log.Debug("sandbox request", "n", n, "route", route, "shop", c.shop, "status", a.status, "code", a.code, "msg", a.msg)
	})
}

// gate runs the checks before the handler. It returns a zero answer when
// the request may proceed, and ok false when the client went away.
func (s *Server) gate(w http.ResponseWriter, c *call, n uint64, method string, signed bool) (a answer, ok bool) {
	f := s.cfg.faultFor(n)
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.r.Context().Done():
			return answer{}, false
		}
	}
	switch {
	case s.cfg.inOutage(c.now.Sub(s.start)):
		return failure(http.StatusServiceUnavailable, tiktok.CodeInternalError, "outage"), true
	case f.kind == faultError:
		return failure(http.StatusInternalServerError, tiktok.CodeInternalError, "internal error (injected)"), true
	case f.kind == faultThrottle:
		a := failure(http.StatusTooManyRequests, tiktok.CodeRateLimited, "too many requests (injected)")
		a.retryAfter = 1
		return a, true
	case c.r.Method != method:
		return failure(http.StatusMethodNotAllowed, tiktok.CodeBadRequest, "use %s", method), true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, c.r.Body, maxBody))
	if err != nil {
		return badRequest("reading the body: %v", err), true
	}
	c.body = body
	if !signed {
		return answer{}, true
	}
	if a := s.authenticate(c); a.status != 0 {
		return a, true
	}
	if c.shop == "" {
		return badRequest("shop_cipher is required"), true
	}
	if wait := s.limits.take(c.shop, c.now); wait > 0 {
		a := failure(http.StatusTooManyRequests, tiktok.CodeRateLimited, "rate limit of the app or shop exceeded for this minute")
		a.retryAfter = wait
		return a, true
	}
	return answer{}, true
}

// Outcomes, the outcome label of creatorflow_sandbox_requests_total.
const (
	outcomeOK           = "ok"
	outcomeThrottled    = "throttled"
	outcomeError        = "error"
	outcomeOutage       = "outage"
	outcomeUnauthorized = "unauthorized"
	outcomeBadRequest   = "bad_request"
)

// outcome classifies an answer by its envelope code; a not-found counts as
// a bad request, since the caller asked for something that is not there.
func outcome(a answer) string {
	switch a.code {
	case tiktok.CodeOK:
		return outcomeOK
	case tiktok.CodeRateLimited:
		return outcomeThrottled
	case tiktok.CodeInternalError:
		if a.status == http.StatusServiceUnavailable {
			return outcomeOutage
		}
		return outcomeError
	case tiktok.CodeSignInvalid, tiktok.CodeTokenInvalid, tiktok.CodeTokenExpired:
		return outcomeUnauthorized
	}
	return outcomeBadRequest
}

// writeEnvelope answers a as TikTok's JSON envelope.
func writeEnvelope(w http.ResponseWriter, requestID string, a answer) {
	env := tiktok.Envelope{Code: a.code, Message: a.msg, RequestID: requestID}
	if a.data != nil {
		data, err := json.Marshal(a.data)
		if err != nil {
			// Only the sandbox's own types are encoded: this is a bug.
			env.Code, env.Message = tiktok.CodeInternalError, "encoding the answer: "+err.Error()
			a.status = http.StatusInternalServerError
		}
		env.Data = data
	}
	w.Header().Set("Content-Type", "application/json")
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(a.retryAfter))
	}
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(env)
}
