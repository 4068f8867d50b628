// Package enrichment turns TikTok order webhooks into order events: it drops
// duplicate notifications, fetches each order's details from the Order API in
// batches, and produces normalized events to orders.v1, exactly once. A
// status update older than what the order already has never moves it back.
package enrichment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
	"github.com/creatorflow/creatorflow/pipeline/stream"
	"github.com/creatorflow/creatorflow/schemas"
)

// Orders is what enrichment needs of the Order API: the details of orders
// by id, batched by the implementation (tiktok.Client).
type Orders interface {
	Orders(ctx context.Context, shopCipher string, ids []string) ([]tiktok.Order, error)
}

// Config sets up the processor.
type Config struct {
	// Application names the stream application (consumer group, changelogs).
	Application string
	// Webhooks is the input topic (tiktok.webhooks.v1) and Orders the
	// output (orders.v1), with any deployment prefix.
	Webhooks, OrdersTopic string
	// API fetches order details.
	API Orders
	// ShopCipher maps a shop id to the cipher the API wants; nil uses the
	// shop id.
	ShopCipher func(shopID string) string
	// DedupeRetention is how long a notification id is remembered (7 days:
	// TikTok retries a notification for up to 72 hours).
	DedupeRetention time.Duration
	// ForgetAfter is how long after its last update an order's state is
	// kept (90 days): it bounds the store, and an update older still than
	// that is not stale any more, it is history.
	ForgetAfter time.Duration
	// Registerer receives the processor's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Store names.
const (
	notificationsStore = "notifications" // windowed: day of the notification + shop/id -> seen
	ordersStore        = "orders"        // order id -> orderState
)

// orderState is what the processor remembers of an order: the latest
// status it emitted and that status's update time.
type orderState struct {
	Status     schemas.OrderStatus `json:"status"`
	UpdateTime int64               `json:"update_time"`
}

// Topology is the enrichment processor.
func Topology(cfg Config) stream.Topology {
	if cfg.DedupeRetention <= 0 {
		cfg.DedupeRetention = 7 * 24 * time.Hour
	}
	if cfg.ForgetAfter <= 0 {
		cfg.ForgetAfter = 90 * 24 * time.Hour
	}
	if cfg.ShopCipher == nil {
		cfg.ShopCipher = func(id string) string { return id }
	}
	skipped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "creatorflow_enrichment_skipped_total",
		Help: "Webhooks that produced no order event, by reason (duplicate_notification, stale_update, not_an_order). Counted again when an aborted transaction is retried."},
		[]string{"reason"})
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(skipped)
	}
	p := &processor{cfg: cfg, states: stream.KV[orderState]{Store: ordersStore, Codec: stream.JSON[orderState]{}}, skipped: skipped}
	return stream.Topology{
		Application: cfg.Application,
		Inputs:      []string{cfg.Webhooks},
		Outputs:     []string{cfg.OrdersTopic},
		Stores: []stream.StoreSpec{
			{Name: notificationsStore, Retention: cfg.DedupeRetention},
			{Name: ordersStore},
		},
		Prefetch: p.prefetch,
		Process:  p.process,
	}
}

type processor struct {
	cfg     Config
	states  stream.KV[orderState]
	skipped *prometheus.CounterVec
}

// fetched is a batch of webhooks, parsed once for both Prefetch and
// Process, and the Order API's answer for them.
type fetched struct {
	webhooks map[*kgo.Record]parsed
	orders   map[string]tiktok.Order // by order id
	errs     map[string]error        // by shop id: the API failed (after its retries)
}

type parsed struct {
	w   schemas.TikTokWebhook
	err error
}

// prefetch parses a batch of webhooks and reads their orders, per shop, in
// requests of up to 50 ids.
func (p *processor) prefetch(ctx context.Context, recs []*kgo.Record) any {
	out := &fetched{webhooks: make(map[*kgo.Record]parsed, len(recs)), orders: map[string]tiktok.Order{}, errs: map[string]error{}}
	byShop := map[string][]string{}
	for _, r := range recs {
		w, err := schemas.ParseTikTokWebhook(r.Value)
		out.webhooks[r] = parsed{w, err}
		if err != nil {
			continue // Process sends it to the DLQ
		}
		if change, ok := w.OrderStatusChange(); ok {
			byShop[w.ShopID] = append(byShop[w.ShopID], change.OrderID)
		}
	}
	for shop, ids := range byShop {
		orders, err := p.cfg.API.Orders(ctx, p.cfg.ShopCipher(shop), ids)
		if err != nil {
			out.errs[shop] = fmt.Errorf("order API for shop %s: %w", shop, err)
		}
		for _, o := range orders {
			out.orders[o.ID] = o
		}
	}
	return out
}

func (p *processor) process(c *stream.Context, r *kgo.Record) error {
	f := c.Prefetched().(*fetched) // Prefetch is set, and saw r
	w, err := f.webhooks[r].w, f.webhooks[r].err
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	change, ok := w.OrderStatusChange()
	if !ok {
		p.skipped.WithLabelValues("not_an_order").Inc()
		return nil
	}
	// TikTok retries a notification with the same id and timestamp, so the
	// day of its timestamp finds it again.
	seenKey := stream.WindowKey(w.EventTime().Truncate(24*time.Hour), w.ShopID+"/"+w.NotificationID)
	if _, dup := c.Get(notificationsStore, seenKey); dup {
		p.skipped.WithLabelValues("duplicate_notification").Inc()
		return nil
	}
	c.Put(notificationsStore, seenKey, []byte{1})

	prev, known, err := p.states.Get(c, change.OrderID)
	if err != nil {
		return err
	}
	if known && (change.UpdateTime < prev.UpdateTime || (change.UpdateTime == prev.UpdateTime && change.OrderStatus == prev.Status)) {
		p.skipped.WithLabelValues("stale_update").Inc() // or repeated: the order has moved on already
		return nil
	}
	order, found := f.orders[change.OrderID]
	if err := f.errs[w.ShopID]; err != nil && !found {
		if tiktok.Refused(err) {
			return err // the request itself is wrong: to the DLQ with why
		}
		return stream.Transient(err) // TikTok is down: try again later
	}
	if !found {
		return fmt.Errorf("order %s of shop %s: not returned by the Order API", change.OrderID, w.ShopID)
	}
	ev, err := normalize(w, change, order)
	if err != nil {
		return fmt.Errorf("order %s: %w", change.OrderID, err)
	}
	if known {
		ev.PreviousStatus = prev.Status
	}
	value, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	env := schemas.Envelope{
		// The same change always gets the same id: replays and retries
		// collapse downstream.
		ID:   schemas.EventID(ev.UpdateTime, p.cfg.OrdersTopic, ev.OrderID, string(ev.Status)),
		Type: "order.event", SchemaVersion: 1, Source: "creatorflow/enrichment", Time: ev.UpdateTime,
		IngestTime: ingestTime(r),
	}
	c.Emit(&kgo.Record{Topic: p.cfg.OrdersTopic, Key: []byte(ev.OrderID), Value: value, Headers: env.Headers()})
	p.states.ForgetAt(c, change.OrderID, ev.UpdateTime.Add(p.cfg.ForgetAfter)) // moved by each update
	return p.states.Put(c, change.OrderID, orderState{Status: change.OrderStatus, UpdateTime: change.UpdateTime})
}

// ingestTime is when the webhook entered the pipeline (its envelope's
// ingest time), so the latency of the whole pipeline stays measurable.
func ingestTime(r *kgo.Record) time.Time {
	if env, err := schemas.ParseHeaders(r.Headers); err == nil && !env.IngestTime.IsZero() {
		return env.IngestTime
	}
	return r.Timestamp.UTC()
}

// normalize builds the order event of a status change from the order's
// details.
func normalize(w schemas.TikTokWebhook, change schemas.OrderStatusData, o tiktok.Order) (schemas.OrderEvent, error) {
	ev := schemas.OrderEvent{
		OrderID:    change.OrderID,
		ShopID:     w.ShopID,
		Status:     change.OrderStatus,
		BuyerID:    o.UserID,
		CreateTime: unix(o.CreateTime),
		UpdateTime: unix(change.UpdateTime),
		RecipientAddress: schemas.RecipientAddress{
			Name: o.RecipientAddress.Name, PostalCode: o.RecipientAddress.PostalCode,
			RegionCode: o.RecipientAddress.RegionCode, AddressDetail: o.RecipientAddress.AddressDetail,
		},
	}
	if o.RTSSLATime > 0 {
		ev.RTSSLATime = unix(o.RTSSLATime)
	}
	if o.ShippingDueTime > 0 {
		ev.ShippingDueTime = unix(o.ShippingDueTime)
	}
	for _, d := range o.RecipientAddress.DistrictInfo {
		ev.RecipientAddress.DistrictInfo = append(ev.RecipientAddress.DistrictInfo,
			schemas.DistrictInfo{AddressLevelName: d.AddressLevelName, AddressName: d.AddressName})
	}
	if len(o.LineItems) == 0 {
		return ev, errors.New("the order has no line items")
	}
	for _, li := range o.LineItems {
		currency := li.Currency
		if currency == "" {
			currency = o.Payment.Currency
		}
		price, err := minorUnits(li.SalePrice)
		if err != nil {
			return ev, fmt.Errorf("line item %s: sale_price: %w", li.ID, err)
		}
		// TikTok's line items are one unit each.
		ev.LineItems = append(ev.LineItems, schemas.LineItem{ID: li.ID, SKUID: li.SKUID, SellerSKU: li.SellerSKU,
			ProductID: li.ProductID, ProductName: li.ProductName, Quantity: 1, SalePrice: price, Currency: currency})
	}
	return ev, nil
}

func unix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// minorUnits parses a decimal amount such as "12.99" into cents (1299).
// Amounts carry at most two decimals, as TikTok's prices do.
func minorUnits(s string) (int64, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || (hasFrac && (len(frac) == 0 || len(frac) > 2)) {
		return 0, fmt.Errorf("%q is not an amount with at most two decimals", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	for _, part := range []string{whole, frac} {
		for _, ch := range part {
			if ch < '0' || ch > '9' {
				return 0, fmt.Errorf("%q is not a non-negative decimal amount", s)
			}
		}
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return n, nil
}
