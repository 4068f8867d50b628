package sandbox

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// tokens is the one seller authorization of the app: the access tokens
// issued so far with their expiry, and the current refresh token. Tokens
// are the app's, not a shop's: the shop of a request is its shop_cipher.
type tokens struct {
	ttl, refreshTTL time.Duration

	mu            sync.Mutex
	access        map[string]time.Time // token → expiry
	refresh       string               // the one valid refresh token
	refreshExpiry time.Time
	issued        int // refreshes so far, which numbers the tokens
}

func newTokens(cfg Config, start time.Time) *tokens {
	return &tokens{
		ttl:           cfg.TokenTTL,
		refreshTTL:    cfg.RefreshTTL,
		access:        map[string]time.Time{cfg.AccessToken: start.Add(cfg.TokenTTL)},
		refresh:       cfg.RefreshToken,
		refreshExpiry: start.Add(cfg.RefreshTTL),
	}
}

// check answers whether an access token may be used at now; a zero answer
// means it may.
func (t *tokens) check(token string, now time.Time) answer {
	t.mu.Lock()
	defer t.mu.Unlock()
	expiry, ok := t.access[token]
	switch {
	case token == "":
		return failure(http.StatusUnauthorized, tiktok.CodeTokenInvalid, "x-tts-access-token header is missing")
	case !ok:
		return failure(http.StatusUnauthorized, tiktok.CodeTokenInvalid, "access token is invalid")
	case !now.Before(expiry):
		return failure(http.StatusUnauthorized, tiktok.CodeTokenExpired, "access token expired at %s", expiry.UTC().Format(time.RFC3339))
	}
	return answer{}
}

// exchange swaps the refresh token for a new pair. Older access tokens
// stay valid until their own expiry; the used refresh token does not.
func (t *tokens) exchange(refresh string, now time.Time) (tiktok.Token, answer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case refresh == "" || subtle.ConstantTimeCompare([]byte(refresh), []byte(t.refresh)) != 1:
		return tiktok.Token{}, failure(http.StatusUnauthorized, tiktok.CodeTokenInvalid, "refresh token is invalid or already used")
	case !now.Before(t.refreshExpiry):
		return tiktok.Token{}, failure(http.StatusUnauthorized, tiktok.CodeTokenExpired, "refresh token expired")
	}
	// Tokens long expired are forgotten, so a client refreshing in a loop
	// cannot grow the map without bound; recently expired ones still
	// answer "expired", which is what a client that slept should see.
	for token, expiry := range t.access {
		if now.Sub(expiry) > t.ttl {
			delete(t.access, token)
		}
	}
	t.issued++
	n := strconv.Itoa(t.issued)
	access := "sandbox-access-" + n
	t.access[access] = now.Add(t.ttl)
	t.refresh, t.refreshExpiry = "sandbox-refresh-"+n, now.Add(t.refreshTTL)
	return tiktok.Token{
		AccessToken:          access,
		AccessTokenExpireIn:  now.Add(t.ttl).Unix(),
		RefreshToken:         t.refresh,
		RefreshTokenExpireIn: t.refreshExpiry.Unix(),
		OpenID:               "sandbox-open-id",
		SellerName:           "CreatorFlow Sandbox Seller",
	}, answer{}
}

// expire makes every access token issued so far expire at now, so the
// next API call with any of them gets CodeTokenExpired and the client has
// to refresh. It returns how many tokens were still valid.
func (t *tokens) expire(now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for token, expiry := range t.access {
		if now.Before(expiry) {
			t.access[token] = now
			n++
		}
	}
	return n
}

// authenticate checks a signed request as TikTok does: the app key, the
// signature over path, query and body, the timestamp against the clock,
// then the access token. A zero answer means the request is authentic.
func (s *Server) authenticate(c *call) answer {
	q := c.r.URL.Query()
	unauthorized := func(code int, format string, args ...any) answer {
		return failure(http.StatusUnauthorized, code, format, args...)
	}
	if q.Get("app_key") != s.cfg.AppKey {
		return unauthorized(tiktok.CodeSignInvalid, "app_key is missing or unknown")
	}
	sign := q.Get("sign")
	if sign == "" {
		return unauthorized(tiktok.CodeSignInvalid, "sign is missing")
	}
	// A multipart body (an image upload) is left out of the signature.
	mediaType, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if !tiktok.ValidSign(s.cfg.AppSecret, c.r.URL.Path, q, c.body, mediaType == "multipart/form-data", sign) {
		return unauthorized(tiktok.CodeSignInvalid, "signature does not match the request")
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		return unauthorized(tiktok.CodeSignInvalid, "timestamp is missing or not Unix seconds")
	}
	if skew := c.now.Sub(time.Unix(ts, 0)); skew > s.cfg.MaxSkew || skew < -s.cfg.MaxSkew {
		return unauthorized(tiktok.CodeSignInvalid, "timestamp %d is out of range: %s from the server's clock, more than the %s allowed",
			ts, skew.Abs().Round(time.Second), s.cfg.MaxSkew)
	}
	return s.tokens.check(c.r.Header.Get("x-tts-access-token"), c.now)
}

// refreshToken serves GET PathTokenRefresh: not signed, the app secret in
// the query, as TikTok's token service takes it.
func (s *Server) refreshToken(c *call) answer {
	q := c.r.URL.Query()
	if q.Get("app_key") != s.cfg.AppKey || subtle.ConstantTimeCompare([]byte(q.Get("app_secret")), []byte(s.cfg.AppSecret)) != 1 {
		return failure(http.StatusUnauthorized, tiktok.CodeSignInvalid, "app_key or app_secret is wrong")
	}
	if q.Get("grant_type") != "refresh_token" {
		return badRequest("grant_type must be refresh_token")
	}
	tok, a := s.tokens.exchange(q.Get("refresh_token"), c.now)
	if a.status != 0 {
		return a
	}
	s.log.Info("sandbox token refreshed", "access_token_expires", time.Unix(tok.AccessTokenExpireIn, 0).UTC())
	return success(tok)
}

// ExpireTokens makes every access token issued so far expire now (the
// admin route POST /sandbox/token/expire), to exercise a client's refresh
// on an auth error. It returns how many were still valid.
func (s *Server) ExpireTokens() int {
	n := s.tokens.expire(s.cfg.Clock())
	s.log.Info("sandbox access tokens expired", "tokens", n)
	return n
}
