package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned for a level the read model does not hold.
var ErrNotFound = errors.New("inventory level not found")

// Level is the stock of one inventory item at one location. Ids are strings (JavaScript numbers
// lose Shopify ids' precision).
type Level struct {
	InventoryItemID  string `json:"inventory_item_id"`
	InventoryItemGID string `json:"inventory_item_gid"`
	LocationID       string `json:"location_id"`
	LocationGID      string `json:"location_gid"`
	// GID is the level's id as Shopify sent it; null when the payload did not carry it.
	GID  *string `json:"gid"`
	Shop string  `json:"shop"`
	// Available is the units available for sale (negative when oversold); null when the item's
	// inventory is not tracked.
	Available *int32    `json:"available"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Reader queries the read model.
type Reader struct {
	pool *pgxpool.Pool
}

// NewReader returns a reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

const selectLevels = `
SELECT inventory_item_id::text, inventory_item_gid, location_id::text, location_gid, inventory_level_gid, shop,
       available, updated_at
FROM inventory_levels `

// Level returns the level of an inventory item at a location.
func (r *Reader) Level(ctx context.Context, inventoryItemID, locationID int64) (*Level, error) {
	levels, err := r.query(ctx, selectLevels+`WHERE inventory_item_id = $1 AND location_id = $2`, inventoryItemID, locationID)
	if err != nil {
		return nil, err
	}
	if len(levels) == 0 {
		return nil, ErrNotFound
	}
	return &levels[0], nil
}

// ByItem returns an inventory item's levels at every location that has one, by location id.
func (r *Reader) ByItem(ctx context.Context, inventoryItemID int64) ([]Level, error) {
	return r.query(ctx, selectLevels+`WHERE inventory_item_id = $1 ORDER BY location_id`, inventoryItemID)
}

// ByLocation returns the levels of every inventory item at a location, by inventory item id.
func (r *Reader) ByLocation(ctx context.Context, locationID int64) ([]Level, error) {
	return r.query(ctx, selectLevels+`WHERE location_id = $1 ORDER BY inventory_item_id`, locationID)
}

// Count returns how many levels the read model holds.
func (r *Reader) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM inventory_levels`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count inventory levels: %w", err)
	}
	return n, nil
}

func (r *Reader) query(ctx context.Context, sql string, args ...any) ([]Level, error) {
	rows, err := r.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read inventory levels: %w", err)
	}
	levels, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Level, error) {
		var l Level
		err := row.Scan(&l.InventoryItemID, &l.InventoryItemGID, &l.LocationID, &l.LocationGID, &l.GID, &l.Shop,
			&l.Available, &l.UpdatedAt)
		l.UpdatedAt = l.UpdatedAt.UTC()
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("read inventory levels: %w", err)
	}
	return levels, nil
}
