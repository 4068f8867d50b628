package schemas

import (
	"strconv"
	"time"
)

// Topic names are part of the product (CONTRACTS.md): users script against
// them. Internal topics such as changelogs are named by the runtime.
const (
	TopicTikTokWebhooks    = "tiktok.webhooks.v1"
	TopicCarrierWebhooks   = "carrier.webhooks.v1"
	TopicContentMetrics    = "tiktok.content-metrics.v1"
	TopicInventoryEvents   = "inventory.events.v1"
	TopicOrders            = "orders.v1"
	TopicOrdersPrioritized = "orders.prioritized.v1"
	TopicViralAlerts       = "alerts.viral.v1"
	TopicStockAlerts       = "alerts.stock.v1"
	TopicLabelActions      = "actions.label.v1"
	TopicReorderActions    = "actions.reorder.v1"
	TopicTikTokSyncActions = "actions.tiktok-sync.v1"
	TopicLabelResults      = "results.label.v1"
	TopicReorderResults    = "results.reorder.v1"
	TopicCarrierHealth     = "carriers.health.v1"
	TopicDLQ               = "dlq.v1"
)

// Cleanup policies of a topic.
const (
	CleanupDelete  = "delete"
	CleanupCompact = "compact"
)

// Forever is the retention of topics that are the system of record: raw
// inputs are kept so every result can be rebuilt by replaying them.
const Forever time.Duration = -1

// Topic describes one topic of the catalog.
type Topic struct {
	// Name is the topic's name without any deployment prefix.
	Name string
	// Key says what the record key is; records with the same key land on
	// the same partition, in order.
	Key string
	// Description says what the topic holds.
	Description string
	// EventType is the ce_type of its records.
	EventType string
	// Partitions bounds how many instances of a consumer can share the
	// work; adding partitions later moves keys, so they are sized for
	// growth up front.
	Partitions int32
	// CleanupPolicy is CleanupDelete or CleanupCompact.
	CleanupPolicy string
	// Retention is how long records are kept, Forever for no limit.
	Retention time.Duration
	// Value is a zero value of the Go type of the record value, nil when the
	// value is raw bytes (the DLQ).
	Value any
}

// Configs returns the topic-level Kafka configs the catalog sets.
func (t Topic) Configs() map[string]string {
	// Kafka spells "no limit" -1; Forever.Milliseconds() would round to 0,
	// which means "delete at once".
	retention := "-1"
	if t.Retention != Forever {
		retention = strconv.FormatInt(t.Retention.Milliseconds(), 10)
	}
	return map[string]string{"cleanup.policy": t.CleanupPolicy, "retention.ms": retention}
}

const (
	day  = 24 * time.Hour
	year = 365 * day
)

// Catalog lists every topic of CONTRACTS.md, in data-flow order.
var Catalog = []Topic{
	{Name: TopicTikTokWebhooks, Key: "order id, else shop id", Description: "every accepted TikTok webhook, body byte-for-byte",
		EventType: "tiktok.webhook", Partitions: 12, CleanupPolicy: CleanupDelete, Retention: Forever, Value: TikTokWebhook{}},
	{Name: TopicCarrierWebhooks, Key: "tracking number", Description: "every accepted carrier tracking webhook",
		EventType: "carrier.webhook", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: Forever, Value: CarrierWebhook{}},
	{Name: TopicContentMetrics, Key: "content id", Description: "each poll of a content item's counters",
		EventType: "tiktok.content-metrics", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: Forever, Value: ContentMetrics{}},
	{Name: TopicInventoryEvents, Key: "SKU", Description: "stock receipts and adjustments",
		EventType: "inventory.event", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: Forever, Value: InventoryEvent{}},
	{Name: TopicOrders, Key: "order id", Description: "normalized, deduplicated order events with details",
		EventType: "order.event", Partitions: 12, CleanupPolicy: CleanupDelete, Retention: Forever, Value: OrderEvent{}},
	{Name: TopicOrdersPrioritized, Key: "order id", Description: "priority class, score and reasons",
		EventType: "order.prioritized", Partitions: 12, CleanupPolicy: CleanupDelete, Retention: year, Value: PrioritizedOrder{}},
	{Name: TopicViralAlerts, Key: "SKU", Description: "viral episode started / updated / ended",
		EventType: "alert.viral", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: year, Value: ViralAlert{}},
	{Name: TopicStockAlerts, Key: "SKU", Description: "stock cover warning / critical / recovered",
		EventType: "alert.stock", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: year, Value: StockAlert{}},
	{Name: TopicLabelActions, Key: "order id", Description: "command: buy a label, with ranked carrier options",
		EventType: "action.label", Partitions: 12, CleanupPolicy: CleanupDelete, Retention: year, Value: LabelCommand{}},
	{Name: TopicReorderActions, Key: "SKU", Description: "command: place a supplier reorder",
		EventType: "action.reorder", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: year, Value: ReorderCommand{}},
	{Name: TopicTikTokSyncActions, Key: "order id or SKU", Description: "command: update TikTok (shipping info, listed stock)",
		EventType: "action.tiktok-sync", Partitions: 12, CleanupPolicy: CleanupDelete, Retention: year, Value: TikTokSyncCommand{}},
	{Name: TopicLabelResults, Key: "order id", Description: "outcome of a label command",
		EventType: "result.label", Partitions: 12, CleanupPolicy: CleanupDelete, Retention: year, Value: LabelResult{}},
	{Name: TopicReorderResults, Key: "SKU", Description: "outcome of a reorder command",
		EventType: "result.reorder", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: year, Value: ReorderResult{}},
	{Name: TopicCarrierHealth, Key: "carrier", Description: "circuit state and recent failure rate of each carrier",
		EventType: "carrier.health", Partitions: 1, CleanupPolicy: CleanupCompact, Retention: Forever, Value: CarrierHealth{}},
	{Name: TopicDLQ, Key: "original key", Description: "records that could not be processed, with the error in headers",
		EventType: "dlq.record", Partitions: 6, CleanupPolicy: CleanupDelete, Retention: 30 * day},
}

// Lookup returns the catalog entry of a topic name without prefix.
func Lookup(name string) (Topic, bool) {
	for _, t := range Catalog {
		if t.Name == name {
			return t, true
		}
	}
	return Topic{}, false
}
