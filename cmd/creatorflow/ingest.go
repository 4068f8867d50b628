package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/webhook"
	"github.com/creatorflow/creatorflow/pipeline/ops"
	"github.com/creatorflow/creatorflow/schemas"
)

var ingestCommand = command{
	name:    "ingest",
	summary: "serve the webhook endpoints and land webhooks in Kafka",
	run: func(ctx context.Context, e *env, args []string) error {
		return runRoles(ctx, e, args, "ingest", []string{"ingest"})
	},
}

// ingestFlags configures the ingest role.
type ingestFlags struct {
	listen         string
	appKey         string
	appSecret      string
	maxBody        int64
	produceTimeout time.Duration
}

func (f *ingestFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the webhook endpoints")
	fs.StringVar(&f.appKey, "tiktok-app-key", "", "TikTok Shop app key whose webhooks are accepted")
	fs.StringVar(&f.appSecret, "tiktok-app-secret", "", "secret of that app (prefer CREATORFLOW_TIKTOK_APP_SECRET_FILE)")
	fs.Int64Var(&f.maxBody, "max-body-bytes", webhook.DefaultConfig().MaxBodyBytes, "largest webhook body accepted (413 above)")
	fs.DurationVar(&f.produceTimeout, "produce-timeout", webhook.DefaultConfig().ProduceTimeout, "how long a webhook waits for Kafka before 503")
}

// ingestRole starts the webhook server; it returns when ctx is done and the
// in-flight requests are answered.
func ingestRole(f *ingestFlags, kafka *kafkaFlags, reg *prometheus.Registry, health *ops.Handler, log *slog.Logger) (role, error) {
	if err := checkListen("listen", f.listen); err != nil {
		return role{}, err
	}
	if f.appKey == "" || f.appSecret == "" {
		return role{}, usageError{errors.New("ingest needs --tiktok-app-key and --tiktok-app-secret (or CREATORFLOW_TIKTOK_APP_KEY / CREATORFLOW_TIKTOK_APP_SECRET[_FILE])")}
	}
	// franz-go's defaults are the guarantee: acks=all and an idempotent
	// producer. No linger: each request waits for its own record, so
	// batching across requests would only add latency (ARCHITECTURE.md).
	// A record Kafka cannot take within the delivery timeout is failed
	// rather than buffered without bound.
	producer, err := kgo.NewClient(append(kafka.opts(), kgo.ProducerLinger(0), kgo.RecordDeliveryTimeout(30*time.Second))...)
	if err != nil {
		return role{}, err
	}
	cfg := webhook.DefaultConfig()
	cfg.Topic = kafka.topic(schemas.TopicTikTokWebhooks)
	cfg.Apps = []webhook.App{{Key: f.appKey, Secret: f.appSecret}}
	cfg.MaxBodyBytes = f.maxBody
	cfg.ProduceTimeout = f.produceTimeout
	tiktok, err := webhook.NewTikTok(cfg, producer, webhook.NewMetrics(reg), log)
	if err != nil {
		producer.Close()
		return role{}, usageError{err}
	}
	health.AddCheck("kafka-producer", producer.Ping)
	mux := http.NewServeMux()
	mux.Handle("/webhooks/tiktok", tiktok)
	return role{
		name: "ingest",
		run: func(ctx context.Context) error {
			defer producer.Close()
			err := ops.Serve(ctx, f.listen, mux, 10*time.Second, log, func(a net.Addr) {
				log.Info("ingest listening", "addr", a.String(), "endpoint", fmt.Sprintf("http://%s/webhooks/tiktok", a), "topic", cfg.Topic)
			})
			if err != nil {
				return err
			}
			// Requests are answered; anything still buffered is flushed
			// before the client closes.
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return producer.Flush(fctx)
		},
	}, nil
}
