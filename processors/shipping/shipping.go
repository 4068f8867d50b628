// Package shipping is the carrier-choice stage: for every order that is
// shippable and prioritized it ranks the carriers' services
// (processors/carrier) and emits a label command with the ranked options,
// which the label executor buys from, failing over down the list. Orders
// come from orders.v1 (details, status) and orders.prioritized.v1 (class),
// both keyed by order id; carrier health is a global table of
// carriers.health.v1, so a carrier whose circuit is open is not chosen.
package shipping

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/carrier"
	"github.com/creatorflow/creatorflow/schemas"
)

// Config sets up the stage.
type Config struct {
	Application string
	// Orders and Prioritized are the inputs, Labels the output, Health the
	// global table of carrier health.
	Orders, Prioritized, Labels, Health string
	// Origin is the warehouse's ZIP code.
	Origin string
	// Cards returns the rate cards in effect at a time (carrier.Current).
	Cards func(at time.Time) []carrier.RateCard
	// Units gives a SKU's weight and size; nil: carrier.DefaultUnit.
	Units carrier.UnitOf
	// OnTime gives the carriers' delivery records; nil: none yet, every
	// carrier at the prior.
	OnTime func() map[string]carrier.OnTime
	// Choice holds the choice's rules; nil: carrier.DefaultConfig().
	Choice *carrier.Config
	// ForgetAfter bounds the order store (30 days after an order's last
	// event: a label is bought within days).
	ForgetAfter time.Duration
	Registerer  prometheus.Registerer
}

// orderState is what the stage keeps of an order until its label command.
type orderState struct {
	Order    *schemas.OrderEvent       `json:"o,omitempty"`
	Priority *schemas.PrioritizedOrder `json:"p,omitempty"`
	// Commanded is the label command's id once emitted; Closed says the
	// order was cancelled or shipped without one.
	Commanded string `json:"c,omitempty"`
	Closed    bool   `json:"x,omitempty"`
}

const ordersStore = "orders"

// Topology is the carrier-choice stage.
func Topology(cfg Config) (stream.Topology, error) {
	if cfg.Choice == nil {
		d := carrier.DefaultConfig()
		cfg.Choice = &d
	}
	if err := cfg.Choice.Validate(); err != nil {
		return stream.Topology{}, err
	}
	if cfg.Cards == nil || cfg.Origin == "" {
		return stream.Topology{}, errors.New("shipping: rate cards and an origin ZIP code are required")
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = 30 * 24 * time.Hour
	}
	s := &stage{cfg: cfg, states: stream.KV[orderState]{Store: ordersStore, Codec: stream.JSON[orderState]{}},
		labels: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_shipping_label_commands_total",
			Help: "Label commands emitted, by priority class and whether the options meet the delivery promise."}, []string{"priority", "meets_promise"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_shipping_skipped_total",
			Help: "Prioritized orders that got no label command, by reason (manual_review, closed, no_option)."}, []string{"reason"}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.labels, s.skipped)
	}
	return stream.Topology{
		Application: cfg.Application,
		Inputs:      []string{cfg.Orders, cfg.Prioritized},
		Outputs:     []string{cfg.Labels},
		Globals:     []string{cfg.Health},
		Stores:      []stream.StoreSpec{{Name: ordersStore}},
		Process:     s.process,
	}, nil
}

type stage struct {
	cfg             Config
	states          stream.KV[orderState]
	labels, skipped *prometheus.CounterVec
}

var (
	shippable = map[schemas.OrderStatus]bool{schemas.OrderStatusAwaitingShipment: true, schemas.OrderStatusPartiallyShipping: true}
	// A label is only bought for an order not yet on its way.
	beforeShipping = map[schemas.OrderStatus]bool{schemas.OrderStatusUnpaid: true, schemas.OrderStatusOnHold: true,
		schemas.OrderStatusAwaitingShipment: true, schemas.OrderStatusPartiallyShipping: true}
)

func (s *stage) process(c *stream.Context, r *kgo.Record) error {
	id := string(r.Key)
	if id == "" {
		return fmt.Errorf("%s record without an order id key", r.Topic)
	}
	st, _, err := s.states.Get(c, id)
	if err != nil {
		return err
	}
	switch r.Topic {
	case s.cfg.Orders:
		var o schemas.OrderEvent
		if err := json.Unmarshal(r.Value, &o); err != nil {
			return fmt.Errorf("order event: %w", err)
		}
		// The latest event of the order wins; an older one says nothing new.
		if st.Order == nil || !o.UpdateTime.Before(st.Order.UpdateTime) {
			st.Order = &o
		}
		if !beforeShipping[st.Order.Status] {
			st.Closed = true
		}
	case s.cfg.Prioritized:
		var p schemas.PrioritizedOrder
		if err := json.Unmarshal(r.Value, &p); err != nil {
			return fmt.Errorf("prioritized order: %w", err)
		}
		st.Priority = &p
	}
	if err := s.decide(c, id, &st); err != nil {
		return err
	}
	s.states.ForgetAt(c, id, c.EventTime().Add(s.cfg.ForgetAfter))
	return s.states.Put(c, id, st)
}

// decide emits the order's label command once it is shippable and
// prioritized, unless it needs a person or closed first.
func (s *stage) decide(c *stream.Context, id string, st *orderState) error {
	switch {
	case st.Commanded != "" || st.Order == nil || st.Priority == nil:
		return nil
	case st.Closed:
		s.skipped.WithLabelValues("closed").Inc()
		st.Commanded = "-" // never
		return nil
	case !shippable[st.Order.Status]:
		return nil
	case st.Priority.Class == schemas.PriorityManualReview:
		s.skipped.WithLabelValues("manual_review").Inc()
		st.Commanded = "-"
		return nil
	}
	at := c.EventTime()
	units := s.cfg.Units
	if units == nil {
		units = func(string) (carrier.Unit, bool) { return carrier.Unit{}, false }
	}
	req := s.cfg.Choice.NewRequest(*st.Order, s.cfg.Origin, carrier.ParcelFor(st.Order.LineItems, units), st.Priority.Class, at)
	var onTime map[string]carrier.OnTime
	if s.cfg.OnTime != nil {
		onTime = s.cfg.OnTime()
	}
	d, err := s.cfg.Choice.Choose(req, s.cfg.Cards(at), s.health(c), onTime)
	if err != nil || len(d.Options) == 0 {
		// A bad address or parcel: the record goes to the DLQ with the
		// reason, for a person; the order's next event tries again.
		s.skipped.WithLabelValues("no_option").Inc()
		if err == nil {
			err = errors.New("no carrier option")
		}
		return fmt.Errorf("order %s: carrier choice: %w", id, err)
	}
	cmd := schemas.LabelCommand{CommandID: schemas.EventID(at, "label", id).String(), OrderID: id, Action: schemas.LabelBuy,
		Options: d.Options, Priority: st.Priority.Class, Reason: d.Reason, IssuedAt: at}
	value, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	env := schemas.Envelope{ID: schemas.EventID(at, "label-command", cmd.CommandID), Type: "action.label", SchemaVersion: 1,
		Source: "creatorflow/shipping", Time: at, IngestTime: at}
	c.Emit(&kgo.Record{Topic: s.cfg.Labels, Key: []byte(id), Value: value, Headers: env.Headers()})
	st.Commanded = cmd.CommandID
	s.labels.WithLabelValues(string(cmd.Priority), fmt.Sprint(d.MeetsPromise)).Inc()
	return nil
}

// health reads every carrier's circuit from the global table.
func (s *stage) health(c *stream.Context) map[string]carrier.Health {
	out := map[string]carrier.Health{}
	for _, k := range c.GlobalKeys(s.cfg.Health) {
		b, _ := c.Global(s.cfg.Health, k)
		var h schemas.CarrierHealth
		if json.Unmarshal(b, &h) == nil {
			out[k] = h
		}
	}
	return out
}
