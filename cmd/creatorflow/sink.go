package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/analytics/sink"
	"github.com/creatorflow/creatorflow/pipeline/ops"
	"github.com/creatorflow/creatorflow/schemas"
)

var sinkCommand = command{
	name:    "sink",
	summary: "write the topics to ClickHouse for analysts",
	run: func(ctx context.Context, e *env, args []string) error {
		return runRoles(ctx, e, args, "sink", []string{"sink"})
	},
}

type sinkFlags struct {
	group     string
	batchSize int
}

func (f *sinkFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.group, "sink-group", "creatorflow-sink", "consumer group of the ClickHouse sink")
	fs.IntVar(&f.batchSize, "sink-batch-size", 10000, "most records per ClickHouse INSERT")
}

func sinkRole(ctx context.Context, f *sinkFlags, kafka *kafkaFlags, chf *clickhouseFlags, reg *prometheus.Registry, health *ops.Handler, log *slog.Logger) (role, error) {
	ch, err := chf.open(ctx)
	if err != nil {
		return role{}, err
	}
	s, err := sink.New(sink.Config{
		Group:           f.group,
		Topics:          map[string]sink.Table{kafka.topic(schemas.TopicTikTokWebhooks): sink.TikTokWebhooks},
		DLQTopic:        kafka.topic(schemas.TopicDLQ),
		BatchSize:       f.batchSize,
		RetryBackoff:    100 * time.Millisecond,
		MaxRetryBackoff: 10 * time.Second,
	}, kafka.opts(), ch, reg, log)
	if err != nil {
		ch.Close()
		return role{}, usageError{err}
	}
	health.AddCheck("kafka-sink", s.Ping)
	health.AddCheck("clickhouse", ch.Ping)
	return role{
		name: "sink",
		run: func(ctx context.Context) error {
			defer ch.Close()
			log.Info("sink consuming", "topic", kafka.topic(schemas.TopicTikTokWebhooks), "group", f.group, "clickhouse", redact(chf.url))
			return s.Run(ctx)
		},
	}, nil
}
