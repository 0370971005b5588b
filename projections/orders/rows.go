package orders

import (
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/recordset"
)

// Rows as the statements of fold.go read them (jsonb_to_recordset): JSON field = column name.

var orderColumns = recordset.Columns{
	{"order_id", "bigint"}, {"order_gid", "text"}, {"shop", "text"}, {"name", "text"}, {"order_number", "bigint"},
	{"currency", "text"}, {"presentment_currency", "text"},
	{"total_price", "numeric"}, {"subtotal_price", "numeric"}, {"total_tax", "numeric"}, {"total_discounts", "numeric"},
	{"total_shipping", "numeric"}, {"total_line_items_price", "numeric"},
	{"current_total_price", "numeric"}, {"current_subtotal_price", "numeric"}, {"current_total_tax", "numeric"},
	{"current_total_discounts", "numeric"},
	{"financial_status", "text"}, {"fulfillment_status", "text"},
	{"processed_at", "timestamptz"}, {"cancelled_at", "timestamptz"}, {"cancel_reason", "text"}, {"closed_at", "timestamptz"},
	{"taxes_included", "boolean"}, {"test", "boolean"},
	{"customer_id", "bigint"}, {"customer_gid", "text"}, {"source_name", "text"},
	{"tags", "text[]"}, {"discount_codes", "text[]"}, {"payment_gateway_names", "text[]"},
	{"location_id", "bigint"}, {"location_gid", "text"}, {"fulfillments", "jsonb"},
	{"created_at", "timestamptz"}, {"updated_at", "timestamptz"},
	{"bulk_operation_id", "bigint"}, {"last_event_id", "uuid"},
	{"line_count", "int"}, {"units", "bigint"},
}

type orderRow struct {
	OrderID               int64         `json:"order_id"`
	OrderGID              string        `json:"order_gid"`
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
	CustomerID            *int64        `json:"customer_id"`
	CustomerGID           *string       `json:"customer_gid"`
	SourceName            *string       `json:"source_name"`
	Tags                  []string      `json:"tags"`
	DiscountCodes         []string      `json:"discount_codes"`
	PaymentGatewayNames   []string      `json:"payment_gateway_names"`
	LocationID            *int64        `json:"location_id"`
	LocationGID           *string       `json:"location_gid"`
	Fulfillments          []Fulfillment `json:"fulfillments"`
	CreatedAt             time.Time     `json:"created_at"`
	UpdatedAt             time.Time     `json:"updated_at"`
	BulkOperationID       *int64        `json:"bulk_operation_id"`
	LastEventID           string        `json:"last_event_id"`
	// LineCount and Units are a webhook version's lines (the lines it writes); a bulk snapshot's
	// lines arrive as events of their own, and fold.go counts them once they are in (countLines).
	LineCount int32 `json:"line_count"`
	Units     int64 `json:"units"`
}

func newOrderRow(v *version) orderRow {
	o := v.order
	row := orderRow{
		OrderID: o.OrderID, OrderGID: o.OrderGID, Shop: v.env.Shop, Name: o.Name, OrderNumber: o.OrderNumber,
		Currency: o.Currency, PresentmentCurrency: o.PresentmentCurrency,
		TotalPrice: recordset.Amount(o.TotalPrice), SubtotalPrice: recordset.Amount(o.SubtotalPrice), TotalTax: recordset.Amount(o.TotalTax),
		TotalDiscounts: recordset.Amount(o.TotalDiscounts), TotalShipping: recordset.OptAmount(o.TotalShipping),
		TotalLineItemsPrice: recordset.OptAmount(o.TotalLineItemsPrice), CurrentTotalPrice: recordset.OptAmount(o.CurrentTotalPrice),
		CurrentSubtotalPrice: recordset.OptAmount(o.CurrentSubtotalPrice), CurrentTotalTax: recordset.OptAmount(o.CurrentTotalTax),
		CurrentTotalDiscounts: recordset.OptAmount(o.CurrentTotalDiscounts),
		FinancialStatus:       o.FinancialStatus, FulfillmentStatus: o.FulfillmentStatus,
		ProcessedAt: recordset.OptUTC(o.ProcessedAt), CancelledAt: recordset.OptUTC(o.CancelledAt), CancelReason: o.CancelReason,
		ClosedAt:      recordset.OptUTC(o.ClosedAt),
		TaxesIncluded: o.TaxesIncluded, Test: o.Test,
		CustomerID: o.CustomerID, CustomerGID: o.CustomerGID, SourceName: o.SourceName,
		Tags: recordset.NonNil(o.Tags), DiscountCodes: recordset.NonNil(o.DiscountCodes), PaymentGatewayNames: recordset.NonNil(o.PaymentGatewayNames),
		LocationID: o.LocationID, LocationGID: o.LocationGID,
		Fulfillments: make([]Fulfillment, len(o.Fulfillments)),
		CreatedAt:    recordset.UTC(o.CreatedAt), UpdatedAt: recordset.UTC(o.UpdatedAt),
		BulkOperationID: v.bulkOperationID, LastEventID: v.env.EventID,
	}
	for i, f := range o.Fulfillments {
		row.Fulfillments[i] = newFulfillment(f)
	}
	if v.bulkOperationID == nil {
		seen := make(map[int64]bool, len(o.LineItems))
		for _, l := range o.LineItems {
			if !seen[l.LineItemID] { // the lines' insert keeps the first of a repeated id
				seen[l.LineItemID] = true
				row.LineCount++
				row.Units += int64(l.Quantity)
			}
		}
	}
	return row
}

func newFulfillment(f events.OrderFulfillment) Fulfillment {
	out := Fulfillment{
		ID: recordset.IDString(f.FulfillmentID), GID: f.FulfillmentGID, Name: f.Name, Status: f.Status,
		ShipmentStatus: f.ShipmentStatus, CreatedAt: recordset.UTC(f.CreatedAt), UpdatedAt: recordset.UTC(f.UpdatedAt),
		LocationID: recordset.OptIDString(f.LocationID), LocationGID: f.LocationGID, Service: f.Service,
		TrackingCompany: f.TrackingCompany, TrackingNumber: f.TrackingNumber, TrackingNumbers: recordset.NonNil(f.TrackingNumbers),
		TrackingURL: f.TrackingURL, TrackingURLs: recordset.NonNil(f.TrackingUrls),
		LineItems: make([]FulfillmentLineItem, len(f.LineItems)),
	}
	for i, li := range f.LineItems {
		out.LineItems[i] = FulfillmentLineItem{LineItemID: recordset.IDString(li.LineItemID), LineItemGID: li.LineItemGID, Quantity: li.Quantity}
	}
	return out
}

// lineColumns are the columns order_line_items and order_line_item_snapshots share.
var lineColumns = recordset.Columns{
	{"order_id", "bigint"}, {"line_item_id", "bigint"}, {"line_item_gid", "text"},
	{"product_id", "bigint"}, {"product_gid", "text"}, {"variant_id", "bigint"}, {"variant_gid", "text"},
	{"title", "text"}, {"variant_title", "text"}, {"sku", "text"}, {"vendor", "text"},
	{"quantity", "int"}, {"current_quantity", "int"}, {"currency", "text"},
	{"price", "numeric"}, {"total_discount", "numeric"}, {"total_tax", "numeric"},
	{"requires_shipping", "boolean"}, {"taxable", "boolean"}, {"gift_card", "boolean"},
	{"fulfillable_quantity", "int"}, {"fulfillment_status", "text"},
}

// liveLineColumns adds a webhook line's place in its order's list.
var liveLineColumns = append(append(recordset.Columns{}, lineColumns...), recordset.Column{"position", "int"})

// stagedLineColumns adds the bulk operation that exported the line.
var stagedLineColumns = append(append(recordset.Columns{}, lineColumns...), recordset.Column{"bulk_operation_id", "bigint"})

type lineRow struct {
	OrderID             int64   `json:"order_id"`
	LineItemID          int64   `json:"line_item_id"`
	LineItemGID         string  `json:"line_item_gid"`
	ProductID           *int64  `json:"product_id"`
	ProductGID          *string `json:"product_gid"`
	VariantID           *int64  `json:"variant_id"`
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
	Position            *int    `json:"position,omitempty"`
	BulkOperationID     *int64  `json:"bulk_operation_id,omitempty"`
}

func newLineRow(orderID int64, li *events.OrderLineItem) lineRow {
	return lineRow{
		OrderID: orderID, LineItemID: li.LineItemID, LineItemGID: li.LineItemGID,
		ProductID: li.ProductID, ProductGID: li.ProductGID, VariantID: li.VariantID, VariantGID: li.VariantGID,
		Title: li.Title, VariantTitle: li.VariantTitle, SKU: li.SKU, Vendor: li.Vendor,
		Quantity: li.Quantity, CurrentQuantity: li.CurrentQuantity, Currency: li.Price.CurrencyCode,
		Price: recordset.Amount(li.Price), TotalDiscount: recordset.Amount(li.TotalDiscount), TotalTax: recordset.OptAmount(li.TotalTax),
		RequiresShipping: li.RequiresShipping, Taxable: li.Taxable, GiftCard: li.GiftCard,
		FulfillableQuantity: li.FulfillableQuantity, FulfillmentStatus: li.FulfillmentStatus,
	}
}

var refundColumns = recordset.Columns{
	{"refund_id", "bigint"}, {"refund_gid", "text"}, {"order_id", "bigint"}, {"order_gid", "text"}, {"shop", "text"},
	{"created_at", "timestamptz"}, {"processed_at", "timestamptz"}, {"restock", "boolean"}, {"last_event_id", "uuid"},
}

type refundRow struct {
	RefundID    int64      `json:"refund_id"`
	RefundGID   string     `json:"refund_gid"`
	OrderID     int64      `json:"order_id"`
	OrderGID    string     `json:"order_gid"`
	Shop        string     `json:"shop"`
	CreatedAt   time.Time  `json:"created_at"`
	ProcessedAt *time.Time `json:"processed_at"`
	Restock     *bool      `json:"restock"`
	LastEventID string     `json:"last_event_id"`
}

var refundLineColumns = recordset.Columns{
	{"refund_id", "bigint"}, {"refund_line_item_id", "bigint"}, {"position", "int"}, {"refund_line_item_gid", "text"},
	{"line_item_id", "bigint"}, {"line_item_gid", "text"}, {"product_id", "bigint"}, {"product_gid", "text"},
	{"variant_id", "bigint"}, {"variant_gid", "text"}, {"quantity", "int"}, {"restock_type", "text"},
	{"location_id", "bigint"}, {"location_gid", "text"}, {"currency", "text"}, {"subtotal", "numeric"}, {"total_tax", "numeric"},
}

type refundLineRow struct {
	RefundID          int64   `json:"refund_id"`
	RefundLineItemID  int64   `json:"refund_line_item_id"`
	Position          int     `json:"position"`
	RefundLineItemGID string  `json:"refund_line_item_gid"`
	LineItemID        int64   `json:"line_item_id"`
	LineItemGID       string  `json:"line_item_gid"`
	ProductID         *int64  `json:"product_id"`
	ProductGID        *string `json:"product_gid"`
	VariantID         *int64  `json:"variant_id"`
	VariantGID        *string `json:"variant_gid"`
	Quantity          int32   `json:"quantity"`
	RestockType       string  `json:"restock_type"`
	LocationID        *int64  `json:"location_id"`
	LocationGID       *string `json:"location_gid"`
	Currency          string  `json:"currency"`
	Subtotal          string  `json:"subtotal"`
	TotalTax          string  `json:"total_tax"`
}

var refundTransactionColumns = recordset.Columns{
	{"refund_id", "bigint"}, {"transaction_id", "bigint"}, {"position", "int"}, {"transaction_gid", "text"},
	{"parent_id", "bigint"}, {"parent_gid", "text"}, {"kind", "text"}, {"status", "text"}, {"gateway", "text"},
	{"amount", "numeric"}, {"currency", "text"}, {"created_at", "timestamptz"}, {"processed_at", "timestamptz"},
	{"test", "boolean"}, {"error_code", "text"},
}

type refundTransactionRow struct {
	RefundID       int64      `json:"refund_id"`
	TransactionID  int64      `json:"transaction_id"`
	Position       int        `json:"position"`
	TransactionGID string     `json:"transaction_gid"`
	ParentID       *int64     `json:"parent_id"`
	ParentGID      *string    `json:"parent_gid"`
	Kind           string     `json:"kind"`
	Status         string     `json:"status"`
	Gateway        *string    `json:"gateway"`
	Amount         string     `json:"amount"`
	Currency       string     `json:"currency"`
	CreatedAt      time.Time  `json:"created_at"`
	ProcessedAt    *time.Time `json:"processed_at"`
	Test           bool       `json:"test"`
	ErrorCode      *string    `json:"error_code"`
}

var refundAdjustmentColumns = recordset.Columns{
	{"refund_id", "bigint"}, {"order_adjustment_id", "bigint"}, {"position", "int"}, {"order_adjustment_gid", "text"},
	{"kind", "text"}, {"reason", "text"}, {"currency", "text"}, {"amount", "numeric"}, {"tax_amount", "numeric"},
}

type refundAdjustmentRow struct {
	RefundID           int64   `json:"refund_id"`
	OrderAdjustmentID  int64   `json:"order_adjustment_id"`
	Position           int     `json:"position"`
	OrderAdjustmentGID string  `json:"order_adjustment_gid"`
	Kind               string  `json:"kind"`
	Reason             *string `json:"reason"`
	Currency           string  `json:"currency"`
	Amount             string  `json:"amount"`
	TaxAmount          string  `json:"tax_amount"`
}

// refundRows are the rows of one refund, in its tables.
type refundRows struct {
	refund       refundRow
	lines        []refundLineRow
	transactions []refundTransactionRow
	adjustments  []refundAdjustmentRow
}

func newRefundRows(env *events.Envelope, r *events.Refund) refundRows {
	out := refundRows{refund: refundRow{
		RefundID: r.RefundID, RefundGID: r.RefundGID, OrderID: r.OrderID, OrderGID: r.OrderGID, Shop: env.Shop,
		CreatedAt: recordset.UTC(r.CreatedAt), ProcessedAt: recordset.OptUTC(r.ProcessedAt), Restock: r.Restock, LastEventID: env.EventID,
	}}
	for i, li := range r.RefundLineItems {
		out.lines = append(out.lines, refundLineRow{
			RefundID: r.RefundID, RefundLineItemID: li.RefundLineItemID, Position: i, RefundLineItemGID: li.RefundLineItemGID,
			LineItemID: li.LineItemID, LineItemGID: li.LineItemGID, ProductID: li.ProductID, ProductGID: li.ProductGID,
			VariantID: li.VariantID, VariantGID: li.VariantGID, Quantity: li.Quantity, RestockType: li.RestockType,
			LocationID: li.LocationID, LocationGID: li.LocationGID, Currency: li.Subtotal.CurrencyCode,
			Subtotal: recordset.Amount(li.Subtotal), TotalTax: recordset.Amount(li.TotalTax),
		})
	}
	for i, t := range r.Transactions {
		out.transactions = append(out.transactions, refundTransactionRow{
			RefundID: r.RefundID, TransactionID: t.TransactionID, Position: i, TransactionGID: t.TransactionGID,
			ParentID: t.ParentID, ParentGID: t.ParentGID, Kind: t.Kind, Status: t.Status, Gateway: t.Gateway,
			Amount: recordset.Amount(t.Amount), Currency: t.Amount.CurrencyCode, CreatedAt: recordset.UTC(t.CreatedAt),
			ProcessedAt: recordset.OptUTC(t.ProcessedAt), Test: t.Test, ErrorCode: t.ErrorCode,
		})
	}
	for i, a := range r.OrderAdjustments {
		out.adjustments = append(out.adjustments, refundAdjustmentRow{
			RefundID: r.RefundID, OrderAdjustmentID: a.OrderAdjustmentID, Position: i, OrderAdjustmentGID: a.OrderAdjustmentGID,
			Kind: a.Kind, Reason: a.Reason, Currency: a.Amount.CurrencyCode, Amount: recordset.Amount(a.Amount), TaxAmount: recordset.Amount(a.TaxAmount),
		})
	}
	return out
}
