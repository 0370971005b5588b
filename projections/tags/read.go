package tags

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/projections/recordset"
)

// ErrNotFound is returned for a definition or collection the read model does not hold (neither
// live nor removed).
var ErrNotFound = errors.New("not found")

// Definition is a tag definition as the API shows it. A removed one is a tombstone: RemovedAt
// is set, the other fields are those of its last version. Version is the aggregate version
// (the API's ETag).
type Definition struct {
	ID          string     `json:"id"`
	Shop        string     `json:"shop"`
	Name        string     `json:"name"`
	Description *string    `json:"description"`
	Color       *string    `json:"color"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	RemovedAt   *time.Time `json:"removed_at"`
	Version     int64      `json:"version"`
}

// Collection is a tag collection: its tag definitions' ids in the merchant's order. Removed
// ones are tombstones as for Definition.
type Collection struct {
	ID               string     `json:"id"`
	Shop             string     `json:"shop"`
	Name             string     `json:"name"`
	Description      *string    `json:"description"`
	TagDefinitionIDs []string   `json:"tag_definition_ids"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	RemovedAt        *time.Time `json:"removed_at"`
	Version          int64      `json:"version"`
}

// ProductTags are the tags storeline put on a product and that are still on. Version is the
// version of the product's storeline-managed tags (the greatest of its events'); 0 when
// storeline never tagged the product (the version a first ProductTagged is decided against).
type ProductTags struct {
	ProductID string       `json:"product_id"`
	Tags      []ProductTag `json:"tags"`
	Version   int64        `json:"version"`
}

// ProductTag is one tag storeline put on a product. Version is that of the product's tags when
// this tag was put on.
type ProductTag struct {
	Tag             string    `json:"tag"`
	TagDefinitionID *string   `json:"tag_definition_id"`
	Origin          string    `json:"origin"`
	SuggestionID    *string   `json:"suggestion_id"`
	TaggedAt        time.Time `json:"tagged_at"`
	Version         int64     `json:"version"`
}

// Reader queries the read model.
type Reader struct {
	pool *pgxpool.Pool
}

// NewReader returns a reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

const selectDefinition = `
SELECT tag_definition_id::text, shop, name, description, color, created_at, updated_at, removed_at, version
FROM tag_definitions `

func scanDefinition(row pgx.Row) (Definition, error) {
	var d Definition
	err := row.Scan(&d.ID, &d.Shop, &d.Name, &d.Description, &d.Color, &d.CreatedAt, &d.UpdatedAt, &d.RemovedAt, &d.Version)
	d.CreatedAt, d.UpdatedAt, d.RemovedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC(), recordset.OptUTC(d.RemovedAt)
	return d, err
}

// ListDefinitions returns the shop's live tag definitions by name (case-insensitively).
func (r *Reader) ListDefinitions(ctx context.Context, shop string) ([]Definition, error) {
	defs, err := recordset.All(ctx, r.pool, scanDefinition, selectDefinition+`WHERE shop = $1 AND removed_at IS NULL ORDER BY lower(name), tag_definition_id`, shop)
	if err != nil {
		return nil, fmt.Errorf("list tag definitions: %w", err)
	}
	return defs, nil
}

// Definition returns a tag definition, or its tombstone, by id.
func (r *Reader) Definition(ctx context.Context, id string) (*Definition, error) {
	d, found, err := recordset.ByUUID(ctx, r.pool, scanDefinition, selectDefinition+`WHERE tag_definition_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("read tag definition %s: %w", id, err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return &d, nil
}

const selectCollection = `
SELECT tag_collection_id::text, shop, name, description, tag_definition_ids::text[], created_at, updated_at, removed_at, version
FROM tag_collections `

func scanCollection(row pgx.Row) (Collection, error) {
	var c Collection
	err := row.Scan(&c.ID, &c.Shop, &c.Name, &c.Description, &c.TagDefinitionIDs, &c.CreatedAt, &c.UpdatedAt, &c.RemovedAt, &c.Version)
	c.CreatedAt, c.UpdatedAt, c.RemovedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), recordset.OptUTC(c.RemovedAt)
	c.TagDefinitionIDs = recordset.NonNil(c.TagDefinitionIDs)
	return c, err
}

// ListCollections returns the shop's live tag collections by name (case-insensitively).
func (r *Reader) ListCollections(ctx context.Context, shop string) ([]Collection, error) {
	cs, err := recordset.All(ctx, r.pool, scanCollection, selectCollection+`WHERE shop = $1 AND removed_at IS NULL ORDER BY lower(name), tag_collection_id`, shop)
	if err != nil {
		return nil, fmt.Errorf("list tag collections: %w", err)
	}
	return cs, nil
}

// Collection returns a tag collection, or its tombstone, by id.
func (r *Reader) Collection(ctx context.Context, id string) (*Collection, error) {
	c, found, err := recordset.ByUUID(ctx, r.pool, scanCollection, selectCollection+`WHERE tag_collection_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("read tag collection %s: %w", id, err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return &c, nil
}

// ProductTags returns the tags storeline put on a product (Shopify numeric id) and that are
// still on, by tag, with the version of the product's tags. A product storeline never tagged has
// no tags and version 0 (not ErrNotFound: whether the product exists is the products read
// model's to say).
func (r *Reader) ProductTags(ctx context.Context, productID int64) (*ProductTags, error) {
	// One statement: the version and the tags come from one snapshot.
	rows, err := r.pool.Query(ctx, `
SELECT tag, tag_definition_id::text, origin, suggestion_id::text, tagged_at, version, removed_at IS NULL,
       max(version) OVER ()
FROM product_tags WHERE product_id = $1
ORDER BY tag_key`, productID)
	if err != nil {
		return nil, fmt.Errorf("read product %d tags: %w", productID, err)
	}
	pt := &ProductTags{ProductID: recordset.IDString(productID), Tags: []ProductTag{}}
	for rows.Next() {
		var t ProductTag
		var taggedAt *time.Time
		var live bool
		if err := rows.Scan(&t.Tag, &t.TagDefinitionID, &t.Origin, &t.SuggestionID, &taggedAt, &t.Version, &live, &pt.Version); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read product %d tags: %w", productID, err)
		}
		if live && taggedAt != nil {
			t.TaggedAt = taggedAt.UTC()
			pt.Tags = append(pt.Tags, t)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read product %d tags: %w", productID, err)
	}
	return pt, nil
}
