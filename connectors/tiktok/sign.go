package tiktok

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strings"
)

// Sign computes a TikTok Shop request signature: the query parameters
// except sign and access_token, sorted by name, each written as name then
// value, after the request path and before the body (left out for multipart
// bodies), all wrapped in the app secret and hashed with HMAC-SHA256 keyed
// with the app secret, in lowercase hex. The client signs with it and the
// sandbox checks with it, so both sides agree by construction; the fixed
// vectors in the tests pin it to TikTok's documented algorithm.
func Sign(secret, path string, query url.Values, body []byte, multipart bool) string {
	names := make([]string, 0, len(query))
	for name := range query {
		if name != "sign" && name != "access_token" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(secret)
	b.WriteString(path)
	for _, name := range names {
		b.WriteString(name)
		b.WriteString(query.Get(name))
	}
	if !multipart {
		b.Write(body)
	}
	b.WriteString(secret)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(b.String()))
	return hex.EncodeToString(mac.Sum(nil))
}

// ValidSign reports whether sign is the signature of the request, in
// constant time.
func ValidSign(secret, path string, query url.Values, body []byte, multipart bool, sign string) bool {
	want := Sign(secret, path, query, body, multipart)
	return hmac.Equal([]byte(want), []byte(strings.ToLower(sign)))
}
