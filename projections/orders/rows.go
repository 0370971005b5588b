package orders

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/recordset"
)

// Rows as the statements of fold.go read them: orders and lines from staging tables filled by
// binary COPY (recordset.Stage), refunds from JSON (jsonb_to_recordset: JSON field = column name).

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

// writeOrder writes v's row of orderColumns.
func writeOrder(w *recordset.CopyWriter, v *version) error {
	o := v.order
	fulfillments := make([]Fulfillment, len(o.Fulfillments))
	for i, f := range o.Fulfillments {
		fulfillments[i] = newFulfillment(f)
	}
	js, err := json.Marshal(fulfillments)
	if err != nil {
		return fmt.Errorf("encode fulfillments: %w", err)
	}
	// LineCount and Units are a webhook version's lines (the lines it writes); a bulk snapshot's
	// lines arrive as events of their own, and fold.go counts them once they are in (countLines).
	var lineCount int32
	var units int64
	if v.bulkOperationID == nil {
		seen := make(map[int64]bool, len(o.LineItems))
		for i := range o.LineItems {
			if l := &o.LineItems[i]; !seen[l.LineItemID] { // the lines' insert keeps the first of a repeated id
				seen[l.LineItemID] = true
				lineCount++
				units += int64(l.Quantity)
			}
		}
	}
	w.Row()
	w.Int8(o.OrderID)
	w.Text(o.OrderGID)
	w.Text(v.env.Shop)
	w.Text(o.Name)
	w.Int8(o.OrderNumber)
	w.Text(o.Currency)
	w.OptText(o.PresentmentCurrency)
	w.Amount(o.TotalPrice)
	w.Amount(o.SubtotalPrice)
	w.Amount(o.TotalTax)
	w.Amount(o.TotalDiscounts)
	w.OptAmount(o.TotalShipping)
	w.OptAmount(o.TotalLineItemsPrice)
	w.OptAmount(o.CurrentTotalPrice)
	w.OptAmount(o.CurrentSubtotalPrice)
	w.OptAmount(o.CurrentTotalTax)
	w.OptAmount(o.CurrentTotalDiscounts)
	w.OptText(o.FinancialStatus)
	w.OptText(o.FulfillmentStatus)
	w.OptTime(o.ProcessedAt)
	w.OptTime(o.CancelledAt)
	w.OptText(o.CancelReason)
	w.OptTime(o.ClosedAt)
	w.Bool(o.TaxesIncluded)
	w.Bool(o.Test)
	w.OptInt8(o.CustomerID)
	w.OptText(o.CustomerGID)
	w.OptText(o.SourceName)
	w.TextArray(o.Tags)
	w.TextArray(o.DiscountCodes)
	w.TextArray(o.PaymentGatewayNames)
	w.OptInt8(o.LocationID)
	w.OptText(o.LocationGID)
	w.JSONB(js)
	w.Time(o.CreatedAt)
	w.Time(o.UpdatedAt)
	w.OptInt8(v.bulkOperationID)
	w.UUID(v.env.EventID)
	w.Int4(lineCount)
	w.Int8(units)
	return nil
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

// writeLine writes li's row of lineColumns, then position (liveLineColumns) or the bulk
// operation (stagedLineColumns).
func writeLine(w *recordset.CopyWriter, orderID int64, li *events.OrderLineItem, position *int32, bulkOperationID *int64) {
	w.Row()
	w.Int8(orderID)
	w.Int8(li.LineItemID)
	w.Text(li.LineItemGID)
	w.OptInt8(li.ProductID)
	w.OptText(li.ProductGID)
	w.OptInt8(li.VariantID)
	w.OptText(li.VariantGID)
	w.Text(li.Title)
	w.OptText(li.VariantTitle)
	w.OptText(li.SKU)
	w.OptText(li.Vendor)
	w.Int4(li.Quantity)
	w.OptInt4(li.CurrentQuantity)
	w.Text(li.Price.CurrencyCode)
	w.Amount(li.Price)
	w.Amount(li.TotalDiscount)
	w.OptAmount(li.TotalTax)
	w.Bool(li.RequiresShipping)
	w.Bool(li.Taxable)
	w.Bool(li.GiftCard)
	w.OptInt4(li.FulfillableQuantity)
	w.OptText(li.FulfillmentStatus)
	if position != nil {
		w.Int4(*position)
	} else {
		w.OptInt8(bulkOperationID)
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
