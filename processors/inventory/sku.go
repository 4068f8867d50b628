package inventory

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/velocity"
	"github.com/creatorflow/creatorflow/schemas"
)

// skuState is everything the SKU stage keeps per SKU.
type skuState struct {
	// Known says the catalog had the SKU when it was first seen: only
	// then is its stock tracked.
	Known    bool  `json:"k"`
	OnHand   int64 `json:"oh"`
	Reserved int64 `json:"rs"`
	// OnOrder counts units reordered and not yet received; Pending are
	// the reorders not yet answered. After a failed reorder the next waits
	// until RetryAfter (Unix ms).
	OnOrder    int64     `json:"oo,omitempty"`
	Pending    []pending `json:"p,omitempty"`
	RetryAfter int64     `json:"ra,omitempty"`
	Demand     demand    `json:"d"`
	// Orders is the order-velocity trend, scored up to minute Evaluated.
	Orders    velocity.Trend `json:"ov"`
	Evaluated int64          `json:"ev"`
	// Contents are the content items in an episode that promote the SKU.
	Contents map[string]contentEpisode `json:"c,omitempty"`
	Viral    viralEpisode              `json:"v"`
	Level    schemas.StockLevel        `json:"l,omitempty"`
	// Listed is the stock last sent to TikTok (ListedAt, Unix ms).
	Listed    int64 `json:"ls"`
	ListedSet bool  `json:"lset,omitempty"`
	ListedAt  int64 `json:"lat,omitempty"`
	// Seq numbers the SKU's commands, so their ids are the same on replay.
	Seq int64 `json:"q"`
}

type pending struct {
	ID  string `json:"id"`
	Qty int64  `json:"n"`
}

type contentEpisode struct {
	Score    float64 `json:"s"`
	Velocity float64 `json:"v"`
	// At is the time of its last signal (Unix ms): an episode not
	// reported for ContentTimeout is over (its video went quiet).
	At int64 `json:"t"`
}

// viralEpisode is the SKU's viral episode as last reported.
type viralEpisode struct {
	Open       bool     `json:"o,omitempty"`
	ID         string   `json:"id,omitempty"`
	Multiplier float64  `json:"m,omitempty"`
	Contents   []string `json:"c,omitempty"`
	// BaseBurn is the long burn rate when the episode started: demand
	// before it, which the multiplier scales.
	BaseBurn float64 `json:"b,omitempty"`
	// Emergency is when the last emergency reorder went out (Unix ms).
	Emergency int64 `json:"e,omitempty"`
}

const (
	skusStore = "skus"
	// actTimer makes the SKU act again at a time no record may come:
	// a held-back listing update is due, or a content episode times out.
	actTimer = "act/"
	// ContentTimeout closes a content episode not reported for that long;
	// the velocity processor reports an open one every 10 minutes.
	ContentTimeout = 30 * time.Minute
	// retryFailedReorder spaces a new reorder after a failed one.
	retryFailedReorder = 15 * time.Minute
)

type skuStage struct {
	cfg     Config
	states  stream.KV[skuState]
	signals string
	lines   string
	metrics *metrics
}

type metrics struct {
	alerts   *prometheus.CounterVec
	reorders *prometheus.CounterVec
	unknown  prometheus.Counter
}

func skuTopology(cfg Config, lines stream.TopicSpec) stream.Topology {
	m := &metrics{
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_inventory_alerts_total",
			Help: "Viral and stock alerts emitted, by kind (viral, stock) and phase or level."}, []string{"kind", "level"}),
		reorders: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_inventory_reorders_total",
			Help: "Reorder commands emitted, by kind (regular, emergency)."}, []string{"kind"}),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{Name: "creatorflow_inventory_unknown_skus_total",
			Help: "SKUs first seen without a catalog entry: their stock is not tracked."}),
	}
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(m.alerts, m.reorders, m.unknown)
	}
	s := &skuStage{cfg: cfg, states: stream.KV[skuState]{Store: skusStore, Codec: stream.JSON[skuState]{}},
		signals: cfg.Signals.Name, lines: lines.Name, metrics: m}
	return stream.Topology{
		Application: cfg.Application,
		Inputs:      []string{cfg.Signals.Name, lines.Name, cfg.Inventory, cfg.ReorderResults},
		Outputs:     []string{cfg.ViralAlerts, cfg.StockAlerts, cfg.Reorders, cfg.TikTokSync},
		Internal:    []stream.TopicSpec{cfg.Signals, lines},
		Stores:      []stream.StoreSpec{{Name: skusStore}},
		Process:     s.process,
		OnTimer:     s.timer,
	}
}

// process applies one record to its SKU and acts on the result.
func (s *skuStage) process(c *stream.Context, r *kgo.Record) error {
	sku := string(r.Key)
	if sku == "" {
		return fmt.Errorf("%s record without a SKU key", r.Topic)
	}
	st, err := s.load(c, sku)
	if err != nil {
		return err
	}
	at := c.EventTime().UnixMilli()
	if at < 0 {
		return fmt.Errorf("%s record at %s, before 1970", r.Topic, c.EventTime().Format(time.RFC3339))
	}
	st.Demand.advance(at)
	switch r.Topic {
	case s.signals:
		var sig velocity.ContentSignal
		if err := json.Unmarshal(r.Value, &sig); err != nil {
			return fmt.Errorf("content signal: %w", err)
		}
		if sig.Phase == velocity.Ended.String() {
			delete(st.Contents, sig.ContentID)
		} else {
			if st.Contents == nil {
				st.Contents = map[string]contentEpisode{}
			}
			st.Contents[sig.ContentID] = contentEpisode{Score: sig.Score, Velocity: sig.Velocity, At: at}
		}
	case s.lines:
		var ch LineChange
		if err := json.Unmarshal(r.Value, &ch); err != nil {
			return fmt.Errorf("order line: %w", err)
		}
		st.Demand.add(ch.At.UnixMilli(), float64(ch.Demand), float64(ch.Orders))
		st.Reserved += ch.Reserved
		st.OnHand += ch.OnHand
	case s.cfg.Inventory:
		var ev schemas.InventoryEvent
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			return fmt.Errorf("inventory event: %w", err)
		}
		switch ev.Kind {
		case schemas.InventoryReceipt:
			if ev.Quantity < 0 {
				return fmt.Errorf("inventory event: a receipt of %d units", ev.Quantity)
			}
			st.OnHand += ev.Quantity
			if st.OnOrder = max(st.OnOrder-ev.Quantity, 0); st.OnOrder == 0 {
				st.Pending = nil
			}
		case schemas.InventoryAdjustment:
			st.OnHand += ev.Quantity
		case schemas.InventorySnapshot:
			st.OnHand = ev.Quantity
		default:
			return fmt.Errorf("inventory event: unknown kind %q", ev.Kind)
		}
	case s.cfg.ReorderResults:
		var res schemas.ReorderResult
		if err := json.Unmarshal(r.Value, &res); err != nil {
			return fmt.Errorf("reorder result: %w", err)
		}
		if err := st.answer(res, at); err != nil {
			return err
		}
	}
	if err := s.act(c, sku, &st); err != nil {
		return err
	}
	return s.states.Put(c, sku, st)
}

// load reads a SKU's state, starting it from the catalog the first time. A
// SKU the catalog did not know is looked up again each time, so one added
// later (or read late, the catalog being down at start) is tracked from
// then on, its starting stock added to what moved meanwhile.
func (s *skuStage) load(c *stream.Context, sku string) (skuState, error) {
	st, ok, err := s.states.Get(c, sku)
	if err != nil || ok && st.Known {
		return st, err
	}
	plan, known := s.cfg.Plans(sku)
	if !ok && !known {
		s.metrics.unknown.Inc()
	}
	if known {
		st.Known, st.OnHand = true, st.OnHand+plan.StartingStock
	}
	return st, nil
}

// answer applies a reorder's outcome: the accepted quantity stays on
// order; a failed or cancelled reorder no longer is, so a new one may go
// out after a pause.
func (st *skuState) answer(res schemas.ReorderResult, at int64) error {
	switch res.Status {
	case schemas.CommandDone, schemas.CommandFailed, schemas.CommandCancelled:
	default:
		return fmt.Errorf("reorder result: unknown status %q", res.Status)
	}
	if res.Quantity < 0 {
		return fmt.Errorf("reorder result: quantity %d", res.Quantity)
	}
	i := slices.IndexFunc(st.Pending, func(p pending) bool { return p.ID == res.CommandID })
	if i < 0 {
		return nil // answered before, or received already
	}
	p := st.Pending[i]
	st.Pending = slices.Delete(st.Pending, i, i+1)
	if res.Status == schemas.CommandDone {
		st.OnOrder = max(st.OnOrder+res.Quantity-p.Qty, 0)
		return nil
	}
	st.OnOrder = max(st.OnOrder-p.Qty, 0)
	st.RetryAfter = at + retryFailedReorder.Milliseconds()
	return nil
}

// timer makes a SKU act at a time no record of it may come: a listing
// update SyncEvery held back, a content episode timing out.
func (s *skuStage) timer(c *stream.Context, t stream.Timer) error {
	sku, ok := strings.CutPrefix(t.ID, actTimer)
	if !ok {
		return nil
	}
	st, found, err := s.states.Get(c, sku)
	if err != nil || !found {
		return err
	}
	st.Demand.advance(t.At.UnixMilli())
	if err := s.act(c, sku, &st); err != nil {
		return err
	}
	return s.states.Put(c, sku, st)
}

// act works out the SKU's viral episode, stock level, reorder and listing
// after a change.
func (s *skuStage) act(c *stream.Context, sku string, st *skuState) error {
	s.cfg.OrderVelocity.orderWindows(&st.Demand, &st.Orders, &st.Evaluated)
	// Content episodes not reported for ContentTimeout are over; the
	// earliest still open sets the timer that closes it if nothing else
	// comes for the SKU.
	next := int64(0)
	for id, ce := range st.Contents {
		if st.Demand.Clock-ce.At >= ContentTimeout.Milliseconds() {
			delete(st.Contents, id)
		} else if next == 0 || ce.At < next {
			next = ce.At
		}
	}
	if next != 0 {
		c.Schedule(actTimer+sku, time.UnixMilli(next).Add(ContentTimeout))
	}
	if err := s.viral(c, sku, st); err != nil {
		return err
	}
	if !st.Known {
		return nil
	}
	burn := st.burn()
	if err := s.stock(c, sku, st, burn); err != nil {
		return err
	}
	if err := s.reorder(c, sku, st, burn); err != nil {
		return err
	}
	return s.list(c, sku, st)
}

// multiplier is the demand the SKU's signals expect, over its normal.
func (s *skuStage) multiplier(st *skuState) (mult, score, vel float64) {
	mult = 1
	// In id order: a sum's last bits depend on it, and a replay must
	// emit the same bytes.
	for _, id := range slices.Sorted(maps.Keys(st.Contents)) {
		ce := st.Contents[id]
		score = max(score, ce.Score)
		vel += ce.Velocity
		mult = max(mult, ce.Score*s.cfg.Stock.Elasticity)
	}
	if st.Orders.Open {
		score = max(score, st.Orders.Score)
		mult = max(mult, st.Orders.Score)
	}
	return min(mult, s.cfg.Stock.MaxMultiplier), score, vel
}

// viral opens, updates and closes the SKU's episode: open while a content
// item promoting it is in an episode or its own order velocity is.
func (s *skuStage) viral(c *stream.Context, sku string, st *skuState) error {
	open := len(st.Contents) > 0 || st.Orders.Open
	mult, score, vel := s.multiplier(st)
	contents := slices.Sorted(maps.Keys(st.Contents))
	at := c.EventTime()
	var phase schemas.ViralPhase
	switch v := &st.Viral; {
	case open && !v.Open:
		phase = schemas.ViralStarted
		*v = viralEpisode{Open: true, ID: schemas.EventID(at, "viral", sku).String(), BaseBurn: st.Demand.long()}
	case !open && v.Open:
		phase = schemas.ViralEnded
	case open && (math.Abs(mult-v.Multiplier) >= 0.25*v.Multiplier || !slices.Equal(contents, v.Contents)):
		phase = schemas.ViralUpdated
	default:
		return nil
	}
	st.Viral.Multiplier, st.Viral.Contents = mult, contents
	alert := schemas.ViralAlert{SKU: sku, EpisodeID: st.Viral.ID, Phase: phase, Score: score, Velocity: vel,
		DemandMultiplier: mult, ContentIDs: contents, At: at}
	if alert.ContentIDs == nil {
		alert.ContentIDs = []string{}
	}
	if phase == schemas.ViralEnded {
		st.Viral = viralEpisode{Emergency: st.Viral.Emergency}
	}
	s.metrics.alerts.WithLabelValues("viral", string(phase)).Inc()
	return emit(c, s.cfg.ViralAlerts, schemas.TopicViralAlerts, sku, at, alert, "viral", sku, alert.EpisodeID, string(phase))
}

// burn is the units per hour the SKU is expected to sell: the faster of the
// last hour and the last day, and during a viral episode the demand before
// it times the multiplier, if that is faster still.
func (st *skuState) burn() float64 {
	b := max(st.Demand.short(), st.Demand.long())
	if st.Viral.Open {
		b = max(b, st.Viral.BaseBurn*st.Viral.Multiplier)
	}
	return b
}

// cover is the hours the available stock lasts at burn.
func cover(available int64, burn float64) float64 {
	switch {
	case available <= 0:
		return 0
	case burn <= 0:
		return math.Inf(1)
	}
	return float64(available) / burn
}

// stock raises, lowers and clears the SKU's stock alert.
func (s *skuStage) stock(c *stream.Context, sku string, st *skuState, burn float64) error {
	cfg := s.cfg.Stock
	hours := cover(st.OnHand-st.Reserved, burn)
	crit, warn := cfg.Critical.Hours(), cfg.Warning.Hours()
	// Leaving a level takes cover above its threshold by the hysteresis.
	switch st.Level {
	case schemas.StockCritical:
		crit *= 1 + cfg.Hysteresis
		warn *= 1 + cfg.Hysteresis
	case schemas.StockWarning:
		warn *= 1 + cfg.Hysteresis
	}
	level := schemas.StockLevel("")
	switch {
	case hours < crit:
		level = schemas.StockCritical
	case hours < warn:
		level = schemas.StockWarning
	}
	if level == st.Level {
		return nil
	}
	st.Level = level
	if level == "" {
		level = schemas.StockRecovered
	}
	alert := schemas.StockAlert{SKU: sku, Level: level, OnHand: st.OnHand, Reserved: st.Reserved,
		Available: st.OnHand - st.Reserved, BurnRatePerHour: burn, HoursOfCover: hours, At: c.EventTime()}
	if math.IsInf(hours, 1) {
		alert.HoursOfCover = schemas.HoursOfCoverUnbounded
	}
	s.metrics.alerts.WithLabelValues("stock", string(level)).Inc()
	return emit(c, s.cfg.StockAlerts, schemas.TopicStockAlerts, sku, alert.At, alert, "stock", sku, string(level), strconv.FormatInt(alert.At.UnixMilli(), 10))
}

// reorder places a reorder when cover falls below the lead time plus the
// safety margin and nothing is on order, or an emergency one when a viral
// episode makes what is on order too little.
func (s *skuStage) reorder(c *stream.Context, sku string, st *skuState, burn float64) error {
	plan, ok := s.cfg.Plans(sku)
	if !ok || plan.SupplierID == "" || plan.LeadTime <= 0 || burn <= 0 {
		return nil
	}
	lead := plan.LeadTime.Hours()
	threshold := lead + s.cfg.Stock.SafetyMargin.Hours()
	available := st.OnHand - st.Reserved
	at := c.EventTime()
	spread := st.Demand.hourlySpread(st.Demand.long())
	if st.Viral.Open {
		spread *= st.Viral.Multiplier
	}
	// Demand over the lead time and the review period, plus safety stock
	// for the spread of demand over the lead time.
	level := plan.ServiceLevel
	if !(level >= 0.5 && level < 1) {
		level = 0.95 // the catalog's default; 1 would ask for infinite stock
	}
	target := burn*(lead+plan.ReviewPeriod.Hours()) + zScore(level)*spread*math.Sqrt(lead)
	kind, reason := "", ""
	switch {
	case st.OnOrder == 0 && len(st.Pending) == 0 && at.UnixMilli() >= st.RetryAfter:
		if hours := cover(available, burn); hours < threshold {
			kind = "regular"
			reason = fmt.Sprintf("cover %.1f h at %.2f units/h is below lead time %.0f h + margin %.0f h", hours, burn, lead, threshold-lead)
		}
	case st.Viral.Open && at.UnixMilli()-st.Viral.Emergency >= s.cfg.Stock.EmergencyEvery.Milliseconds():
		if hours := cover(available+st.OnOrder, burn); hours < threshold {
			kind = "emergency"
			reason = fmt.Sprintf("viral demand x%.1f: available %d + on order %d cover %.1f h, below lead time %.0f h + margin %.0f h",
				st.Viral.Multiplier, available, st.OnOrder, hours, lead, threshold-lead)
		}
	}
	if kind == "" {
		return nil
	}
	qty := int64(math.Ceil(target)) - available - st.OnOrder
	if kind == "emergency" && qty < max(plan.MinOrderQty, 1) {
		return nil // what is on order nearly does: not worth a second shipment
	}
	qty = max(qty, plan.MinOrderQty, 1)
	st.Seq++
	cmd := schemas.ReorderCommand{CommandID: schemas.EventID(at, "reorder", sku, strconv.FormatInt(st.Seq, 10)).String(),
		SKU: sku, SupplierID: plan.SupplierID, Quantity: qty, Reason: kind + ": " + reason, IssuedAt: at}
	st.Pending = append(st.Pending, pending{ID: cmd.CommandID, Qty: qty})
	st.OnOrder += qty
	if kind == "emergency" {
		st.Viral.Emergency = at.UnixMilli()
	}
	s.metrics.reorders.WithLabelValues(kind).Inc()
	return emit(c, s.cfg.Reorders, schemas.TopicReorderActions, sku, at, cmd, "reorder", cmd.CommandID)
}

// list keeps TikTok's listed stock a buffer below what is available: sent
// when it moved materially; a fall at once (TikTok must never list more
// than there is), a rise at most every SyncEvery (a timer sends what
// waited).
func (s *skuStage) list(c *stream.Context, sku string, st *skuState) error {
	cfg := s.cfg.Stock
	available := max(st.OnHand-st.Reserved, 0)
	listed := available - int64(math.Ceil(float64(available)*cfg.Buffer))
	change := listed - st.Listed
	if st.ListedSet && (change == 0 || listed != 0 && math.Abs(float64(change)) < max(1, cfg.Material*float64(st.Listed))) {
		return nil
	}
	at := c.EventTime()
	if st.ListedSet && change > 0 && at.UnixMilli()-st.ListedAt < cfg.SyncEvery.Milliseconds() {
		c.Schedule(actTimer+sku, time.UnixMilli(st.ListedAt).Add(cfg.SyncEvery))
		return nil
	}
	st.Listed, st.ListedSet, st.ListedAt = listed, true, at.UnixMilli()
	st.Seq++
	cmd := schemas.TikTokSyncCommand{CommandID: schemas.EventID(at, "sync-stock", sku, strconv.FormatInt(st.Seq, 10)).String(),
		Kind: schemas.SyncStock, SKU: sku, Quantity: listed, IssuedAt: at}
	return emit(c, s.cfg.TikTokSync, schemas.TopicTikTokSyncActions, sku, at, cmd, "sync-stock", cmd.CommandID)
}

// emit sends value to topic keyed by key, with the ce_type of the catalog
// topic it is (topic may carry a deployment prefix) and an event id made of
// idParts, so a replay emits the same ids.
func emit(c *stream.Context, topic, catalogTopic, key string, at time.Time, value any, idParts ...string) error {
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	t, _ := schemas.Lookup(catalogTopic)
	env := schemas.Envelope{ID: schemas.EventID(at, idParts...), Type: t.EventType, SchemaVersion: 1,
		Source: "creatorflow/inventory", Time: at.UTC(), IngestTime: at.UTC()}
	c.Emit(&kgo.Record{Topic: topic, Key: []byte(key), Value: b, Headers: env.Headers()})
	return nil
}
