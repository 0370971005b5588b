package products

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/projections/recordset"
)

// Errors of a ListQuery the caller got wrong (an API answers them with 400). Each wraps
// ErrInvalidQuery and is itself wrapped with the detail.
var (
	ErrInvalidQuery    = errors.New("invalid product list query")
	ErrInvalidSort     = fmt.Errorf("%w: unknown sort", ErrInvalidQuery)
	ErrInvalidLimit    = fmt.Errorf("%w: limit out of range", ErrInvalidQuery)
	ErrInvalidPosition = fmt.Errorf("%w: position does not fit the sort", ErrInvalidQuery)
	ErrMissingShop     = fmt.Errorf("%w: no shop", ErrInvalidQuery)
)

// Limits of a page.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// DefaultSort is the sort of a ListQuery without one: the most recently changed first.
const DefaultSort = "-updated_at"

// sortKey is an allow-listed sort. Its expression is the only text of a list's SQL that depends
// on the query, and only ever comes from this table; it must stay identical to the expression of
// its index in migrations/00008_read_model_listing.sql. A tombstone that arrived before any
// version of its product has no title or times: it sorts by ” and by its deletion time.
type sortKey struct {
	expr  string
	parse func(string) (any, error)
	of    func(*Product) string
}

var sortKeys = map[string]sortKey{
	"title":      {"COALESCE(p.title, '')", func(s string) (any, error) { return s, nil }, func(p *Product) string { return p.Title }},
	"updated_at": {"COALESCE(p.updated_at, p.deleted_at)", parseTime, func(p *Product) string { return timeKey(p.UpdatedAt, p.DeletedAt) }},
	"created_at": {"COALESCE(p.created_at, p.deleted_at)", parseTime, func(p *Product) string { return timeKey(p.CreatedAt, p.DeletedAt) }},
}

// Sorts lists the sorts List accepts: each key ascending, and descending with a leading "-".
func Sorts() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(sortKeys)) {
		out = append(out, k, "-"+k)
	}
	return out
}

// ListQuery selects a page of a shop's products. Zero values mean "any". The updated range is
// half-open (From inclusive, To exclusive) and leaves out tombstones that never had a version.
type ListQuery struct {
	Shop                   string   // required: a list never mixes shops
	Status                 []string // any of these (Shopify's: active, draft, archived)
	Vendor                 string   // exact
	ProductType            string   // exact
	Tag                    string   // products carrying this tag (exact)
	Q                      string   // a case-insensitive substring of the title
	UpdatedFrom, UpdatedTo *time.Time
	IncludeDeleted         bool   // tombstones too (DeletedAt set, no variants)
	Sort                   string // one of Sorts(); "" is DefaultSort
	Limit                  int    // 1..MaxLimit; 0 is DefaultLimit
	After                  *ListPosition
}

// ListPosition is where a page ends: the last row's sort key (as ListPage.Next gives it: a title,
// or a timestamp in RFC 3339 with nanoseconds) and its product id, which breaks ties. Only
// meaningful with the sort that made it: an API binds it to the query in a signed cursor.
type ListPosition struct {
	Value string `json:"v"`
	ID    int64  `json:"id"`
}

// ListPage is a page of products with their variants and inventory; Next is nil on the last page.
type ListPage struct {
	Products []Product     `json:"products"`
	Next     *ListPosition `json:"-"`
}

// List returns a page of products matching q, in q's sort, after q.After. The page and its
// variants are read in one read-only snapshot, in two statements whatever the page's size.
func (r *Reader) List(ctx context.Context, q ListQuery) (ListPage, error) {
	sql, args, key, limit, err := listSQL(q)
	if err != nil {
		return ListPage{}, err
	}
	var page ListPage
	err = pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		var ids []int64
		page.Products, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Product, error) {
			var p Product
			var id int64
			var created, updated *time.Time
			err := row.Scan(&id, &p.ID, &p.GID, &p.Shop, &p.Title, &p.Handle, &p.Vendor, &p.ProductType, &p.Status, &p.Tags,
				&p.Options, &p.FeaturedImageURL, &created, &updated, &p.PublishedAt, &p.DeletedAt, &p.BulkOperationID)
			if created != nil {
				p.CreatedAt = created.UTC()
			}
			if updated != nil {
				p.UpdatedAt = updated.UTC()
			}
			p.PublishedAt, p.DeletedAt = recordset.OptUTC(p.PublishedAt), recordset.OptUTC(p.DeletedAt)
			ids = append(ids, id)
			return p, err
		})
		if err != nil {
			return err
		}
		// One row more than the page was asked for says that there is a next page.
		if len(page.Products) > limit {
			page.Products, ids = page.Products[:limit], ids[:limit]
			page.Next = &ListPosition{Value: key.of(&page.Products[limit-1]), ID: ids[limit-1]}
		}
		variants, err := readVariants(ctx, tx, ids)
		if err != nil {
			return err
		}
		for i, id := range ids {
			if page.Products[i].Variants = variants[id]; page.Products[i].Variants == nil {
				page.Products[i].Variants = []Variant{}
			}
		}
		return nil
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("list products: %w", err)
	}
	return page, nil
}

// listSQL builds q's statement. Values only ever travel as parameters; the text varies only by
// which fixed conditions are present and by the sort expression, taken from sortKeys.
func listSQL(q ListQuery) (sql string, args []any, key sortKey, limit int, err error) {
	if q.Shop == "" {
		return "", nil, key, 0, ErrMissingShop
	}
	sort := q.Sort
	if sort == "" {
		sort = DefaultSort
	}
	name, desc := strings.CutPrefix(sort, "-")
	key, ok := sortKeys[name]
	if !ok {
		return "", nil, key, 0, fmt.Errorf("%w %q: want one of %s", ErrInvalidSort, q.Sort, strings.Join(Sorts(), ", "))
	}
	limit = q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return "", nil, key, 0, fmt.Errorf("%w: %d, want 1..%d", ErrInvalidLimit, q.Limit, MaxLimit)
	}

	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"p.shop = " + arg(q.Shop)}
	if !q.IncludeDeleted {
		where = append(where, "p.deleted_at IS NULL")
	}
	if len(q.Status) > 0 {
		where = append(where, "p.status = ANY("+arg(q.Status)+"::text[])")
	}
	if q.Vendor != "" {
		where = append(where, "p.vendor = "+arg(q.Vendor))
	}
	if q.ProductType != "" {
		where = append(where, "p.product_type = "+arg(q.ProductType))
	}
	if q.Tag != "" {
		where = append(where, "p.tags @> ARRAY["+arg(q.Tag)+"::text]")
	}
	if q.Q != "" {
		where = append(where, "p.title ILIKE "+arg("%"+escapeLike(q.Q)+"%"))
	}
	if q.UpdatedFrom != nil {
		where = append(where, "p.updated_at >= "+arg(*q.UpdatedFrom))
	}
	if q.UpdatedTo != nil {
		where = append(where, "p.updated_at < "+arg(*q.UpdatedTo))
	}
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	if q.After != nil {
		v, err := key.parse(q.After.Value)
		if err != nil {
			return "", nil, key, 0, fmt.Errorf("%w: sort %s, value %q: %v", ErrInvalidPosition, sort, q.After.Value, err)
		}
		where = append(where, fmt.Sprintf("(%s, p.product_id) %s (%s, %s)", key.expr, cmp, arg(v), arg(q.After.ID)))
	}
	sql = `
SELECT p.product_id, p.product_id::text, p.product_gid, p.shop, COALESCE(p.title, ''), COALESCE(p.handle, ''), p.vendor,
       p.product_type, COALESCE(p.status, ''), COALESCE(p.tags, '{}'), COALESCE(p.options, '[]'), p.featured_image_url,
       p.created_at, p.updated_at, p.published_at, p.deleted_at, p.bulk_operation_id::text
FROM products p WHERE ` + strings.Join(where, " AND ") + `
ORDER BY ` + key.expr + " " + dir + ", p.product_id " + dir + `
LIMIT ` + arg(limit+1)
	return sql, args, key, limit, nil
}

// escapeLike makes s match itself in a LIKE pattern (backslash is LIKE's default escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// timeKey is a time sort key: t, or the deletion time of a tombstone without a version.
func timeKey(t time.Time, deleted *time.Time) string {
	if t.IsZero() && deleted != nil {
		t = *deleted
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseTime(s string) (any, error) { return time.Parse(time.RFC3339Nano, s) }
