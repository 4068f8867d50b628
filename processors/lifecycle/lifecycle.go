// Package lifecycle keeps the state of every order: a state machine over
// TikTok's order statuses (Transitions), fed by orders.v1, that rejects
// illegal and stale changes to the DLQ with the reason, hands each order to
// the priority stage the first time it becomes shippable, and cancels the
// label bought for an order cancelled before it shipped. The current state
// of every order goes to a compacted topic (StateTopic), which the
// order-state sink (connectors/orderstate) keeps in PostgreSQL.
//
// It is one stream application (exactly once, event time) keyed by order
// id over two co-partitioned inputs: orders.v1 and actions.label.v1, where
// it learns of the BUY commands issued for each order and to which it
// writes its CANCEL commands (which it reads back and ignores).
package lifecycle

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// Config sets up the processor.
type Config struct {
	// Application names the stream application (consumer group,
	// changelogs, the state topic).
	Application string
	// Orders (orders.v1) and LabelActions (actions.label.v1), with any
	// deployment prefix: both inputs, co-partitioned by order id;
	// LabelActions is also where CANCEL commands go.
	Orders, LabelActions string
	// Shippable is the internal topic of the priority stage, keyed by
	// buyer id, which owns and consumes it: the order event of each order
	// that becomes shippable goes there, once.
	Shippable stream.TopicSpec
	// ForgetAfter is how long after its last change an order's state is
	// kept (90 days): it bounds the store and the state topic. An event
	// older than that for an order the processor does not know is
	// rejected as expired rather than taken for a new order.
	ForgetAfter time.Duration
	// Registerer receives the processor's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// StatePartitions is the partition count of the state topic: that of
// orders.v1, whose keys it shares.
const StatePartitions = 12

// StateTopic is the compacted topic of an application's order states, key
// order id, value OrderState as JSON; an order forgotten after
// Config.ForgetAfter leaves a tombstone.
func StateTopic(application string) stream.TopicSpec {
	return stream.TopicSpec{Name: application + "-order-state", Partitions: StatePartitions, Compact: true}
}

// LabelState says where an order's label stands, as the lifecycle knows it.
type LabelState string

// Label states.
const (
	// LabelNone: no BUY command seen for the order.
	LabelNone LabelState = "NONE"
	// LabelRequested: a BUY command was issued (and not cancelled).
	LabelRequested LabelState = "REQUESTED"
	// LabelCancelRequested: the order was cancelled before it shipped and
	// a CANCEL command was issued for its latest BUY.
	LabelCancelRequested LabelState = "CANCEL_REQUESTED"
)

// OrderState is an order's current state: the value of the state topic and
// a row of the order_states table.
type OrderState struct {
	OrderID string `json:"order_id"`
	ShopID  string `json:"shop_id"`
	BuyerID string `json:"buyer_id"`
	// Status is the order's current status, PreviousStatus the one before
	// it (empty after the order's first event).
	Status         schemas.OrderStatus `json:"status"`
	PreviousStatus schemas.OrderStatus `json:"previous_status,omitempty"`
	// UpdateTime is TikTok's time of the current status (the order's last
	// accepted update); CreateTime and ShippingDueTime are the order's.
	UpdateTime      time.Time `json:"update_time"`
	CreateTime      time.Time `json:"create_time,omitzero"`
	ShippingDueTime time.Time `json:"shipping_due_time,omitzero"`
	// LabelCommandID is the latest BUY command seen for the order.
	LabelCommandID string     `json:"label_command_id,omitempty"`
	LabelState     LabelState `json:"label_state"`
	// Version counts the order's accepted changes, from 1: with
	// UpdateTime it orders two states of one order (the sink keeps the
	// greater), since a label change keeps the update time.
	Version int64 `json:"version"`
	// UpdatedAt is the event time of the last change (a status update or a
	// label command), so a replay writes the same value.
	UpdatedAt time.Time `json:"updated_at"`
}

// Newer reports whether s is a later state of its order than o: a later
// update time, or the same one and a greater version.
func (s OrderState) Newer(o OrderState) bool {
	if !s.UpdateTime.Equal(o.UpdateTime) {
		return s.UpdateTime.After(o.UpdateTime)
	}
	return s.Version > o.Version
}

// Rejection is why an order event was refused; it goes to the DLQ as the
// record's error.
type Rejection struct {
	// Reason is the metric label: illegal_transition, stale, expired or
	// invalid.
	Reason string
	// Detail says what was wrong with this record.
	Detail string
}

// Rejection reasons.
const (
	ReasonIllegal = "illegal_transition"
	ReasonStale   = "stale"
	ReasonExpired = "expired"
	ReasonInvalid = "invalid"
)

func (r *Rejection) Error() string { return r.Reason + ": " + r.Detail }

func reject(reason, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// metrics of the processor. Like every counter of a stream processor they
// count again what an aborted transaction does again.
type metrics struct {
	transitions *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	ignored     *prometheus.CounterVec
	shippable   prometheus.Counter
	cancels     prometheus.Counter
	forgotten   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) metrics {
	m := metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_lifecycle_transitions_total",
			Help: "Order status changes accepted, by previous (NONE for an order's first event) and new status; from = to is an update that kept the status."},
			[]string{"from", "to"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_lifecycle_rejected_total",
			Help: "Records sent to the DLQ, by reason: illegal_transition, stale (older than the order's state), expired (older than the state is kept), invalid."},
			[]string{"reason"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_lifecycle_ignored_total",
			Help: "Records that changed nothing, by reason: duplicate (the order's status and update time again), duplicate_buy (a BUY command already seen), cancel_command (a CANCEL on actions.label.v1, ours coming back)."},
			[]string{"reason"}),
		shippable: prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_lifecycle_shippable_total",
			Help: "Orders handed to the priority stage on first becoming shippable."}),
		cancels: prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_lifecycle_label_cancels_total",
			Help: "CANCEL label commands issued for orders cancelled before they shipped."}),
		forgotten: prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_lifecycle_forgotten_total",
			Help: "Order states dropped after ForgetAfter without a change."}),
	}
	if reg != nil {
		reg.MustRegister(m.transitions, m.rejected, m.ignored, m.shippable, m.cancels, m.forgotten)
	}
	return m
}

// ordersStore holds an order's state: order id -> order.
const ordersStore = "orders"

// Topology is the lifecycle processor.
func Topology(cfg Config) (stream.Topology, error) {
	if cfg.ForgetAfter == 0 {
		cfg.ForgetAfter = 90 * 24 * time.Hour
	}
	var errs []error
	if cfg.Application == "" || cfg.Orders == "" || cfg.LabelActions == "" || cfg.Shippable.Name == "" {
		errs = append(errs, errors.New("application, orders, label actions and shippable topics are required"))
	}
	if cfg.Orders == cfg.LabelActions {
		errs = append(errs, errors.New("orders and label actions must be different topics"))
	}
	state := StateTopic(cfg.Application)
	if cfg.Shippable.Name == state.Name || cfg.Shippable.Name == cfg.Orders || cfg.Shippable.Name == cfg.LabelActions {
		errs = append(errs, fmt.Errorf("shippable topic %q must be a topic of its own", cfg.Shippable.Name))
	}
	if cfg.ForgetAfter < time.Hour {
		errs = append(errs, fmt.Errorf("forget after %v: want at least an hour", cfg.ForgetAfter))
	}
	if err := errors.Join(errs...); err != nil {
		return stream.Topology{}, fmt.Errorf("lifecycle: %w", err)
	}
	p := &processor{cfg: cfg, stateTopic: state.Name,
		orders:  stream.KV[order]{Store: ordersStore, Codec: stream.JSON[order]{}},
		metrics: newMetrics(cfg.Registerer)}
	return stream.Topology{
		Application: cfg.Application,
		Inputs:      []string{cfg.Orders, cfg.LabelActions},
		Outputs:     []string{state.Name, cfg.Shippable.Name, cfg.LabelActions},
		Internal:    []stream.TopicSpec{state, cfg.Shippable},
		Stores:      []stream.StoreSpec{{Name: ordersStore}},
		Process:     p.process,
		OnTimer:     p.forget,
	}, nil
}
