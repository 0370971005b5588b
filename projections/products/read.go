package products

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/projections/recordset"
)

// ErrNotFound is returned for a product the read model does not hold (neither live nor deleted).
var ErrNotFound = errors.New("product not found")

// Product is a product as the API shows it: its winning version with its variants. Ids are
// strings (JavaScript numbers lose Shopify ids' precision).
//
// A deleted product is a tombstone: DeletedAt is set, Variants is empty, and the other fields
// are those of the newest version storeline saw (empty, and the times absent, when the deletion
// was all it saw).
type Product struct {
	ID               string     `json:"id"`
	GID              string     `json:"gid"`
	Shop             string     `json:"shop"`
	Title            string     `json:"title"`
	Handle           string     `json:"handle"`
	Vendor           *string    `json:"vendor"`
	ProductType      *string    `json:"product_type"`
	Status           string     `json:"status"`
	Tags             []string   `json:"tags"`
	Options          []Option   `json:"options"`
	FeaturedImageURL *string    `json:"featured_image_url"`
	CreatedAt        time.Time  `json:"created_at,omitzero"`
	UpdatedAt        time.Time  `json:"updated_at,omitzero"`
	PublishedAt      *time.Time `json:"published_at"`
	DeletedAt        *time.Time `json:"deleted_at"`
	Variants         []Variant  `json:"variants"`
	// BulkOperationID names the bulk export whose snapshot is the product's version; null when a
	// webhook brought it.
	BulkOperationID *string `json:"bulk_operation_id"`
}

// Option is an option of a product (Size, Color, ...) and its values. Stored as JSON in the
// product's row.
type Option struct {
	ID       string   `json:"id"`
	GID      string   `json:"gid"`
	Name     string   `json:"name"`
	Position int32    `json:"position"`
	Values   []string `json:"values"`
}

// Variant is a purchasable variant of a product. Money is a decimal string in Currency (the
// shop's), without trailing zeros.
type Variant struct {
	ID                string    `json:"id"`
	GID               string    `json:"gid"`
	Title             string    `json:"title"`
	SKU               *string   `json:"sku"`
	Barcode           *string   `json:"barcode"`
	Position          int32     `json:"position"`
	Currency          string    `json:"currency"`
	Price             string    `json:"price"`
	CompareAtPrice    *string   `json:"compare_at_price"`
	UnitCost          *string   `json:"unit_cost"`
	InventoryItemID   string    `json:"inventory_item_id"`
	InventoryItemGID  string    `json:"inventory_item_gid"`
	InventoryQuantity *int32    `json:"inventory_quantity"`
	InventoryPolicy   *string   `json:"inventory_policy"`
	Taxable           bool      `json:"taxable"`
	RequiresShipping  *bool     `json:"requires_shipping"`
	Weight            *float64  `json:"weight"`
	WeightUnit        *string   `json:"weight_unit"`
	Option1           *string   `json:"option1"`
	Option2           *string   `json:"option2"`
	Option3           *string   `json:"option3"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	Inventory         Inventory `json:"inventory"`
}

// Inventory is the stock of a variant's inventory item, from the inventory read model
// (projections/inventory) joined on the inventory item id. InventoryQuantity, beside it, is what
// the product's own payload said, which Shopify updates less often.
type Inventory struct {
	// Available is the units available summed over the locations that track the item; null
	// when none does (the item is not tracked, or no level has been seen yet).
	Available *int64 `json:"available"`
	// Levels are the item's levels by location id.
	Levels []InventoryLevel `json:"levels"`
}

// InventoryLevel is the stock of an inventory item at one location.
type InventoryLevel struct {
	LocationID  string `json:"location_id"`
	LocationGID string `json:"location_gid"`
	// Available is the units available for sale there (negative when oversold); null when the
	// item is not tracked.
	Available *int32    `json:"available"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Reader queries the read model.
type Reader struct {
	pool *pgxpool.Pool
}

// NewReader returns a reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

// Product returns one product with its variants, or its tombstone, by Shopify numeric id.
func (r *Reader) Product(ctx context.Context, id int64) (*Product, error) {
	return r.product(ctx, "product_id = $1", id)
}

// ProductByGID returns one product with its variants, or its tombstone, by GID
// (gid://shopify/Product/<id>).
func (r *Reader) ProductByGID(ctx context.Context, gid string) (*Product, error) {
	return r.product(ctx, "product_gid = $1", gid)
}

const selectProduct = `
SELECT product_id, product_id::text, product_gid, shop, COALESCE(title, ''), COALESCE(handle, ''), vendor,
       product_type, COALESCE(status, ''), COALESCE(tags, '{}'), COALESCE(options, '[]'), featured_image_url,
       created_at, updated_at, published_at, deleted_at, bulk_operation_id::text
FROM products WHERE `

// product reads a product and its variants in one read-only snapshot, so a batch committed
// meanwhile cannot show one version's row with another's variants.
func (r *Reader) product(ctx context.Context, cond string, arg any) (*Product, error) {
	var p Product
	var productID int64
	var created, updated *time.Time
	err := pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, selectProduct+cond, arg).Scan(&productID, &p.ID, &p.GID, &p.Shop, &p.Title, &p.Handle,
			&p.Vendor, &p.ProductType, &p.Status, &p.Tags, &p.Options, &p.FeaturedImageURL, &created, &updated,
			&p.PublishedAt, &p.DeletedAt, &p.BulkOperationID); err != nil {
			return err
		}
		variants, err := readVariants(ctx, tx, []int64{productID})
		p.Variants = variants[productID]
		if p.Variants == nil {
			p.Variants = []Variant{}
		}
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read product %v: %w", arg, err)
	}
	if created != nil {
		p.CreatedAt = created.UTC()
	}
	if updated != nil {
		p.UpdatedAt = updated.UTC()
	}
	p.PublishedAt, p.DeletedAt = recordset.OptUTC(p.PublishedAt), recordset.OptUTC(p.DeletedAt)
	return &p, nil
}

// Count returns how many live (not deleted) products the read model holds.
func (r *Reader) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM products WHERE deleted_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	return n, nil
}

// readVariants reads the variants of the given products with their inventory, by product id, in
// one statement whatever the number of products (a list's page reads them all at once). A
// variant comes once per location of its item (once with no location when it has none).
func readVariants(ctx context.Context, tx pgx.Tx, productIDs []int64) (map[int64][]Variant, error) {
	rows, err := tx.Query(ctx, `
SELECT v.product_id, v.variant_id::text, v.variant_gid, v.title, v.sku, v.barcode, v.position, v.currency,
       trim_scale(v.price)::text, trim_scale(v.compare_at_price)::text, trim_scale(v.unit_cost)::text,
       v.inventory_item_id::text, v.inventory_item_gid, v.inventory_quantity, v.inventory_policy, v.taxable,
       v.requires_shipping, v.weight, v.weight_unit, v.option1, v.option2, v.option3, v.created_at, v.updated_at,
       l.location_id::text, l.location_gid, l.available, l.updated_at
FROM product_variants v LEFT JOIN inventory_levels l ON l.inventory_item_id = v.inventory_item_id
WHERE v.product_id = ANY($1::bigint[])
ORDER BY v.product_id, v.position, v.variant_id, l.location_id`, productIDs)
	if err != nil {
		return nil, fmt.Errorf("read variants: %w", err)
	}
	out := map[int64][]Variant{}
	var productID int64
	var v Variant
	var locationID, locationGID *string
	var available *int32
	var levelUpdated *time.Time
	_, err = pgx.ForEachRow(rows, []any{&productID, &v.ID, &v.GID, &v.Title, &v.SKU, &v.Barcode, &v.Position, &v.Currency,
		&v.Price, &v.CompareAtPrice, &v.UnitCost, &v.InventoryItemID, &v.InventoryItemGID, &v.InventoryQuantity,
		&v.InventoryPolicy, &v.Taxable, &v.RequiresShipping, &v.Weight, &v.WeightUnit, &v.Option1, &v.Option2, &v.Option3,
		&v.CreatedAt, &v.UpdatedAt, &locationID, &locationGID, &available, &levelUpdated}, func() error {
		vs := out[productID]
		if n := len(vs); n == 0 || vs[n-1].ID != v.ID {
			v.CreatedAt, v.UpdatedAt = v.CreatedAt.UTC(), v.UpdatedAt.UTC()
			v.Inventory = Inventory{Levels: []InventoryLevel{}}
			vs = append(vs, v)
		}
		if locationID != nil {
			inv := &vs[len(vs)-1].Inventory
			inv.Levels = append(inv.Levels, InventoryLevel{LocationID: *locationID, LocationGID: *locationGID,
				Available: available, UpdatedAt: levelUpdated.UTC()})
			if available != nil {
				total := int64(*available)
				if inv.Available != nil {
					total += *inv.Available
				}
				inv.Available = &total
			}
		}
		out[productID] = vs
		// Scanning writes through the pointers it finds, so a fresh variant and fresh nullable
		// values keep one row's from showing through the next one's.
		v, locationID, locationGID, available, levelUpdated = Variant{}, nil, nil, nil, nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read variants: %w", err)
	}
	return out, nil
}
