package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/recordset"
)

// Staging tables (session temporary tables, recordset.Stage) the batch's orders and lines are
// copied into for the statements below to read.
var (
	ordersStage      = recordset.Stage{Name: "stage_orders", Columns: orderColumns}
	stagedLinesStage = recordset.Stage{Name: "stage_order_line_item_snapshots", Columns: stagedLineColumns}
)

// The statements a batch is written with. They read the batch's rows from the staging tables,
// refunds from one JSON array each.
var (
	// upsertOrders writes each order's version where it beats the stored one and returns the
	// orders it wrote. The row comparison is version.beats: (updated_at, webhook — a NULL
	// bulk_operation_id — above snapshot, bulk operation id).
	upsertOrders = `
INSERT INTO orders (` + orderColumns.Names("") + `, projected_at)
SELECT ` + orderColumns.Names("r.") + `, now() FROM ` + ordersStage.From("r") + `
ON CONFLICT (order_id) DO UPDATE SET ` + orderColumns.SetExcluded("order_id") + `, projected_at = now()
WHERE (orders.updated_at, orders.bulk_operation_id IS NULL, COALESCE(orders.bulk_operation_id, 0))
    < (excluded.updated_at, excluded.bulk_operation_id IS NULL, COALESCE(excluded.bulk_operation_id, 0))
RETURNING order_id, xmax = 0 AS inserted`

	stageSnapshots = `
INSERT INTO order_snapshots (order_id, bulk_operation_id, updated_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[])
ON CONFLICT DO NOTHING`

	stageLines = `
INSERT INTO order_line_item_snapshots (` + stagedLineColumns.Names("") + `)
SELECT ` + stagedLineColumns.Names("r.") + ` FROM ` + stagedLinesStage.From("r") + `
ON CONFLICT DO NOTHING`

	deleteLines = `DELETE FROM order_line_items WHERE order_id = ANY($1::bigint[])`

	// countLines keeps the line count and units of orders whose lines an export brought (for
	// lists), once those lines are in.
	countLines = `
UPDATE orders o SET line_count = l.line_count, units = l.units
FROM (SELECT t.order_id, count(li.order_id)::int AS line_count, COALESCE(sum(li.quantity), 0)::bigint AS units
      FROM unnest($1::bigint[]) AS t(order_id)
      LEFT JOIN order_line_items li ON li.order_id = t.order_id
      GROUP BY t.order_id) l
WHERE o.order_id = l.order_id AND (o.line_count, o.units) IS DISTINCT FROM (l.line_count, l.units)`

	// promoteSnapshotLines copies the kept-aside lines of the bulk operation that wrote each
	// order's row into its lines; lines already there (an earlier batch promoted them) stay.
	promoteSnapshotLines = `
INSERT INTO order_line_items (` + lineColumns.Names("") + `, position)
SELECT ` + lineColumns.Names("s.") + `, NULL
FROM order_line_item_snapshots s JOIN orders o ON o.order_id = s.order_id AND o.bulk_operation_id = s.bulk_operation_id
WHERE s.order_id = ANY($1::bigint[])
ON CONFLICT (order_id, line_item_id) DO NOTHING`

	// dropSettledSnapshotLines forgets the kept-aside lines of every export whose order row has
	// been seen: it either won, and promoteSnapshotLines (queued before) copied them into the
	// order's lines, or it lost and can never win. Lines waiting for their order row stay.
	dropSettledSnapshotLines = `
DELETE FROM order_line_item_snapshots s USING order_snapshots h
WHERE s.order_id = ANY($1::bigint[]) AND h.order_id = s.order_id AND h.bulk_operation_id = s.bulk_operation_id`

	insertRefunds = `
INSERT INTO refunds (` + refundColumns.Names("") + `, projected_at)
SELECT ` + refundColumns.Names("r.") + `, now() FROM ` + refundColumns.Recordset("$1") + `
ON CONFLICT (refund_id) DO NOTHING`

	insertRefundLines = `
INSERT INTO refund_line_items (` + refundLineColumns.Names("") + `)
SELECT ` + refundLineColumns.Names("r.") + ` FROM ` + refundLineColumns.Recordset("$1") + `
ON CONFLICT DO NOTHING`

	insertRefundTransactions = `
INSERT INTO refund_transactions (` + refundTransactionColumns.Names("") + `)
SELECT ` + refundTransactionColumns.Names("r.") + ` FROM ` + refundTransactionColumns.Recordset("$1") + `
ON CONFLICT DO NOTHING`

	insertRefundAdjustments = `
INSERT INTO refund_order_adjustments (` + refundAdjustmentColumns.Names("") + `)
SELECT ` + refundAdjustmentColumns.Names("r.") + ` FROM ` + refundAdjustmentColumns.Recordset("$1") + `
ON CONFLICT DO NOTHING`
)

// write applies the fold in two steps: first what does not depend on the stored rows
// (snapshots kept aside, the orders' versions, refunds), then the lines of the orders whose
// version won. Each step copies its rows into the staging tables, then sends its statements in
// one round trip.
func (f *fold) write(ctx context.Context, tx pgx.Tx) error {
	if f.empty() {
		return nil
	}
	if err := recordset.PrepareStages(ctx, tx, ordersStage, stagedLinesStage); err != nil {
		return err
	}
	b := &pgx.Batch{}
	if len(f.snapOrder) > 0 {
		ids, bulks, times := make([]int64, len(f.snapOrder)), make([]int64, len(f.snapOrder)), make([]time.Time, len(f.snapOrder))
		for i, k := range f.snapOrder {
			ids[i], bulks[i], times[i] = k.orderID, k.bulkOperationID, f.snapshots[k]
		}
		b.Queue(stageSnapshots, ids, bulks, times)
	}
	if len(f.stagedLines) > 0 {
		w := stagedLinesStage.Writer()
		for _, l := range f.stagedLines {
			bulk := l.bulkOperationID
			writeLine(w, l.orderID, l.line, nil, &bulk)
		}
		if err := copyRows(ctx, tx, w); err != nil {
			return err
		}
		b.Queue(stageLines)
	}
	var won, replaced []int64 // orders whose row this batch wrote; of them, those that had a row before
	if len(f.versionOrder) > 0 {
		w := ordersStage.Writer()
		for _, id := range f.versionOrder {
			if err := writeOrder(w, f.versions[id]); err != nil {
				return err
			}
		}
		if err := copyRows(ctx, tx, w); err != nil {
			return err
		}
		b.Queue(upsertOrders).Query(func(rows pgx.Rows) error {
			var id int64
			var inserted bool
			_, err := pgx.ForEachRow(rows, []any{&id, &inserted}, func() error {
				won = append(won, id)
				if !inserted {
					replaced = append(replaced, id)
				}
				return nil
			})
			return err
		})
	}
	if err := f.queueRefunds(b); err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold orders: %w", err)
	}

	// promote: orders whose row a snapshot won, or that got snapshot lines, in this batch.
	promote := make([]int64, 0, len(f.stagedOrders))
	for id := range f.stagedOrders {
		promote = append(promote, id)
	}
	lines := recordset.Table{Name: "order_line_items", Columns: liveLineColumns}.Writer()
	for _, id := range won {
		v := f.versions[id]
		if v.bulkOperationID != nil {
			if _, ok := f.stagedOrders[id]; !ok {
				promote = append(promote, id)
			}
			continue
		}
		// Of a repeated line id the first is kept (writeOrder counts the lines so).
		seen := make(map[int64]bool, len(v.order.LineItems))
		for i := range v.order.LineItems {
			li := &v.order.LineItems[i]
			if seen[li.LineItemID] {
				continue
			}
			seen[li.LineItemID] = true
			pos := int32(i)
			writeLine(lines, id, li, &pos, nil)
		}
	}
	// The webhook versions' lines are copied straight into order_line_items: none of them can be
	// there already. A new row has no lines yet (they reference it); a replaced version's lines
	// go first, and only those (a row the batch inserted has none to delete).
	if len(replaced) > 0 {
		if _, err := tx.Exec(ctx, deleteLines, replaced); err != nil {
			return fmt.Errorf("fold order lines: %w", err)
		}
	}
	if err := copyRows(ctx, tx, lines); err != nil {
		return fmt.Errorf("fold order lines: %w", err)
	}
	b = &pgx.Batch{}
	if len(promote) > 0 {
		b.Queue(promoteSnapshotLines, promote)
	}
	// Kept-aside lines settle when their export's order row arrives, or a line arrives after
	// it: both put the order in promote.
	if len(promote) > 0 {
		b.Queue(dropSettledSnapshotLines, promote)
	}
	// A webhook version's row carries its line count (writeOrder); the orders whose lines came
	// from an export are counted once the lines are in (once each: twice in unnest would double).
	if changed := slices.Compact(slices.Sorted(slices.Values(promote))); len(changed) > 0 {
		b.Queue(countLines, changed)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold order lines: %w", err)
	}
	return nil
}

// copyRows copies w's rows into its table. A value its column cannot hold is the
// record's fault, as Postgres's own error for it would be.
func copyRows(ctx context.Context, tx pgx.Tx, w *recordset.CopyWriter) error {
	err := w.Copy(ctx, tx)
	if _, ok := errors.AsType[*recordset.InvalidValueError](err); ok {
		return projections.Permanent(err)
	}
	return err
}

func (f *fold) queueRefunds(b *pgx.Batch) error {
	if len(f.refundRows) == 0 {
		return nil
	}
	var refunds []refundRow
	var lines []refundLineRow
	var txs []refundTransactionRow
	var adjs []refundAdjustmentRow
	for _, r := range f.refundRows {
		refunds = append(refunds, r.refund)
		lines = append(lines, r.lines...)
		txs = append(txs, r.transactions...)
		adjs = append(adjs, r.adjustments...)
	}
	if err := queueJSON(b, insertRefunds, refunds); err != nil {
		return err
	}
	// Children of a refund stored earlier conflict on their keys and change nothing.
	if len(lines) > 0 {
		if err := queueJSON(b, insertRefundLines, lines); err != nil {
			return err
		}
	}
	if len(txs) > 0 {
		if err := queueJSON(b, insertRefundTransactions, txs); err != nil {
			return err
		}
	}
	if len(adjs) > 0 {
		if err := queueJSON(b, insertRefundAdjustments, adjs); err != nil {
			return err
		}
	}
	return nil
}

func queueJSON[T any](b *pgx.Batch, sql string, rows []T) error {
	js, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("encode rows: %w", err)
	}
	b.Queue(sql, string(js))
	return nil
}
