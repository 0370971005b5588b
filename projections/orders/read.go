package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned for an order the read model does not hold.
var ErrNotFound = errors.New("order not found")

// Order is an order as the API shows it. Money is a decimal string in the order's currency, ids
// are strings (JavaScript numbers lose Shopify ids' precision).
type Order struct {
	ID                string     `json:"id"`
	GID               string     `json:"gid"`
	Shop              string     `json:"shop"`
	Name              string     `json:"name"`
	OrderNumber       int64      `json:"order_number"`
	Currency          string     `json:"currency"`
	TotalPrice        string     `json:"total_price"`
	SubtotalPrice     string     `json:"subtotal_price"`
	TotalTax          string     `json:"total_tax"`
	FinancialStatus   *string    `json:"financial_status"`
	FulfillmentStatus *string    `json:"fulfillment_status"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	LineItems         []LineItem `json:"line_items"`
}

// LineItem is one line of an Order.
type LineItem struct {
	ID           string  `json:"id"`
	ProductID    *string `json:"product_id"`
	VariantID    *string `json:"variant_id"`
	Title        string  `json:"title"`
	VariantTitle *string `json:"variant_title"`
	SKU          *string `json:"sku"`
	Quantity     int32   `json:"quantity"`
	Price        string  `json:"price"`
}

// Reader queries the read model.
type Reader struct {
	pool *pgxpool.Pool
}

// NewReader returns a reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

// Order returns one order with its line items, by Shopify numeric id.
func (r *Reader) Order(ctx context.Context, id int64) (*Order, error) {
	var o Order
	err := r.pool.QueryRow(ctx, `
SELECT order_id::text, order_gid, shop, name, order_number, currency,
       trim_scale(total_price)::text, trim_scale(subtotal_price)::text, trim_scale(total_tax)::text,
       financial_status, fulfillment_status, created_at, updated_at
FROM orders WHERE order_id = $1`, id).Scan(
		&o.ID, &o.GID, &o.Shop, &o.Name, &o.OrderNumber, &o.Currency, &o.TotalPrice, &o.SubtotalPrice,
		&o.TotalTax, &o.FinancialStatus, &o.FulfillmentStatus, &o.CreatedAt, &o.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read order %d: %w", id, err)
	}
	rows, err := r.pool.Query(ctx, `
SELECT line_item_id::text, product_id::text, variant_id::text, title, variant_title, sku, quantity, trim_scale(price)::text
FROM order_line_items WHERE order_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("read line items of %d: %w", id, err)
	}
	o.LineItems, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (LineItem, error) {
		var li LineItem
		err := row.Scan(&li.ID, &li.ProductID, &li.VariantID, &li.Title, &li.VariantTitle, &li.SKU, &li.Quantity, &li.Price)
		return li, err
	})
	if err != nil {
		return nil, fmt.Errorf("read line items of %d: %w", id, err)
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return &o, nil
}

// Count returns how many orders the read model holds.
func (r *Reader) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count orders: %w", err)
	}
	return n, nil
}
