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
	ciphers := &shopCiphers{}
	topo := enrichment.Topology(enrichment.Config{
		Application: kafka.topic("creatorflow-enrichment"),
		Webhooks:    kafka.topic(schemas.TopicTikTokWebhooks),
		OrdersTopic: kafka.topic(schemas.TopicOrders),
		API:         client,
		ShopCipher:  ciphers.get,
		Registerer:  reg,
	})
	return role{name: "enrichment", run: func(ctx context.Context) error {
		log.Info("enrichment processing", "from", topo.Inputs[0], "to", topo.Outputs[0], "tiktok_api", apiURL, "instance", sf.instance)
		ciphers.readLogged(ctx, pg.url, log) // before the first webhook
		go ciphers.keepRead(ctx, pg.url, log)
		return stream.Run(ctx, topo, sf.config(kafka, reg, log))
	}}, nil
}

// shopCiphers maps shop ids to the cipher the TikTok API knows each shop
// by, from the catalog, read again every minute. A shop the catalog does
// not list is asked for by its id (the sandbox accepts any cipher).
type shopCiphers struct {
	mu sync.RWMutex
	m  map[string]string
}

func (s *shopCiphers) get(shopID string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c, ok := s.m[shopID]; ok {
		return c
	}
	return shopID
}

// read loads the ciphers from the catalog at url.
func (s *shopCiphers) read(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("postgres %s: %w", redact(url), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	shops, err := catalog.Shops(ctx, conn)
	if err != nil {
		return err
	}
	m := make(map[string]string, len(shops))
	for _, shop := range shops {
		m[shop.ID] = shop.Cipher
	}
	s.mu.Lock()
	s.m = m
	s.mu.Unlock()
	return nil
}

func (s *shopCiphers) readLogged(ctx context.Context, url string, log *slog.Logger) {
	if err := s.read(ctx, url); err != nil && ctx.Err() == nil {
		log.Warn("shop ciphers not read from the catalog; shops are asked for by their ids meanwhile", "err", err)
	}
}

// keepRead reads the ciphers every minute until ctx ends.
func (s *shopCiphers) keepRead(ctx context.Context, url string, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Minute):
			s.readLogged(ctx, url, log)
		}
	}
}
