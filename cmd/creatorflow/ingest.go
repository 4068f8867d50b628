package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/webhook"
	"github.com/creatorflow/creatorflow/pipeline/config"
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
	listen   string
	moreApps config.Pairs
	carriers config.Pairs
	cfg      webhook.Config
}

func (f *ingestFlags) register(fs *flag.FlagSet) {
	f.cfg = webhook.DefaultConfig()
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the webhook endpoints")
	fs.Var(&f.moreApps, "tiktok-extra-apps", "more accepted apps as key=secret,... (several apps, or a secret being rotated)")
	fs.Var(&f.carriers, "carrier-secrets", "carriers accepted at /webhooks/carriers/{carrier}, as carrier=secret,...")
	fs.Int64Var(&f.cfg.MaxBodyBytes, "max-body-bytes", f.cfg.MaxBodyBytes, "largest webhook body accepted (413 above)")
	fs.DurationVar(&f.cfg.ProduceTimeout, "produce-timeout", f.cfg.ProduceTimeout, "how long a webhook waits for Kafka before 503")
	fs.IntVar(&f.cfg.ShopRatePerMinute, "shop-rate-per-minute", f.cfg.ShopRatePerMinute, "TikTok webhooks accepted per shop per minute (429 above)")
	fs.IntVar(&f.cfg.ShopBurst, "shop-burst", f.cfg.ShopBurst, "TikTok webhooks a shop may send at once after a quiet spell")
	fs.IntVar(&f.cfg.MaxInFlight, "max-in-flight", f.cfg.MaxInFlight, "webhooks handled at once; more are shed with 503")
	fs.DurationVar(&f.cfg.DedupeWindow, "dedupe-window", f.cfg.DedupeWindow, "how long a repeated delivery is answered without producing it again (0 disables)")
	fs.IntVar(&f.cfg.DedupeEntries, "dedupe-entries", f.cfg.DedupeEntries, "most webhooks remembered for deduplication")
	fs.DurationVar(&f.cfg.MaxAge, "max-webhook-age", f.cfg.MaxAge, "oldest webhook timestamp accepted (0 disables)")
	fs.DurationVar(&f.cfg.MaxSkew, "max-webhook-skew", f.cfg.MaxSkew, "furthest a webhook timestamp may be in the future (0 disables)")
}

// apps returns the configured TikTok apps, the main pair first.
func (f *ingestFlags) apps(app *tiktokAppFlags) ([]webhook.App, error) {
	if app.key == "" || app.secret == "" {
		return nil, usageError{errors.New("ingest needs --tiktok-app-key and --tiktok-app-secret (or CREATORFLOW_TIKTOK_APP_KEY / CREATORFLOW_TIKTOK_APP_SECRET[_FILE])")}
	}
	apps := []webhook.App{{Key: app.key, Secret: app.secret}}
	keys := make([]string, 0, len(f.moreApps))
	for k := range f.moreApps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		apps = append(apps, webhook.App{Key: k, Secret: f.moreApps[k]})
	}
	return apps, nil
}

// ingestRole starts the webhook server; it returns when ctx is done, the
// in-flight requests are answered and the producer is flushed.
func ingestRole(f *ingestFlags, app *tiktokAppFlags, kafka *kafkaFlags, reg *prometheus.Registry, health *ops.Handler, log *slog.Logger) (role, error) {
	if err := checkListen("listen", f.listen); err != nil {
		return role{}, err
	}
	cfg := f.cfg
	apps, err := f.apps(app)
	if err != nil {
		return role{}, err
	}
	cfg.Apps = apps
	cfg.CarrierSecrets = f.carriers
	cfg.TikTokTopic = kafka.topic(schemas.TopicTikTokWebhooks)
	cfg.CarrierTopic = kafka.topic(schemas.TopicCarrierWebhooks)
	// franz-go's defaults are the guarantee: acks=all and an idempotent
	// producer. No linger: each request waits for its own record, so
	// batching across requests would only add latency (ARCHITECTURE.md).
	// The buffer holds what max-in-flight lets in; a record Kafka cannot
	// take within the delivery timeout is failed rather than kept.
	producer, err := kgo.NewClient(append(kafka.opts(),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(cfg.MaxInFlight),
		kgo.RecordDeliveryTimeout(30*time.Second),
	)...)
	if err != nil {
		return role{}, err
	}
	h, err := webhook.New(cfg, producer, webhook.NewMetrics(reg), log)
	if err != nil {
		producer.Close()
		return role{}, usageError{err}
	}
	health.AddCheck("kafka-producer", producer.Ping)
	return role{
		name: "ingest",
		run: func(ctx context.Context) error {
			defer producer.Close()
			err := ops.Serve(ctx, f.listen, h, 10*time.Second, log, func(a net.Addr) {
				log.Info("ingest listening", "addr", a.String(), "tiktok", fmt.Sprintf("http://%s%s", a, webhook.RouteTikTok),
					"carriers", f.carriers.String(), "topic", cfg.TikTokTopic)
			})
			if err != nil {
				return err
			}
			// Every request is answered; records of requests that timed
			// out may still be buffered: give them their chance.
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return producer.Flush(fctx)
		},
	}, nil
}
