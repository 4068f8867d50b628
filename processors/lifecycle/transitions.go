package lifecycle

import "github.com/creatorflow/creatorflow/schemas"

// Short names of the statuses, for the table.
const (
	unpaid             = schemas.OrderStatusUnpaid
	onHold             = schemas.OrderStatusOnHold
	awaitingShipment   = schemas.OrderStatusAwaitingShipment
	partiallyShipping  = schemas.OrderStatusPartiallyShipping
	awaitingCollection = schemas.OrderStatusAwaitingCollection
	inTransit          = schemas.OrderStatusInTransit
	delivered          = schemas.OrderStatusDelivered
	completed          = schemas.OrderStatusCompleted
	cancelled          = schemas.OrderStatusCancelled
)

// Statuses lists every TikTok order status, in the order of the flow.
var Statuses = []schemas.OrderStatus{unpaid, onHold, awaitingShipment, partiallyShipping,
	awaitingCollection, inTransit, delivered, completed, cancelled}

// Transitions is THE table of legal status changes: from a status, the
// statuses an order may move to next. It follows TikTok Shop's documented
// order flow (Order API 202309, "order status"); docs/lifecycle.md draws it.
// A status absent from a row cannot follow it; an order's first event may
// be any status (we may start in the middle of its life), and an update
// that keeps the status (details changed) is always accepted, so the
// diagonal is not written here.
//
//   - UNPAID: placed, not paid. Payment moves it to ON_HOLD (the US remorse
//     period) or, where there is no remorse period, straight to
//     AWAITING_SHIPMENT; the payment deadline passing or the buyer
//     cancels.
//   - ON_HOLD: paid, in the remorse period (about an hour) during which the
//     buyer cancels without the seller's approval and no label may be
//     bought. It ends in AWAITING_SHIPMENT or CANCELLED.
//   - AWAITING_SHIPMENT: the seller's turn. Shipping some packages gives
//     PARTIALLY_SHIPPING, uploading tracking for all gives
//     AWAITING_COLLECTION, and a package the carrier scans at once (a
//     drop-off, the seller's own carrier) skips collection: IN_TRANSIT is
//     the one allowed skip of the fulfilment path. Buyer, seller or
//     platform (late shipment, fraud) may cancel.
//   - PARTIALLY_SHIPPING: the last packages shipped give AWAITING_COLLECTION,
//     or IN_TRANSIT when collected at once (the same skip).
//   - AWAITING_COLLECTION: tracking uploaded, waiting for the carrier's
//     pickup; collection gives IN_TRANSIT.
//   - IN_TRANSIT: the carrier has every package; DELIVERED follows.
//   - DELIVERED then COMPLETED (TikTok completes an order only after
//     delivery, so IN_TRANSIT never jumps to COMPLETED).
//   - CANCELLED from any status before DELIVERED: TikTok also cancels an
//     order whose package was not collected in time, or whose delivery
//     failed or was lost (the package returns to the seller). After
//     delivery a refund is a return, which leaves the status alone.
//   - CANCELLED and COMPLETED are final: nothing follows them.
//
// Nothing moves backwards: a later status arriving first makes the earlier
// one stale (older update_time), and an earlier status with a newer time is
// a contradiction worth a person's look (the DLQ).
var Transitions = map[schemas.OrderStatus][]schemas.OrderStatus{
	unpaid:             {onHold, awaitingShipment, cancelled},
	onHold:             {awaitingShipment, cancelled},
	awaitingShipment:   {partiallyShipping, awaitingCollection, inTransit, cancelled},
	partiallyShipping:  {awaitingCollection, inTransit, cancelled},
	awaitingCollection: {inTransit, cancelled},
	inTransit:          {delivered, cancelled},
	delivered:          {completed},
	completed:          nil,
	cancelled:          nil,
}

// legal is Transitions as a set, built once.
var legal = func() map[[2]schemas.OrderStatus]bool {
	m := map[[2]schemas.OrderStatus]bool{}
	for from, tos := range Transitions {
		for _, to := range tos {
			m[[2]schemas.OrderStatus{from, to}] = true
		}
	}
	return m
}()

// Legal reports whether an order in status from may move to status to. A
// status kept (from == to) is legal: the order's details changed, not its
// status. An unknown status is never legal.
func Legal(from, to schemas.OrderStatus) bool {
	if _, ok := Transitions[from]; !ok {
		return false
	}
	if _, ok := Transitions[to]; !ok {
		return false
	}
	return from == to || legal[[2]schemas.OrderStatus{from, to}]
}

// Final reports whether nothing may follow status s.
func Final(s schemas.OrderStatus) bool {
	tos, ok := Transitions[s]
	return ok && len(tos) == 0
}

// shippable statuses make an order ready for a label: the first time an
// order is in one, it goes to the priority stage.
func shippable(s schemas.OrderStatus) bool {
	return s == awaitingShipment || s == partiallyShipping
}

// shipped statuses mean a package of the order is with the carrier (or,
// PARTIALLY_SHIPPING, part of the order is on its way under the order's
// label): from then on the label is in use and a cancellation does not
// cancel it. AWAITING_COLLECTION is not shipped: the package waits for its
// pickup, and voiding its label is what keeps the carrier from collecting a
// cancelled order.
func shipped(s schemas.OrderStatus) bool {
	switch s {
	case partiallyShipping, inTransit, delivered, completed:
		return true
	}
	return false
}
