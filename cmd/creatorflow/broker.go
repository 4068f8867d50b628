package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/creatorflow/creatorflow/pipeline/broker"
)

var brokerCommand = command{
	name:    "broker",
	summary: "run the embedded Kafka-protocol broker (laptops, CI, the local stack)",
	run:     runBroker,
}

const brokerUsage = `usage: creatorflow broker [flags]

Runs a single-node Kafka-protocol broker (franz-go kfake) on a TCP port. With a
data directory, topics, records, committed offsets and transactions survive a
restart; stop it with SIGTERM so it writes its state. Any Kafka client works
against it, for example: kcat -b 127.0.0.1:19092 -L`

func runBroker(ctx context.Context, e *env, args []string) error {
	var (
		cfg  broker.Config
		logs logFlags
	)
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:19092", "host:port to listen on")
	fs.StringVar(&cfg.AdvertisedAddr, "advertised-addr", "", "host:port clients are told to use (default: the listen address)")
	fs.StringVar(&cfg.DataDir, "data-dir", ".data/kafka", "directory the broker persists to; empty keeps everything in memory")
	fs.IntVar(&cfg.Partitions, "partitions", 6, "partitions of topics created without a count (including auto-created ones)")
	fs.BoolVar(&cfg.SyncWrites, "fsync", false, "fsync every produced batch before acknowledging it")
	fs.BoolVar(&cfg.AutoCreateTopics, "auto-create-topics", true, "create a topic on first use, as Kafka does by default")
	logs.register(fs)
	if err := parse(fs, brokerUsage, e, args); err != nil {
		return err
	}
	if cfg.Partitions < 1 {
		return usageError{fmt.Errorf("--partitions must be at least 1")}
	}
	log, err := logs.logger(e)
	if err != nil {
		return err
	}
	cfg.Logger = log
	err = broker.Run(ctx, cfg, func(b *broker.Broker) {
		log.Info("broker listening", "addr", b.Addr(), "data_dir", cfg.DataDir, "fsync", cfg.SyncWrites)
	})
	if err != nil {
		return err
	}
	log.Info("broker stopped; state written", "data_dir", cfg.DataDir)
	return nil
}
