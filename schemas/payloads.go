package schemas

import "time"

// Record values of the topics other than tiktok.webhooks.v1 (see tiktok.go).
// All are JSON objects with snake_case members. Our own events carry times as
// time.Time (RFC 3339 in JSON); the outside carrier webhook keeps Unix
// seconds. Money is an int64 amount in minor units (cents) with an ISO 4217
// currency code beside it.

// TrackingStatus is the normalized status of a shipment in a carrier webhook.
type TrackingStatus string

// Shipment statuses a carrier webhook may report.
const (
	TrackingStatusLabelCreated   TrackingStatus = "LABEL_CREATED"
	TrackingStatusInTransit      TrackingStatus = "IN_TRANSIT"
	TrackingStatusOutForDelivery TrackingStatus = "OUT_FOR_DELIVERY"
	TrackingStatusDelivered      TrackingStatus = "DELIVERED"
	TrackingStatusException      TrackingStatus = "EXCEPTION"
	TrackingStatusReturned       TrackingStatus = "RETURNED"
)

// trackingStatuses is the set of known TrackingStatus values.
var trackingStatuses = map[TrackingStatus]bool{
	TrackingStatusLabelCreated:   true,
	TrackingStatusInTransit:      true,
	TrackingStatusOutForDelivery: true,
	TrackingStatusDelivered:      true,
	TrackingStatusException:      true,
	TrackingStatusReturned:       true,
}

// Length limits of the free-text members of a carrier webhook, in characters.
const (
	maxCarrierNameLength  = 64
	maxDescriptionLength  = 1024
	maxLocationLength     = 256
	maxTrackingStatusEcho = 64
)

// CarrierWebhook is a carrier tracking update (topic carrier.webhooks.v1, key
// tracking number), received at POST /webhooks/carriers/{carrier}.
type CarrierWebhook struct {
	// Carrier names the carrier ("ups", "dhl").
	Carrier string `json:"carrier"`
	// TrackingNumber is the shipment's tracking number.
	TrackingNumber string `json:"tracking_number"`
	// Status is the shipment's new status.
	Status TrackingStatus `json:"status"`
	// Description is the carrier's human-readable text for the update.
	Description string `json:"description,omitempty"`
	// Location is where the update happened, as the carrier writes it.
	Location string `json:"location,omitempty"`
	// OccurredAt is when the update happened, in Unix seconds.
	OccurredAt int64 `json:"occurred_at"`
}

// ParseCarrierWebhook parses and validates a carrier webhook body: one JSON
// object (UTF-8, no duplicate member names, nothing after it) with a carrier
// (1 to 64 characters, no control characters), a tracking_number (1 to 128
// characters, no control characters), a known status, occurred_at > 0 (not
// later than year 9999), and optionally description (at most 1024
// characters) and location (at most 256). Unknown members are ignored.
//
// Every error is a *ValidationError naming the field at fault.
func ParseCarrierWebhook(body []byte) (CarrierWebhook, error) {
	obj, err := parseBody(body)
	if err != nil {
		return CarrierWebhook{}, err
	}
	var c CarrierWebhook
	if c.Carrier, err = obj.id("carrier", true, maxCarrierNameLength); err != nil {
		return CarrierWebhook{}, err
	}
	if c.TrackingNumber, err = obj.id("tracking_number", true, maxIDLength); err != nil {
		return CarrierWebhook{}, err
	}
	status, err := obj.str("status", true)
	if err != nil {
		return CarrierWebhook{}, err
	}
	if c.Status = TrackingStatus(status); !trackingStatuses[c.Status] {
		if len(status) > maxTrackingStatusEcho {
			status = status[:maxTrackingStatusEcho] + "..."
		}
		return CarrierWebhook{}, validationErrorf("status", "unknown tracking status %q", status)
	}
	if c.Description, err = obj.text("description", false, maxDescriptionLength); err != nil {
		return CarrierWebhook{}, err
	}
	if c.Location, err = obj.text("location", false, maxLocationLength); err != nil {
		return CarrierWebhook{}, err
	}
	if c.OccurredAt, err = obj.integer("occurred_at", true, 1, maxUnixSeconds); err != nil {
		return CarrierWebhook{}, err
	}
	return c, nil
}

// ContentMetrics is one poll of a content item's cumulative counters (topic
// tiktok.content-metrics.v1, key content id).
type ContentMetrics struct {
	// ContentID is the TikTok video id.
	ContentID string `json:"content_id"`
	// ShopID is the shop whose products the content features.
	ShopID string `json:"shop_id"`
	// SKUIDs are the TikTok SKU ids linked to the content.
	SKUIDs []string `json:"sku_ids"`
	// Views is the cumulative view count.
	Views int64 `json:"views"`
	// Likes is the cumulative like count.
	Likes int64 `json:"likes"`
	// Comments is the cumulative comment count.
	Comments int64 `json:"comments"`
	// Shares is the cumulative share count.
	Shares int64 `json:"shares"`
	// PolledAt is when the counters were read (the event time).
	PolledAt time.Time `json:"polled_at"`
}

// InventoryKind says what an inventory event's quantity means.
type InventoryKind string

// Kinds of inventory events.
const (
	// InventoryReceipt: Quantity units arrived (positive).
	InventoryReceipt InventoryKind = "RECEIPT"
	// InventoryAdjustment: stock changed by Quantity (signed), for example a
	// count correction or damaged goods.
	InventoryAdjustment InventoryKind = "ADJUSTMENT"
	// InventorySnapshot: stock on hand is Quantity.
	InventorySnapshot InventoryKind = "SNAPSHOT"
)

// InventoryEvent is a stock receipt, adjustment or snapshot (topic
// inventory.events.v1, key SKU).
type InventoryEvent struct {
	// SKU is the SKU id.
	SKU string `json:"sku"`
	// ShopID is the shop owning the SKU.
	ShopID string `json:"shop_id"`
	// Kind says how to apply Quantity.
	Kind InventoryKind `json:"kind"`
	// Quantity is in units; see Kind.
	Quantity int64 `json:"quantity"`
	// Reason is free text for people (a delivery note, "cycle count").
	Reason string `json:"reason,omitempty"`
	// OccurredAt is when the stock changed (the event time).
	OccurredAt time.Time `json:"occurred_at"`
}

// OrderEvent is a normalized, deduplicated order change with the order's
// details (topic orders.v1, key order id).
type OrderEvent struct {
	// OrderID is the TikTok order id.
	OrderID string `json:"order_id"`
	// ShopID is the shop that sold the order.
	ShopID string `json:"shop_id"`
	// Status is the order's status after this change.
	Status OrderStatus `json:"status"`
	// PreviousStatus is the status before this change, empty for the first event.
	PreviousStatus OrderStatus `json:"previous_status,omitempty"`
	// BuyerID is the TikTok user id of the buyer.
	BuyerID string `json:"buyer_id"`
	// CreateTime is when the order was placed.
	CreateTime time.Time `json:"create_time"`
	// UpdateTime is when the order last changed (the event time).
	UpdateTime time.Time `json:"update_time"`
	// RTSSLATime is the deadline to be ready to ship, if TikTok set one.
	RTSSLATime time.Time `json:"rts_sla_time,omitzero"`
	// ShippingDueTime is the deadline to hand over to the carrier, if set.
	ShippingDueTime time.Time `json:"shipping_due_time,omitzero"`
	// LineItems are the items ordered.
	LineItems []LineItem `json:"line_items"`
	// RecipientAddress is where the order ships to.
	RecipientAddress RecipientAddress `json:"recipient_address"`
}

// LineItem is one item of an order.
type LineItem struct {
	// ID is the TikTok line item id.
	ID string `json:"id"`
	// SKUID is the TikTok SKU id.
	SKUID string `json:"sku_id"`
	// SellerSKU is the seller's own SKU code.
	SellerSKU string `json:"seller_sku"`
	// ProductID is the TikTok product id.
	ProductID string `json:"product_id"`
	// ProductName is the product's title.
	ProductName string `json:"product_name"`
	// Quantity is the number of units.
	Quantity int64 `json:"quantity"`
	// SalePrice is the unit price the buyer paid, in minor units of Currency.
	SalePrice int64 `json:"sale_price"`
	// Currency is the ISO 4217 code of SalePrice.
	Currency string `json:"currency"`
}

// RecipientAddress is an order's shipping address.
type RecipientAddress struct {
	// Name is the recipient's name.
	Name string `json:"name"`
	// PostalCode is the postal (ZIP) code.
	PostalCode string `json:"postal_code"`
	// RegionCode is the ISO 3166-1 alpha-2 country code.
	RegionCode string `json:"region_code"`
	// AddressDetail is the street address.
	AddressDetail string `json:"address_detail"`
	// DistrictInfo lists the administrative divisions, country first.
	DistrictInfo []DistrictInfo `json:"district_info"`
}

// DistrictInfo is one administrative level of an address (TikTok's shape).
type DistrictInfo struct {
	// AddressLevelName names the level ("country", "state", "city").
	AddressLevelName string `json:"address_level_name"`
	// AddressName is the division's name at that level.
	AddressName string `json:"address_name"`
	// AddressLevel is TikTok's level code ("L0" is the country).
	AddressLevel string `json:"address_level,omitempty"`
}

// PriorityClass is how an order is to be fulfilled.
type PriorityClass string

// Priority classes.
const (
	PriorityHigh         PriorityClass = "HIGH"
	PriorityStandard     PriorityClass = "STANDARD"
	PriorityManualReview PriorityClass = "MANUAL_REVIEW"
)

// PrioritizedOrder is the priority decided for an order (topic
// orders.prioritized.v1, key order id).
type PrioritizedOrder struct {
	// OrderID is the TikTok order id.
	OrderID string `json:"order_id"`
	// Class is the priority class.
	Class PriorityClass `json:"class"`
	// Score is the priority score the class was derived from (higher is more urgent).
	Score float64 `json:"score"`
	// Reasons explain the decision, for people.
	Reasons []string `json:"reasons"`
	// DecidedAt is the event time of the decision.
	DecidedAt time.Time `json:"decided_at"`
}

// ViralPhase is the stage of a viral episode.
type ViralPhase string

// Viral episode phases.
const (
	ViralStarted ViralPhase = "STARTED"
	ViralUpdated ViralPhase = "UPDATED"
	ViralEnded   ViralPhase = "ENDED"
)

// ViralAlert reports a SKU's viral episode starting, changing or ending
// (topic alerts.viral.v1, key SKU).
type ViralAlert struct {
	// SKU is the SKU id.
	SKU string `json:"sku"`
	// EpisodeID identifies the episode across its alerts.
	EpisodeID string `json:"episode_id"`
	// Phase is the episode's stage.
	Phase ViralPhase `json:"phase"`
	// Score is the virality score.
	Score float64 `json:"score"`
	// Velocity is the engagement rate behind the score (events per hour).
	Velocity float64 `json:"velocity"`
	// DemandMultiplier is expected demand over the SKU's baseline (3 means 3x).
	DemandMultiplier float64 `json:"demand_multiplier"`
	// ContentIDs are the videos driving the episode.
	ContentIDs []string `json:"content_ids"`
	// At is the event time of the alert.
	At time.Time `json:"at"`
}

// StockLevel is the severity of a stock alert.
type StockLevel string

// Stock alert levels.
const (
	StockWarning   StockLevel = "WARNING"
	StockCritical  StockLevel = "CRITICAL"
	StockRecovered StockLevel = "RECOVERED"
)

// HoursOfCoverUnbounded is the StockAlert.HoursOfCover of a SKU that is not
// selling (burn rate 0): JSON cannot carry an infinity.
const HoursOfCoverUnbounded = -1.0

// StockAlert reports a SKU's stock cover crossing a threshold (topic
// alerts.stock.v1, key SKU).
type StockAlert struct {
	// SKU is the SKU id.
	SKU string `json:"sku"`
	// Level is the alert's severity.
	Level StockLevel `json:"level"`
	// OnHand is the units in stock.
	OnHand int64 `json:"on_hand"`
	// Reserved is the units promised to open orders.
	Reserved int64 `json:"reserved"`
	// Available is OnHand minus Reserved.
	Available int64 `json:"available"`
	// BurnRatePerHour is the units sold per hour recently.
	BurnRatePerHour float64 `json:"burn_rate_per_hour"`
	// HoursOfCover is Available / BurnRatePerHour, or HoursOfCoverUnbounded.
	HoursOfCover float64 `json:"hours_of_cover"`
	// At is the event time of the alert.
	At time.Time `json:"at"`
}

// LabelAction is what a label command asks for.
type LabelAction string

// Label command actions.
const (
	LabelBuy    LabelAction = "BUY"
	LabelCancel LabelAction = "CANCEL"
)

// LabelCommand asks the label executor to buy (or cancel) a shipping label
// (topic actions.label.v1, key order id).
type LabelCommand struct {
	// CommandID is the command's KSUID, the idempotency key of the side effect.
	CommandID string `json:"command_id"`
	// OrderID is the TikTok order id.
	OrderID string `json:"order_id"`
	// Action is what to do.
	Action LabelAction `json:"action"`
	// Options are the carrier services to try, best first.
	Options []CarrierOption `json:"options"`
	// Priority is the order's priority class.
	Priority PriorityClass `json:"priority"`
	// Reason explains the choice of options, for people.
	Reason string `json:"reason,omitempty"`
	// IssuedAt is the event time of the command.
	IssuedAt time.Time `json:"issued_at"`
}

// CarrierOption is one ranked carrier service for a label.
type CarrierOption struct {
	// Carrier names the carrier.
	Carrier string `json:"carrier"`
	// Service is the carrier's service level ("ground", "express").
	Service string `json:"service"`
	// Rate is the quoted price in minor units of Currency.
	Rate int64 `json:"rate"`
	// Currency is the ISO 4217 code of Rate.
	Currency string `json:"currency"`
	// EstimatedDays is the quoted transit time in days.
	EstimatedDays int `json:"estimated_days"`
	// Score is the ranking score (higher is better).
	Score float64 `json:"score"`
}

// ReorderCommand asks the reorder executor to place a supplier order (topic
// actions.reorder.v1, key SKU).
type ReorderCommand struct {
	// CommandID is the command's KSUID, the idempotency key of the side effect.
	CommandID string `json:"command_id"`
	// SKU is the SKU id.
	SKU string `json:"sku"`
	// SupplierID is the supplier to order from.
	SupplierID string `json:"supplier_id"`
	// Quantity is the units to order.
	Quantity int64 `json:"quantity"`
	// Reason explains the reorder, for people.
	Reason string `json:"reason"`
	// IssuedAt is the event time of the command.
	IssuedAt time.Time `json:"issued_at"`
}

// SyncKind is what a TikTok sync command updates.
type SyncKind string

// TikTok sync command kinds.
const (
	// SyncShippingInfo sets an order's carrier and tracking number.
	SyncShippingInfo SyncKind = "SHIPPING_INFO"
	// SyncStock sets a SKU's listed stock.
	SyncStock SyncKind = "STOCK"
)

// TikTokSyncCommand asks the status-sync executor to update TikTok Shop
// (topic actions.tiktok-sync.v1, key order id for SHIPPING_INFO, SKU for
// STOCK).
type TikTokSyncCommand struct {
	// CommandID is the command's KSUID, the idempotency key of the side effect.
	CommandID string `json:"command_id"`
	// Kind is what to update.
	Kind SyncKind `json:"kind"`
	// OrderID is the order to update (SHIPPING_INFO).
	OrderID string `json:"order_id,omitempty"`
	// SKU is the SKU to update (STOCK).
	SKU string `json:"sku,omitempty"`
	// Carrier is the carrier of the shipment (SHIPPING_INFO).
	Carrier string `json:"carrier,omitempty"`
	// TrackingNumber is the shipment's tracking number (SHIPPING_INFO).
	TrackingNumber string `json:"tracking_number,omitempty"`
	// Quantity is the stock to list (STOCK); 0 is meaningful.
	Quantity int64 `json:"quantity"`
	// IssuedAt is the event time of the command.
	IssuedAt time.Time `json:"issued_at"`
}

// CommandStatus is the outcome of a command.
type CommandStatus string

// Command outcomes.
const (
	CommandDone      CommandStatus = "DONE"
	CommandFailed    CommandStatus = "FAILED"
	CommandCancelled CommandStatus = "CANCELLED"
)

// LabelResult is the outcome of a label command (topic results.label.v1, key
// order id).
type LabelResult struct {
	// CommandID is the command this answers.
	CommandID string `json:"command_id"`
	// OrderID is the TikTok order id.
	OrderID string `json:"order_id"`
	// Status is the outcome.
	Status CommandStatus `json:"status"`
	// Carrier is the carrier that sold the label (DONE).
	Carrier string `json:"carrier,omitempty"`
	// Service is the service bought (DONE).
	Service string `json:"service,omitempty"`
	// TrackingNumber is the label's tracking number (DONE).
	TrackingNumber string `json:"tracking_number,omitempty"`
	// Cost is the price paid in minor units of Currency.
	Cost int64 `json:"cost"`
	// Currency is the ISO 4217 code of Cost.
	Currency string `json:"currency,omitempty"`
	// Attempts is the number of carrier calls made.
	Attempts int `json:"attempts"`
	// Reasons explain failures and failovers, for people.
	Reasons []string `json:"reasons,omitempty"`
	// FinishedAt is the event time of the outcome.
	FinishedAt time.Time `json:"finished_at"`
}

// ReorderResult is the outcome of a reorder command (topic
// results.reorder.v1, key SKU).
type ReorderResult struct {
	// CommandID is the command this answers.
	CommandID string `json:"command_id"`
	// SKU is the SKU id.
	SKU string `json:"sku"`
	// Status is the outcome.
	Status CommandStatus `json:"status"`
	// SupplierID is the supplier ordered from.
	SupplierID string `json:"supplier_id"`
	// SupplierReference is the supplier's order reference (DONE).
	SupplierReference string `json:"supplier_reference,omitempty"`
	// Quantity is the units ordered.
	Quantity int64 `json:"quantity"`
	// Reasons explain a failure, for people.
	Reasons []string `json:"reasons,omitempty"`
	// FinishedAt is the event time of the outcome.
	FinishedAt time.Time `json:"finished_at"`
}

// CircuitState is the state of a carrier's circuit breaker.
type CircuitState string

// Circuit breaker states.
const (
	CircuitClosed   CircuitState = "CLOSED"
	CircuitOpen     CircuitState = "OPEN"
	CircuitHalfOpen CircuitState = "HALF_OPEN"
)

// CarrierHealth reports a carrier's circuit state and recent failure rate
// (topic carriers.health.v1, key carrier).
type CarrierHealth struct {
	// Carrier names the carrier.
	Carrier string `json:"carrier"`
	// State is the circuit breaker's state.
	State CircuitState `json:"state"`
	// FailureRate is the share of failed calls in the window, 0 to 1.
	FailureRate float64 `json:"failure_rate"`
	// WindowSeconds is the length of the window FailureRate covers.
	WindowSeconds int `json:"window_seconds"`
	// Since is when the circuit entered State.
	Since time.Time `json:"since"`
	// At is the event time of the report.
	At time.Time `json:"at"`
}
