package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/connectors/catalog"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/inventory"
	"github.com/creatorflow/creatorflow/processors/velocity"
	"github.com/creatorflow/creatorflow/schemas"
)

// Application names of the viral-detection and inventory processors.
const (
	velocityApplication  = "creatorflow-velocity"
	inventoryApplication = "creatorflow-inventory"
)

// viralFlags configure viral detection and stock protection.
type viralFlags struct {
	weights                  string
	hop, window              time.Duration
	start, end               float64
	startWindows, endWindows int
	warning, critical        time.Duration
	margin                   time.Duration
	buffer                   float64
}

func (f *viralFlags) register(fs *flag.FlagSet) {
	c, s := velocity.DefaultContentConfig, inventory.DefaultStockConfig
	w := c.Weights
	fs.StringVar(&f.weights, "engagement-weights", fmt.Sprintf("views=%g,likes=%g,comments=%g,shares=%g", w.Views, w.Likes, w.Comments, w.Shares),
		"weight of each kind of engagement in the engagement rate")
	fs.DurationVar(&f.hop, "viral-hop", c.Hop, "how far apart engagement windows end")
	fs.DurationVar(&f.window, "viral-window", c.Window, "length of an engagement window (a multiple of --viral-hop)")
	fs.Float64Var(&f.start, "viral-start-score", c.Start, "engagement rate over the item's baseline that starts an episode")
	fs.Float64Var(&f.end, "viral-end-score", c.End, "score below which an episode ends")
	fs.IntVar(&f.startWindows, "viral-start-windows", c.StartWindows, "windows in a row at or above the start score to start an episode")
	fs.IntVar(&f.endWindows, "viral-end-windows", c.EndWindows, "windows in a row below the end score to end it")
	fs.DurationVar(&f.warning, "stock-warning-cover", s.Warning, "hours of cover that raise a stock warning")
	fs.DurationVar(&f.critical, "stock-critical-cover", s.Critical, "hours of cover that raise a critical stock alert")
	fs.DurationVar(&f.margin, "reorder-safety-margin", s.SafetyMargin, "reorder when cover falls below the lead time plus this")
	fs.Float64Var(&f.buffer, "listing-buffer", s.Buffer, "share of available stock kept off the TikTok listing")
}

// content is the velocity processor's configuration.
func (f *viralFlags) content() (velocity.ContentConfig, error) {
	c := velocity.DefaultContentConfig
	w, err := parseWeights(f.weights)
	if err != nil {
		return c, usageError{fmt.Errorf("--engagement-weights: %w", err)}
	}
	c.Weights, c.Hop, c.Window = w, f.hop, f.window
	c.Start, c.End, c.StartWindows, c.EndWindows = f.start, f.end, f.startWindows, f.endWindows
	return c, nil
}

// parseWeights reads "views=1,likes=4,...": kinds left out keep their
// default weight.
func parseWeights(s string) (velocity.Weights, error) {
	w := velocity.DefaultWeights
	fields := map[string]*float64{"views": &w.Views, "likes": &w.Likes, "comments": &w.Comments, "shares": &w.Shares}
	for part := range strings.SplitSeq(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		field := fields[name]
		if !ok || field == nil {
			return w, fmt.Errorf("%q is not kind=weight with kind views, likes, comments or shares", part)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil || v < 0 {
			return w, fmt.Errorf("%q: the weight must be a number >= 0", part)
		}
		*field = v
	}
	return w, nil
}

func (f *viralFlags) stock() inventory.StockConfig {
	s := inventory.DefaultStockConfig
	s.Warning, s.Critical, s.SafetyMargin, s.Buffer = f.warning, f.critical, f.margin, f.buffer
	return s
}

// velocityRole scores content engagement into content signals.
func velocityRole(vf *viralFlags, sf *streamFlags, kafka *kafkaFlags, reg prometheus.Registerer, log *slog.Logger) (role, error) {
	content, err := vf.content()
	if err != nil {
		return role{}, err
	}
	topo, err := velocity.Topology(velocity.Config{Application: kafka.topic(velocityApplication),
		Metrics: kafka.topic(schemas.TopicContentMetrics), Signals: inventory.SignalsTopic(kafka.topic(inventoryApplication)),
		Content: content, Registerer: reg})
	if err != nil {
		return role{}, usageError{err}
	}
	return role{name: "velocity", run: func(ctx context.Context) error {
		log.Info("velocity processing", "from", topo.Inputs[0], "to", topo.Outputs[0], "instance", sf.instance)
		return stream.Run(ctx, topo, sf.config(kafka, reg, log))
	}}, nil
}

// inventoryRole runs the order-lines and SKU stages: stock, viral and stock
// alerts, reorders and listed stock.
func inventoryRole(vf *viralFlags, sf *streamFlags, kafka *kafkaFlags, pg *postgresFlags, reg prometheus.Registerer, log *slog.Logger) (role, error) {
	plans := &fromCatalog[map[string]inventory.Plan]{what: "SKU plans", read: func(ctx context.Context, q catalog.Querier) (map[string]inventory.Plan, error) {
		list, err := catalog.Replenishment(ctx, q)
		return inventoryPlans(list), err
	}}
	app := kafka.topic(inventoryApplication)
	topos, err := inventory.Topologies(inventory.Config{Application: app,
		Orders: kafka.topic(schemas.TopicOrders), Inventory: kafka.topic(schemas.TopicInventoryEvents),
		ReorderResults: kafka.topic(schemas.TopicReorderResults), Signals: inventory.SignalsTopic(app),
		ViralAlerts: kafka.topic(schemas.TopicViralAlerts), StockAlerts: kafka.topic(schemas.TopicStockAlerts),
		Reorders: kafka.topic(schemas.TopicReorderActions), TikTokSync: kafka.topic(schemas.TopicTikTokSyncActions),
		Plans: func(sku string) (inventory.Plan, bool) {
			p, ok := plans.get()[sku]
			return p, ok
		},
		Stock: vf.stock(), Registerer: reg})
	if err != nil {
		return role{}, usageError{err}
	}
	return role{name: "inventory", run: func(ctx context.Context) error {
		log.Info("inventory processing", "from", topos[1].Inputs, "to", topos[1].Outputs, "instance", sf.instance)
		plans.start(ctx, pg.url, log)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		errs := make([]error, len(topos))
		var wg sync.WaitGroup
		for i, topo := range topos {
			wg.Go(func() {
				if errs[i] = stream.Run(ctx, topo, sf.config(kafka, reg, log.With("stage", topo.Application))); errs[i] != nil {
					cancel() // one stage without the other would stall
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}}, nil
}

// inventoryPlans maps the catalog's plans by SKU.
func inventoryPlans(list []catalog.Plan) map[string]inventory.Plan {
	m := make(map[string]inventory.Plan, len(list))
	for _, p := range list {
		m[p.SKU] = inventory.Plan{StartingStock: int64(p.StartingStock), SupplierID: p.SupplierID, LeadTime: p.LeadTime,
			ReviewPeriod: p.ReviewPeriod, ServiceLevel: p.ServiceLevel, MinOrderQty: int64(p.MinOrderQty)}
	}
	return m
}
