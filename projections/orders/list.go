package orders

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
	ErrInvalidQuery    = errors.New("invalid order list query")
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

// Unfulfilled in ListQuery.FulfillmentStatus selects the orders without a fulfillment status:
// Shopify leaves it null until something ships.
const Unfulfilled = "unfulfilled"

// DefaultSort is the sort of a ListQuery without one: newest first.
const DefaultSort = "-created_at"

// sortKey is an allow-listed sort: the column it orders by (the only text of a list's SQL that
// depends on the query, and only ever taken from this table) and how a position's Value turns
// into that column's type.
type sortKey struct {
	column string
	parse  func(string) (any, error)
	format func(OrderSummary) string
}

var sortKeys = map[string]sortKey{
	"created_at":   {"o.created_at", parseTime, func(s OrderSummary) string { return formatTime(s.CreatedAt) }},
	"updated_at":   {"o.updated_at", parseTime, func(s OrderSummary) string { return formatTime(s.UpdatedAt) }},
	"total_price":  {"o.total_price", parseDecimal, func(s OrderSummary) string { return s.TotalPrice }},
	"order_number": {"o.order_number", parseInt, func(s OrderSummary) string { return strconv.FormatInt(s.OrderNumber, 10) }},
}

// Sorts lists the sorts List accepts: each key ascending, and descending with a leading "-".
func Sorts() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(sortKeys)) {
		out = append(out, k, "-"+k)
	}
	return out
}

// ListQuery selects a page of a shop's orders. Zero values mean "any". Time ranges are half-open:
// From inclusive, To exclusive.
type ListQuery struct {
	Shop                   string // required: a list never mixes shops
	CreatedFrom, CreatedTo *time.Time
	UpdatedFrom, UpdatedTo *time.Time
	FinancialStatus        []string // any of these (Shopify's values: paid, pending, refunded, ...)
	FulfillmentStatus      []string // any of these (fulfilled, partial, ...)
	Tag                    string   // orders carrying this tag (exact, as Shopify stores it)
	ProductID              int64    // orders with a line of this product
	Q                      string   // a case-insensitive substring of the order's name ("1001" finds "#1001")
	Sort                   string   // one of Sorts(); "" is DefaultSort
	Limit                  int      // 1..MaxLimit; 0 is DefaultLimit
	After                  *ListPosition
}

// ListPosition is where a page ends: the last row's sort key (as ListPage.Next gives it; a
// timestamp in RFC 3339 with nanoseconds, a decimal, or an integer, by sort) and its order id,
// which breaks ties. The next page starts after it. It is only meaningful with the sort that
// made it: an API binds it to the query in a signed cursor (package cursor).
type ListPosition struct {
	Value string `json:"v"`
	ID    int64  `json:"id"`
}

// ListPage is a page of orders; Next is nil on the last page.
type ListPage struct {
	Orders []OrderSummary `json:"orders"`
	Next   *ListPosition  `json:"-"`
}

// OrderSummary is an order as a list shows it: the row without lines, fulfillments or refunds,
// with the count of its lines and units. Same conventions as Order.
type OrderSummary struct {
	ID                string     `json:"id"`
	GID               string     `json:"gid"`
	Shop              string     `json:"shop"`
	Name              string     `json:"name"`
	OrderNumber       int64      `json:"order_number"`
	Currency          string     `json:"currency"`
	TotalPrice        string     `json:"total_price"`
	CurrentTotalPrice *string    `json:"current_total_price"`
	FinancialStatus   *string    `json:"financial_status"`
	FulfillmentStatus *string    `json:"fulfillment_status"`
	Tags              []string   `json:"tags"`
	Test              bool       `json:"test"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	CancelledAt       *time.Time `json:"cancelled_at"`
	LineCount         int32      `json:"line_count"`
	Units             int64      `json:"units"` // the sum of the lines' ordered quantities
}

// List returns a page of orders matching q, in q's sort, after q.After.
func (r *Reader) List(ctx context.Context, q ListQuery) (ListPage, error) {
	sql, args, key, limit, err := listSQL(q)
	if err != nil {
		return ListPage{}, err
	}
	rows, err := r.pool.Query(ctx, sql, args...)
	if err != nil {
		return ListPage{}, fmt.Errorf("list orders: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrderSummary, error) {
		var s OrderSummary
		err := row.Scan(&s.ID, &s.GID, &s.Shop, &s.Name, &s.OrderNumber, &s.Currency, &s.TotalPrice, &s.CurrentTotalPrice,
			&s.FinancialStatus, &s.FulfillmentStatus, &s.Tags, &s.Test, &s.CreatedAt, &s.UpdatedAt, &s.CancelledAt,
			&s.LineCount, &s.Units)
		s.CreatedAt, s.UpdatedAt, s.CancelledAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC(), recordset.OptUTC(s.CancelledAt)
		return s, err
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("list orders: %w", err)
	}
	page := ListPage{Orders: list}
	// One row more than the page was asked for says that there is a next page.
	if len(list) > limit {
		page.Orders = list[:limit]
		last := page.Orders[limit-1]
		id, err := strconv.ParseInt(last.ID, 10, 64)
		if err != nil {
			return ListPage{}, fmt.Errorf("list orders: id %q: %w", last.ID, err)
		}
		page.Next = &ListPosition{Value: key.format(last), ID: id}
	}
	return page, nil
}

// listSQL builds q's statement. Values only ever travel as parameters; the text varies only by
// which fixed conditions are present and by the sort column, taken from sortKeys.
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

	var where []string
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where = append(where, "o.shop = "+arg(q.Shop))
	for _, c := range []struct {
		cond string
		t    *time.Time
	}{
		{"o.created_at >= ", q.CreatedFrom}, {"o.created_at < ", q.CreatedTo},
		{"o.updated_at >= ", q.UpdatedFrom}, {"o.updated_at < ", q.UpdatedTo},
	} {
		if c.t != nil {
			where = append(where, c.cond+arg(*c.t))
		}
	}
	if len(q.FinancialStatus) > 0 {
		where = append(where, "o.financial_status = ANY("+arg(q.FinancialStatus)+"::text[])")
	}
	if len(q.FulfillmentStatus) > 0 {
		c := "o.fulfillment_status = ANY(" + arg(q.FulfillmentStatus) + "::text[])"
		if slices.Contains(q.FulfillmentStatus, Unfulfilled) {
			c = "(" + c + " OR o.fulfillment_status IS NULL)"
		}
		where = append(where, c)
	}
	if q.Tag != "" {
		where = append(where, "o.tags @> ARRAY["+arg(q.Tag)+"::text]")
	}
	if q.ProductID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM order_line_items li WHERE li.order_id = o.order_id AND li.product_id = "+arg(q.ProductID)+")")
	}
	if q.Q != "" {
		where = append(where, "o.name ILIKE "+arg("%"+escapeLike(q.Q)+"%"))
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
		// A row comparison, which an index on (shop, key, order_id) answers as one range.
		where = append(where, fmt.Sprintf("(%s, o.order_id) %s (%s, %s)", key.column, cmp, arg(v), arg(q.After.ID)))
	}
	order := fmt.Sprintf("%s %s, o.order_id %s", key.column, dir, dir)
	// Line counts and units are kept on the order's row (migration 00009): a page reads no lines.
	sql = `
SELECT o.order_id::text, o.order_gid, o.shop, o.name, o.order_number, o.currency, trim_scale(o.total_price)::text,
       trim_scale(o.current_total_price)::text, o.financial_status, o.fulfillment_status, o.tags, o.test,
       o.created_at, o.updated_at, o.cancelled_at, o.line_count, o.units
FROM orders o WHERE ` + strings.Join(where, " AND ") + `
ORDER BY ` + order + ` LIMIT ` + arg(limit+1)
	return sql, args, key, limit, nil
}

// escapeLike makes s match itself in a LIKE pattern (backslash is LIKE's default escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (any, error) { return time.Parse(time.RFC3339Nano, s) }

func parseInt(s string) (any, error) { return strconv.ParseInt(s, 10, 64) }

// parseDecimal checks that s is a plain decimal (what trim_scale(numeric)::text prints) before
// Postgres casts the parameter, so a bad value is the caller's error and not a query failure.
func parseDecimal(s string) (any, error) {
	digits := strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(digits, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" ||
		strings.HasSuffix(digits, ".") || len(digits) > 40 {
		return nil, fmt.Errorf("not a decimal")
	}
	return s, nil
}
