package events

import (
	"math/big"
	"time"
)

// TypeOrderCreated is the event type of OrderCreated.
const TypeOrderCreated = "commerce.OrderCreated"

// OrderCreated is a Shopify order that was created (schemas/commerce/order_created.avsc).
type OrderCreated struct {
	Envelope          Envelope   `avro:"envelope"`
	OrderID           int64      `avro:"order_id"`
	OrderGID          string     `avro:"order_gid"`
	Name              string     `avro:"name"`
	OrderNumber       int64      `avro:"order_number"`
	Currency          string     `avro:"currency"`
	TotalPrice        *big.Rat   `avro:"total_price"`
	SubtotalPrice     *big.Rat   `avro:"subtotal_price"`
	TotalTax          *big.Rat   `avro:"total_tax"`
	FinancialStatus   *string    `avro:"financial_status"`
	FulfillmentStatus *string    `avro:"fulfillment_status"`
	CreatedAt         time.Time  `avro:"created_at"`
	UpdatedAt         time.Time  `avro:"updated_at"`
	LineItems         []LineItem `avro:"line_items"`
	PayloadJSON       string     `avro:"payload_json"`
}

// LineItem is one line of an order.
type LineItem struct {
	LineItemID   int64    `avro:"line_item_id"`
	ProductID    *int64   `avro:"product_id"`
	VariantID    *int64   `avro:"variant_id"`
	Title        string   `avro:"title"`
	VariantTitle *string  `avro:"variant_title"`
	SKU          *string  `avro:"sku"`
	Quantity     int32    `avro:"quantity"`
	Price        *big.Rat `avro:"price"`
}

// Meta implements Event.
func (e *OrderCreated) Meta() *Envelope { return &e.Envelope }

// Key implements Event: orders are keyed by their GID so one order's events stay in order.
func (e *OrderCreated) Key() string { return e.OrderGID }
