package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/connectors/catalog"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/processors/shipping"
	"github.com/creatorflow/creatorflow/schemas"
)

const shippingApplication = "creatorflow-shipping"

// shippingFlags configure carrier choice.
type shippingFlags struct {
	rateCards string
	origin    string
}

func (f *shippingFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.rateCards, "rate-cards", "", "rate card files (a glob, e.g. deploy/ratecards/*.json); empty: the versions imported into PostgreSQL, read every minute")
	fs.StringVar(&f.origin, "warehouse-zip", "10001", "ZIP code parcels ship from")
}

// shippingRole chooses the carrier of every shippable, prioritized order
// and emits its label command.
func shippingRole(f *shippingFlags, sf *streamFlags, kafka *kafkaFlags, pg *postgresFlags, reg prometheus.Registerer, log *slog.Logger) (role, error) {
	var fromFiles []carrier.RateCard
	if f.rateCards != "" {
		files, err := filepath.Glob(f.rateCards)
		if err == nil && len(files) == 0 {
			err = fmt.Errorf("no file matches")
		}
		if err != nil {
			return role{}, usageError{fmt.Errorf("--rate-cards %s: %w", f.rateCards, err)}
		}
		if fromFiles, err = carrier.ReadFiles(files...); err != nil {
			return role{}, err
		}
	}
	imported := &fromCatalog[[]carrier.RateCard]{what: "rate cards", read: func(ctx context.Context, q catalog.Querier) ([]carrier.RateCard, error) {
		return carrier.Load(ctx, q, time.Now())
	}}
	cards := func(at time.Time) []carrier.RateCard {
		if fromFiles != nil {
			return carrier.Current(fromFiles, at)
		}
		return imported.get()
	}
	topo, err := shipping.Topology(shipping.Config{Application: kafka.topic(shippingApplication),
		Orders: kafka.topic(schemas.TopicOrders), Prioritized: kafka.topic(schemas.TopicOrdersPrioritized),
		Labels: kafka.topic(schemas.TopicLabelActions), Health: kafka.topic(schemas.TopicCarrierHealth),
		Origin: f.origin, Cards: cards, Registerer: reg})
	if err != nil {
		return role{}, usageError{err}
	}
	return role{name: "shipping", run: func(ctx context.Context) error {
		log.Info("carrier choice", "from", topo.Inputs, "to", topo.Outputs[0], "rate_cards", f.rateCards, "instance", sf.instance)
		if fromFiles == nil {
			imported.start(ctx, pg.url, log)
		}
		return stream.Run(ctx, topo, sf.config(kafka, reg, log))
	}}, nil
}
