package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/creatorflow/creatorflow/connectors/catalog"
	"github.com/creatorflow/creatorflow/schemas"
)

// smallConfig is big enough for every kind and fault to occur, small
// enough for the race detector.
func smallConfig(seed int64) Config {
	return Config{Seed: seed, Items: 100, Shops: 3, Duration: 7 * time.Hour, Warmup: time.Hour}
}

// tinyConfig is for tests that generate several scenarios.
func tinyConfig(seed int64) Config {
	return Config{Seed: seed, Items: 40, Shops: 2, Duration: 5 * time.Hour, Warmup: 30 * time.Minute}
}

// small is the scenario most tests check, made once.
var small = sync.OnceValues(func() (*Scenario, error) { return Generate(smallConfig(7)) })

func smallScenario(t *testing.T) *Scenario {
	t.Helper()
	s, err := small()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reading is a published content reading.
type reading struct {
	Event
	m schemas.ContentMetrics
}

// readingsByItem returns each item's readings in event-time order.
func readingsByItem(t *testing.T, s *Scenario) map[string][]reading {
	t.Helper()
	out := map[string][]reading{}
	for _, e := range s.Events {
		if e.Topic != schemas.TopicContentMetrics {
			continue
		}
		var m schemas.ContentMetrics
		if err := json.Unmarshal(e.Value, &m); err != nil {
			t.Fatalf("reading %s: %v", e.ID, err)
		}
		out[m.ContentID] = append(out[m.ContentID], reading{e, m})
	}
	for _, rs := range out {
		slices.SortFunc(rs, func(a, b reading) int { return a.Time.Compare(b.Time) })
	}
	return out
}

func writeFiles(t *testing.T, s *Scenario) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range []string{CatalogFile, TruthFile, EventsFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	return out
}

func TestScenarioDeterminism(t *testing.T) {
	generate := func(cfg Config) (*Scenario, map[string][]byte) {
		t.Helper()
		s, err := Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s, writeFiles(t, s)
	}
	a, fa := generate(tinyConfig(7))
	_, fb := generate(tinyConfig(7))
	for name := range fa {
		if !bytes.Equal(fa[name], fb[name]) {
			t.Errorf("%s differs between two runs of the same config", name)
		}
	}
	// truth.json's config, defaults filled in, names the same scenario.
	if _, again := generate(a.Config); !bytes.Equal(again[EventsFile], fa[EventsFile]) {
		t.Error("generating from the written config gives other events")
	}
	_, fo := generate(tinyConfig(8))
	for _, name := range []string{TruthFile, EventsFile} {
		if bytes.Equal(fo[name], fa[name]) {
			t.Errorf("%s is the same for seeds 7 and 8", name)
		}
	}
}

func TestScenarioConfig(t *testing.T) {
	bad := DefaultModel()
	bad.SpikePeak = Range{10, 5}
	for _, tt := range []struct {
		name string
		cfg  Config
		want string // "" for valid
	}{
		{"defaults", Config{}, ""},
		{"too short", Config{Duration: 4 * time.Hour}, "leaves no time for episodes"},
		{"warmup eats it", Config{Duration: 6 * time.Hour, Warmup: 3 * time.Hour}, "leaves no time"},
		{"negative items", Config{Items: -1}, "items must be at least 1"},
		{"unknown kind", Config{Mix: map[Kind]float64{"viral": 1}}, `unknown kind "viral"`},
		{"negative share", Config{Mix: map[Kind]float64{Spike: -1, Steady: 2}}, "share of spike"},
		{"all zero", Config{Mix: map[Kind]float64{Spike: 0}}, "positive share"},
		{"bad model", Config{Model: &bad}, "spike_peak"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tt.cfg.withDefaults()
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want == "":
				if cfg.Items != DefaultItems || cfg.Shops != DefaultShops || !cfg.Start.Equal(DefaultStart) ||
					cfg.Duration != DefaultDuration || cfg.Warmup != DefaultWarmup || cfg.Model == nil ||
					!reflect.DeepEqual(cfg.Mix, DefaultMix()) {
					t.Fatalf("defaults not filled in: %+v", cfg)
				}
			case err == nil || !errors.Is(err, ErrConfig) || !bytes.Contains([]byte(err.Error()), []byte(tt.want)):
				t.Fatalf("error %v, want ErrConfig mentioning %q", err, tt.want)
			}
		})
	}
}

func TestScenarioCatalog(t *testing.T) {
	s := smallScenario(t)
	if _, err := catalog.Validate(s.Catalog); err != nil {
		t.Fatalf("the catalog is not importable: %v", err)
	}
	want := map[Kind]int{Spike: 12, SlowBurn: 6, Burst: 8, Glitch: 6, AlwaysHot: 10, Quiet: 20, Steady: 38}
	if got := s.Stats().Kinds; !reflect.DeepEqual(got, want) {
		t.Errorf("kinds %v, want the mix's exact shares %v", got, want)
	}
	suppliers := map[string]bool{}
	for _, sup := range s.Catalog.Suppliers {
		suppliers[sup.ID] = true
	}
	skuShop := map[string]string{}
	for _, sku := range s.Catalog.SKUs {
		skuShop[sku.ID] = sku.ShopID
		if !suppliers[sku.SupplierID] || sku.StartingStock < s.Config.Model.MinStock {
			t.Errorf("SKU %s: supplier %q, stock %d", sku.ID, sku.SupplierID, sku.StartingStock)
		}
	}
	promoted := map[string]int{}
	viralPromoters := map[string]int{}
	for i, ct := range s.Catalog.Content {
		it := s.Items[i]
		if it.ContentID != ct.ID || !slices.Equal(it.SKUIDs, ct.SKUIDs) || len(ct.SKUIDs) < 1 || len(ct.SKUIDs) > 3 {
			t.Errorf("content %s: SKUs %v, truth %+v", ct.ID, ct.SKUIDs, it)
		}
		for _, id := range ct.SKUIDs {
			if skuShop[id] != ct.ShopID {
				t.Errorf("content %s of %s promotes %s of %s", ct.ID, ct.ShopID, id, skuShop[id])
			}
			promoted[id]++
			if it.Viral {
				viralPromoters[id]++
			}
		}
	}
	shared := 0
	for _, sku := range s.Catalog.SKUs {
		if promoted[sku.ID] == 0 {
			t.Errorf("SKU %s is promoted by no content", sku.ID)
		}
		if viralPromoters[sku.ID] > 1 {
			shared++
		}
	}
	if shared > len(s.Catalog.SKUs)/20 {
		t.Errorf("%d SKUs are promoted by more than one viral item", shared)
	}
}

func TestScenarioTruth(t *testing.T) {
	s := smallScenario(t)
	m := s.Config.Model
	from, to := s.Config.EpisodeWindow()
	warm, end := s.Config.Start.Add(s.Config.Warmup), s.Config.End()
	byItem := readingsByItem(t, s)
	kinds := map[Kind]int{}

	for _, it := range s.Items {
		rs := byItem[it.ContentID]
		if len(rs) != it.Readings {
			t.Errorf("%s: %d readings, truth says %d", it.ContentID, len(rs), it.Readings)
		}
		if it.Viral != it.Kind.Viral() {
			t.Errorf("%s: viral %v for kind %s", it.ContentID, it.Viral, it.Kind)
		}
		switch it.Kind {
		case Spike, SlowBurn:
			if it.Onset.Before(from) || it.Onset.After(to) {
				t.Errorf("%s (%s): onset %s outside [%s, %s]", it.ContentID, it.Kind, it.Onset, from, to)
			}
		case Burst, Glitch:
			// The reading that shows it comes at most a few polls after
			// the drawn time, which is in the window.
			if it.Onset.Before(from) || it.Onset.After(to.Add(10*time.Minute)) {
				t.Errorf("%s (%s): shown at %s, outside the window [%s, %s]", it.ContentID, it.Kind, it.Onset, from, to)
			}
		default:
			if !it.Onset.IsZero() {
				t.Errorf("%s (%s) has an onset", it.ContentID, it.Kind)
			}
		}
		kinds[it.Kind]++
		for _, at := range []time.Time{it.Onset, it.PeakAt, it.ResetAt, it.GapStart, it.GapEnd} {
			if !at.Equal(at.Truncate(time.Millisecond)) {
				t.Errorf("%s: time %s is not to the millisecond", it.ContentID, at)
			}
		}

		// Faults: after the warmup, as the truth says.
		for _, at := range []time.Time{it.ResetAt, it.GapStart} {
			if !at.IsZero() && (at.Before(warm) || !at.Before(end)) {
				t.Errorf("%s: fault at %s, outside [%s, %s)", it.ContentID, at, warm, end)
			}
		}
		late := 0
		for _, r := range rs {
			if r.Arrival.After(r.Time) {
				late++
				if d := r.Arrival.Sub(r.Time); d < seconds(m.LateDelaySeconds.Min) || d > seconds(m.LateDelaySeconds.Max) {
					t.Errorf("%s: late by %s", it.ContentID, d)
				}
			} else if !r.Arrival.Equal(r.Time) {
				t.Errorf("%s: arrival %s before event time %s", it.ContentID, r.Arrival, r.Time)
			}
			if !it.GapStart.IsZero() && !r.Time.Before(it.GapStart) && r.Time.Before(it.GapEnd) {
				t.Errorf("%s: reading at %s inside its gap [%s, %s)", it.ContentID, r.Time, it.GapStart, it.GapEnd)
			}
		}
		if late != it.Late {
			t.Errorf("%s: %d late readings, truth says %d", it.ContentID, late, it.Late)
		}
		wantFaults := []string(nil)
		for _, f := range []struct {
			name string
			on   bool
		}{{FaultReset, !it.ResetAt.IsZero()}, {FaultLate, it.Late > 0}, {FaultMissing, it.Missing > 0}, {FaultGap, !it.GapStart.IsZero()}} {
			if f.on {
				wantFaults = append(wantFaults, f.name)
			}
		}
		if !slices.Equal(it.Faults, wantFaults) {
			t.Errorf("%s: faults %v, want %v", it.ContentID, it.Faults, wantFaults)
		}

		// Counters are cumulative: they only go down at the reset and
		// right after the glitched reading.
		for i := 1; i < len(rs); i++ {
			a, b := rs[i-1], rs[i]
			reset := !it.ResetAt.IsZero() && a.Time.Before(it.ResetAt) && !b.Time.Before(it.ResetAt)
			glitch := it.Kind == Glitch && a.Time.Equal(it.Onset)
			down := b.m.Views < a.m.Views || b.m.Likes < a.m.Likes || b.m.Comments < a.m.Comments || b.m.Shares < a.m.Shares
			if down && !reset && !(glitch && b.m.Likes >= a.m.Likes && b.m.Comments >= a.m.Comments && b.m.Shares >= a.m.Shares) {
				t.Errorf("%s: counters went down from %+v to %+v", it.ContentID, a.m, b.m)
			}
		}
	}
	for _, k := range Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s item", k)
		}
	}
}

// TestScenarioEpisodes checks that each kind's readings show what its truth
// says.
func TestScenarioEpisodes(t *testing.T) {
	s := smallScenario(t)
	m := s.Config.Model
	byItem := readingsByItem(t, s)
	// rate is the views a minute between the first and the last reading
	// in [from, to), if there are two and no reset between them.
	rate := func(it ItemTruth, from, to time.Time) (float64, bool) {
		var in []reading
		for _, r := range byItem[it.ContentID] {
			if !r.Time.Before(from) && r.Time.Before(to) {
				in = append(in, r)
			}
		}
		if len(in) < 2 || (!it.ResetAt.IsZero() && it.ResetAt.After(in[0].Time) && !it.ResetAt.After(in[len(in)-1].Time)) {
			return 0, false
		}
		a, b := in[0], in[len(in)-1]
		return float64(b.m.Views-a.m.Views) / b.Time.Sub(a.Time).Minutes(), true
	}
	unchanged := 0
	for _, it := range s.Items {
		rs := byItem[it.ContentID]
		switch it.Kind {
		case Spike:
			// The hold lasts at least SpikeHoldMinutes.Min after the peak.
			r, ok := rate(it, it.PeakAt, it.PeakAt.Add(minutes(m.SpikeHoldMinutes.Min)))
			if ok && r < 5*it.BaseViewsPerMinute {
				t.Errorf("spike %s: %.0f views/min at its peak, base %.0f, peak x%.1f", it.ContentID, r, it.BaseViewsPerMinute, it.Peak)
			}
			if before, ok := rate(it, it.Onset.Add(-time.Hour), it.Onset); ok && before > 2*it.BaseViewsPerMinute {
				t.Errorf("spike %s: %.0f views/min before its onset, base %.0f", it.ContentID, before, it.BaseViewsPerMinute)
			}
			// The poller speeds up as the spike takes off: some readings
			// of the rise come at its shortest interval.
			shortest := time.Duration(1<<63 - 1)
			var prev time.Time
			for _, r := range rs {
				if !r.Time.Before(it.Onset) && r.Time.Before(it.PeakAt.Add(2*time.Minute)) && !prev.IsZero() {
					shortest = min(shortest, r.Time.Sub(prev))
				}
				prev = r.Time
			}
			if limit := seconds(2 * m.MinPollSeconds * (1 + m.PollJitter)); shortest > limit && it.GapStart.IsZero() {
				t.Errorf("spike %s: shortest interval during its rise %s, want at most %s", it.ContentID, shortest, limit)
			}
		case SlowBurn:
			if r, ok := rate(it, it.PeakAt, it.PeakAt.Add(30*time.Minute)); ok && r < 3*it.BaseViewsPerMinute {
				t.Errorf("slow burn %s: %.0f views/min at its peak, base %.0f, peak x%.1f", it.ContentID, r, it.BaseViewsPerMinute, it.Peak)
			}
		case Burst:
			i := slices.IndexFunc(rs, func(r reading) bool { return r.Time.Equal(it.Onset) })
			if i < 1 {
				t.Errorf("burst %s: no reading at %s", it.ContentID, it.Onset)
				continue
			}
			jump := float64(rs[i].m.Views - rs[i-1].m.Views)
			if normal := it.BaseViewsPerMinute * rs[i].Time.Sub(rs[i-1].Time).Minutes(); jump < 10*normal {
				t.Errorf("burst %s: %v views in the burst's interval, normal %v", it.ContentID, jump, normal)
			}
			if i+1 < len(rs) && rs[i+1].m.Views < rs[i].m.Views && it.ResetAt.IsZero() {
				t.Errorf("burst %s: the views went down after the burst", it.ContentID)
			}
		case Glitch:
			i := slices.IndexFunc(rs, func(r reading) bool { return r.Time.Equal(it.Onset) })
			if i < 1 || i+1 >= len(rs) {
				t.Errorf("glitch %s: no reading at %s with one before and after", it.ContentID, it.Onset)
				continue
			}
			if g, prev, next := rs[i].m.Views, rs[i-1].m.Views, rs[i+1].m.Views; g <= prev || g <= next {
				t.Errorf("glitch %s: views %d, %d, %d", it.ContentID, prev, g, next)
			}
		case Quiet:
			for i := 1; i < len(rs); i++ {
				if rs[i].m.Views == rs[i-1].m.Views {
					unchanged++
				}
			}
		}
	}
	if unchanged == 0 {
		t.Error("no quiet item has an unchanged reading")
	}
}

func TestScenarioEvents(t *testing.T) {
	s := smallScenario(t)
	start, end := s.Config.Start, s.Config.End()
	ids := map[string]bool{}
	late := 0
	for i, e := range s.Events {
		if i > 0 && compareEvents(&s.Events[i-1], &e) >= 0 {
			t.Fatalf("events %d and %d are not in arrival order", i-1, i)
		}
		if ids[e.ID] {
			t.Fatalf("id %s twice", e.ID)
		}
		ids[e.ID] = true
		if e.Time.Before(start) || !e.Time.Before(end) {
			t.Errorf("event at %s outside the scenario", e.Time)
		}
		if e.Arrival.After(e.Time) {
			late++
		}
		if i%5 == 0 || e.Arrival.After(e.Time) { // a sample, for the race detector's sake
			checkRecord(t, e)
		}
		switch e.Topic {
		case schemas.TopicContentMetrics:
			var m schemas.ContentMetrics
			if err := json.Unmarshal(e.Value, &m); err != nil {
				t.Fatal(err)
			}
			// appendReading writes what json.Marshal would.
			if want, _ := json.Marshal(m); !bytes.Equal(want, e.Value) {
				t.Fatalf("reading\n%s\nwant\n%s", e.Value, want)
			}
			if m.ContentID != e.Key || !m.PolledAt.Equal(e.Time) ||
				e.ID != schemas.EventID(e.Time, m.ContentID, e.Time.Format(time.RFC3339Nano)).String() {
				t.Fatalf("reading %+v of event %+v", m, e)
			}
		case schemas.TopicOrders:
			var o schemas.OrderEvent
			if err := json.Unmarshal(e.Value, &o); err != nil {
				t.Fatal(err)
			}
			checkOrder(t, s, e, o)
		default:
			t.Fatalf("event of topic %s", e.Topic)
		}
	}
	if late == 0 {
		t.Error("no late event")
	}
}

func checkRecord(t *testing.T, e Event) {
	t.Helper()
	rec := e.Record()
	env, err := schemas.ParseHeaders(rec.Headers)
	if err != nil {
		t.Fatal(err)
	}
	topic, _ := schemas.Lookup(e.Topic)
	if env.ID.String() != e.ID || !env.Time.Equal(e.Time) || !env.IngestTime.Equal(e.Arrival) || !rec.Timestamp.Equal(e.Arrival) ||
		rec.Topic != e.Topic || string(rec.Key) != e.Key || !bytes.Equal(rec.Value, e.Value) || env.Source != Source ||
		env.Type != topic.EventType || env.SchemaVersion != 1 {
		t.Fatalf("record of %+v: %+v, envelope %+v", e, rec, env)
	}
}

func checkOrder(t *testing.T, s *Scenario, e Event, o schemas.OrderEvent) {
	t.Helper()
	m := s.Config.Model
	skuShop := map[string]string{}
	for _, sku := range s.Catalog.SKUs {
		skuShop[sku.ID] = sku.ShopID
	}
	since := o.UpdateTime.Sub(o.CreateTime)
	okStatus := false
	switch o.Status {
	case schemas.OrderStatusAwaitingShipment:
		okStatus = o.PreviousStatus == "" && since == 0
	case schemas.OrderStatusCancelled:
		okStatus = o.PreviousStatus == schemas.OrderStatusAwaitingShipment &&
			since >= minutes(m.CancelMinutes.Min) && since <= minutes(m.CancelMinutes.Max)
	case schemas.OrderStatusInTransit:
		okStatus = o.PreviousStatus == schemas.OrderStatusAwaitingShipment &&
			since >= hours(m.ShipHours.Min) && since <= hours(m.ShipHours.Max)
	}
	a := o.RecipientAddress
	if !okStatus || o.OrderID != e.Key || !o.UpdateTime.Equal(e.Time) || o.BuyerID == "" || len(o.LineItems) < 1 || len(o.LineItems) > 2 ||
		len(a.PostalCode) != 5 || a.RegionCode != "US" || a.Name == "" || len(a.DistrictInfo) == 0 ||
		e.ID != schemas.EventID(e.Time, schemas.TopicOrders, o.OrderID, string(o.Status)).String() {
		t.Fatalf("order event %+v", o)
	}
	for _, l := range o.LineItems {
		if skuShop[l.SKUID] != o.ShopID || l.Quantity < 1 || l.Quantity > 2 || l.SalePrice <= 0 || l.Currency != "USD" {
			t.Fatalf("order %s: line %+v", o.OrderID, l)
		}
	}
}

// TestScenarioStock recomputes every SKU's stock-out from the order events.
func TestScenarioStock(t *testing.T) {
	s := smallScenario(t)
	avail := map[string]int64{}
	for _, sku := range s.SKUs {
		avail[sku.SKUID] = int64(sku.StartingStock)
	}
	out := map[string]time.Time{}
	for _, e := range s.Events {
		if e.Topic != schemas.TopicOrders {
			continue
		}
		var o schemas.OrderEvent
		if err := json.Unmarshal(e.Value, &o); err != nil {
			t.Fatal(err)
		}
		var sign int64
		switch o.Status {
		case schemas.OrderStatusAwaitingShipment:
			sign = -1
		case schemas.OrderStatusCancelled:
			sign = 1
		}
		for _, l := range o.LineItems {
			avail[l.SKUID] += sign * l.Quantity
			if _, done := out[l.SKUID]; !done && avail[l.SKUID] <= 0 {
				out[l.SKUID] = e.Time
			}
		}
	}
	items := map[string]ItemTruth{}
	for _, it := range s.Items {
		items[it.ContentID] = it
	}
	leads := map[string]time.Duration{}
	for _, sup := range s.Catalog.Suppliers {
		leads[sup.ID] = hours(sup.LeadTimeHours)
	}
	var viral, possible, impossible, never int
	for i, sku := range s.SKUs {
		if !sku.StockOut.Equal(out[sku.SKUID]) {
			t.Errorf("SKU %s: stock-out %s, recomputed %s", sku.SKUID, sku.StockOut, out[sku.SKUID])
		}
		if c := s.Catalog.SKUs[i]; c.ID != sku.SKUID || c.StartingStock != sku.StartingStock || leads[c.SupplierID] != sku.LeadTime {
			t.Errorf("SKU %s: truth %+v, catalog %+v", sku.SKUID, sku, c)
		}
		var onset time.Time
		for _, it := range s.Items {
			if it.Viral && slices.Contains(it.SKUIDs, sku.SKUID) && (onset.IsZero() || it.Onset.Before(onset)) {
				onset = it.Onset
			}
		}
		if sku.Viral != !onset.IsZero() || !sku.Onset.Equal(onset) {
			t.Errorf("SKU %s: viral %v onset %s, its items say %s", sku.SKUID, sku.Viral, sku.Onset, onset)
		}
		want := sku.Viral && !sku.StockOut.IsZero() && sku.Onset.Add(sku.LeadTime).Before(sku.StockOut)
		if sku.Possible != want {
			t.Errorf("SKU %s: possible %v, want %v", sku.SKUID, sku.Possible, want)
		}
		switch {
		case !sku.Viral:
		case sku.Possible:
			viral++
			possible++
		case sku.StockOut.IsZero():
			viral++
			never++
		default:
			viral++
			impossible++
		}
	}
	if possible == 0 || impossible == 0 || never == 0 {
		t.Errorf("of %d viral SKUs, %d possible, %d impossible, %d never out: want some of each", viral, possible, impossible, never)
	}
}

func TestScenarioRoundTrip(t *testing.T) {
	s := smallScenario(t)
	dir := t.TempDir()
	if err := s.Write(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Config, s.Config) || !reflect.DeepEqual(got.Catalog, s.Catalog) ||
		!reflect.DeepEqual(got.Items, s.Items) || !reflect.DeepEqual(got.SKUs, s.SKUs) {
		t.Fatal("the truth or the catalog read back differs")
	}
	if len(got.Events) != len(s.Events) {
		t.Fatalf("%d events read back, %d written", len(got.Events), len(s.Events))
	}
	for i := range got.Events {
		if !reflect.DeepEqual(got.Events[i], s.Events[i]) {
			t.Fatalf("event %d read back as\n%+v\nwritten\n%+v", i, got.Events[i], s.Events[i])
		}
	}
	// catalog.json is in the import format.
	f, err := os.Open(filepath.Join(dir, CatalogFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var c catalog.Catalog
	if err := json.NewDecoder(f).Decode(&c); err != nil || len(c.SKUs) != len(s.Catalog.SKUs) {
		t.Fatalf("catalog.json: %v", err)
	}
	// A damaged line is reported with its number.
	if err := os.WriteFile(filepath.Join(dir, EventsFile), []byte("{}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir); err == nil || !bytes.Contains([]byte(err.Error()), []byte("line 2")) {
		t.Fatalf("a damaged events file: %v", err)
	}
}

func TestScenarioJSON(t *testing.T) {
	for _, s := range []string{"", "shop-001", `a"b`, `back\slash`, "<&>", "tab\there", "é", "\u2028"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
	e := Event{Topic: "t", Key: "k<", Value: []byte(`{"a": [1, 2]}`), Time: DefaultStart, Arrival: DefaultStart.Add(time.Second), ID: "x"}
	got, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"topic":"t","key":"k\u003c","value":{"a":[1,2]},"time":"2026-01-05T00:00:00Z","arrival":"2026-01-05T00:00:01Z","id":"x"}`
	if string(got) != want {
		t.Errorf("event JSON\n%s\nwant\n%s", got, want)
	}
	var back Event
	if err := json.Unmarshal(got, &back); err != nil || back.Key != e.Key || string(back.Value) != `{"a":[1,2]}` || !back.Arrival.Equal(e.Arrival) {
		t.Errorf("read back %+v, %v", back, err)
	}
	if _, err := json.Marshal(Event{Value: []byte("{nope")}); err == nil {
		t.Error("an event whose value is not JSON was written")
	}
	// A hand-edited id still makes a well-formed record.
	if _, err := schemas.ParseHeaders(Event{Topic: schemas.TopicOrders, ID: "not-a-ksuid", Value: []byte("{}")}.Record().Headers); err != nil {
		t.Error(err)
	}
}

// TestScenarioDefault checks the default scenario's size and that it holds
// what an evaluation of stock-out prevention needs. It is the one large
// test: skipped with -short.
func TestScenarioDefault(t *testing.T) {
	if testing.Short() {
		t.Skip("the default scenario takes seconds")
	}
	began := time.Now()
	s, err := Generate(Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	st := s.Stats()
	events := len(s.Events)
	t.Logf("generated in %s: %+v", took, st)
	impossible := st.ViralStockOuts - st.PossibleSKUs
	never := st.ViralSKUs - st.ViralStockOuts
	if st.PossibleSKUs < 40 || impossible < 10 || never < 10 {
		t.Errorf("viral SKUs: %d possible, %d impossible, %d never out; want at least 40, 10, 10", st.PossibleSKUs, impossible, never)
	}
	if events < 500_000 || events > 2_000_000 || math.Abs(float64(st.Items-DefaultItems)) > 0 {
		t.Errorf("%d events, %d items", events, st.Items)
	}
}
