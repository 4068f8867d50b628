package loadgen

import (
	"crypto/hmac"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/webhook"
)

// Baseline is the least a webhook endpoint can do: verify the HMAC and
// produce the body synchronously. The ingest's throughput is reported as a
// ratio to it, measured in the same run against the same broker, so the
// ratio says what the ingest's safeguards cost.
func Baseline(app webhook.App, client *kgo.Client, topic string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		sig, err := hex.DecodeString(r.Header.Get("Authorization"))
		if err != nil || !hmac.Equal(sig, webhook.Sign(app, body)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if err := client.ProduceSync(r.Context(), &kgo.Record{Topic: topic, Value: body}).FirstErr(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
