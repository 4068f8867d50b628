package scenario

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// The files of a written scenario.
const (
	// CatalogFile is the catalog in the JSON import format.
	CatalogFile = "catalog.json"
	// TruthFile holds the config, the items' truth and the SKUs' truth.
	TruthFile = "truth.json"
	// EventsFile holds one Event a line (its JSON), in arrival order.
	EventsFile = "events.jsonl"
)

// Truth is the content of truth.json.
type Truth struct {
	Config Config      `json:"config"`
	Items  []ItemTruth `json:"items"`
	SKUs   []SKUTruth  `json:"skus"`
}

// Write writes the scenario to dir (created if need be) as CatalogFile,
// TruthFile and EventsFile. The same scenario always gives the same bytes.
func (s *Scenario) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cat, err := json.MarshalIndent(s.Catalog, "", "  ")
	if err != nil {
		return fmt.Errorf("scenario: %s: %w", CatalogFile, err)
	}
	truth, err := json.MarshalIndent(Truth{Config: s.Config, Items: s.Items, SKUs: s.SKUs}, "", "  ")
	if err != nil {
		return fmt.Errorf("scenario: %s: %w", TruthFile, err)
	}
	for name, data := range map[string][]byte{CatalogFile: cat, TruthFile: truth} {
		if err := os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	f, err := os.Create(filepath.Join(dir, EventsFile))
	if err != nil {
		return err
	}
	if err := WriteEvents(f, s.Events); err != nil {
		f.Close()
		return fmt.Errorf("scenario: %s: %w", EventsFile, err)
	}
	return f.Close()
}

// WriteEvents writes events as JSON lines, the format of EventsFile.
func WriteEvents(w io.Writer, events []Event) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var line []byte
	for i := range events {
		var err error
		if line, err = events[i].appendJSON(line[:0]); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Read reads a scenario that Write wrote.
func Read(dir string) (*Scenario, error) {
	var s Scenario
	for name, v := range map[string]any{CatalogFile: &s.Catalog, TruthFile: new(Truth)} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		// Strict: a misspelt field in a hand-edited file is an error, not
		// a silent default.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("scenario: %s: %w", name, err)
		}
		if t, ok := v.(*Truth); ok {
			s.Config, s.Items, s.SKUs = t.Config, t.Items, t.SKUs
		}
	}
	f, err := os.Open(filepath.Join(dir, EventsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if s.Events, err = ReadEvents(f); err != nil {
		return nil, fmt.Errorf("scenario: %s: %w", EventsFile, err)
	}
	return &s, nil
}

// ReadEvents reads events written by WriteEvents. Lines are decoded in
// parallel, in chunks of a few megabytes: a default scenario has about a
// million of them.
func ReadEvents(r io.Reader) ([]Event, error) {
	type chunk struct {
		firstLine int
		data      []byte
		events    []Event
		err       error
	}
	var (
		chunks []*chunk
		work   = make(chan *chunk, runtime.GOMAXPROCS(0))
		wg     sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for c := range work {
				c.events, c.err = decodeLines(c.data, c.firstLine)
			}
		})
	}
	const chunkSize = 4 << 20
	var (
		carry   []byte
		line    = 1
		readErr error
	)
	for {
		buf := make([]byte, len(carry), len(carry)+chunkSize)
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			readErr = err
			break
		}
		cut := len(buf)
		if !eof {
			if cut = bytes.LastIndexByte(buf, '\n') + 1; cut == 0 {
				carry = buf // a line longer than a chunk: read on
				continue
			}
		}
		c := &chunk{firstLine: line, data: buf[:cut]}
		line += bytes.Count(c.data, []byte{'\n'})
		carry = buf[cut:]
		chunks = append(chunks, c)
		work <- c
		if eof {
			break
		}
	}
	close(work)
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	total := 0
	for _, c := range chunks {
		if c.err != nil {
			return nil, c.err
		}
		total += len(c.events)
	}
	out := make([]Event, 0, total)
	for _, c := range chunks {
		out = append(out, c.events...)
	}
	return out, nil
}

// decodeLines decodes JSON lines; blank lines are skipped.
func decodeLines(data []byte, firstLine int) ([]Event, error) {
	out := make([]Event, 0, bytes.Count(data, []byte{'\n'})+1)
	for n := firstLine; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e Event
		if err := e.UnmarshalJSON(line); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// eventJSON is an Event's JSON: the value as JSON, not base64.
type eventJSON struct {
	Topic   string          `json:"topic"`
	Key     string          `json:"key"`
	Value   json.RawMessage `json:"value"`
	Time    time.Time       `json:"time"`
	Arrival time.Time       `json:"arrival"`
	ID      string          `json:"id"`
}

// MarshalJSON writes the event with its value as a JSON value, which it
// must be.
func (e Event) MarshalJSON() ([]byte, error) { return e.appendJSON(nil) }

// appendJSON appends what json.Marshal of an eventJSON writes, faster.
func (e *Event) appendJSON(b []byte) ([]byte, error) {
	if len(e.Value) == 0 || !json.Valid(e.Value) {
		return nil, errors.New("value is not JSON")
	}
	b = append(b, `{"topic":`...)
	b = appendString(b, e.Topic)
	b = append(b, `,"key":`...)
	b = appendString(b, e.Key)
	b = append(b, `,"value":`...)
	b = appendCompact(b, e.Value)
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","arrival":"`...)
	b = e.Arrival.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","id":`...)
	b = appendString(b, e.ID)
	return append(b, '}'), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(data []byte) error {
	var j eventJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*e = Event{Topic: j.Topic, Key: j.Key, Value: []byte(j.Value), Time: j.Time.UTC(), Arrival: j.Arrival.UTC(), ID: j.ID}
	return nil
}

// appendCompact appends a JSON value without insignificant space, as
// json.Marshal writes a RawMessage; generated values already are.
func appendCompact(b, v []byte) []byte {
	if !bytes.ContainsAny(v, " \t\r\n") {
		return append(b, v...)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return append(b, v...)
	}
	return append(b, buf.Bytes()...)
}

// appendString appends s as a JSON string, as json.Marshal writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// configJSON is a Config's JSON: durations as Go duration strings ("12h0m0s")
// for people reading truth.json.
type configJSON struct {
	Seed     int64            `json:"seed"`
	Items    int              `json:"items"`
	Shops    int              `json:"shops"`
	Start    time.Time        `json:"start"`
	Duration string           `json:"duration"`
	Warmup   string           `json:"warmup"`
	Mix      map[Kind]float64 `json:"mix"`
	Model    *Model           `json:"model,omitempty"`
}

// MarshalJSON writes durations as strings.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(configJSON{Seed: c.Seed, Items: c.Items, Shops: c.Shops, Start: c.Start,
		Duration: c.Duration.String(), Warmup: c.Warmup.String(), Mix: c.Mix, Model: c.Model})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *Config) UnmarshalJSON(data []byte) error {
	var j configJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return err
	}
	out := Config{Seed: j.Seed, Items: j.Items, Shops: j.Shops, Start: j.Start.UTC(), Mix: j.Mix, Model: j.Model}
	for _, d := range []struct {
		name string
		s    string
		to   *time.Duration
	}{{"duration", j.Duration, &out.Duration}, {"warmup", j.Warmup, &out.Warmup}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
		*d.to = v
	}
	*c = out
	return nil
}

// skuTruthJSON is a SKUTruth's JSON: the lead time as a duration string.
type skuTruthJSON struct {
	plainSKUTruth
	LeadTime string `json:"lead_time"`
}

type plainSKUTruth SKUTruth

// MarshalJSON writes the lead time as a duration string ("8h0m0s").
func (s SKUTruth) MarshalJSON() ([]byte, error) {
	return json.Marshal(skuTruthJSON{plainSKUTruth: plainSKUTruth(s), LeadTime: s.LeadTime.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *SKUTruth) UnmarshalJSON(data []byte) error {
	var j skuTruthJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	lead, err := time.ParseDuration(j.LeadTime)
	if err != nil {
		return fmt.Errorf("lead_time: %w", err)
	}
	*s = SKUTruth(j.plainSKUTruth)
	s.LeadTime = lead
	s.Onset, s.StockOut = s.Onset.UTC(), s.StockOut.UTC()
	return nil
}

// Stats are a scenario's counts, for summaries.
type Stats struct {
	// Kinds counts the items of each kind.
	Kinds map[Kind]int `json:"kinds"`
	// Items and SKUs count the content items and the SKUs.
	Items int `json:"items"`
	SKUs  int `json:"skus"`
	// ViralSKUs counts SKUs a viral item promotes; PossibleSKUs those of
	// them whose stock-out a timely reorder could prevent.
	ViralSKUs    int `json:"viral_skus"`
	PossibleSKUs int `json:"possible_skus"`
	// StockOuts counts SKUs that run out, ViralStockOuts the viral ones.
	StockOuts      int `json:"stock_outs"`
	ViralStockOuts int `json:"viral_stock_outs"`
	// Events counts the events of each topic.
	Events map[string]int `json:"events"`
}

// Stats counts the scenario's items, SKUs and events.
func (s *Scenario) Stats() Stats {
	st := Stats{Kinds: map[Kind]int{}, Events: map[string]int{}, Items: len(s.Items), SKUs: len(s.SKUs)}
	for _, it := range s.Items {
		st.Kinds[it.Kind]++
	}
	for _, sku := range s.SKUs {
		out := !sku.StockOut.IsZero()
		if sku.Viral {
			st.ViralSKUs++
			if out {
				st.ViralStockOuts++
			}
		}
		if out {
			st.StockOuts++
		}
		if sku.Possible {
			st.PossibleSKUs++
		}
	}
	for i := range s.Events {
		st.Events[s.Events[i].Topic]++
	}
	return st
}
