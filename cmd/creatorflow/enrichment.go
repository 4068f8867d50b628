package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/enrichment"
	"github.com/creatorflow/creatorflow/schemas"
)

// streamFlags configure the processors that run on the stream runtime.
type streamFlags struct {
	instance string
	workers  int
}

func (f *streamFlags) register(fs *flag.FlagSet) {
	host, _ := os.Hostname()
	fs.StringVar(&f.instance, "instance", host, "this instance's stable, unique name (its transactional ids)")
	fs.IntVar(&f.workers, "stream-workers", 0, "partitions a processor works on at once (0: one per core)")
}

func (f *streamFlags) config(kafka *kafkaFlags, reg prometheus.Registerer, log *slog.Logger) stream.Config {
	return stream.Config{Client: kafka.opts(), Instance: f.instance, DLQ: kafka.topic(schemas.TopicDLQ),
		Workers: f.workers, Registerer: reg, Logger: log}
}

// enrichmentRole turns order webhooks into order events with details.
func enrichmentRole(client *tiktok.Client, apiURL string, sf *streamFlags, kafka *kafkaFlags, reg prometheus.Registerer, log *slog.Logger) (role, error) {
	topo := enrichment.Topology(enrichment.Config{
		Application: kafka.topic("creatorflow-enrichment"),
		Webhooks:    kafka.topic(schemas.TopicTikTokWebhooks),
		OrdersTopic: kafka.topic(schemas.TopicOrders),
		API:         client,
		Registerer:  reg,
	})
	return role{name: "enrichment", run: func(ctx context.Context) error {
		log.Info("enrichment processing", "from", topo.Inputs[0], "to", topo.Outputs[0], "tiktok_api", apiURL, "instance", sf.instance)
		return stream.Run(ctx, topo, sf.config(kafka, reg, log))
	}}, nil
}
