package sandbox

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creatorflow/creatorflow/connectors/tiktok"
)

// Order statuses (CONTRACTS.md).
const (
	statusUnpaid             = "UNPAID"
	statusOnHold             = "ON_HOLD"
	statusAwaitingShipment   = "AWAITING_SHIPMENT"
	statusPartiallyShipping  = "PARTIALLY_SHIPPING"
	statusAwaitingCollection = "AWAITING_COLLECTION"
	statusInTransit          = "IN_TRANSIT"
	statusDelivered          = "DELIVERED"
	statusCompleted          = "COMPLETED"
	statusCancelled          = "CANCELLED"
)

var statuses = []string{statusUnpaid, statusOnHold, statusAwaitingShipment, statusPartiallyShipping,
	statusAwaitingCollection, statusInTransit, statusDelivered, statusCompleted, statusCancelled}

// shippable are the statuses in which a tracking number may be set.
var shippable = []string{statusAwaitingShipment, statusPartiallyShipping, statusAwaitingCollection}

// ErrNotFound is returned by the admin methods for an order that is neither
// registered nor synthesizable.
var ErrNotFound = errors.New("not found")

// store holds what the sandbox knows: registered things, and synthesized
// ones once touched, so their times stay put and changes to them persist.
// Stored slices are never modified in place, only replaced, so copies
// handed out of the lock may share them.
type store struct {
	mu       sync.Mutex
	orders   map[string]*orderEntry
	products map[string]tiktok.Product
	videos   map[string]VideoModel
}

func newStore() store {
	return store{orders: map[string]*orderEntry{}, products: map[string]tiktok.Product{}, videos: map[string]VideoModel{}}
}

type orderEntry struct {
	order    tiktok.Order
	shipping *tiktok.ShippingInfo
}

// OrderState is an order with what the API cannot show: the shipping info
// the client set on it.
type OrderState struct {
	Order    tiktok.Order         `json:"order"`
	Shipping *tiktok.ShippingInfo `json:"shipping,omitempty"`
}

// lookupOrder returns the order with id, synthesizing it if allowed. The
// caller holds s.store.mu.
func (s *Server) lookupOrder(id string, now time.Time) (*orderEntry, bool) {
	if e, ok := s.store.orders[id]; ok {
		return e, true
	}
	if !s.cfg.Synthesize || !synthesizable(id) {
		return nil, false
	}
	e := &orderEntry{order: synthOrder(s.cfg.Seed, id, now)}
	s.store.orders[id] = e
	return e, true
}

// getOrders serves GET PathOrders?ids=a,b: the orders found, in the order
// asked; unknown ids are missing from the list, as TikTok answers.
func (s *Server) getOrders(c *call) answer {
	var ids []string
	for id := range strings.SplitSeq(c.r.URL.Query().Get("ids"), ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return badRequest("ids is required: order ids, comma-separated")
	case len(ids) > tiktok.MaxBatch:
		return badRequest("%d ids asked; at most %d per request", len(ids), tiktok.MaxBatch)
	}
	out := make([]tiktok.Order, 0, len(ids))
	seen := map[string]bool{}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	for _, id := range ids {
		if e, ok := s.lookupOrder(id, c.now); ok && !seen[id] {
			seen[id] = true
			out = append(out, e.order)
		}
	}
	return success(tiktok.OrdersData{Orders: out})
}

// maxPageSize is TikTok's largest order search page.
const maxPageSize = 100

// searchOrders serves POST PathOrderSearch?page_size=N&page_token=T: the
// known orders matching the body, by update time then id. The page token
// is the position after the last order of the page, so paging stays
// consistent while orders are added; an order updated meanwhile moves
// forward and is met again, as with TikTok.
func (s *Server) searchOrders(c *call) answer {
	q := c.r.URL.Query()
	size, err := strconv.Atoi(q.Get("page_size"))
	if err != nil || size < 1 || size > maxPageSize {
		return badRequest("page_size must be between 1 and %d", maxPageSize)
	}
	var after *cursor
	if t := q.Get("page_token"); t != "" {
		cur, err := parseCursor(t)
		if err != nil {
			return badRequest("page_token is invalid: %v", err)
		}
		after = &cur
	}
	var search tiktok.OrderSearch
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &search); err != nil {
			return badRequest("body is not an order search: %v", err)
		}
	}
	if search.OrderStatus != "" && !slices.Contains(statuses, search.OrderStatus) {
		return badRequest("order_status %q is not one of %v", search.OrderStatus, statuses)
	}

	var matched []tiktok.Order
	s.store.mu.Lock()
	for _, e := range s.store.orders {
		o := e.order
		if (search.OrderStatus == "" || o.Status == search.OrderStatus) &&
			(search.UpdateTimeGE == 0 || o.UpdateTime >= search.UpdateTimeGE) &&
			(search.UpdateTimeLT == 0 || o.UpdateTime < search.UpdateTimeLT) {
			matched = append(matched, o)
		}
	}
	s.store.mu.Unlock()
	slices.SortFunc(matched, func(a, b tiktok.Order) int {
		return cmp.Or(cmp.Compare(a.UpdateTime, b.UpdateTime), cmp.Compare(a.ID, b.ID))
	})
	rest := matched
	if after != nil {
		// The first order after the cursor: an order equal to it compares
		// as smaller, so the search lands past it.
		i, _ := slices.BinarySearchFunc(matched, *after, func(o tiktok.Order, c cursor) int {
			return cmp.Or(cmp.Compare(o.UpdateTime, c.updateTime), cmp.Compare(o.ID, c.id), -1)
		})
		rest = matched[i:]
	}
	page := tiktok.OrdersData{Orders: rest[:min(size, len(rest))], TotalCount: len(matched)}
	if len(rest) > size {
		last := page.Orders[size-1]
		page.NextPageToken = cursor{last.UpdateTime, last.ID}.String()
	}
	return success(page)
}

// cursor is a position in the search order: after this update time and id.
type cursor struct {
	updateTime int64
	id         string
}

// String encodes the cursor as an opaque page token.
func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.updateTime, 10) + ":" + c.id))
}

func parseCursor(token string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return cursor{}, fmt.Errorf("decode: %w", err)
	}
	t, id, ok := strings.Cut(string(raw), ":")
	if !ok {
		return cursor{}, errors.New("no position in it")
	}
	ut, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return cursor{}, fmt.Errorf("position: %w", err)
	}
	return cursor{ut, id}, nil
}

// updateShippingInfo serves POST ShippingInfoPath(id): it records the
// tracking number and carrier with a package, and an order awaiting
// shipment moves to awaiting collection. The same tracking number again is
// a success that changes nothing, so a client's retry is harmless.
func (s *Server) updateShippingInfo(c *call) answer {
	var info tiktok.ShippingInfo
	if err := json.Unmarshal(c.body, &info); err != nil {
		return badRequest("body is not shipping info: %v", err)
	}
	if info.TrackingNumber == "" || info.ShippingProviderID == "" {
		return badRequest("tracking_number and shipping_provider_id are required")
	}
	id := c.r.PathValue("id")
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	e, ok := s.lookupOrder(id, c.now)
	switch {
	case !ok:
		return notFound("order %s not found", id)
	case e.shipping != nil && *e.shipping == info:
		return success(nil)
	case !slices.Contains(shippable, e.order.Status):
		// A business error: HTTP 200 and the code, as TikTok answers.
		return failure(http.StatusOK, tiktok.CodeBadRequest, "order %s is %s: shipping info cannot be set", id, e.order.Status)
	}
	e.shipping = &info
	e.order.Packages = []tiktok.Package{{ID: "pkg-" + id}}
	if e.order.Status == statusAwaitingShipment {
		e.order.Status = statusAwaitingCollection
	}
	e.order.UpdateTime = c.now.Unix()
	return success(nil)
}

// UpsertOrders registers orders (the admin route POST /sandbox/orders),
// replacing those with the same id; shipping info already set is kept.
// A missing status means AWAITING_SHIPMENT and missing times mean now.
func (s *Server) UpsertOrders(orders []tiktok.Order) error {
	now := s.cfg.Clock().Unix()
	for i := range orders {
		o := &orders[i]
		if o.ID == "" {
			return fmt.Errorf("order %d has no id", i)
		}
		if o.Status == "" {
			o.Status = statusAwaitingShipment
		}
		if !slices.Contains(statuses, o.Status) {
			return fmt.Errorf("order %s: status %q is not one of %v", o.ID, o.Status, statuses)
		}
		if o.CreateTime == 0 {
			o.CreateTime = now
		}
		if o.UpdateTime == 0 {
			o.UpdateTime = now
		}
	}
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	for _, o := range orders {
		o = cloneOrder(o)
		if e, ok := s.store.orders[o.ID]; ok {
			e.order = o
		} else {
			s.store.orders[o.ID] = &orderEntry{order: o}
		}
	}
	s.log.Info("sandbox orders upserted", "orders", len(orders))
	return nil
}

// SetOrderStatus changes an order's status and sets its update time to now
// (the admin route POST /sandbox/orders/{id}/status), as a seller's or
// buyer's action on TikTok would. An unregistered order is synthesized
// first when it can be.
func (s *Server) SetOrderStatus(id, status string) (tiktok.Order, error) {
	if !slices.Contains(statuses, status) {
		return tiktok.Order{}, fmt.Errorf("status %q is not one of %v", status, statuses)
	}
	now := s.cfg.Clock()
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	e, ok := s.lookupOrder(id, now)
	if !ok {
		return tiktok.Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	e.order.Status = status
	e.order.UpdateTime = now.Unix()
	s.log.Info("sandbox order status set", "order", id, "status", status)
	return e.order, nil
}

// Order returns an order with its shipping info (the admin route GET
// /sandbox/orders/{id}), synthesizing it when it can be.
func (s *Server) Order(id string) (OrderState, error) {
	now := s.cfg.Clock()
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	e, ok := s.lookupOrder(id, now)
	if !ok {
		return OrderState{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	st := OrderState{Order: e.order}
	if e.shipping != nil {
		info := *e.shipping
		st.Shipping = &info
	}
	return st, nil
}

// cloneOrder copies an order deeply, so the caller's slices are not shared
// with the store.
func cloneOrder(o tiktok.Order) tiktok.Order {
	o.LineItems = slices.Clone(o.LineItems)
	o.Packages = slices.Clone(o.Packages)
	o.RecipientAddress.DistrictInfo = slices.Clone(o.RecipientAddress.DistrictInfo)
	return o
}
