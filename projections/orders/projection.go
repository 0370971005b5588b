// Package orders is the orders read model: orders with their line items and refunds, folded from
// the commerce topic, and the queries the API reads them with.
//
// Shopify delivers webhooks at least once and in no particular order, drops some, and a bulk
// sync later re-reads what changed. The read model is therefore a function of the set of events
// seen, not of their order: a duplicate or a late event changes nothing, and every batch split
// gives the same tables.
//
// # Which version of an order wins
//
// Every order event carries the whole order as Shopify had it at order.updated_at, its version:
// the webhooks OrderCreated, OrderUpdated, OrderCancelled, OrderFulfilled and OrderPaid (with the
// lines), and the bulk export's OrderSnapshotted (without them). The orders row holds the
// greatest version seen, versions ordered by
//
//	(updated_at, webhook above snapshot, bulk operation id)
//
// So an older updated_at never wins, and at an equal one:
//   - another webhook (a duplicate, or orders/paid and orders/updated of one change) changes nothing;
//   - a webhook replaces a snapshot: it describes the same version more fully (its fulfillments
//     list their line items and its lines their fulfillment status; a bulk row has neither);
//   - of two bulk exports, the later one (the greater bulk operation id) wins, so that even the
//     row's bulk_operation_id (which export wrote it; NULL: a webhook) does not depend on order.
//
// # Line items
//
// Lines belong to the version that brought them, and an order's lines are always exactly those of
// its winning version:
//
//   - a webhook's lines replace the order's lines when, and only when, its version wins the row;
//   - a bulk export brings each line as its own event (OrderLineItemSnapshotted, keyed by the order,
//     tagged with the bulk operation B), before or after the order's OrderSnapshotted. Lines are
//     kept aside (order_line_item_snapshots) and B's lines become the order's lines when B's
//     OrderSnapshotted wins the row; lines of B arriving after that join them. When the row moves
//     on to a newer version, B's lines go with it. A line is kept aside only until its export's
//     OrderSnapshotted has been seen: by then it has been copied into the order's lines (the
//     export won) or can never be (it lost).
//
// So after a bulk sync every exported order, lines included, is what Shopify showed the export,
// even when its webhooks were dropped, while a webhook newer than the export still wins over it.
//
// # Refunds
//
// A refund never changes once created (refunds/create is its only webhook): RefundCreated is
// stored once per refund id with its lines, transactions and order adjustments, and a duplicate
// changes nothing. It may arrive before its order. The order's current_* totals (after refunds)
// come from the order's versions, never from summing refunds.
package orders

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
)

// Projection folds order and refund events into the read model.
type Projection struct{}

// Name implements projections.Projection.
func (Projection) Name() string { return "orders" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicCommerce} }

// Tables are the tables of its read model, for blue/green rebuilds (projections.Tabled).
func (Projection) Tables() []string {
	return []string{"orders", "order_line_items", "order_snapshots", "order_line_item_snapshots", "refunds", "refund_line_items", "refund_transactions", "refund_order_adjustments"}
}

// Apply implements projections.Projection. The batch is first reduced in memory to the winning
// version of each order (by the same rule the statements apply against the stored rows), then
// written with a handful of set-based statements, whatever the batch size.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	f := newFold()
	for _, r := range batch {
		f.add(r.Event)
	}
	return f.write(ctx, tx)
}

// version is one version of an order: from a webhook (bulkOperationID nil) or a bulk export.
type version struct {
	env             *events.Envelope
	order           *events.Order
	bulkOperationID *int64
}

// beats reports whether v is a newer version than w: a newer updated_at; at an equal one, a
// webhook against a snapshot, or the later of two exports. The statements of fold.go apply the
// same order in SQL.
func (v *version) beats(w *version) bool {
	if !v.order.UpdatedAt.Equal(w.order.UpdatedAt) {
		return v.order.UpdatedAt.After(w.order.UpdatedAt)
	}
	if v.bulkOperationID == nil || w.bulkOperationID == nil {
		return v.bulkOperationID == nil && w.bulkOperationID != nil
	}
	return *v.bulkOperationID > *w.bulkOperationID
}

// snapshotKey names one bulk operation's snapshot of one order.
type snapshotKey struct{ orderID, bulkOperationID int64 }

// stagedLine is a line of a bulk export, kept aside until its order's snapshot is seen.
type stagedLine struct {
	orderID, bulkOperationID int64
	line                     *events.OrderLineItem
}

type stagedLineKey struct {
	snapshotKey
	lineItemID int64
}

// fold is a batch reduced to what it writes.
type fold struct {
	versions     map[int64]*version // winning version per order id within the batch
	versionOrder []int64            // order ids in first-seen order, for deterministic statements
	snapshots    map[snapshotKey]time.Time
	snapOrder    []snapshotKey
	lines        map[stagedLineKey]struct{}
	stagedLines  []stagedLine
	stagedOrders map[int64]struct{} // orders with a snapshot or a snapshot line in the batch
	refunds      map[int64]struct{}
	refundRows   []refundRows
}

func newFold() *fold {
	return &fold{
		versions: map[int64]*version{}, snapshots: map[snapshotKey]time.Time{},
		lines: map[stagedLineKey]struct{}{}, stagedOrders: map[int64]struct{}{}, refunds: map[int64]struct{}{},
	}
}

func (f *fold) add(ev events.Event) {
	switch e := ev.(type) {
	case *events.OrderCreated:
		f.addVersion(&version{env: &e.Envelope, order: &e.Order})
	case *events.OrderUpdated:
		f.addVersion(&version{env: &e.Envelope, order: &e.Order})
	case *events.OrderCancelled:
		f.addVersion(&version{env: &e.Envelope, order: &e.Order})
	case *events.OrderFulfilled:
		f.addVersion(&version{env: &e.Envelope, order: &e.Order})
	case *events.OrderPaid:
		f.addVersion(&version{env: &e.Envelope, order: &e.Order})
	case *events.OrderSnapshotted:
		bulk := e.BulkOperationID
		f.addVersion(&version{env: &e.Envelope, order: &e.Order, bulkOperationID: &bulk})
		k := snapshotKey{e.Order.OrderID, bulk}
		if _, ok := f.snapshots[k]; !ok {
			f.snapshots[k] = e.Order.UpdatedAt
			f.snapOrder = append(f.snapOrder, k)
		}
		f.stagedOrders[e.Order.OrderID] = struct{}{}
	case *events.OrderLineItemSnapshotted:
		k := stagedLineKey{snapshotKey{e.OrderID, e.BulkOperationID}, e.LineItem.LineItemID}
		if _, ok := f.lines[k]; !ok {
			f.lines[k] = struct{}{}
			f.stagedLines = append(f.stagedLines, stagedLine{e.OrderID, e.BulkOperationID, &e.LineItem})
		}
		f.stagedOrders[e.OrderID] = struct{}{}
	case *events.RefundCreated:
		if _, ok := f.refunds[e.Refund.RefundID]; !ok {
			f.refunds[e.Refund.RefundID] = struct{}{}
			f.refundRows = append(f.refundRows, newRefundRows(&e.Envelope, &e.Refund))
		}
	}
}

// addVersion keeps v if it beats the batch's version of its order so far; on a tie the first
// one stays, as it would against a stored row.
func (f *fold) addVersion(v *version) {
	id := v.order.OrderID
	cur, ok := f.versions[id]
	if !ok {
		f.versions[id] = v
		f.versionOrder = append(f.versionOrder, id)
		return
	}
	if v.beats(cur) {
		f.versions[id] = v
	}
}

func (f *fold) empty() bool {
	return len(f.versions) == 0 && len(f.snapshots) == 0 && len(f.stagedLines) == 0 && len(f.refundRows) == 0
}
