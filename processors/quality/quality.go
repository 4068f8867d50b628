// Package quality measures the viral-detection and stock-protection
// processors against a labelled scenario (connectors/scenario): it replays
// the scenario's records through the velocity and inventory topologies with
// the runtime's Driver (the runtime's own per-record code, in process) and
// compares what they emitted with the ground truth.
package quality

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/scenario"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/processors/inventory"
	"github.com/creatorflow/creatorflow/processors/velocity"
	"github.com/creatorflow/creatorflow/schemas"
)

// Rising is the engagement multiplier from which a viral item is on its
// way and an episode on it is a detection, not a false alarm. A spike gets
// there seconds after its onset; a slow burn is labelled at multiplier 3
// (scenario.Model.SlowBurnOnsetMultiplier) but is half way there up to an
// hour earlier, growing exponentially, and an episode then is an early
// detection (a negative delay).
const Rising = 1.5

// Options are the processor settings evaluated; zero values are the
// processors' defaults.
type Options struct {
	Content velocity.ContentConfig
	Orders  inventory.OrderConfig
	Stock   inventory.StockConfig
	// Plans gives each SKU's catalog plan (the scenario's catalog).
	Plans func(sku string) (inventory.Plan, bool)
}

// Report is the outcome of an evaluation.
type Report struct {
	Items      int     `json:"items"`
	ItemDays   float64 `json:"item_days"`
	Records    int     `json:"records"`
	WallTime   float64 `json:"wall_seconds"`
	Throughput float64 `json:"records_per_second"`
	// Content items: viral ones detected (true positives), missed, and
	// other items with an episode (false positives).
	Content Detection `json:"content"`
	// Spikes: the content detection of sudden spikes alone.
	Spikes Detection `json:"spikes"`
	// SKUs: the same for viral alerts per SKU.
	SKUs Detection `json:"skus"`
	// FalseAlarms counts content episodes that started on items that were
	// not viral, or long before a viral item's onset.
	FalseAlarms            int     `json:"false_alarms"`
	FalseAlarmsPerKItemDay float64 `json:"false_alarms_per_1000_item_days"`
	// Stock-outs of viral SKUs a reorder at onset could have prevented
	// (Possible), those whose first reorder would arrive before the
	// stock-out (EarlyEnough: a routine reorder placed before the onset
	// counts, whatever its quantity) and those the reorders did prevent:
	// with every reorder arriving after its lead time, stock stays above
	// 0 to the end of the scenario (Enough, and Prevented its share).
	Possible    int     `json:"possible"`
	EarlyEnough int     `json:"early_enough"`
	Enough      int     `json:"enough"`
	Prevented   float64 `json:"prevented_share"`
	// Restarts counts content episodes on viral items after their first
	// (an episode that ended and started again, as a spike decays).
	Restarts    int `json:"restarts"`
	Reorders    int `json:"reorders"`
	StockAlerts int `json:"stock_alerts"`
	// Misses names what went wrong, for whoever tunes the detector.
	Misses []string `json:"misses,omitempty"`
}

// Detection is precision, recall and delay of one kind of detection.
type Detection struct {
	Viral          int     `json:"viral"`
	TruePositives  int     `json:"true_positives"`
	FalsePositives int     `json:"false_positives"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	// DelayP50 and DelayP95 are seconds of event time from onset to the
	// start of the episode, over the detected viral ones.
	DelayP50 float64 `json:"delay_p50_seconds"`
	DelayP95 float64 `json:"delay_p95_seconds"`
	DelayMax float64 `json:"delay_max_seconds"`
	// delays are the sorted delays the quantiles come from, for Merge.
	delays []float64
}

// merge adds the counts and delays of o.
func (d *Detection) merge(o Detection) {
	d.Viral += o.Viral
	d.TruePositives += o.TruePositives
	d.FalsePositives += o.FalsePositives
	d.delays = append(d.delays, o.delays...)
	d.finish()
}

// finish computes the ratios and quantiles from the counts and delays.
func (d *Detection) finish() {
	d.Precision, d.Recall = 0, 0
	if d.TruePositives+d.FalsePositives > 0 {
		d.Precision = float64(d.TruePositives) / float64(d.TruePositives+d.FalsePositives)
	}
	if d.Viral > 0 {
		d.Recall = float64(d.TruePositives) / float64(d.Viral)
	}
	if len(d.delays) > 0 {
		sort.Float64s(d.delays)
		d.DelayP50, d.DelayP95, d.DelayMax = quantile(d.delays, 0.5), quantile(d.delays, 0.95), d.delays[len(d.delays)-1]
	}
}

// Merge pools reports of several scenarios into one: counts add up, the
// delay quantiles are over every detection.
func Merge(reports ...Report) Report {
	var m Report
	for _, r := range reports {
		m.Items += r.Items
		m.ItemDays += r.ItemDays
		m.Records += r.Records
		m.WallTime += r.WallTime
		m.Content.merge(r.Content)
		m.Spikes.merge(r.Spikes)
		m.SKUs.merge(r.SKUs)
		m.FalseAlarms += r.FalseAlarms
		m.Possible += r.Possible
		m.EarlyEnough += r.EarlyEnough
		m.Enough += r.Enough
		m.Restarts += r.Restarts
		m.Reorders += r.Reorders
		m.StockAlerts += r.StockAlerts
		m.Misses = append(m.Misses, r.Misses...)
	}
	m.finishTotals()
	return m
}

// finishTotals computes the report's ratios from its counts.
func (r *Report) finishTotals() {
	if r.WallTime > 0 {
		r.Throughput = float64(r.Records) / r.WallTime
	}
	if r.ItemDays > 0 {
		r.FalseAlarmsPerKItemDay = float64(r.FalseAlarms) / r.ItemDays * 1000
	}
	r.Prevented = 0
	if r.Possible > 0 {
		r.Prevented = float64(r.Enough) / float64(r.Possible)
	}
}

const (
	velocityApp  = "quality-velocity"
	inventoryApp = "quality-inventory"
)

// Evaluate replays s through the processors and scores what they emitted.
func Evaluate(s *scenario.Scenario, opts Options) (Report, error) {
	signals := inventory.SignalsTopic(inventoryApp)
	vt, err := velocity.Topology(velocity.Config{Application: velocityApp, Metrics: schemas.TopicContentMetrics,
		Signals: signals, Content: opts.Content})
	if err != nil {
		return Report{}, err
	}
	its, err := inventory.Topologies(inventory.Config{Application: inventoryApp, Orders: schemas.TopicOrders,
		Inventory: schemas.TopicInventoryEvents, ReorderResults: schemas.TopicReorderResults, Signals: signals,
		ViralAlerts: schemas.TopicViralAlerts, StockAlerts: schemas.TopicStockAlerts, Reorders: schemas.TopicReorderActions,
		TikTokSync: schemas.TopicTikTokSyncActions, Plans: opts.Plans, OrderVelocity: opts.Orders, Stock: opts.Stock})
	if err != nil {
		return Report{}, err
	}
	drivers := map[string]*stream.Driver{}
	for _, topo := range []stream.Topology{vt, its[0], its[1]} {
		// The catalog's partitions for catalog inputs, the internal
		// topics' own for the SKU stage.
		t, ok := schemas.Lookup(topo.Inputs[0])
		if !ok {
			t.Partitions = signals.Partitions
		}
		drv, err := stream.NewDriver(topo, stream.DriverConfig{Partitions: t.Partitions})
		if err != nil {
			return Report{}, err
		}
		for _, in := range topo.Inputs {
			drivers[in] = drv
		}
	}
	var out outputs
	var route func(r *kgo.Record) error
	route = func(r *kgo.Record) error {
		recs, err := drivers[r.Topic].Pipe(r)
		if err != nil {
			return err
		}
		for _, o := range recs {
			if err := out.keep(o); err != nil {
				return err
			}
			if drivers[o.Topic] != nil {
				if err := route(o); err != nil {
					return err
				}
			}
		}
		return nil
	}
	start := time.Now()
	for _, ev := range s.Events {
		if drivers[ev.Topic] == nil {
			continue
		}
		if err := route(ev.Record()); err != nil {
			return Report{}, fmt.Errorf("%s record %s: %w", ev.Topic, ev.Key, err)
		}
	}
	wall := time.Since(start)
	rep := score(s, &out)
	rep.Records, rep.WallTime = len(s.Events), wall.Seconds()
	rep.finishTotals()
	return rep, nil
}

// outputs are what the processors emitted, decoded.
type outputs struct {
	signals  []velocity.ContentSignal
	viral    []schemas.ViralAlert
	reorders []schemas.ReorderCommand
	stock    int
	dlq      int
}

func (o *outputs) keep(r *kgo.Record) error {
	var err error
	switch r.Topic {
	case inventory.SignalsTopic(inventoryApp).Name:
		o.signals, err = appendJSON(o.signals, r.Value)
	case schemas.TopicViralAlerts:
		o.viral, err = appendJSON(o.viral, r.Value)
	case schemas.TopicReorderActions:
		o.reorders, err = appendJSON(o.reorders, r.Value)
	case schemas.TopicStockAlerts:
		o.stock++
	case "dlq.v1":
		o.dlq++
	}
	return err
}

func appendJSON[T any](list []T, b []byte) ([]T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return list, err
	}
	return append(list, v), nil
}

// score compares the outputs with the truth.
func score(s *scenario.Scenario, out *outputs) Report {
	rep := Report{Items: len(s.Items), ItemDays: float64(len(s.Items)) * s.Config.Duration.Hours() / 24,
		Reorders: len(out.reorders), StockAlerts: out.stock}
	if out.dlq > 0 {
		rep.Misses = append(rep.Misses, fmt.Sprintf("%d records went to the DLQ", out.dlq))
	}
	// Content episodes: a STARTED signal per SKU the item promotes; one
	// start per item and time.
	starts := map[string][]time.Time{}
	for _, sig := range out.signals {
		if sig.Phase == velocity.Started.String() {
			if ts := starts[sig.ContentID]; len(ts) == 0 || !ts[len(ts)-1].Equal(sig.At) {
				starts[sig.ContentID] = append(ts, sig.At)
			}
		}
	}
	var items []truth
	for _, it := range s.Items {
		items = append(items, truth{id: it.ContentID, viral: it.Viral, onset: it.Onset, from: detectableFrom(s, it), kind: string(it.Kind)})
	}
	rep.Spikes = spikeDelays(items, starts)
	for _, it := range items {
		if n := len(starts[it.id]); it.viral && n > 1 {
			rep.Restarts += n - 1
		}
	}
	rep.Content, rep.FalseAlarms = detect(items, starts, &rep.Misses)
	skuStarts := map[string][]time.Time{}
	for _, a := range out.viral {
		if a.Phase == schemas.ViralStarted {
			skuStarts[a.SKU] = append(skuStarts[a.SKU], a.At)
		}
	}
	from := map[string]time.Time{}
	for i, it := range s.Items {
		for _, sku := range it.SKUIDs {
			if f := items[i].from; it.Viral && (from[sku].IsZero() || f.Before(from[sku])) {
				from[sku] = f
			}
		}
	}
	var skus []truth
	for _, sk := range s.SKUs {
		skus = append(skus, truth{id: sk.SKUID, viral: sk.Viral, onset: sk.Onset, from: from[sk.SKUID], kind: "sku"})
	}
	rep.SKUs, _ = detect(skus, skuStarts, &rep.Misses)
	prevention(s, out, &rep)
	return rep
}

type truth struct {
	id, kind string
	viral    bool
	// onset is the labelled onset, from the earliest time an episode
	// counts as detecting it.
	onset, from time.Time
}

// detectableFrom is when a viral item's multiplier reaches Rising: its
// onset for a spike; for a slow burn, growing exponentially to its peak,
// where m(t) = Peak^((t-start)/(PeakAt-start)) passes Rising, with start
// found from m(Onset) = SlowBurnOnsetMultiplier.
func detectableFrom(s *scenario.Scenario, it scenario.ItemTruth) time.Time {
	if it.Kind != scenario.SlowBurn || it.Peak <= 1 {
		return it.Onset
	}
	onsetMult := scenario.DefaultModel().SlowBurnOnsetMultiplier
	if s.Config.Model != nil {
		onsetMult = s.Config.Model.SlowBurnOnsetMultiplier
	}
	f := math.Log(onsetMult) / math.Log(it.Peak)
	onset, peak := float64(it.Onset.UnixMilli()), float64(it.PeakAt.UnixMilli())
	start := (onset - f*peak) / (1 - f)
	at := start + math.Log(Rising)/math.Log(it.Peak)*(peak-start)
	return time.UnixMilli(int64(at)).UTC()
}

// spikeDelays is the detection delay over the sudden spikes alone, whose
// onset is sharp.
func spikeDelays(items []truth, starts map[string][]time.Time) Detection {
	var spikes []truth
	for _, it := range items {
		if it.kind == string(scenario.Spike) {
			spikes = append(spikes, it)
		}
	}
	d, _ := detect(spikes, starts, nil)
	return d
}

// detect scores episode starts against the truth.
func detect(items []truth, starts map[string][]time.Time, misses *[]string) (d Detection, falseAlarms int) {
	var delays []float64
	note := func(format string, args ...any) {
		if misses != nil {
			*misses = append(*misses, fmt.Sprintf(format, args...))
		}
	}
	for _, it := range items {
		ts := starts[it.id]
		if !it.viral {
			if len(ts) > 0 {
				d.FalsePositives++
				falseAlarms += len(ts)
				note("false alarm: %s %s at %s", it.kind, it.id, ts[0].Format(time.TimeOnly))
			}
			continue
		}
		d.Viral++
		found := false
		for _, t := range ts {
			if t.Before(it.from) {
				falseAlarms++
				note("early alarm: %s %s at %s, onset %s", it.kind, it.id, t.Format(time.TimeOnly), it.onset.Format(time.TimeOnly))
				continue
			}
			if !found {
				found = true
				delays = append(delays, t.Sub(it.onset).Seconds())
			}
		}
		if found {
			d.TruePositives++
		} else {
			note("missed: %s %s (onset %s)", it.kind, it.id, it.onset.Format(time.TimeOnly))
		}
	}
	d.delays = delays
	d.finish()
	return d, falseAlarms
}

// quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

// prevention checks, for each viral SKU whose stock-out a reorder at onset
// could prevent, whether the processors' reorders did: the first arrives
// before the stock-out (the target's measure), and all those arriving in
// time keep stock above 0 to the end of the scenario.
func prevention(s *scenario.Scenario, out *outputs, rep *Report) {
	bySKU := map[string][]schemas.ReorderCommand{}
	for _, r := range out.reorders {
		bySKU[r.SKU] = append(bySKU[r.SKU], r)
	}
	demand := netDemand(s)
	for _, sk := range s.SKUs {
		if !sk.Possible {
			continue
		}
		rep.Possible++
		rs := bySKU[sk.SKUID]
		if len(rs) == 0 {
			rep.Misses = append(rep.Misses, fmt.Sprintf("no reorder: sku %s (onset %s, stock-out %s, lead %s)",
				sk.SKUID, sk.Onset.Format(time.TimeOnly), sk.StockOut.Format(time.TimeOnly), sk.LeadTime))
			continue
		}
		if arrives := rs[0].IssuedAt.Add(sk.LeadTime); !arrives.After(sk.StockOut) {
			rep.EarlyEnough++
		} else {
			rep.Misses = append(rep.Misses, fmt.Sprintf("late reorder: sku %s arrives %s, stock-out %s (onset %s, reordered %s)",
				sk.SKUID, arrives.Format(time.TimeOnly), sk.StockOut.Format(time.TimeOnly), sk.Onset.Format(time.TimeOnly), rs[0].IssuedAt.Format(time.TimeOnly)))
		}
		if holds(sk, rs, demand[sk.SKUID]) {
			rep.Enough++
		} else {
			rep.Misses = append(rep.Misses, fmt.Sprintf("ran out: sku %s (onset %s, stock-out %s, lead %s, %d reorders)",
				sk.SKUID, sk.Onset.Format(time.TimeOnly), sk.StockOut.Format(time.TimeOnly), sk.LeadTime, len(rs)))
		}
	}
}

// change is a change of a SKU's available stock at a time.
type change struct {
	at    time.Time
	units int64
}

// netDemand lists, per SKU, the units ordered (negative) and cancelled
// (positive) by event time, as the truth counts them.
func netDemand(s *scenario.Scenario) map[string][]change {
	out := map[string][]change{}
	for _, ev := range s.Events {
		if ev.Topic != schemas.TopicOrders {
			continue
		}
		var o schemas.OrderEvent
		if json.Unmarshal(ev.Value, &o) != nil {
			continue
		}
		sign := int64(0)
		switch {
		case o.PreviousStatus == "" && o.Status != schemas.OrderStatusCancelled:
			sign = -1
		case o.Status == schemas.OrderStatusCancelled && o.PreviousStatus != "":
			sign = 1
		}
		for _, li := range o.LineItems {
			out[li.SKUID] = append(out[li.SKUID], change{ev.Time, sign * max(li.Quantity, 1)})
		}
	}
	for _, cs := range out {
		slices.SortStableFunc(cs, func(a, b change) int { return a.at.Compare(b.at) })
	}
	return out
}

// holds says whether stock, with the reorders arriving after their lead
// time, stays above 0 through the demand.
func holds(sk scenario.SKUTruth, rs []schemas.ReorderCommand, demand []change) bool {
	cs := slices.Clone(demand)
	for _, r := range rs {
		cs = append(cs, change{r.IssuedAt.Add(sk.LeadTime), r.Quantity})
	}
	slices.SortStableFunc(cs, func(a, b change) int { return a.at.Compare(b.at) })
	stock := int64(sk.StartingStock)
	for _, c := range cs {
		if stock += c.units; stock <= 0 {
			return false
		}
	}
	return true
}
