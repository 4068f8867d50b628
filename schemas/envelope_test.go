package schemas

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 30, 0, 123456789, time.FixedZone("x", 3600))
	e := NewEnvelope("tiktok.webhook", 2, "tiktok-shop/shop-1", at)
	got, err := ParseHeaders(e.Headers())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != e.ID || got.Type != e.Type || got.SchemaVersion != 2 || got.Source != e.Source ||
		!got.Time.Equal(at) || !got.IngestTime.Equal(e.IngestTime) {
		t.Fatalf("round trip: got %+v, want %+v", got, e)
	}
	if got.Time.Location() != time.UTC {
		t.Fatalf("event time not in UTC: %v", got.Time)
	}
}

func TestParseHeadersRejects(t *testing.T) {
	valid := NewEnvelope("t", 1, "s", time.Unix(1, 0)).Headers()
	with := func(key, value string) []kgo.RecordHeader {
		var out []kgo.RecordHeader
		for _, h := range valid {
			if h.Key == key {
				if value == "<drop>" {
					continue
				}
				h.Value = []byte(value)
			}
			out = append(out, h)
		}
		return out
	}
	tests := []struct {
		name    string
		headers []kgo.RecordHeader
	}{
		{"no headers", nil},
		{"no id", with(HeaderID, "<drop>")},
		{"bad id", with(HeaderID, "not-a-ksuid")},
		{"no type", with(HeaderType, "<drop>")},
		{"no time", with(HeaderTime, "<drop>")},
		{"bad time", with(HeaderTime, "yesterday")},
		{"bad version", with(HeaderSpecVersion, "0.3")},
		{"bad schema version", with(HeaderSchemaVersion, "0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseHeaders(tt.headers); !errors.Is(err, ErrNoEnvelope) {
				t.Fatalf("err = %v, want ErrNoEnvelope", err)
			}
		})
	}
}

func FuzzParseHeaders(f *testing.F) {
	f.Add("1.0", "2JnS0ZTq6sQb8Cq0wd3tTt5V5f1", "2026-11-24T10:30:00Z", "1")
	f.Add("1.0", "", "", "")
	f.Fuzz(func(t *testing.T, spec, id, at, version string) {
		h := []kgo.RecordHeader{
			{Key: HeaderSpecVersion, Value: []byte(spec)}, {Key: HeaderID, Value: []byte(id)},
			{Key: HeaderType, Value: []byte("t")}, {Key: HeaderSource, Value: []byte("s")},
			{Key: HeaderTime, Value: []byte(at)}, {Key: HeaderSchemaVersion, Value: []byte(version)},
		}
		e, err := ParseHeaders(h)
		if err != nil {
			return
		}
		again, err := ParseHeaders(e.Headers())
		if err != nil || again.ID != e.ID || !again.Time.Equal(e.Time) || again.SchemaVersion != e.SchemaVersion {
			t.Fatalf("re-parse of %+v: %+v, %v", e, again, err)
		}
	})
}

func TestEventID(t *testing.T) {
	at := time.Unix(1764000000, 0)
	a := EventID(at, "shop-1", "n-1")
	tests := []struct {
		name string
		id   string
		same bool
	}{
		{"same event, same id", EventID(at, "shop-1", "n-1").String(), true},
		{"other notification", EventID(at, "shop-1", "n-2").String(), false},
		{"other shop", EventID(at, "shop-2", "n-1").String(), false},
		{"key parts do not run together", EventID(at, "shop-1n", "-1").String(), false},
		{"other time", EventID(at.Add(time.Second), "shop-1", "n-1").String(), false},
	}
	for _, tt := range tests {
		if got := tt.id == a.String(); got != tt.same {
			t.Errorf("%s: %s vs %s", tt.name, tt.id, a)
		}
	}
	if !a.Time().Equal(at) {
		t.Errorf("id time %v, want the event time %v", a.Time(), at)
	}
	if early := EventID(time.Unix(0, 0), "x"); early.Time().Unix() != ksuidEpoch {
		t.Errorf("pre-2014 event time not clamped: %v", early.Time())
	}
}

func BenchmarkEnvelopeHeaders(b *testing.B) {
	e := NewEnvelope("tiktok.webhook", 1, "tiktok-shop/7495000000000000000", time.Unix(1_700_000_000, 0))
	b.ReportAllocs()
	for b.Loop() {
		e.Headers()
	}
}
