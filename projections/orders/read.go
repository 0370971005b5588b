package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/projections/recordset"
)

// ErrNotFound is returned for an order the read model does not hold.
var ErrNotFound = errors.New("order not found")

// Order is an order as the API shows it: its winning version, its lines and its refunds. Money
// is a decimal string in the order's currency (the shop's), without trailing zeros; ids are
// strings (JavaScript numbers lose Shopify ids' precision). Optional values are null when
// Shopify did not say.
type Order struct {
	ID                    string        `json:"id"`
	GID                   string        `json:"gid"`
	Shop                  string        `json:"shop"`
	Name                  string        `json:"name"`
	OrderNumber           int64         `json:"order_number"`
	Currency              string        `json:"currency"`
	PresentmentCurrency   *string       `json:"presentment_currency"`
	TotalPrice            string        `json:"total_price"`
	SubtotalPrice         string        `json:"subtotal_price"`
	TotalTax              string        `json:"total_tax"`
	TotalDiscounts        string        `json:"total_discounts"`
	TotalShipping         *string       `json:"total_shipping"`
	TotalLineItemsPrice   *string       `json:"total_line_items_price"`
	CurrentTotalPrice     *string       `json:"current_total_price"`
	CurrentSubtotalPrice  *string       `json:"current_subtotal_price"`
	CurrentTotalTax       *string       `json:"current_total_tax"`
	CurrentTotalDiscounts *string       `json:"current_total_discounts"`
	FinancialStatus       *string       `json:"financial_status"`
	FulfillmentStatus     *string       `json:"fulfillment_status"`
	ProcessedAt           *time.Time    `json:"processed_at"`
	CancelledAt           *time.Time    `json:"cancelled_at"`
	CancelReason          *string       `json:"cancel_reason"`
	ClosedAt              *time.Time    `json:"closed_at"`
	TaxesIncluded         bool          `json:"taxes_included"`
	Test                  bool          `json:"test"`
	CustomerID            *string       `json:"customer_id"`
	CustomerGID           *string       `json:"customer_gid"`
	SourceName            *string       `json:"source_name"`
	Tags                  []string      `json:"tags"`
	DiscountCodes         []string      `json:"discount_codes"`
	PaymentGatewayNames   []string      `json:"payment_gateway_names"`
	LocationID            *string       `json:"location_id"`
	LocationGID           *string       `json:"location_gid"`
	CreatedAt             time.Time     `json:"created_at"`
	UpdatedAt             time.Time     `json:"updated_at"`
	LineItems             []LineItem    `json:"line_items"`
	Fulfillments          []Fulfillment `json:"fulfillments"`
	Refunds               []Refund      `json:"refunds"`
	// BulkOperationID names the bulk export whose snapshot is the order's version; null when a
	// webhook brought it.
	BulkOperationID *string `json:"bulk_operation_id"`
}

// LineItem is one line of an Order. Money is in Currency.
type LineItem struct {
	ID                  string  `json:"id"`
	GID                 string  `json:"gid"`
	ProductID           *string `json:"product_id"`
	ProductGID          *string `json:"product_gid"`
	VariantID           *string `json:"variant_id"`
	VariantGID          *string `json:"variant_gid"`
	Title               string  `json:"title"`
	VariantTitle        *string `json:"variant_title"`
	SKU                 *string `json:"sku"`
	Vendor              *string `json:"vendor"`
	Quantity            int32   `json:"quantity"`
	CurrentQuantity     *int32  `json:"current_quantity"`
	Currency            string  `json:"currency"`
	Price               string  `json:"price"`
	TotalDiscount       string  `json:"total_discount"`
	TotalTax            *string `json:"total_tax"`
	RequiresShipping    bool    `json:"requires_shipping"`
	Taxable             bool    `json:"taxable"`
	GiftCard            bool    `json:"gift_card"`
	FulfillableQuantity *int32  `json:"fulfillable_quantity"`
	FulfillmentStatus   *string `json:"fulfillment_status"`
}

// Fulfillment is a shipment of an order's items, as the order's winning version lists it (a
// bulk export lists no line items). It is stored as JSON in the order's row.
type Fulfillment struct {
	ID              string                `json:"id"`
	GID             string                `json:"gid"`
	Name            *string               `json:"name"`
	Status          string                `json:"status"`
	ShipmentStatus  *string               `json:"shipment_status"`
	CreatedAt       time.Time             `json:"created_at"`
	UpdatedAt       time.Time             `json:"updated_at"`
	LocationID      *string               `json:"location_id"`
	LocationGID     *string               `json:"location_gid"`
	Service         *string               `json:"service"`
	TrackingCompany *string               `json:"tracking_company"`
	TrackingNumber  *string               `json:"tracking_number"`
	TrackingNumbers []string              `json:"tracking_numbers"`
	TrackingURL     *string               `json:"tracking_url"`
	TrackingURLs    []string              `json:"tracking_urls"`
	LineItems       []FulfillmentLineItem `json:"line_items"`
}

// FulfillmentLineItem is the units of one order line a fulfillment shipped.
type FulfillmentLineItem struct {
	LineItemID  string `json:"line_item_id"`
	LineItemGID string `json:"line_item_gid"`
	Quantity    int32  `json:"quantity"`
}

// Refund is money returned from an order, with the lines, transactions and adjustments it
// recorded. The money actually returned is the sum of the successful transactions.
type Refund struct {
	ID               string            `json:"id"`
	GID              string            `json:"gid"`
	OrderID          string            `json:"order_id"`
	OrderGID         string            `json:"order_gid"`
	CreatedAt        time.Time         `json:"created_at"`
	ProcessedAt      *time.Time        `json:"processed_at"`
	Restock          *bool             `json:"restock"`
	RefundLineItems  []RefundLineItem  `json:"refund_line_items"`
	Transactions     []Transaction     `json:"transactions"`
	OrderAdjustments []OrderAdjustment `json:"order_adjustments"`
}

// RefundLineItem is the units of one order line a refund returned. Money is in Currency.
type RefundLineItem struct {
	ID          string  `json:"id"`
	GID         string  `json:"gid"`
	LineItemID  string  `json:"line_item_id"`
	LineItemGID string  `json:"line_item_gid"`
	ProductID   *string `json:"product_id"`
	ProductGID  *string `json:"product_gid"`
	VariantID   *string `json:"variant_id"`
	VariantGID  *string `json:"variant_gid"`
	Quantity    int32   `json:"quantity"`
	RestockType string  `json:"restock_type"`
	LocationID  *string `json:"location_id"`
	LocationGID *string `json:"location_gid"`
	Currency    string  `json:"currency"`
	Subtotal    string  `json:"subtotal"`
	TotalTax    string  `json:"total_tax"`
}

// Transaction is a payment transaction of a refund; Amount is in Currency, the currency the
// customer paid in.
type Transaction struct {
	ID          string     `json:"id"`
	GID         string     `json:"gid"`
	ParentID    *string    `json:"parent_id"`
	ParentGID   *string    `json:"parent_gid"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	Gateway     *string    `json:"gateway"`
	Amount      string     `json:"amount"`
	Currency    string     `json:"currency"`
	CreatedAt   time.Time  `json:"created_at"`
	ProcessedAt *time.Time `json:"processed_at"`
	Test        bool       `json:"test"`
	ErrorCode   *string    `json:"error_code"`
}

// OrderAdjustment is a shipping refund or a refund discrepancy; money in Currency.
type OrderAdjustment struct {
	ID        string  `json:"id"`
	GID       string  `json:"gid"`
	Kind      string  `json:"kind"`
	Reason    *string `json:"reason"`
	Currency  string  `json:"currency"`
	Amount    string  `json:"amount"`
	TaxAmount string  `json:"tax_amount"`
}

// Reader queries the read model.
type Reader struct {
	pool *pgxpool.Pool
}

// NewReader returns a reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

// Order returns one order with its line items and refunds, by Shopify numeric id.
func (r *Reader) Order(ctx context.Context, id int64) (*Order, error) {
	return r.order(ctx, "order_id = $1", id)
}

// OrderByGID returns one order with its line items and refunds, by GID
// (gid://shopify/Order/<id>).
func (r *Reader) OrderByGID(ctx context.Context, gid string) (*Order, error) {
	return r.order(ctx, "order_gid = $1", gid)
}

// OrderByName returns one of shop's orders with its line items and refunds, by its name as
// Shopify shows it ("#1001", exact). Names are unique within a shop; were two orders to share
// one, the one with the highest id is returned.
func (r *Reader) OrderByName(ctx context.Context, shop, name string) (*Order, error) {
	return r.order(ctx, "shop = $1 AND name = $2 ORDER BY orders.order_id DESC LIMIT 1", shop, name)
}

const selectOrder = `
SELECT order_id, order_id::text, order_gid, shop, name, order_number, currency, presentment_currency,
       trim_scale(total_price)::text, trim_scale(subtotal_price)::text, trim_scale(total_tax)::text,
       trim_scale(total_discounts)::text, trim_scale(total_shipping)::text, trim_scale(total_line_items_price)::text,
       trim_scale(current_total_price)::text, trim_scale(current_subtotal_price)::text,
       trim_scale(current_total_tax)::text, trim_scale(current_total_discounts)::text,
       financial_status, fulfillment_status, processed_at, cancelled_at, cancel_reason, closed_at,
       taxes_included, test, customer_id::text, customer_gid, source_name, tags, discount_codes,
       payment_gateway_names, location_id::text, location_gid, fulfillments, created_at, updated_at,
       bulk_operation_id::text
FROM orders WHERE `

// order reads an order and everything it holds in one read-only snapshot, so a batch committed
// meanwhile cannot show one version's row with another's lines.
func (r *Reader) order(ctx context.Context, cond string, args ...any) (*Order, error) {
	var o Order
	var orderID int64
	err := pgx.BeginTxFunc(ctx, r.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, selectOrder+cond, args...).Scan(
			&orderID, &o.ID, &o.GID, &o.Shop, &o.Name, &o.OrderNumber, &o.Currency, &o.PresentmentCurrency,
			&o.TotalPrice, &o.SubtotalPrice, &o.TotalTax, &o.TotalDiscounts, &o.TotalShipping, &o.TotalLineItemsPrice,
			&o.CurrentTotalPrice, &o.CurrentSubtotalPrice, &o.CurrentTotalTax, &o.CurrentTotalDiscounts,
			&o.FinancialStatus, &o.FulfillmentStatus, &o.ProcessedAt, &o.CancelledAt, &o.CancelReason, &o.ClosedAt,
			&o.TaxesIncluded, &o.Test, &o.CustomerID, &o.CustomerGID, &o.SourceName, &o.Tags, &o.DiscountCodes,
			&o.PaymentGatewayNames, &o.LocationID, &o.LocationGID, &o.Fulfillments, &o.CreatedAt, &o.UpdatedAt,
			&o.BulkOperationID)
		if err != nil {
			return err
		}
		return readChildren(ctx, tx, orderID, &o)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read order %v: %w", args, err)
	}
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	o.ProcessedAt, o.CancelledAt, o.ClosedAt = recordset.OptUTC(o.ProcessedAt), recordset.OptUTC(o.CancelledAt), recordset.OptUTC(o.ClosedAt)
	for i := range o.Fulfillments {
		f := &o.Fulfillments[i]
		f.CreatedAt, f.UpdatedAt = f.CreatedAt.UTC(), f.UpdatedAt.UTC()
	}
	return &o, nil
}

// readChildren reads an order's lines and refunds in one round trip. Rows are scanned into one
// variable per query and copied out; it is zeroed after each copy so that no two copies share
// the memory of a nullable value.
func readChildren(ctx context.Context, tx pgx.Tx, orderID int64, o *Order) error {
	b := &pgx.Batch{}
	b.Queue(`
SELECT line_item_id::text, line_item_gid, product_id::text, product_gid, variant_id::text, variant_gid, title,
       variant_title, sku, vendor, quantity, current_quantity, currency, trim_scale(price)::text,
       trim_scale(total_discount)::text, trim_scale(total_tax)::text, requires_shipping, taxable, gift_card,
       fulfillable_quantity, fulfillment_status
FROM order_line_items WHERE order_id = $1 ORDER BY position NULLS LAST, line_item_id`, orderID).Query(func(rows pgx.Rows) error {
		var err error
		o.LineItems, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (LineItem, error) {
			var li LineItem
			err := row.Scan(&li.ID, &li.GID, &li.ProductID, &li.ProductGID, &li.VariantID, &li.VariantGID, &li.Title,
				&li.VariantTitle, &li.SKU, &li.Vendor, &li.Quantity, &li.CurrentQuantity, &li.Currency, &li.Price,
				&li.TotalDiscount, &li.TotalTax, &li.RequiresShipping, &li.Taxable, &li.GiftCard,
				&li.FulfillableQuantity, &li.FulfillmentStatus)
			return li, err
		})
		return err
	})
	byRefund := map[string]*Refund{}
	b.Queue(`
SELECT refund_id::text, refund_gid, order_id::text, order_gid, created_at, processed_at, restock
FROM refunds WHERE order_id = $1 ORDER BY created_at, refund_id`, orderID).Query(func(rows pgx.Rows) error {
		var err error
		o.Refunds, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Refund, error) {
			var rf Refund
			err := row.Scan(&rf.ID, &rf.GID, &rf.OrderID, &rf.OrderGID, &rf.CreatedAt, &rf.ProcessedAt, &rf.Restock)
			rf.CreatedAt, rf.ProcessedAt = rf.CreatedAt.UTC(), recordset.OptUTC(rf.ProcessedAt)
			rf.RefundLineItems, rf.Transactions, rf.OrderAdjustments = []RefundLineItem{}, []Transaction{}, []OrderAdjustment{}
			return rf, err
		})
		for i := range o.Refunds {
			byRefund[o.Refunds[i].ID] = &o.Refunds[i]
		}
		return err
	})
	b.Queue(`
SELECT l.refund_id::text, l.refund_line_item_id::text, l.refund_line_item_gid, l.line_item_id::text, l.line_item_gid,
       l.product_id::text, l.product_gid, l.variant_id::text, l.variant_gid, l.quantity, l.restock_type,
       l.location_id::text, l.location_gid, l.currency, trim_scale(l.subtotal)::text, trim_scale(l.total_tax)::text
FROM refund_line_items l JOIN refunds r USING (refund_id)
WHERE r.order_id = $1 ORDER BY l.refund_id, l.position`, orderID).Query(func(rows pgx.Rows) error {
		var refundID string
		var li RefundLineItem
		_, err := pgx.ForEachRow(rows, []any{&refundID, &li.ID, &li.GID, &li.LineItemID, &li.LineItemGID, &li.ProductID,
			&li.ProductGID, &li.VariantID, &li.VariantGID, &li.Quantity, &li.RestockType, &li.LocationID, &li.LocationGID,
			&li.Currency, &li.Subtotal, &li.TotalTax}, func() error {
			if rf := byRefund[refundID]; rf != nil {
				rf.RefundLineItems = append(rf.RefundLineItems, li)
			}
			li = RefundLineItem{}
			return nil
		})
		return err
	})
	b.Queue(`
SELECT t.refund_id::text, t.transaction_id::text, t.transaction_gid, t.parent_id::text, t.parent_gid, t.kind, t.status,
       t.gateway, trim_scale(t.amount)::text, t.currency, t.created_at, t.processed_at, t.test, t.error_code
FROM refund_transactions t JOIN refunds r USING (refund_id)
WHERE r.order_id = $1 ORDER BY t.refund_id, t.position`, orderID).Query(func(rows pgx.Rows) error {
		var refundID string
		var t Transaction
		_, err := pgx.ForEachRow(rows, []any{&refundID, &t.ID, &t.GID, &t.ParentID, &t.ParentGID, &t.Kind, &t.Status,
			&t.Gateway, &t.Amount, &t.Currency, &t.CreatedAt, &t.ProcessedAt, &t.Test, &t.ErrorCode}, func() error {
			if rf := byRefund[refundID]; rf != nil {
				t.CreatedAt, t.ProcessedAt = t.CreatedAt.UTC(), recordset.OptUTC(t.ProcessedAt)
				rf.Transactions = append(rf.Transactions, t)
			}
			t = Transaction{}
			return nil
		})
		return err
	})
	b.Queue(`
SELECT a.refund_id::text, a.order_adjustment_id::text, a.order_adjustment_gid, a.kind, a.reason, a.currency,
       trim_scale(a.amount)::text, trim_scale(a.tax_amount)::text
FROM refund_order_adjustments a JOIN refunds r USING (refund_id)
WHERE r.order_id = $1 ORDER BY a.refund_id, a.position`, orderID).Query(func(rows pgx.Rows) error {
		var refundID string
		var a OrderAdjustment
		_, err := pgx.ForEachRow(rows, []any{&refundID, &a.ID, &a.GID, &a.Kind, &a.Reason, &a.Currency, &a.Amount, &a.TaxAmount},
			func() error {
				if rf := byRefund[refundID]; rf != nil {
					rf.OrderAdjustments = append(rf.OrderAdjustments, a)
				}
				a = OrderAdjustment{}
				return nil
			})
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("read lines and refunds of order %s: %w", o.ID, err)
	}
	return nil
}

// Count returns how many orders the read model holds.
func (r *Reader) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := r.pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count orders: %w", err)
	}
	return n, nil
}
