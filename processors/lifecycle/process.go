package lifecycle

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// source is the ce_source of everything the processor writes.
const source = "creatorflow/lifecycle"

// maxBuys bounds the BUY commands remembered per order. The carrier choice
// issues one per order (a second only after a failure), so the bound is
// never reached in practice; past it the oldest are forgotten.
const maxBuys = 16

// forgetTimer prefixes the timer that drops an order's state.
const forgetTimer = "forget/"

// order is what the store keeps of an order: its published state and what
// the processor needs besides.
type order struct {
	OrderState
	// Offered is set once the order went to the priority stage.
	Offered bool `json:"offered,omitempty"`
	// Shipped is set once the order reached a shipped status: its label
	// is in use, a cancellation no longer cancels it.
	Shipped bool `json:"shipped,omitempty"`
	// CancelledAt is the update time of a cancellation that came before
	// the order shipped: a BUY seen afterwards is cancelled at once.
	CancelledAt time.Time `json:"cancelled_at,omitzero"`
	// Buys are the BUY commands seen for the order, in arrival order.
	Buys []buy `json:"buys,omitempty"`
}

// buy is a BUY command seen on actions.label.v1.
type buy struct {
	ID       string    `json:"id"`
	IssuedAt time.Time `json:"issued_at"`
	// Cancel is the id of the CANCEL command issued for it, if any: there
	// is never a second.
	Cancel string `json:"cancel,omitempty"`
}

type processor struct {
	cfg        Config
	stateTopic string
	orders     stream.KV[order]
	metrics    metrics
}

func (p *processor) process(c *stream.Context, r *kgo.Record) error {
	var err error
	switch r.Topic {
	case p.cfg.Orders:
		err = p.orderEvent(c, r)
	case p.cfg.LabelActions:
		err = p.labelCommand(c, r)
	default:
		err = reject(ReasonInvalid, "record of topic %s, which is not an input", r.Topic)
	}
	if rej, ok := err.(*Rejection); ok {
		p.metrics.rejected.WithLabelValues(rej.Reason).Inc()
	}
	return err
}

// orderEvent moves an order's state machine by one event of orders.v1.
func (p *processor) orderEvent(c *stream.Context, r *kgo.Record) error {
	ev, err := parseOrderEvent(r)
	if err != nil {
		return err
	}
	o, _, err := p.orders.Get(c, ev.OrderID)
	if err != nil {
		return err
	}
	from := o.Status
	switch {
	case from == "":
		// The first event of an order may be any status, unless it is so
		// old that the order's state could have been forgotten: then it
		// is history, not a new order.
		if !ev.UpdateTime.Add(p.cfg.ForgetAfter).After(c.StreamTime()) {
			return reject(ReasonExpired, "order %s: %s update of %s is older than the %v an order's state is kept (stream time %s)",
				ev.OrderID, ev.Status, stamp(ev.UpdateTime), p.cfg.ForgetAfter, stamp(c.StreamTime()))
		}
	case ev.Status == from && ev.UpdateTime.Equal(o.UpdateTime):
		p.metrics.ignored.WithLabelValues("duplicate").Inc()
		return nil
	case ev.UpdateTime.Before(o.UpdateTime):
		return reject(ReasonStale, "order %s: %s update of %s is older than its current %s of %s",
			ev.OrderID, ev.Status, stamp(ev.UpdateTime), from, stamp(o.UpdateTime))
	case !Legal(from, ev.Status):
		return reject(ReasonIllegal, "order %s: %s -> %s is not a legal transition (update of %s)",
			ev.OrderID, from, ev.Status, stamp(ev.UpdateTime))
	}

	ingest := ingestTime(r)
	o.OrderID = ev.OrderID
	if ev.Status != from {
		o.PreviousStatus = from // an update keeping the status keeps it too
	}
	o.Status, o.UpdateTime = ev.Status, ev.UpdateTime
	if ev.ShopID != "" {
		o.ShopID = ev.ShopID
	}
	if ev.BuyerID != "" {
		o.BuyerID = ev.BuyerID
	}
	if !ev.CreateTime.IsZero() {
		o.CreateTime = ev.CreateTime
	}
	if !ev.ShippingDueTime.IsZero() {
		o.ShippingDueTime = ev.ShippingDueTime
	}
	fromLabel := string(from)
	if from == "" {
		fromLabel = "NONE"
	}
	p.metrics.transitions.WithLabelValues(fromLabel, string(ev.Status)).Inc()

	if shippable(ev.Status) && !o.Offered {
		if err := p.offer(c, ev, ingest); err != nil {
			return err
		}
		o.Offered = true
	}
	if ev.Status == cancelled && !o.Shipped {
		if o.CancelledAt.IsZero() { // not moved by an update that keeps the status
			o.CancelledAt = ev.UpdateTime
		}
		for i := range o.Buys {
			if o.Buys[i].Cancel == "" {
				if err := p.cancel(c, &o, &o.Buys[i], ingest); err != nil {
					return err
				}
			}
		}
	}
	if shipped(ev.Status) {
		o.Shipped = true
	}
	return p.save(c, &o, ev.UpdateTime, ingest)
}

// labelCommand remembers a BUY command of actions.label.v1 and cancels it
// at once if its order was cancelled before it shipped.
func (p *processor) labelCommand(c *stream.Context, r *kgo.Record) error {
	cmd, err := parseLabelCommand(r, c.EventTime())
	if err != nil {
		return err
	}
	if cmd.Action == schemas.LabelCancel {
		// Ours, coming back (or one of an operator's): nothing to do.
		p.metrics.ignored.WithLabelValues("cancel_command").Inc()
		return nil
	}
	o, _, err := p.orders.Get(c, cmd.OrderID)
	if err != nil {
		return err
	}
	for _, b := range o.Buys {
		if b.ID == cmd.CommandID {
			p.metrics.ignored.WithLabelValues("duplicate_buy").Inc()
			return nil
		}
	}
	ingest := ingestTime(r)
	o.OrderID = cmd.OrderID
	o.Buys = append(o.Buys, buy{ID: cmd.CommandID, IssuedAt: cmd.IssuedAt})
	if len(o.Buys) > maxBuys {
		o.Buys = o.Buys[len(o.Buys)-maxBuys:]
	}
	if o.Status == cancelled && !o.Shipped {
		if err := p.cancel(c, &o, &o.Buys[len(o.Buys)-1], ingest); err != nil {
			return err
		}
	}
	return p.save(c, &o, cmd.IssuedAt, ingest)
}

// save records an accepted change made at event time at: the store, the
// state topic (once the order has a status: a BUY may come before the
// order's first event) and the forget timer.
func (p *processor) save(c *stream.Context, o *order, at, ingest time.Time) error {
	o.Version++
	if at.After(o.UpdatedAt) {
		o.UpdatedAt = at
	}
	o.LabelCommandID, o.LabelState = "", LabelNone
	if n := len(o.Buys); n > 0 {
		last := o.Buys[n-1]
		o.LabelCommandID, o.LabelState = last.ID, LabelRequested
		if last.Cancel != "" {
			o.LabelState = LabelCancelRequested
		}
	}
	if err := p.orders.Put(c, o.OrderID, *o); err != nil {
		return err
	}
	if o.Status != "" {
		value, err := json.Marshal(o.OrderState)
		if err != nil {
			return err
		}
		env := schemas.Envelope{ID: schemas.EventID(o.UpdatedAt, p.stateTopic, o.OrderID, strconv.FormatInt(o.Version, 10)),
			Type: "order.state", SchemaVersion: 1, Source: source, Time: o.UpdatedAt, IngestTime: ingest}
		c.Emit(&kgo.Record{Topic: p.stateTopic, Key: []byte(o.OrderID), Value: value, Headers: env.Headers()})
	}
	c.Schedule(forgetTimer+o.OrderID, o.UpdatedAt.Add(p.cfg.ForgetAfter)) // moved by each change
	return nil
}

// offer hands an order that became shippable to the priority stage, keyed
// by buyer (the order id when the buyer is unknown).
func (p *processor) offer(c *stream.Context, ev schemas.OrderEvent, ingest time.Time) error {
	value, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	key := ev.BuyerID
	if key == "" {
		key = ev.OrderID
	}
	env := schemas.Envelope{ID: schemas.EventID(ev.UpdateTime, p.cfg.Shippable.Name, ev.OrderID),
		Type: "order.shippable", SchemaVersion: 1, Source: source, Time: ev.UpdateTime, IngestTime: ingest}
	c.Emit(&kgo.Record{Topic: p.cfg.Shippable.Name, Key: []byte(key), Value: value, Headers: env.Headers()})
	p.metrics.shippable.Inc()
	return nil
}

// cancel issues the CANCEL command of a BUY of a cancelled order. Its time
// is the later of the cancellation and the BUY, and its id derives from
// that time, the order and the BUY: whichever of the two the processor
// sees first, and however often the input is replayed, the command is the
// same.
func (p *processor) cancel(c *stream.Context, o *order, b *buy, ingest time.Time) error {
	at := o.CancelledAt
	if b.IssuedAt.After(at) {
		at = b.IssuedAt
	}
	id := schemas.EventID(at, "label-cancel", o.OrderID, b.ID)
	cmd := schemas.LabelCommand{CommandID: id.String(), OrderID: o.OrderID, Action: schemas.LabelCancel,
		Options: []schemas.CarrierOption{}, Reason: "the order was cancelled before it shipped: cancels BUY " + b.ID, IssuedAt: at}
	value, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	env := schemas.Envelope{ID: id, Type: "action.label", SchemaVersion: 1, Source: source, Time: at, IngestTime: ingest}
	c.Emit(&kgo.Record{Topic: p.cfg.LabelActions, Key: []byte(o.OrderID), Value: value, Headers: env.Headers()})
	b.Cancel = cmd.CommandID
	p.metrics.cancels.Inc()
	return nil
}

// forget drops the state of an order without a change for ForgetAfter and
// leaves a tombstone in the state topic, so that the compacted topic keeps
// only the orders of the last ForgetAfter (the PostgreSQL table keeps them
// all).
func (p *processor) forget(c *stream.Context, t stream.Timer) error {
	id, ok := strings.CutPrefix(t.ID, forgetTimer)
	if !ok {
		return nil
	}
	o, known, err := p.orders.Get(c, id)
	if !known && err == nil {
		return nil
	}
	p.orders.Delete(c, id)
	p.metrics.forgotten.Inc()
	if err != nil || o.Status != "" {
		env := schemas.Envelope{ID: schemas.EventID(t.At, p.stateTopic, id, "forgotten"),
			Type: "order.state", SchemaVersion: 1, Source: source, Time: t.At, IngestTime: t.At}
		c.Emit(&kgo.Record{Topic: p.stateTopic, Key: []byte(id), Headers: env.Headers()})
	}
	return nil
}

// Bounds of the times the processor accepts: from 1970 (KSUIDs and Unix
// milliseconds) to the end of year 9999 (RFC 3339).
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

func inRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// maxIDLength bounds ids, as schemas does for TikTok's.
const maxIDLength = 128

// checkID reports what is wrong with an id: empty, too long, or holding
// control characters (which no TikTok id has, and PostgreSQL text refuses
// NUL).
func checkID(field, s string, required bool) error {
	switch {
	case s == "" && required:
		return fmt.Errorf("%s is required", field)
	case len(s) > maxIDLength:
		return fmt.Errorf("%s is longer than %d bytes", field, maxIDLength)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%s %q holds control characters or invalid UTF-8", field, s)
	}
	return nil
}

// parseOrderEvent reads and checks an orders.v1 record; the status is
// normalized (CANCEL is CANCELLED). Every error is a *Rejection.
func parseOrderEvent(r *kgo.Record) (schemas.OrderEvent, error) {
	var ev schemas.OrderEvent
	if err := json.Unmarshal(r.Value, &ev); err != nil {
		return ev, reject(ReasonInvalid, "order event: %v", err)
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{{"order_id", ev.OrderID, true}, {"shop_id", ev.ShopID, false}, {"buyer_id", ev.BuyerID, false}} {
		if err := checkID(f.name, f.v, f.required); err != nil {
			return ev, reject(ReasonInvalid, "order event: %v", err)
		}
	}
	if string(r.Key) != ev.OrderID {
		return ev, reject(ReasonInvalid, "order event: key %q is not the order id %q", r.Key, ev.OrderID)
	}
	status, err := schemas.ParseOrderStatus(string(ev.Status))
	if err != nil {
		return ev, reject(ReasonInvalid, "order %s: %v", ev.OrderID, err)
	}
	ev.Status = status
	if ev.UpdateTime.IsZero() || !inRange(ev.UpdateTime) {
		return ev, reject(ReasonInvalid, "order %s: update_time %s is missing or not between 1970 and 9999", ev.OrderID, stamp(ev.UpdateTime))
	}
	for _, t := range []struct {
		name string
		v    time.Time
	}{{"create_time", ev.CreateTime}, {"shipping_due_time", ev.ShippingDueTime}, {"rts_sla_time", ev.RTSSLATime}} {
		if !t.v.IsZero() && !inRange(t.v) {
			return ev, reject(ReasonInvalid, "order %s: %s %s is not between 1970 and 9999", ev.OrderID, t.name, stamp(t.v))
		}
	}
	ev.UpdateTime, ev.CreateTime = ev.UpdateTime.UTC(), ev.CreateTime.UTC()
	ev.ShippingDueTime, ev.RTSSLATime = ev.ShippingDueTime.UTC(), ev.RTSSLATime.UTC()
	return ev, nil
}

// parseLabelCommand reads and checks an actions.label.v1 record; a command
// without an issue time is given the record's event time. Every error is a
// *Rejection.
func parseLabelCommand(r *kgo.Record, eventTime time.Time) (schemas.LabelCommand, error) {
	var cmd schemas.LabelCommand
	if err := json.Unmarshal(r.Value, &cmd); err != nil {
		return cmd, reject(ReasonInvalid, "label command: %v", err)
	}
	if err := checkID("command_id", cmd.CommandID, true); err != nil {
		return cmd, reject(ReasonInvalid, "label command: %v", err)
	}
	if err := checkID("order_id", cmd.OrderID, true); err != nil {
		return cmd, reject(ReasonInvalid, "label command %s: %v", cmd.CommandID, err)
	}
	if string(r.Key) != cmd.OrderID {
		return cmd, reject(ReasonInvalid, "label command %s: key %q is not the order id %q", cmd.CommandID, r.Key, cmd.OrderID)
	}
	if cmd.Action != schemas.LabelBuy && cmd.Action != schemas.LabelCancel {
		action := string(cmd.Action)
		if len(action) > 64 {
			action = action[:64] + "..."
		}
		return cmd, reject(ReasonInvalid, "label command %s: unknown action %q", cmd.CommandID, action)
	}
	if cmd.IssuedAt.IsZero() {
		cmd.IssuedAt = eventTime
	}
	if !inRange(cmd.IssuedAt) {
		return cmd, reject(ReasonInvalid, "label command %s: issued_at %s is not between 1970 and 9999", cmd.CommandID, stamp(cmd.IssuedAt))
	}
	cmd.IssuedAt = cmd.IssuedAt.UTC()
	return cmd, nil
}

// ingestTime is when the record's event entered the pipeline (its
// envelope's ingest time), carried on so the latency of the whole pipeline
// stays measurable.
func ingestTime(r *kgo.Record) time.Time {
	if env, err := schemas.ParseHeaders(r.Headers); err == nil && !env.IngestTime.IsZero() {
		return env.IngestTime
	}
	return r.Timestamp.UTC()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
