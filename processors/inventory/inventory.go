// Package inventory keeps every SKU's stock and demand and acts on them:
// viral alerts (from the content signals of the velocity processor and the
// SKU's own order velocity), burn rate and hours of cover, stock alerts
// with hysteresis, reorders sized for the lead time (and emergency reorders
// when a viral episode outruns the one on order), and the stock TikTok
// lists, kept a buffer below what is available.
//
// It is two stream applications: the order-lines stage turns order events
// (keyed by order id) into per-SKU line changes on an internal topic, and
// the SKU stage consumes those, the content signals, inventory events and
// reorder results, all keyed by SKU, with one state per SKU.
package inventory

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/velocity"
)

// Plan is what the catalog says of a SKU's stock and replenishment.
type Plan struct {
	// StartingStock is the stock on hand before any inventory event.
	StartingStock int64
	// SupplierID is who reorders go to; empty: no automatic reorders.
	SupplierID   string
	LeadTime     time.Duration
	ReviewPeriod time.Duration
	// ServiceLevel is the chance of not running out during a lead time
	// that the safety stock aims at.
	ServiceLevel float64
	MinOrderQty  int64
}

// Config sets up the inventory processors.
type Config struct {
	// Application names the SKU stage; the order-lines stage is
	// Application + "-lines". Internal topics are named after it.
	Application string
	// Input topics.
	Orders, Inventory, ReorderResults string
	// Signals is the velocity processor's output (velocity.SignalsTopic).
	Signals stream.TopicSpec
	// Output topics.
	ViralAlerts, StockAlerts, Reorders, TikTokSync string
	// Plans looks up a SKU's catalog entry; a SKU it does not know gets
	// viral alerts but no stock tracking, reorders or listing updates.
	Plans func(sku string) (Plan, bool)
	// Order velocity and stock settings; zero values mean the defaults.
	OrderVelocity OrderConfig
	Stock         StockConfig
	// ForgetOrdersAfter bounds the order-lines store (90 days).
	ForgetOrdersAfter time.Duration
	// Registerer receives the processors' metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Topologies are the order-lines stage and the SKU stage, to run side by
// side.
func Topologies(cfg Config) ([]stream.Topology, error) {
	if cfg.OrderVelocity == (OrderConfig{}) {
		cfg.OrderVelocity = DefaultOrderConfig
	}
	if cfg.Stock == (StockConfig{}) {
		cfg.Stock = DefaultStockConfig
	}
	if cfg.ForgetOrdersAfter <= 0 {
		cfg.ForgetOrdersAfter = 90 * 24 * time.Hour
	}
	if cfg.Plans == nil {
		cfg.Plans = func(string) (Plan, bool) { return Plan{}, false }
	}
	if w := cfg.OrderVelocity.Window; w < 1 || w > 60 {
		return nil, errors.New("inventory: order velocity window must be 1 to 60 minutes")
	}
	if err := cfg.OrderVelocity.Validate(); err != nil {
		return nil, fmt.Errorf("inventory: order velocity: %w", err)
	}
	s := cfg.Stock
	if s.Critical <= 0 || s.Warning <= s.Critical || s.Hysteresis < 0 || s.Buffer < 0 || s.Buffer >= 1 ||
		s.Material < 0 || s.Elasticity <= 0 || s.MaxMultiplier < 1 {
		return nil, errors.New("inventory: stock settings want 0 < critical < warning, 0 <= buffer < 1, elasticity > 0, max multiplier >= 1")
	}
	lines := LinesTopic(cfg.Application)
	return []stream.Topology{linesTopology(cfg, lines), skuTopology(cfg, lines)}, nil
}

// SignalsTopic is the content-signals topic the velocity processor must
// write for an inventory application.
func SignalsTopic(application string) stream.TopicSpec { return velocity.SignalsTopic(application) }
