package tiktok

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config sets up a Client. Zero fields take the defaults noted, which are
// the seed's figures where it gives them.
type Config struct {
	// BaseURL is the API's address, e.g. https://open-api.tiktokglobalshop.com
	// or the sandbox's http://127.0.0.1:8090.
	BaseURL string
	// AuthURL is the address of the token service (default BaseURL).
	AuthURL string
	// AppKey and AppSecret identify the app and sign its requests.
	AppKey, AppSecret string
	// AccessToken and RefreshToken are the seller's authorization;
	// AccessTokenExpiry, if known, lets the client refresh before it.
	AccessToken, RefreshToken string
	AccessTokenExpiry         time.Time
	// RefreshBefore is how long before expiry the token is refreshed (10 min).
	RefreshBefore time.Duration
	// AppRate and ShopRate are requests per minute for the whole app (1000,
	// the seed's rate-limit compliance figure) and for each shop (0: only
	// the app's limit).
	AppRate, ShopRate int
	// Attempts is how many times a request is tried (4).
	Attempts int
	// BackoffBase and BackoffMax bound the exponential back-off between
	// attempts (200 ms, 10 s); each wait is drawn uniformly below the
	// bound (full jitter), so retrying clients spread out.
	BackoffBase, BackoffMax time.Duration
	// Timeout bounds one attempt (10 s).
	Timeout time.Duration
	// Breaker sets the circuit breaker (5 failures, 60 s, 3 trial calls).
	Breaker BreakerConfig
	// ProductTTL is how long product details are cached (5 min).
	ProductTTL time.Duration
	// HTTP is the HTTP client (a default one if nil).
	HTTP *http.Client
	// Metrics receives the client's measurements; nil keeps none.
	Metrics *Metrics
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger

	// Now, Sleep and Jitter are the clock, the wait and the randomness,
	// injected by tests.
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func() float64 // uniform in [0, 1)
}

// Client calls the TikTok Shop API for one app and seller authorization.
// It is safe for concurrent use.
type Client struct {
	cfg     Config
	breaker *Breaker
	app     *limiter
	shops   limiters
	tokens  tokens
	cache   productCache
}

// APIError is an answer that is not a success.
type APIError struct {
	Status    int // HTTP status
	Code      int // envelope code
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("tiktok: HTTP %d, code %d: %s (request %s)", e.Status, e.Code, e.Message, e.RequestID)
}

// New returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" || cfg.AppKey == "" || cfg.AppSecret == "" {
		return nil, errors.New("tiktok: a base URL, an app key and an app secret are required")
	}
	if _, err := url.Parse(cfg.BaseURL); err != nil {
		return nil, fmt.Errorf("tiktok: base URL: %w", err)
	}
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.AuthURL == "" {
		cfg.AuthURL = cfg.BaseURL
	}
	cfg.AuthURL = strings.TrimSuffix(cfg.AuthURL, "/")
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&cfg.RefreshBefore, 10 * time.Minute}, {&cfg.BackoffBase, 200 * time.Millisecond},
		{&cfg.BackoffMax, 10 * time.Second}, {&cfg.Timeout, 10 * time.Second}, {&cfg.ProductTTL, 5 * time.Minute},
	}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	if cfg.AppRate <= 0 {
		cfg.AppRate = 1000
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	m := cfg.Metrics
	c := &Client{cfg: cfg}
	c.breaker = NewBreaker(cfg.Breaker, cfg.Now, func(s BreakerState) {
		cfg.Logger.Warn("tiktok circuit breaker", "state", s.String())
		m.breakerState(s)
	})
	// A burst of a tenth of a minute's allowance: enough for a batch of
	// reads at once, small enough that no minute can exceed the rate by
	// much more than that.
	c.app = newLimiter(cfg.AppRate, max(cfg.AppRate/10, 1), cfg.Now)
	c.shops = limiters{byKey: map[string]*limiter{}, make: func() *limiter {
		return newLimiter(cfg.ShopRate, max(cfg.ShopRate/10, 1), cfg.Now)
	}}
	c.tokens = tokens{access: cfg.AccessToken, refresh: cfg.RefreshToken, expiry: cfg.AccessTokenExpiry}
	c.cache = productCache{entries: map[string]cachedProduct{}}
	return c, nil
}

// Breaker is the client's circuit breaker, for health reporting.
func (c *Client) Breaker() *Breaker { return c.breaker }

// Orders returns the details of the orders with the given ids (in requests
// of at most MaxBatch ids). Orders the API does not know are missing from
// the result, not an error.
func (c *Client) Orders(ctx context.Context, shop string, ids []string) ([]Order, error) {
	var out []Order
	for batch := range slices.Chunk(dedupe(ids), MaxBatch) {
		var data OrdersData
		q := url.Values{"ids": {strings.Join(batch, ",")}}
		if err := c.call(ctx, "orders", http.MethodGet, PathOrders, shop, q, nil, &data); err != nil {
			return out, err
		}
		out = append(out, data.Orders...)
	}
	return out, nil
}

// SearchOrders returns every order matching the search, page by page.
func (c *Client) SearchOrders(ctx context.Context, shop string, search OrderSearch) ([]Order, error) {
	var out []Order
	token := ""
	for {
		q := url.Values{"page_size": {strconv.Itoa(MaxBatch)}}
		if token != "" {
			q.Set("page_token", token)
		}
		var data OrdersData
		if err := c.call(ctx, "order_search", http.MethodPost, PathOrderSearch, shop, q, search, &data); err != nil {
			return out, err
		}
		out = append(out, data.Orders...)
		if data.NextPageToken == "" || len(data.Orders) == 0 {
			return out, nil
		}
		token = data.NextPageToken
	}
}

// Videos returns the engagement counters of the content items with the
// given ids, in requests of at most MaxBatch ids.
func (c *Client) Videos(ctx context.Context, shop string, ids []string) ([]Video, error) {
	var out []Video
	for batch := range slices.Chunk(dedupe(ids), MaxBatch) {
		var data VideosData
		if err := c.call(ctx, "videos", http.MethodPost, PathVideoQuery, shop, nil, VideoQuery{VideoIDs: batch}, &data); err != nil {
			return out, err
		}
		out = append(out, data.Videos...)
	}
	return out, nil
}

// Product returns a product's details, from a cache of ProductTTL: product
// data changes rarely and is read for every order line.
func (c *Client) Product(ctx context.Context, shop, id string) (Product, error) {
	key := shop + "/" + id
	if p, ok := c.cache.get(key, c.cfg.Now(), c.cfg.ProductTTL); ok {
		c.cfg.Metrics.cacheResult(true)
		return p, nil
	}
	c.cfg.Metrics.cacheResult(false)
	var p Product
	if err := c.call(ctx, "product", http.MethodGet, ProductPath(id), shop, nil, nil, &p); err != nil {
		return Product{}, err
	}
	c.cache.put(key, p, c.cfg.Now(), c.cfg.ProductTTL)
	return p, nil
}

// UpdateInventory sets the listed stock of a product's SKUs. The cached
// product is dropped, since its stock changed.
func (c *Client) UpdateInventory(ctx context.Context, shop, productID string, update InventoryUpdate) error {
	c.cache.drop(shop + "/" + productID)
	return c.call(ctx, "inventory_update", http.MethodPost, InventoryPath(productID), shop, nil, update, nil)
}

// UpdateShippingInfo gives TikTok an order's tracking number and carrier.
func (c *Client) UpdateShippingInfo(ctx context.Context, shop, orderID string, info ShippingInfo) error {
	return c.call(ctx, "shipping_info_update", http.MethodPost, ShippingInfoPath(orderID), shop, nil, info, nil)
}

// call makes a request with retries: up to Attempts tries with jittered
// exponential back-off for failures that may pass (network errors,
// timeouts, 5xx, throttling); one token refresh on an auth error.
func (c *Client) call(ctx context.Context, route, method, path, shop string, query url.Values, body, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("tiktok: %s: encode body: %w", route, err)
		}
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		start := c.cfg.Now()
		res := c.attempt(ctx, route, method, path, shop, query, raw, out)
		c.cfg.Metrics.request(route, res.outcome, c.cfg.Now().Sub(start))
		switch {
		case res.err == nil:
			return nil
		case res.auth && !refreshed:
			refreshed = true
			if err := c.refresh(ctx, res.token); err != nil {
				return fmt.Errorf("tiktok: %s: %w", route, errors.Join(res.err, err))
			}
			attempt-- // the refresh's retry is not one of the attempts
			continue
		case !res.retry || attempt >= c.cfg.Attempts || ctx.Err() != nil:
			return fmt.Errorf("tiktok: %s (attempt %d of %d): %w", route, attempt, c.cfg.Attempts, res.err)
		}
		c.cfg.Metrics.retry(route)
		wait := c.backoff(attempt)
		if res.retryAfter > wait {
			wait = res.retryAfter
		}
		c.cfg.Logger.Debug("tiktok retry", "route", route, "attempt", attempt, "wait", wait, "err", res.err)
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("tiktok: %s: %w", route, errors.Join(res.err, err))
		}
	}
}

// backoff is the wait after the n-th failed attempt: uniform in
// [0, min(BackoffMax, BackoffBase * 2^(n-1))).
func (c *Client) backoff(n int) time.Duration {
	bound := c.cfg.BackoffBase << (n - 1)
	if bound > c.cfg.BackoffMax || bound <= 0 {
		bound = c.cfg.BackoffMax
	}
	return time.Duration(c.cfg.Jitter() * float64(bound))
}

// result is how one attempt went.
type result struct {
	err        error
	outcome    string // for the metrics and the breaker
	retry      bool   // worth another attempt
	retryAfter time.Duration
	auth       bool   // the token was refused
	token      string // the token the attempt used
}

func (c *Client) attempt(ctx context.Context, route, method, path, shop string, query url.Values, body []byte, out any) result {
	// The shop's limit first, then the app's at the moment the call can go:
	// a call held back by its shop must not hold an app token meanwhile.
	if c.cfg.ShopRate > 0 {
		if err := c.cfg.Sleep(ctx, c.shops.get(shop).reserve()); err != nil {
			return result{err: err, outcome: "cancelled"}
		}
	}
	if err := c.cfg.Sleep(ctx, c.app.reserve()); err != nil {
		return result{err: err, outcome: "cancelled"}
	}
	gen, err := c.breaker.Allow()
	if err != nil {
		return result{err: err, outcome: "circuit_open"}
	}
	res := c.send(ctx, method, path, shop, query, body, out)
	switch res.outcome {
	case "cancelled", "token":
		c.breaker.Release(gen) // no answer from the API: says nothing of its health
	default:
		// Only a failure of the service counts against it: a refusal of
		// the request (bad input, throttling, auth) says it is up.
		c.breaker.Done(gen, res.outcome != "error")
	}
	return res
}

func (c *Client) send(ctx context.Context, method, path, shop string, query url.Values, body []byte, out any) result {
	token, err := c.freshToken(ctx)
	if err != nil {
		return result{err: err, outcome: "token"}
	}
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("app_key", c.cfg.AppKey)
	q.Set("timestamp", strconv.FormatInt(c.cfg.Now().Unix(), 10))
	q.Set("shop_cipher", shop)
	q.Set("sign", Sign(c.cfg.AppSecret, path, q, body, false))
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, method, c.cfg.BaseURL+path+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return result{err: err, outcome: "bad_request"}
	}
	req.Header.Set("x-tts-access-token", token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	env, status, header, err := c.do(req)
	if err != nil {
		if ctx.Err() != nil {
			return result{err: err, outcome: "cancelled", token: token}
		}
		return result{err: err, outcome: "error", retry: true, token: token}
	}
	apiErr := &APIError{Status: status, Code: env.Code, Message: env.Message, RequestID: env.RequestID}
	switch {
	case status == http.StatusTooManyRequests || env.Code == CodeRateLimited:
		// Everyone waits, not just this call: the limit is the app's or the shop's.
		pause := retryAfter(header, c.cfg.Now())
		if pause == 0 {
			pause = c.cfg.BackoffBase
		}
		c.app.pause(pause)
		if c.cfg.ShopRate > 0 {
			c.shops.get(shop).pause(pause)
		}
		return result{err: apiErr, outcome: "throttled", retry: true, retryAfter: pause, token: token}
	case env.Code == CodeTokenExpired || env.Code == CodeTokenInvalid:
		return result{err: apiErr, outcome: "auth", auth: true, token: token}
	case status >= 500 || env.Code == CodeInternalError:
		return result{err: apiErr, outcome: "error", retry: true, token: token}
	case status != http.StatusOK || env.Code != CodeOK:
		return result{err: apiErr, outcome: "rejected", token: token}
	}
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return result{err: fmt.Errorf("decode data of request %s: %w", env.RequestID, err), outcome: "rejected", token: token}
		}
	}
	return result{outcome: "ok", token: token}
}

// do sends a request and reads the envelope of its answer.
func (c *Client) do(req *http.Request) (Envelope, int, http.Header, error) {
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return Envelope{}, 0, nil, err
	}
	defer resp.Body.Close()
	// Answers are small; the bound keeps a broken server from filling memory.
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return Envelope{}, 0, nil, fmt.Errorf("read answer: %w", err)
	}
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		if resp.StatusCode >= 500 {
			// A proxy's error page: a failure of the service, retried.
			return Envelope{}, 0, nil, fmt.Errorf("HTTP %d without an envelope", resp.StatusCode)
		}
		env = Envelope{Code: -1, Message: fmt.Sprintf("answer is not an envelope: %v", err)}
	}
	return env, resp.StatusCode, resp.Header, nil
}

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// tokens is the seller's current authorization.
type tokens struct {
	mu      sync.Mutex
	access  string
	refresh string
	expiry  time.Time // zero: unknown
}

// freshToken returns the access token, refreshed first if it expires
// within RefreshBefore.
func (c *Client) freshToken(ctx context.Context) (string, error) {
	c.tokens.mu.Lock()
	access, expiry := c.tokens.access, c.tokens.expiry
	c.tokens.mu.Unlock()
	if now := c.cfg.Now(); !expiry.IsZero() && now.Add(c.cfg.RefreshBefore).After(expiry) {
		if err := c.refresh(ctx, access); err != nil {
			if now.Before(expiry) {
				// Early: the token still works, and the next call tries again.
				c.cfg.Logger.Warn("tiktok token refresh failed before expiry; using the current token", "expires", expiry, "err", err)
				return access, nil
			}
			return "", err
		}
		c.tokens.mu.Lock()
		access = c.tokens.access
		c.tokens.mu.Unlock()
	}
	return access, nil
}

// refresh exchanges the refresh token for a new access token, unless the
// token stale has been replaced meanwhile (by a concurrent call).
func (c *Client) refresh(ctx context.Context, stale string) error {
	c.tokens.mu.Lock()
	defer c.tokens.mu.Unlock()
	if c.tokens.access != stale {
		return nil
	}
	if c.tokens.refresh == "" {
		return errors.New("tiktok: the access token is refused and there is no refresh token")
	}
	q := url.Values{"app_key": {c.cfg.AppKey}, "app_secret": {c.cfg.AppSecret},
		"refresh_token": {c.tokens.refresh}, "grant_type": {"refresh_token"}}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, c.cfg.AuthURL+PathTokenRefresh+"?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("tiktok: token refresh: %w", err)
	}
	env, status, _, err := c.do(req)
	if err == nil && (status != http.StatusOK || env.Code != CodeOK) {
		err = &APIError{Status: status, Code: env.Code, Message: env.Message, RequestID: env.RequestID}
	}
	var t Token
	if err == nil {
		err = json.Unmarshal(env.Data, &t)
	}
	if err == nil && t.AccessToken == "" {
		err = errors.New("no access token in the answer")
	}
	c.cfg.Metrics.tokenRefresh(err == nil)
	if err != nil {
		return fmt.Errorf("tiktok: token refresh: %w", err)
	}
	c.tokens.access = t.AccessToken
	if t.RefreshToken != "" {
		c.tokens.refresh = t.RefreshToken
	}
	c.tokens.expiry = time.Time{}
	if t.AccessTokenExpireIn > 0 {
		c.tokens.expiry = time.Unix(t.AccessTokenExpireIn, 0)
	}
	c.cfg.Logger.Info("tiktok access token refreshed", "expires", c.tokens.expiry)
	return nil
}

// productCache keeps product details for a TTL.
type productCache struct {
	mu      sync.Mutex
	entries map[string]cachedProduct
}

type cachedProduct struct {
	p       Product
	fetched time.Time
}

// maxCachedProducts bounds the cache: a shop's catalog fits, a runaway
// stream of ids does not.
const maxCachedProducts = 50_000

func (pc *productCache) get(key string, now time.Time, ttl time.Duration) (Product, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.entries[key]
	if !ok || now.Sub(e.fetched) >= ttl {
		return Product{}, false
	}
	return e.p, true
}

func (pc *productCache) put(key string, p Product, now time.Time, ttl time.Duration) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if len(pc.entries) >= maxCachedProducts {
		for k, e := range pc.entries {
			if now.Sub(e.fetched) >= ttl {
				delete(pc.entries, k)
			}
		}
		if len(pc.entries) >= maxCachedProducts {
			clear(pc.entries)
		}
	}
	pc.entries[key] = cachedProduct{p: p, fetched: now}
}

func (pc *productCache) drop(key string) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	delete(pc.entries, key)
}

// Refused reports whether err is the API refusing the request itself (bad
// input, an unknown resource): sending it again cannot help. Outages,
// throttling and authorization failures are not refusals: they pass, or
// need an operator, and the request is worth making again then.
func Refused(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.Code {
	case CodeRateLimited, CodeInternalError, CodeTokenExpired, CodeTokenInvalid, CodeSignInvalid:
		return false
	}
	return apiErr.Status < 500 && apiErr.Status != http.StatusTooManyRequests
}
