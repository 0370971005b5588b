package products

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The statements a batch is written with. Rows travel as one JSON array per statement.
var (
	// upsertProducts writes each product's version where it beats the stored one and returns the
	// products it wrote. The row comparison is version.beats: (updated_at, snapshot — a set
	// bulk_operation_id — above webhook, bulk operation id); a tombstone without a version yet
	// has no updated_at and takes any. deleted_at is not touched: a tombstone stays one.
	upsertProducts = `
INSERT INTO products (` + productColumns.Names("") + `, projected_at)
SELECT ` + productColumns.Names("r.") + `, now() FROM ` + productColumns.Recordset("$1") + `
ON CONFLICT (product_id) DO UPDATE SET ` + productColumns.SetExcluded("product_id") + `, projected_at = now()
WHERE products.updated_at IS NULL
   OR (products.updated_at, products.bulk_operation_id IS NOT NULL, COALESCE(products.bulk_operation_id, 0))
      < (excluded.updated_at, excluded.bulk_operation_id IS NOT NULL, COALESCE(excluded.bulk_operation_id, 0))
RETURNING product_id`

	// upsertTombstones marks products deleted, keeping the earliest deletion.
	upsertTombstones = `
INSERT INTO products (product_id, product_gid, shop, deleted_at, last_event_id, projected_at)
SELECT *, now() FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::uuid[])
ON CONFLICT (product_id) DO UPDATE SET deleted_at = excluded.deleted_at, last_event_id = excluded.last_event_id, projected_at = now()
WHERE products.deleted_at IS NULL OR products.deleted_at > excluded.deleted_at`

	stageSnapshots = `
INSERT INTO product_snapshots (product_id, bulk_operation_id, updated_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[])
ON CONFLICT DO NOTHING`

	stageVariants = `
INSERT INTO product_variant_snapshots (` + stagedVariantColumns.Names("") + `)
SELECT ` + stagedVariantColumns.Names("r.") + ` FROM ` + stagedVariantColumns.Recordset("$1") + `
ON CONFLICT DO NOTHING`

	// upsertWebhookVariants writes the variants of webhook versions that won, stamped with the
	// version (products.last_event_id); setUnitCosts fills in their unit cost.
	upsertWebhookVariants = `
INSERT INTO product_variants (` + variantColumns.Names("") + `, version_event_id)
SELECT ` + variantColumns.Names("r.") + `, p.last_event_id
FROM ` + variantColumns.Recordset("$1") + ` JOIN products p ON p.product_id = r.product_id
WHERE p.deleted_at IS NULL
ON CONFLICT (product_id, variant_id) DO UPDATE SET ` + variantColumns.SetExcluded("product_id", "variant_id") + `,
    version_event_id = excluded.version_event_id`

	// promoteSnapshotVariants copies the kept-aside variants of the bulk operation that wrote
	// each product's row into its variants, stamped with that version.
	promoteSnapshotVariants = `
INSERT INTO product_variants (` + variantColumns.Names("") + `, version_event_id)
SELECT ` + variantColumns.Names("s.") + `, p.last_event_id
FROM product_variant_snapshots s JOIN products p ON p.product_id = s.product_id AND p.bulk_operation_id = s.bulk_operation_id
WHERE s.product_id = ANY($1::bigint[]) AND p.deleted_at IS NULL
ON CONFLICT (product_id, variant_id) DO UPDATE SET ` + variantColumns.SetExcluded("product_id", "variant_id") + `,
    version_event_id = excluded.version_event_id`

	// sweepVariants removes the variants of deleted products and those an older version wrote.
	sweepVariants = `
DELETE FROM product_variants v USING products p
WHERE v.product_id = ANY($1::bigint[]) AND p.product_id = v.product_id
  AND (p.deleted_at IS NOT NULL OR v.version_event_id <> p.last_event_id)`

	// setUnitCosts gives each live variant the unit cost of its row in the product's newest
	// export (NULL when that export has no row for it, or there is none).
	setUnitCosts = `
WITH newest AS (
    SELECT DISTINCT ON (product_id) product_id, bulk_operation_id
    FROM product_snapshots WHERE product_id = ANY($1::bigint[])
    ORDER BY product_id, updated_at DESC, bulk_operation_id DESC)
UPDATE product_variants v SET unit_cost = c.unit_cost
FROM (SELECT v2.product_id, v2.variant_id, s.unit_cost
      FROM product_variants v2
      LEFT JOIN newest n ON n.product_id = v2.product_id
      LEFT JOIN product_variant_snapshots s
             ON s.product_id = v2.product_id AND s.bulk_operation_id = n.bulk_operation_id AND s.variant_id = v2.variant_id
      WHERE v2.product_id = ANY($1::bigint[])) c
WHERE v.product_id = c.product_id AND v.variant_id = c.variant_id AND v.unit_cost IS DISTINCT FROM c.unit_cost`

	// dropDeletedSnapshotVariants and dropOlderSnapshotVariants forget the kept-aside variants
	// that can no longer be of use: those of a deleted product, and those of an export older
	// than another export of the product (by the version order), which can neither win nor be
	// the newest. Variants whose export's row has not arrived yet stay.
	dropDeletedSnapshotVariants = `
DELETE FROM product_variant_snapshots s USING products p
WHERE s.product_id = ANY($1::bigint[]) AND p.product_id = s.product_id AND p.deleted_at IS NOT NULL`

	dropOlderSnapshotVariants = `
DELETE FROM product_variant_snapshots s
USING product_snapshots h, product_snapshots newer
WHERE s.product_id = ANY($1::bigint[])
  AND h.product_id = s.product_id AND h.bulk_operation_id = s.bulk_operation_id
  AND newer.product_id = s.product_id
  AND (newer.updated_at, newer.bulk_operation_id) > (h.updated_at, h.bulk_operation_id)`
)

// write applies the fold in two round trips: first the rows (snapshots kept aside, versions,
// tombstones), then the variants of the products whose row changed.
func (f *fold) write(ctx context.Context, tx pgx.Tx) error {
	if f.empty() {
		return nil
	}
	b := &pgx.Batch{}
	if len(f.snapOrder) > 0 {
		ids, bulks, times := make([]int64, len(f.snapOrder)), make([]int64, len(f.snapOrder)), make([]time.Time, len(f.snapOrder))
		for i, k := range f.snapOrder {
			ids[i], bulks[i], times[i] = k.productID, k.bulkOperationID, f.snapshots[k]
		}
		b.Queue(stageSnapshots, ids, bulks, times)
	}
	if len(f.stagedVariants) > 0 {
		if err := queueJSON(b, stageVariants, f.stagedVariants); err != nil {
			return err
		}
	}
	var won []int64
	if len(f.versionOrder) > 0 {
		rows := make([]productRow, len(f.versionOrder))
		for i, id := range f.versionOrder {
			rows[i] = newProductRow(f.versions[id])
		}
		js, err := json.Marshal(rows)
		if err != nil {
			return fmt.Errorf("encode products: %w", err)
		}
		b.Queue(upsertProducts, string(js)).Query(func(rows pgx.Rows) error {
			var err error
			won, err = pgx.CollectRows(rows, pgx.RowTo[int64])
			return err
		})
	}
	if n := len(f.tombOrder); n > 0 {
		ids, gids, shops, times, evs := make([]int64, n), make([]string, n), make([]string, n), make([]time.Time, n), make([]string, n)
		for i, id := range f.tombOrder {
			t := f.tombstones[id]
			ids[i], gids[i], shops[i], times[i], evs[i] = t.productID, t.productGID, t.shop, t.deletedAt, t.eventID
		}
		b.Queue(upsertTombstones, ids, gids, shops, times, evs)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold products: %w", err)
	}

	// promote: products whose row a snapshot won, or that got snapshot variants, in this batch.
	// touched: every product whose variants or kept-aside variants may have to change.
	b = &pgx.Batch{}
	var webhookVariants []variantRow
	promote := make([]int64, 0, len(f.stagedProducts))
	for id := range f.stagedProducts {
		promote = append(promote, id)
	}
	for _, id := range won {
		v := f.versions[id]
		if v.bulkOperationID != nil {
			if _, ok := f.stagedProducts[id]; !ok {
				promote = append(promote, id)
			}
			continue
		}
		seen := map[int64]bool{} // a variant listed twice would make the upsert fail for good
		for i := range v.product.Variants {
			if vid := v.product.Variants[i].VariantID; !seen[vid] {
				seen[vid] = true
				webhookVariants = append(webhookVariants, newVariantRow(id, &v.product.Variants[i]))
			}
		}
	}
	touched := append(append(append([]int64{}, promote...), won...), f.tombOrder...)
	if len(webhookVariants) > 0 {
		if err := queueJSON(b, upsertWebhookVariants, webhookVariants); err != nil {
			return err
		}
	}
	if len(promote) > 0 {
		b.Queue(promoteSnapshotVariants, promote)
	}
	if len(touched) > 0 {
		b.Queue(sweepVariants, touched)
		b.Queue(setUnitCosts, touched)
		b.Queue(dropDeletedSnapshotVariants, touched)
		b.Queue(dropOlderSnapshotVariants, touched)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold product variants: %w", err)
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
