package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/catalog"
	"github.com/creatorflow/creatorflow/connectors/poller"
	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/schemas"
)

// pollerFlags configure the content-metric poller.
type pollerFlags struct {
	interval, minInterval, maxInterval time.Duration
}

func (f *pollerFlags) register(fs *flag.FlagSet) {
	fs.DurationVar(&f.interval, "poll-interval", 30*time.Second, "content polling interval while an item's velocity holds steady")
	fs.DurationVar(&f.minInterval, "poll-min-interval", 5*time.Second, "shortest polling interval (items whose velocity rises)")
	fs.DurationVar(&f.maxInterval, "poll-max-interval", 5*time.Minute, "longest polling interval (cold items)")
}

// pollerRole polls the catalog's active content into tiktok.content-metrics.v1.
func pollerRole(ctx context.Context, f *pollerFlags, client *tiktok.Client, apiURL string, kafka *kafkaFlags, pg *postgresFlags,
	reg prometheus.Registerer, log *slog.Logger) (role, error) {
	topic := kafka.topic(schemas.TopicContentMetrics)
	producer, err := kgo.NewClient(kafka.opts()...)
	if err != nil {
		return role{}, err
	}
	details, err := kadm.NewClient(producer).ListTopics(ctx, topic)
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		producer.Close()
		return role{}, fmt.Errorf("topic %s (run creatorflow topics apply): %w", topic, err)
	}
	items := func(ctx context.Context) ([]poller.Item, error) {
		// A connection per read, once a minute: nothing to keep alive or
		// to repair after PostgreSQL restarts.
		conn, err := pgx.Connect(ctx, pg.url)
		if err != nil {
			return nil, fmt.Errorf("postgres %s: %w", redact(pg.url), err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		content, err := catalog.ActiveContent(ctx, conn)
		out := make([]poller.Item, len(content))
		for i, c := range content {
			out[i] = poller.Item(c)
		}
		return out, err
	}
	member, err := poller.JoinGroup(kafka.opts(), kafka.topic("creatorflow-poller"), topic, log)
	if err != nil {
		producer.Close()
		return role{}, err
	}
	p, err := poller.New(poller.Config{Items: items, API: client, Producer: producer, Topic: topic,
		Partitions: int32(len(details[topic].Partitions)), Owns: member.Owns,
		Cadence:    poller.Cadence{Interval: f.interval, MinInterval: f.minInterval, MaxInterval: f.maxInterval},
		Registerer: reg, Logger: log})
	if err != nil {
		member.Close()
		producer.Close()
		return role{}, usageError{err}
	}
	return role{name: "poller", run: func(ctx context.Context) error {
		defer producer.Close()
		defer member.Close()
		log.Info("poller polling", "to", topic, "catalog", redact(pg.url), "tiktok_api", apiURL, "interval", f.interval)
		return p.Run(ctx)
	}}, nil
}
