// Package schemas holds CreatorFlow's event contracts: the envelope every
// record carries (CloudEvents Kafka-binding headers), the Go types of every
// topic's value, the topic catalog, JSON Schemas of the payloads that come
// from outside, and the SQL migrations of the stores.
package schemas

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/segmentio/ksuid"
	"github.com/twmb/franz-go/pkg/kgo"
)

// CloudEvents Kafka protocol binding (binary content mode) header names. The
// two extensions carry what CloudEvents has no attribute for; extension names
// are lowercase alphanumerics, as the specification requires.
const (
	HeaderSpecVersion   = "ce_specversion"
	HeaderID            = "ce_id"
	HeaderType          = "ce_type"
	HeaderSource        = "ce_source"
	HeaderTime          = "ce_time"
	HeaderSchemaVersion = "ce_schemaversion"
	HeaderIngestTime    = "ce_ingesttime"
	HeaderContentType   = "content-type"

	// SpecVersion is the CloudEvents version the headers follow.
	SpecVersion = "1.0"
	// ContentTypeJSON is the content type of every value we write.
	ContentTypeJSON = "application/json"
)

// Envelope is the metadata of one event, carried in record headers so the
// value stays byte-for-byte what the producer of the event sent.
type Envelope struct {
	// ID identifies the event; it sorts by creation time and is the key
	// ClickHouse deduplicates on after retries and replays.
	ID ksuid.KSUID
	// Type names what happened, for example "tiktok.webhook".
	Type string
	// SchemaVersion is the version of the value's schema, starting at 1.
	SchemaVersion int
	// Source names who said it, for example "tiktok-shop/7495...".
	Source string
	// Time is the event's own time, which every window and KPI uses.
	Time time.Time
	// IngestTime is when CreatorFlow first saw the event.
	IngestTime time.Time
}

// NewEnvelope returns the envelope of a new event with a fresh id, ingested
// now.
func NewEnvelope(eventType string, schemaVersion int, source string, eventTime time.Time) Envelope {
	return Envelope{
		ID:            ksuid.New(),
		Type:          eventType,
		SchemaVersion: schemaVersion,
		Source:        source,
		Time:          eventTime.UTC(),
		IngestTime:    time.Now().UTC(),
	}
}

// EventID returns the id of an event that the outside world identifies by
// key (for a TikTok webhook, the shop and its notification id) and that
// happened at eventTime. The same event always gets the same id, so a
// delivery TikTok retries after a lost answer, or a re-imported export, is
// collapsed with the first one wherever events are deduplicated by id.
// Like every KSUID it sorts by time, here the event's own time.
func EventID(eventTime time.Time, key ...string) ksuid.KSUID {
	h := sha256.New()
	var buf []byte
	for _, k := range key {
		// Length-prefixed, so ("ab","c") and ("a","bc") differ.
		buf = strconv.AppendInt(buf[:0], int64(len(k)), 10)
		buf = append(append(append(buf, ':'), k...), ';')
		h.Write(buf)
	}
	// A KSUID's clock covers 2014 to 2150; times outside are clamped so
	// the id still sorts sensibly instead of wrapping around.
	unix := min(max(eventTime.Unix(), ksuidEpoch), ksuidEpoch+math.MaxUint32)
	id, err := ksuid.FromParts(time.Unix(unix, 0), h.Sum(nil)[:16])
	if err != nil {
		panic(err) // unreachable: the payload is always 16 bytes
	}
	return id
}

// ksuidEpoch is the Unix time of KSUID's zero timestamp.
const ksuidEpoch = 1400000000

// Headers returns the envelope as Kafka record headers.
func (e Envelope) Headers() []kgo.RecordHeader {
	// One buffer backs the variable values: allocating each separately was
	// most of what building the headers cost on the ingest's hot path.
	buf := make([]byte, 0, 27+len(e.Type)+len(e.Source)+2*len(time.RFC3339Nano)+20)
	value := func(appendTo func([]byte) []byte) []byte {
		from := len(buf)
		buf = appendTo(buf)
		return buf[from:len(buf):len(buf)]
	}
	id := value(e.ID.Append)
	typ := value(func(b []byte) []byte { return append(b, e.Type...) })
	source := value(func(b []byte) []byte { return append(b, e.Source...) })
	at := value(func(b []byte) []byte { return e.Time.UTC().AppendFormat(b, time.RFC3339Nano) })
	version := value(func(b []byte) []byte { return strconv.AppendInt(b, int64(e.SchemaVersion), 10) })
	ingested := value(func(b []byte) []byte { return e.IngestTime.UTC().AppendFormat(b, time.RFC3339Nano) })
	return []kgo.RecordHeader{
		{Key: HeaderSpecVersion, Value: specVersion},
		{Key: HeaderID, Value: id},
		{Key: HeaderType, Value: typ},
		{Key: HeaderSource, Value: source},
		{Key: HeaderTime, Value: at},
		{Key: HeaderSchemaVersion, Value: version},
		{Key: HeaderIngestTime, Value: ingested},
		{Key: HeaderContentType, Value: contentTypeJSON},
	}
}

// Shared values of constant headers; a record's headers are never modified.
var specVersion, contentTypeJSON = []byte(SpecVersion), []byte(ContentTypeJSON)

// ErrNoEnvelope reports a record without the required CloudEvents headers,
// for example one written by a foreign producer.
var ErrNoEnvelope = errors.New("record has no CloudEvents envelope")

// ParseHeaders reads an envelope back from record headers. The id, type,
// source and time are required; a missing schema version means 1 and a
// missing ingest time means unknown (zero).
func ParseHeaders(headers []kgo.RecordHeader) (Envelope, error) {
	var e Envelope
	seen := map[string]bool{}
	for _, h := range headers {
		v := string(h.Value)
		seen[h.Key] = true
		var err error
		switch h.Key {
		case HeaderSpecVersion:
			if v != SpecVersion {
				err = fmt.Errorf("unsupported version %q", v)
			}
		case HeaderID:
			e.ID, err = ksuid.Parse(v)
		case HeaderType:
			e.Type = v
		case HeaderSource:
			e.Source = v
		case HeaderTime:
			e.Time, err = time.Parse(time.RFC3339Nano, v)
		case HeaderSchemaVersion:
			e.SchemaVersion, err = strconv.Atoi(v)
			if err == nil && e.SchemaVersion < 1 {
				err = errors.New("must be 1 or more")
			}
		case HeaderIngestTime:
			e.IngestTime, err = time.Parse(time.RFC3339Nano, v)
		}
		if err != nil {
			return Envelope{}, fmt.Errorf("%w: header %s: %w", ErrNoEnvelope, h.Key, err)
		}
	}
	for _, k := range []string{HeaderSpecVersion, HeaderID, HeaderType, HeaderSource, HeaderTime} {
		if !seen[k] {
			return Envelope{}, fmt.Errorf("%w: header %s missing", ErrNoEnvelope, k)
		}
	}
	if e.SchemaVersion == 0 {
		e.SchemaVersion = 1
	}
	e.Time = e.Time.UTC()
	e.IngestTime = e.IngestTime.UTC()
	return e, nil
}
