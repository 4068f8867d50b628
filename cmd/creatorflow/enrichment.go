package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/connectors/catalog"
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
func enrichmentRole(client *tiktok.Client, apiURL string, sf *streamFlags, kafka *kafkaFlags, pg *postgresFlags,
	reg prometheus.Registerer, log *slog.Logger) (role, error) {
	// A shop the catalog does not list is asked for by its id (the
	// sandbox accepts any cipher).
	ciphers := &fromCatalog[map[string]string]{what: "shop ciphers", read: func(ctx context.Context, q catalog.Querier) (map[string]string, error) {
		shops, err := catalog.Shops(ctx, q)
		m := make(map[string]string, len(shops))
		for _, shop := range shops {
			m[shop.ID] = shop.Cipher
		}
		return m, err
	}}
	topo := enrichment.Topology(enrichment.Config{
		Application: kafka.topic("creatorflow-enrichment"),
		Webhooks:    kafka.topic(schemas.TopicTikTokWebhooks),
		OrdersTopic: kafka.topic(schemas.TopicOrders),
		API:         client,
		ShopCipher: func(shopID string) string {
			if c, ok := ciphers.get()[shopID]; ok {
				return c
			}
			return shopID
		},
		Registerer: reg,
	})
	return role{name: "enrichment", run: func(ctx context.Context) error {
		log.Info("enrichment processing", "from", topo.Inputs[0], "to", topo.Outputs[0], "tiktok_api", apiURL, "instance", sf.instance)
		ciphers.start(ctx, pg.url, log)
		return stream.Run(ctx, topo, sf.config(kafka, reg, log))
	}}, nil
}

// fromCatalog is a value read from the PostgreSQL catalog at start and
// again every minute, so that catalog imports reach running roles without a
// restart. A connection per read: nothing to keep alive or to repair after
// PostgreSQL restarts. Until the first read succeeds the value is zero.
type fromCatalog[T any] struct {
	what string
	read func(ctx context.Context, q catalog.Querier) (T, error)
	mu   sync.RWMutex
	v    T
}

func (c *fromCatalog[T]) get() T {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.v
}

func (c *fromCatalog[T]) load(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("postgres %s: %w", redact(url), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	v, err := c.read(ctx, conn)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.v = v
	c.mu.Unlock()
	return nil
}

// refresh loads the value, logging a failure: the last value read stays.
func (c *fromCatalog[T]) refresh(ctx context.Context, url string, log *slog.Logger) {
	if err := c.load(ctx, url); err != nil && ctx.Err() == nil {
		log.Warn(c.what+" not read from the catalog; the last ones read stay", "err", err)
	}
}

// keep refreshes the value every minute until ctx ends.
func (c *fromCatalog[T]) keep(ctx context.Context, url string, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
			c.refresh(ctx, url, log)
		}
	}
}

// start reads the value once (before the role's first record) and keeps it
// fresh in the background.
func (c *fromCatalog[T]) start(ctx context.Context, url string, log *slog.Logger) {
	c.refresh(ctx, url, log)
	go c.keep(ctx, url, log)
}
