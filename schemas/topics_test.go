package schemas

import (
	"testing"
	"time"
)

func TestCatalogConfigs(t *testing.T) {
	tests := []struct {
		topic         string
		wantCleanup   string
		wantRetention string
	}{
		{TopicTikTokWebhooks, "delete", "-1"},
		{TopicOrders, "delete", "-1"},
		{TopicLabelActions, "delete", "31536000000"},
		{TopicCarrierHealth, "compact", "-1"},
		{TopicDLQ, "delete", "2592000000"},
	}
	for _, tt := range tests {
		topic, ok := Lookup(tt.topic)
		if !ok {
			t.Fatalf("%s not in the catalog", tt.topic)
		}
		c := topic.Configs()
		if c["cleanup.policy"] != tt.wantCleanup || c["retention.ms"] != tt.wantRetention {
			t.Errorf("%s: configs %v, want cleanup.policy=%s retention.ms=%s", tt.topic, c, tt.wantCleanup, tt.wantRetention)
		}
	}
}

func TestCatalogIsComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, topic := range Catalog {
		if seen[topic.Name] {
			t.Errorf("%s listed twice", topic.Name)
		}
		seen[topic.Name] = true
		if topic.Partitions < 1 || topic.Key == "" || topic.EventType == "" || topic.Description == "" {
			t.Errorf("%s: incomplete entry %+v", topic.Name, topic)
		}
		if topic.Retention != Forever && topic.Retention < 24*time.Hour {
			t.Errorf("%s: retention %v is shorter than a day", topic.Name, topic.Retention)
		}
		if (topic.Value == nil) != (topic.Name == TopicDLQ) {
			t.Errorf("%s: only the DLQ holds raw bytes", topic.Name)
		}
	}
	if len(Catalog) != 15 {
		t.Errorf("catalog has %d topics, CONTRACTS.md lists 15", len(Catalog))
	}
}
