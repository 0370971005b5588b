// Package inventory is the inventory levels read model: how many units of each inventory item are
// available at each location, folded from InventoryLevelUpdated on the commerce topic; and the
// queries the API reads it with.
//
// A level is keyed by (inventory_item_id, location_id) and holds the event with the newest
// updated_at for that key, whether a webhook or a bulk export brought it: an older updated_at
// never wins and an equal one changes nothing, so duplicates and late deliveries leave the table
// as it was, whatever their order. A snapshot follows the same rules as a webhook: a level's
// updated_at moves with every change of its quantity, so a webhook and a snapshot with equal
// updated_at describe the same state, and the one folded first stays (within a batch too: the
// first of equals). A snapshot older than the stored level (the export read the shop before a
// webhook arrived) changes nothing; a newer one repairs a dropped webhook. The row is that event's level as a whole, available included:
// available is NULL when the item's inventory is not tracked (Shopify counts nothing then), which
// is not the same as 0.
//
// The variant an inventory item stocks is ProductVariant.inventory_item_id in the products read
// model (projections/products).
package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
)

// Projection folds inventory level events into the read model.
type Projection struct{}

// Name implements projections.Projection.
func (Projection) Name() string { return "inventory" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicCommerce} }

// Tables are the tables of its read model, for blue/green rebuilds (projections.Tabled).
func (Projection) Tables() []string {
	return []string{"inventory_levels"}
}

type levelKey struct{ itemID, locationID int64 }

// level is what InventoryLevelUpdated and InventoryLevelSnapshotted both say of a level.
type level struct {
	Envelope          events.Envelope
	InventoryItemID   int64
	InventoryItemGID  string
	LocationID        int64
	LocationGID       string
	Available         *int32
	UpdatedAt         time.Time
	InventoryLevelGID *string
}

// upsertLevels writes each level where it is newer than the stored one.
const upsertLevels = `
INSERT INTO inventory_levels (inventory_item_id, location_id, inventory_item_gid, location_gid, inventory_level_gid,
                              shop, available, updated_at, last_event_id, projected_at)
SELECT *, now() FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                            $8::timestamptz[], $9::uuid[])
ON CONFLICT (inventory_item_id, location_id) DO UPDATE SET
    inventory_item_gid = excluded.inventory_item_gid, location_gid = excluded.location_gid,
    inventory_level_gid = excluded.inventory_level_gid, shop = excluded.shop, available = excluded.available,
    updated_at = excluded.updated_at, last_event_id = excluded.last_event_id, projected_at = now()
WHERE inventory_levels.updated_at < excluded.updated_at`

// Apply implements projections.Projection: the batch is reduced to the newest event per level
// (the first of equals, as against a stored row), then written in one statement.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	newest := map[levelKey]*level{}
	var keys []levelKey
	for _, r := range batch {
		var e *level
		switch ev := r.Event.(type) {
		case *events.InventoryLevelUpdated:
			e = &level{ev.Envelope, ev.InventoryItemID, ev.InventoryItemGID, ev.LocationID, ev.LocationGID, ev.Available, ev.UpdatedAt, ev.InventoryLevelGID}
		case *events.InventoryLevelSnapshotted:
			e = &level{ev.Envelope, ev.InventoryItemID, ev.InventoryItemGID, ev.LocationID, ev.LocationGID, ev.Available, ev.UpdatedAt, ev.InventoryLevelGID}
		default:
			continue
		}
		k := levelKey{e.InventoryItemID, e.LocationID}
		cur, seen := newest[k]
		if !seen {
			keys = append(keys, k)
		}
		if !seen || e.UpdatedAt.After(cur.UpdatedAt) {
			newest[k] = e
		}
	}
	if len(keys) == 0 {
		return nil
	}
	n := len(keys)
	items, locations := make([]int64, n), make([]int64, n)
	itemGIDs, locationGIDs, shops, eventIDs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	levelGIDs := make([]*string, n)
	available := make([]*int32, n)
	updated := make([]time.Time, n)
	for i, k := range keys {
		e := newest[k]
		items[i], locations[i] = e.InventoryItemID, e.LocationID
		itemGIDs[i], locationGIDs[i], levelGIDs[i] = e.InventoryItemGID, e.LocationGID, e.InventoryLevelGID
		shops[i], available[i], updated[i], eventIDs[i] = e.Envelope.Shop, e.Available, e.UpdatedAt, e.Envelope.EventID
	}
	if _, err := tx.Exec(ctx, upsertLevels, items, locations, itemGIDs, locationGIDs, levelGIDs, shops, available, updated, eventIDs); err != nil {
		return fmt.Errorf("fold inventory levels: %w", err)
	}
	return nil
}
