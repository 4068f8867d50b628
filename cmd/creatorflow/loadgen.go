package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/loadgen"
	"github.com/creatorflow/creatorflow/connectors/webhook"
	"github.com/creatorflow/creatorflow/pipeline/ops"
	"github.com/creatorflow/creatorflow/schemas"
)

var loadgenCommand = command{
	name:    "loadgen",
	summary: "load-test the webhook ingest (loadgen webhooks) or serve its baseline (loadgen baseline)",
	run:     runLoadgen,
}

const loadgenUsage = `usage: creatorflow loadgen webhooks [flags]
       creatorflow loadgen baseline [flags]

webhooks sends realistic signed TikTok webhooks to an ingest, closed-loop (as
fast as --connections allow) or open-loop (--rate per second, latency counted
from when each request was due), and prints requests/s and latency p50, p99,
p99.9. With --verify it then reads the topic and checks that every webhook
answered 200 is there.

baseline serves the comparison point of the ingest benchmark: a minimal
handler that only verifies the HMAC and produces synchronously.

make bench-ingest runs both and writes the comparison.`

func runLoadgen(ctx context.Context, e *env, args []string) error {
	if err := subcommand(e, args, loadgenUsage, "webhooks", "baseline"); err != nil {
		return err
	}
	var (
		kafka  kafkaFlags
		logs   logFlags
		appKey string
		secret string
	)
	fs := flag.NewFlagSet("loadgen "+args[0], flag.ContinueOnError)
	kafka.register(fs)
	logs.register(fs)
	fs.StringVar(&appKey, "tiktok-app-key", "", "app key the webhooks are signed for")
	fs.StringVar(&secret, "tiktok-app-secret", "", "secret they are signed with")
	if args[0] == "baseline" {
		var listen string
		fs.StringVar(&listen, "listen", "127.0.0.1:8181", "address of the baseline endpoint")
		if err := parse(fs, loadgenUsage, e, args[1:]); err != nil {
			return err
		}
		return serveBaseline(ctx, e, &kafka, &logs, webhook.App{Key: appKey, Secret: secret}, listen)
	}

	cfg := loadgen.Config{Seed: 1}
	var (
		format string
		verify bool
	)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080"+webhook.RouteTikTok, "TikTok webhook endpoint")
	fs.IntVar(&cfg.Shops, "shops", 20000, "shops the webhooks are spread over")
	fs.IntVar(&cfg.Orders, "orders", 1000000, "orders the webhooks are spread over")
	fs.IntVar(&cfg.Connections, "connections", 64, "concurrent connections (most requests in flight when open-loop)")
	fs.DurationVar(&cfg.Duration, "duration", 20*time.Second, "how long to send")
	fs.Float64Var(&cfg.Rate, "rate", 0, "requests per second (open loop); 0 sends as fast as possible (closed loop)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the webhook sequence")
	fs.StringVar(&format, "format", "text", "output: text or json")
	fs.BoolVar(&verify, "verify", false, "afterwards, check that every accepted webhook is in the topic (needs --brokers)")
	if err := parse(fs, loadgenUsage, e, args[1:]); err != nil {
		return err
	}
	if format != "text" && format != "json" {
		return usageError{fmt.Errorf("--format must be text or json, not %q", format)}
	}
	cfg.App = webhook.App{Key: appKey, Secret: secret}
	cfg.KeepAccepted = verify
	topic := kafka.topic(schemas.TopicTikTokWebhooks)
	var from map[int32]int64
	if verify {
		cl, err := kgo.NewClient(kafka.opts()...)
		if err != nil {
			return err
		}
		from, err = loadgen.EndOffsets(ctx, cl, topic)
		cl.Close()
		if err != nil {
			return err
		}
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	var check *verification
	if verify {
		vctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		missing, read, err := loadgen.Verify(vctx, kafka.brokers, topic, from, res.Accepted)
		if err != nil {
			return err
		}
		check = &verification{Topic: topic, Accepted: len(res.Accepted), RecordsRead: read, Missing: len(missing)}
	}
	if format == "json" {
		if err := json.NewEncoder(e.stdout).Encode(map[string]any{"result": res, "verified": check}); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(e.stdout, res)
		if check != nil {
			fmt.Fprintf(e.stdout, "verified: %d accepted webhooks, %d records read from %s, %d missing\n", check.Accepted, check.RecordsRead, topic, check.Missing)
		}
	}
	if check != nil && check.Missing > 0 {
		return fmt.Errorf("%d webhooks answered 200 are not in %s", check.Missing, topic)
	}
	return nil
}

// verification is the outcome of --verify.
type verification struct {
	Topic       string `json:"topic"`
	Accepted    int    `json:"accepted"`
	RecordsRead int    `json:"records_read"`
	Missing     int    `json:"missing"`
}

func serveBaseline(ctx context.Context, e *env, kafka *kafkaFlags, logs *logFlags, app webhook.App, listen string) error {
	if app.Key == "" || app.Secret == "" {
		return usageError{errors.New("baseline needs --tiktok-app-key and --tiktok-app-secret")}
	}
	log, err := logs.logger(e)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append(kafka.opts(), kgo.ProducerLinger(0))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	topic := kafka.topic(schemas.TopicTikTokWebhooks)
	return ops.Serve(ctx, listen, loadgen.Baseline(app, cl, topic), 5*time.Second, log, func(a net.Addr) {
		log.Info("baseline listening", "url", fmt.Sprintf("http://%s/", a), "topic", topic)
	})
}
