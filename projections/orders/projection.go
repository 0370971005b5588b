// Package orders is the orders read model: tables orders and order_line_items, folded from the
// commerce topic, and the queries the API reads them with.
package orders

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
)

// Projection folds order events into the read model.
type Projection struct{}

// Name implements projections.Projection.
func (Projection) Name() string { return "orders" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicCommerce} }

// Apply implements projections.Projection. The newest updated_at wins, so a duplicate or an
// older event arriving late changes nothing; line items are replaced only by the event that
// wrote the order row (its id is the row's last_event_id).
func (Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	b := &pgx.Batch{}
	for _, r := range batch {
		switch ev := r.Event.(type) {
		case *events.OrderCreated:
			queueOrder(b, ev.Envelope, &ev.Order)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold orders: %w", err)
	}
	return nil
}

func queueOrder(b *pgx.Batch, env events.Envelope, o *events.Order) {
	b.Queue(`
INSERT INTO orders (order_id, order_gid, shop, name, order_number, currency, total_price, subtotal_price,
                    total_tax, financial_status, fulfillment_status, created_at, updated_at, last_event_id, projected_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8::numeric, $9::numeric, $10, $11, $12, $13, $14, now())
ON CONFLICT (order_id) DO UPDATE SET
    order_gid = excluded.order_gid, shop = excluded.shop, name = excluded.name,
    order_number = excluded.order_number, currency = excluded.currency,
    total_price = excluded.total_price, subtotal_price = excluded.subtotal_price,
    total_tax = excluded.total_tax, financial_status = excluded.financial_status,
    fulfillment_status = excluded.fulfillment_status, created_at = excluded.created_at,
    updated_at = excluded.updated_at, last_event_id = excluded.last_event_id, projected_at = now()
WHERE orders.updated_at < excluded.updated_at`,
		o.OrderID, o.OrderGID, env.Shop, o.Name, o.OrderNumber, o.Currency,
		o.TotalPrice.Amount.FloatString(4), o.SubtotalPrice.Amount.FloatString(4), o.TotalTax.Amount.FloatString(4),
		o.FinancialStatus, o.FulfillmentStatus, o.CreatedAt, o.UpdatedAt, env.EventID)

	n := len(o.LineItems)
	ids, pos, qty := make([]int64, n), make([]int32, n), make([]int32, n)
	products, variants := make([]*int64, n), make([]*int64, n)
	titles, prices := make([]string, n), make([]string, n)
	variantTitles, skus := make([]*string, n), make([]*string, n)
	for i, li := range o.LineItems {
		ids[i], pos[i], qty[i] = li.LineItemID, int32(i), li.Quantity
		products[i], variants[i] = li.ProductID, li.VariantID
		titles[i], prices[i] = li.Title, li.Price.Amount.FloatString(4)
		variantTitles[i], skus[i] = li.VariantTitle, li.SKU
	}
	b.Queue(`
DELETE FROM order_line_items
WHERE order_id = $1 AND EXISTS (SELECT 1 FROM orders WHERE order_id = $1 AND last_event_id = $2)`,
		o.OrderID, env.EventID)
	b.Queue(`
INSERT INTO order_line_items (order_id, line_item_id, position, product_id, variant_id, title, variant_title, sku, quantity, price)
SELECT $1, u.id, u.pos, u.product_id, u.variant_id, u.title, u.variant_title, u.sku, u.qty, u.price::numeric
FROM unnest($3::bigint[], $4::int[], $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::int[], $11::text[])
     AS u(id, pos, product_id, variant_id, title, variant_title, sku, qty, price)
WHERE EXISTS (SELECT 1 FROM orders WHERE order_id = $1 AND last_event_id = $2)
ON CONFLICT (order_id, line_item_id) DO NOTHING`,
		o.OrderID, env.EventID, ids, pos, products, variants, titles, variantTitles, skus, qty, prices)
}
