// Package priority decides how each shippable order is fulfilled: HIGH,
// STANDARD or MANUAL_REVIEW, with a score and the reasons. Its signals are
// the order's SKUs (a viral episode, stock running out: SKU-keyed facts read
// from global tables of alerts.viral.v1 and alerts.stock.v1), the buyer's
// own history (new, repeat, VIP: state keyed by buyer, so orders arrive
// re-keyed by buyer through an internal topic the lifecycle stage writes),
// the shipping deadline and the address (what a carrier cannot deliver
// goes to a person).
package priority

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// ShippableTopic is the internal topic of orders that became shippable,
// keyed by buyer, that the priority application consumes.
func ShippableTopic(application string) stream.TopicSpec {
	t, _ := schemas.Lookup(schemas.TopicOrders)
	return stream.TopicSpec{Name: application + "-shippable", Partitions: t.Partitions}
}

// StageConfig sets up the priority stage.
type StageConfig struct {
	Application string
	// Shippable is the input (ShippableTopic), Prioritized the output
	// (orders.prioritized.v1), ViralAlerts and StockAlerts the global
	// tables of SKU facts.
	Shippable                             stream.TopicSpec
	Prioritized, ViralAlerts, StockAlerts string
	// Rules are the weights and thresholds; zero means DefaultConfig.
	Rules Config
	// ForgetBuyersAfter bounds the buyer store (400 days after a buyer's
	// last order: a year of history decides the tier).
	ForgetBuyersAfter time.Duration
	Registerer        prometheus.Registerer
}

// buyerState is a buyer's history: counts and the recent order ids (an
// order counts once, however often it comes).
type buyerState struct {
	Buyer
	Recent []string `json:"r,omitempty"`
}

const (
	buyersStore  = "buyers"
	recentOrders = 32
)

// Topology is the priority stage.
func Topology(cfg StageConfig) (stream.Topology, error) {
	if cfg.Rules.High == 0 {
		cfg.Rules = DefaultConfig
	}
	if err := cfg.Rules.Validate(); err != nil {
		return stream.Topology{}, err
	}
	if cfg.ForgetBuyersAfter <= 0 {
		cfg.ForgetBuyersAfter = 400 * 24 * time.Hour
	}
	decided := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_priority_decisions_total",
		Help: "Orders prioritized, by class."}, []string{"class"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(decided)
	}
	buyers := stream.KV[buyerState]{Store: buyersStore, Codec: stream.JSON[buyerState]{}}
	return stream.Topology{
		Application: cfg.Application,
		Inputs:      []string{cfg.Shippable.Name},
		Outputs:     []string{cfg.Prioritized},
		Internal:    []stream.TopicSpec{cfg.Shippable},
		Globals:     []string{cfg.ViralAlerts, cfg.StockAlerts},
		Stores:      []stream.StoreSpec{{Name: buyersStore}},
		Process: func(c *stream.Context, r *kgo.Record) error {
			var o schemas.OrderEvent
			if err := json.Unmarshal(r.Value, &o); err != nil {
				return fmt.Errorf("shippable order: %w", err)
			}
			if o.OrderID == "" {
				return fmt.Errorf("shippable order without an order id")
			}
			buyer := string(r.Key)
			st, _, err := buyers.Get(c, buyer)
			if err != nil {
				return err
			}
			if slices.Contains(st.Recent, o.OrderID) {
				return nil // decided already
			}
			at := c.EventTime()
			d := cfg.Rules.Decide(o, st.Buyer, func(sku string) Facts { return facts(c, cfg, sku) }, at)
			value, err := json.Marshal(schemas.PrioritizedOrder{OrderID: o.OrderID, Class: d.Class, Score: d.Score, Reasons: d.Reasons, DecidedAt: at})
			if err != nil {
				return err
			}
			env := schemas.Envelope{ID: schemas.EventID(at, "prioritized", o.OrderID), Type: "order.prioritized", SchemaVersion: 1,
				Source: "creatorflow/priority", Time: at, IngestTime: at}
			c.Emit(&kgo.Record{Topic: cfg.Prioritized, Key: []byte(o.OrderID), Value: value, Headers: env.Headers()})
			decided.WithLabelValues(string(d.Class)).Inc()
			st.Orders++
			st.Spend += orderValue(o)
			if st.Recent = append(st.Recent, o.OrderID); len(st.Recent) > recentOrders {
				st.Recent = st.Recent[len(st.Recent)-recentOrders:]
			}
			buyers.ForgetAt(c, buyer, at.Add(cfg.ForgetBuyersAfter))
			return buyers.Put(c, buyer, st)
		},
	}, nil
}

// facts reads a SKU's latest alerts from the global tables; an entry that
// does not decode counts as none (the alert topics are ours, and a bad one
// must not hold orders up).
func facts(c *stream.Context, cfg StageConfig, sku string) Facts {
	var f Facts
	if b, ok := c.Global(cfg.ViralAlerts, sku); ok {
		var a schemas.ViralAlert
		if json.Unmarshal(b, &a) == nil {
			f.Viral = &a
		}
	}
	if b, ok := c.Global(cfg.StockAlerts, sku); ok {
		var a schemas.StockAlert
		if json.Unmarshal(b, &a) == nil {
			f.Stock = &a
		}
	}
	return f
}
