package tags

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// AnalyticsQuery selects the orders and tags of Analytics.
type AnalyticsQuery struct {
	Shop string
	// From and To bound the orders' creation time: [From, To).
	From, To time.Time
	// Tags limits the result to these tags (compared case-insensitively); empty means every tag.
	Tags []string
}

// TagStats is what the orders of a window bought of the products carrying a tag.
//
// A product carries a tag when Shopify's tags of the product (products.tags, as the latest
// product event has them) or storeline's (product_tags, still on) have it, case-insensitively:
// the tag now, not when the order was placed, as a merchant's "sales of my linen range" means.
// Orders counts distinct orders with at least one such line; Units sums those lines' quantity
// (as ordered: refunds and removals are not taken off); Revenue sums price × quantity − the
// line's total_discount, in Currency (the lines' currency: the shop's). Orders cancelled or
// marked test are left out.
type TagStats struct {
	// Tag is the tag as its live definition writes it, or else as a product carries it.
	Tag      string `json:"tag"`
	Orders   int64  `json:"orders"`
	Units    int64  `json:"units"`
	Revenue  string `json:"revenue"`
	Currency string `json:"currency"`
}

// analyticsSQL computes TagStats. It first reduces the window's lines to one row per (tag,
// order) (units and revenue summed), so orders is a count of rows rather than a count(DISTINCT)
// over every line; then one row per tag and currency.
//
// The plan it is written for (see migration 00007): the shop's tags come from products (a scan
// of the shop's products, small beside orders) and product_tags; the lines either from the
// window's orders (orders_analytics_idx, then the lines' primary key) or, for a few tags over
// a long history, from the tagged products (order_line_items_product_idx, which carries the
// summed columns, then each order by its primary key to check window, cancellation and test).
const analyticsSQL = `
WITH tagged AS (
    SELECT DISTINCT ON (product_id, tag_key) product_id, tag_key, tag
    FROM (SELECT p.product_id, lower(t.tag) AS tag_key, t.tag
          FROM products p CROSS JOIN LATERAL unnest(p.tags) AS t(tag)
          WHERE p.shop = $1
          UNION ALL
          SELECT product_id, tag_key, tag FROM product_tags
          WHERE shop = $1 AND removed_at IS NULL) s
    WHERE cardinality($4::text[]) = 0 OR tag_key IN (SELECT lower(t) FROM unnest($4::text[]) AS t)
    ORDER BY product_id, tag_key, tag
), per_order AS (
    SELECT tg.tag_key, li.currency, li.order_id, min(tg.tag) AS tag,
           sum(li.quantity) AS units, sum(li.price * li.quantity - li.total_discount) AS revenue
    FROM orders o
    JOIN order_line_items li ON li.order_id = o.order_id
    JOIN tagged tg ON tg.product_id = li.product_id
    WHERE o.shop = $1 AND o.created_at >= $2 AND o.created_at < $3
      AND o.cancelled_at IS NULL AND NOT o.test
    GROUP BY tg.tag_key, li.currency, li.order_id
), per_tag AS (
    SELECT tag_key, currency, min(tag) AS tag, count(*) AS orders, sum(units) AS units, sum(revenue) AS revenue
    FROM per_order GROUP BY tag_key, currency
)
SELECT COALESCE(d.name, pt.tag), pt.orders, pt.units, trim_scale(pt.revenue)::text, pt.currency
FROM per_tag pt
LEFT JOIN LATERAL (SELECT name FROM tag_definitions
                   WHERE shop = $1 AND removed_at IS NULL AND lower(name) = pt.tag_key
                   ORDER BY created_at LIMIT 1) d ON true
ORDER BY pt.tag_key, pt.currency`

// Analytics returns, per tag (and currency), the orders, units and revenue of the shop's orders
// created in [q.From, q.To). Tags no order of the window bought are absent.
func (r *Reader) Analytics(ctx context.Context, q AnalyticsQuery) ([]TagStats, error) {
	if q.Shop == "" {
		return nil, errors.New("tag analytics: no shop")
	}
	if !q.From.Before(q.To) {
		return []TagStats{}, nil
	}
	// Tags are lowered by Postgres, as tag_key is: Go's case mapping differs on a few letters.
	rows, err := r.pool.Query(ctx, analyticsSQL, q.Shop, q.From, q.To, append([]string{}, q.Tags...))
	if err != nil {
		return nil, fmt.Errorf("tag analytics: %w", err)
	}
	stats, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TagStats, error) {
		var s TagStats
		err := row.Scan(&s.Tag, &s.Orders, &s.Units, &s.Revenue, &s.Currency)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("tag analytics: %w", err)
	}
	if stats == nil {
		stats = []TagStats{}
	}
	return stats, nil
}
