package sink

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/schemas"
)

func TestTikTokWebhooksRow(t *testing.T) {
	const body = `{"type":1,"tts_notification_id":"n","shop_id":"s","timestamp":1764000000,"data":{"order_id":"o","order_status":"CANCEL","update_time":1764000000}}`
	at := time.Unix(1764000000, 0)
	headers := func(eventTime time.Time) []kgo.RecordHeader {
		return schemas.NewEnvelope("tiktok.webhook", 1, "test", eventTime).Headers()
	}
	tests := []struct {
		name    string
		rec     *kgo.Record
		wantErr string
	}{
		{name: "valid", rec: &kgo.Record{Value: []byte(body), Headers: headers(at), Partition: 2, Offset: 7}},
		{name: "no envelope", rec: &kgo.Record{Value: []byte(body)}, wantErr: "no CloudEvents envelope"},
		{name: "body not a webhook", rec: &kgo.Record{Value: []byte(`{"type":"x"}`), Headers: headers(at)}, wantErr: "type"},
		{name: "event time after 2105", rec: &kgo.Record{Value: []byte(body), Headers: headers(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))}, wantErr: "outside ClickHouse DateTime's range"},
		{name: "event time before 1970", rec: &kgo.Record{Value: []byte(body), Headers: headers(time.Unix(-10, 0))}, wantErr: "outside ClickHouse DateTime's range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row, err := decode(TikTokWebhooks, tt.rec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(row) != len(TikTokWebhooks.Columns) {
				t.Fatalf("%d values for %d columns", len(row), len(TikTokWebhooks.Columns))
			}
			byColumn := map[string]any{}
			for i, c := range TikTokWebhooks.Columns {
				byColumn[c] = row[i]
			}
			if byColumn["order_id"] != "o" || byColumn["order_status"] != "CANCELLED" || byColumn["kafka_offset"] != int64(7) ||
				byColumn["body"] != body || !byColumn["event_time"].(time.Time).Equal(at) {
				t.Fatalf("row %v", byColumn)
			}
		})
	}
}
