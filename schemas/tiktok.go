package schemas

import (
	"encoding/json"
	"time"
)

// WebhookTypeOrderStatus is the TikTok Shop webhook type of an order status
// change, whose data is an OrderStatusData.
const WebhookTypeOrderStatus = 1

// OrderStatus is the status of a TikTok Shop order.
type OrderStatus string

// TikTok Shop order statuses, as the Order API (202309) spells them.
const (
	OrderStatusUnpaid             OrderStatus = "UNPAID"
	OrderStatusOnHold             OrderStatus = "ON_HOLD"
	OrderStatusAwaitingShipment   OrderStatus = "AWAITING_SHIPMENT"
	OrderStatusPartiallyShipping  OrderStatus = "PARTIALLY_SHIPPING"
	OrderStatusAwaitingCollection OrderStatus = "AWAITING_COLLECTION"
	OrderStatusInTransit          OrderStatus = "IN_TRANSIT"
	OrderStatusDelivered          OrderStatus = "DELIVERED"
	OrderStatusCompleted          OrderStatus = "COMPLETED"
	OrderStatusCancelled          OrderStatus = "CANCELLED"
)

// orderStatusAliases maps every spelling a webhook may use to the status it
// means: the statuses themselves, and CANCEL for CANCELLED.
var orderStatusAliases = map[string]OrderStatus{
	string(OrderStatusUnpaid):             OrderStatusUnpaid,
	string(OrderStatusOnHold):             OrderStatusOnHold,
	string(OrderStatusAwaitingShipment):   OrderStatusAwaitingShipment,
	string(OrderStatusPartiallyShipping):  OrderStatusPartiallyShipping,
	string(OrderStatusAwaitingCollection): OrderStatusAwaitingCollection,
	string(OrderStatusInTransit):          OrderStatusInTransit,
	string(OrderStatusDelivered):          OrderStatusDelivered,
	string(OrderStatusCompleted):          OrderStatusCompleted,
	string(OrderStatusCancelled):          OrderStatusCancelled,
	"CANCEL":                              OrderStatusCancelled,
}

// ParseOrderStatus returns the order status s names, accepting the webhook
// spelling CANCEL for CANCELLED. An unknown value is a *ValidationError.
func ParseOrderStatus(s string) (OrderStatus, error) {
	if st, ok := orderStatusAliases[s]; ok {
		return st, nil
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "", validationErrorf("order_status", "unknown order status %q", s)
}

// TikTokWebhook is the envelope of every TikTok Shop webhook. It is stored in
// tiktok.webhooks.v1 byte-for-byte; this type is its parsed, validated view.
//
// Build it with ParseTikTokWebhook or json.Unmarshal (which calls it): only
// then are Key and OrderStatusChange backed by the parsed data.
type TikTokWebhook struct {
	// Type is the webhook type; WebhookTypeOrderStatus is an order status change.
	Type int `json:"type"`
	// NotificationID is TikTok's id of this notification (a retry repeats it).
	NotificationID string `json:"tts_notification_id"`
	// ShopID is the shop the notification is about.
	ShopID string `json:"shop_id"`
	// Timestamp is when TikTok sent the notification, in Unix seconds.
	Timestamp int64 `json:"timestamp"`
	// Data is the type-specific payload, always a JSON object.
	Data json.RawMessage `json:"data"`

	order    OrderStatusData // parsed Data when hasOrder
	hasOrder bool
}

// OrderStatusData is the data of a type 1 (order status change) webhook.
type OrderStatusData struct {
	// OrderID is the TikTok order id.
	OrderID string `json:"order_id"`
	// OrderStatus is the new status (CANCEL is read as CANCELLED).
	OrderStatus OrderStatus `json:"order_status"`
	// IsOnHoldOrder tells whether the order is in its on-hold (cancellable) period.
	IsOnHoldOrder bool `json:"is_on_hold_order"`
	// UpdateTime is when the order changed, in Unix seconds.
	UpdateTime int64 `json:"update_time"`
}

// ParseTikTokWebhook parses and validates a TikTok Shop webhook body. The body
// must be one JSON object (UTF-8, no duplicate member names, nothing after it)
// with type > 0, a non-empty tts_notification_id and shop_id (at most 128
// characters, no control characters), timestamp > 0 and data an object;
// members it does not know are ignored. For type 1, data must also be a valid
// OrderStatusData: order_id as an id, order_status a known status,
// is_on_hold_order (optional) a boolean, update_time > 0. Timestamps may not
// be later than year 9999.
//
// Every error is a *ValidationError naming the field at fault.
func ParseTikTokWebhook(body []byte) (TikTokWebhook, error) {
	obj, err := parseBody(body)
	if err != nil {
		return TikTokWebhook{}, err
	}
	var w TikTokWebhook
	typ, err := obj.integer("type", true, 1, maxWebhookType)
	if err != nil {
		return TikTokWebhook{}, err
	}
	w.Type = int(typ)
	if w.NotificationID, err = obj.id("tts_notification_id", true, maxIDLength); err != nil {
		return TikTokWebhook{}, err
	}
	if w.ShopID, err = obj.id("shop_id", true, maxIDLength); err != nil {
		return TikTokWebhook{}, err
	}
	if w.Timestamp, err = obj.integer("timestamp", true, 1, maxUnixSeconds); err != nil {
		return TikTokWebhook{}, err
	}
	raw, _, err := obj.raw("data", true)
	if err != nil {
		return TikTokWebhook{}, err
	}
	data, err := parseObject(raw, "data")
	if err != nil {
		return TikTokWebhook{}, err
	}
	w.Data = append(json.RawMessage(nil), raw...) // not an alias of the caller's buffer
	if w.Type == WebhookTypeOrderStatus {
		if w.order, err = parseOrderStatusData(data); err != nil {
			return TikTokWebhook{}, err
		}
		w.hasOrder = true
	}
	return w, nil
}

func parseOrderStatusData(data jsonObject) (OrderStatusData, error) {
	var d OrderStatusData
	var err error
	if d.OrderID, err = data.id("order_id", true, maxIDLength); err != nil {
		return OrderStatusData{}, err
	}
	status, err := data.str("order_status", true)
	if err != nil {
		return OrderStatusData{}, err
	}
	if d.OrderStatus, err = ParseOrderStatus(status); err != nil {
		if verr, ok := err.(*ValidationError); ok {
			verr.Field = fieldPath(data.path, "order_status")
		}
		return OrderStatusData{}, err
	}
	if d.IsOnHoldOrder, err = data.boolean("is_on_hold_order", false); err != nil {
		return OrderStatusData{}, err
	}
	if d.UpdateTime, err = data.integer("update_time", true, 1, maxUnixSeconds); err != nil {
		return OrderStatusData{}, err
	}
	return d, nil
}

// UnmarshalJSON parses data with ParseTikTokWebhook, so a webhook read back
// from tiktok.webhooks.v1 with json.Unmarshal is validated and keyed the same
// way as at ingest. JSON null leaves w unchanged.
func (w *TikTokWebhook) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	parsed, err := ParseTikTokWebhook(data)
	if err != nil {
		return err
	}
	*w = parsed
	return nil
}

// Key is the Kafka record key of the webhook: the order id of an order
// status change, else the shop id.
func (w TikTokWebhook) Key() string {
	if w.hasOrder {
		return w.order.OrderID
	}
	return w.ShopID
}

// EventTime is the webhook's own time: Timestamp in UTC.
func (w TikTokWebhook) EventTime() time.Time {
	return time.Unix(w.Timestamp, 0).UTC()
}

// OrderStatusChange returns the parsed data of an order status change
// (type 1), and false for any other webhook.
func (w TikTokWebhook) OrderStatusChange() (OrderStatusData, bool) {
	return w.order, w.hasOrder
}
