package orders_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/projectiontest"
)

const testShop = "demo.myshopify.com"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func money(amount string) events.Money {
	r, ok := new(big.Rat).SetString(amount)
	if !ok {
		panic("bad amount " + amount)
	}
	return events.Money{Amount: r, CurrencyCode: "EUR"}
}

func optMoney(amount string) *events.Money { m := money(amount); return &m }

func ptr[T any](v T) *T { return &v }

func orderGID(id int64) string { return fmt.Sprintf("gid://shopify/Order/%d", id) }

func envelope(eventType, aggregateType, aggregateID, source string, occurred time.Time, idParts ...string) events.Envelope {
	actor := events.Actor{Type: events.ActorShopify, ID: testShop}
	if source == events.SourceBulkSync {
		actor = events.Actor{Type: events.ActorSystem, ID: "workflows/bulk-sync"}
	}
	return events.Envelope{
		EventID:   events.DeterministicID(append([]string{"orders-test", eventType}, idParts...)...),
		EventType: eventType, OccurredAt: occurred, RecordedAt: occurred.Add(time.Minute), Shop: testShop,
		AggregateType: aggregateType, AggregateID: aggregateID, Actor: actor, Source: source,
	}
}

// newOrder is an order at version updated with the given lines; other fields are derived from
// the id and the version so that two versions differ.
func newOrder(id int64, updated time.Time, lines ...events.OrderLineItem) events.Order {
	v := int64(updated.Sub(t0).Minutes()) % 1000
	return events.Order{
		OrderID: id, OrderGID: orderGID(id), Name: fmt.Sprintf("#%d", id), OrderNumber: id,
		CreatedAt: t0, UpdatedAt: updated, Currency: "EUR",
		FinancialStatus: ptr("paid"), TotalPrice: money(fmt.Sprintf("%d.50", 100+v)), SubtotalPrice: money("90"),
		TotalTax: money("10.5"), TotalDiscounts: money("0"), CurrentTotalPrice: optMoney(fmt.Sprintf("%d.25", 100+v)),
		CustomerID: ptr(id + 7), CustomerGID: ptr(fmt.Sprintf("gid://shopify/Customer/%d", id+7)),
		Tags: []string{fmt.Sprintf("v%d", v)}, DiscountCodes: []string{}, PaymentGatewayNames: []string{"manual"},
		LineItems: append([]events.OrderLineItem{}, lines...), Fulfillments: []events.OrderFulfillment{},
	}
}

func newLine(id int64, qty int32, price string) events.OrderLineItem {
	return events.OrderLineItem{
		LineItemID: id, LineItemGID: fmt.Sprintf("gid://shopify/LineItem/%d", id), Title: fmt.Sprintf("Item %d", id),
		Quantity: qty, CurrentQuantity: ptr(qty), Price: money(price), TotalDiscount: money("0"),
		RequiresShipping: true, Taxable: true, FulfillmentStatus: ptr("fulfilled"),
	}
}

// webhook wraps o in the webhook event of the given type (commerce.OrderCreated, ...); tag
// tells apart two deliveries of one version that Shopify sent as separate events.
func webhook(eventType string, o events.Order, tag string) events.Event {
	env := envelope(eventType, "Order", o.OrderGID, events.SourceWebhook, o.UpdatedAt,
		fmt.Sprint(o.OrderID), o.UpdatedAt.String(), tag)
	switch eventType {
	case events.TypeOrderCreated:
		return &events.OrderCreated{Envelope: env, Order: o, PayloadJSON: "{}"}
	case events.TypeOrderUpdated:
		return &events.OrderUpdated{Envelope: env, Order: o, PayloadJSON: "{}"}
	case events.TypeOrderCancelled:
		return &events.OrderCancelled{Envelope: env, Order: o, PayloadJSON: "{}"}
	case events.TypeOrderFulfilled:
		return &events.OrderFulfilled{Envelope: env, Order: o, PayloadJSON: "{}"}
	case events.TypeOrderPaid:
		return &events.OrderPaid{Envelope: env, Order: o, PayloadJSON: "{}"}
	}
	panic("not an order webhook: " + eventType)
}

var webhookTypes = []string{events.TypeOrderCreated, events.TypeOrderUpdated, events.TypeOrderCancelled,
	events.TypeOrderFulfilled, events.TypeOrderPaid}

// bulkOrder is o as a bulk export shows it: no lines (they are rows of their own), no line
// items in fulfillments, no fulfillment status on lines.
func bulkOrder(o events.Order) events.Order {
	o.LineItems = []events.OrderLineItem{}
	fs := make([]events.OrderFulfillment, len(o.Fulfillments))
	for i, f := range o.Fulfillments {
		f.LineItems = []events.OrderFulfillmentLineItem{}
		fs[i] = f
	}
	o.Fulfillments = fs
	return o
}

func bulkLine(li events.OrderLineItem) events.OrderLineItem {
	li.FulfillmentStatus = nil
	return li
}

// snapshot is the bulk export bulk's rows of order o: the order, then its lines. rows[0] is
// the OrderSnapshotted.
func snapshot(o events.Order, bulk int64, exportedAt time.Time) []events.Event {
	out := []events.Event{&events.OrderSnapshotted{
		Envelope:        envelope(events.TypeOrderSnapshotted, "Order", o.OrderGID, events.SourceBulkSync, o.UpdatedAt, fmt.Sprint(bulk), fmt.Sprint(o.OrderID)),
		BulkOperationID: bulk, BulkOperationGID: fmt.Sprintf("gid://shopify/BulkOperation/%d", bulk), Row: 1,
		Order: bulkOrder(o), PayloadJSON: "{}",
	}}
	for i, li := range o.LineItems {
		out = append(out, &events.OrderLineItemSnapshotted{
			Envelope: envelope(events.TypeOrderLineItemSnapshotted, "Order", o.OrderGID, events.SourceBulkSync, exportedAt,
				fmt.Sprint(bulk), fmt.Sprint(o.OrderID), fmt.Sprint(li.LineItemID)),
			BulkOperationID: bulk, BulkOperationGID: fmt.Sprintf("gid://shopify/BulkOperation/%d", bulk), Row: int64(i + 2),
			OrderID: o.OrderID, OrderGID: o.OrderGID, LineItem: bulkLine(li), PayloadJSON: "{}",
		})
	}
	return out
}

func newRefund(orderID, refundID int64, created time.Time, amount string) *events.RefundCreated {
	r := events.Refund{
		RefundID: refundID, RefundGID: fmt.Sprintf("gid://shopify/Refund/%d", refundID),
		OrderID: orderID, OrderGID: orderGID(orderID), CreatedAt: created, ProcessedAt: ptr(created), Restock: ptr(true),
		RefundLineItems: []events.RefundLineItem{{
			RefundLineItemID: refundID * 10, RefundLineItemGID: fmt.Sprintf("gid://shopify/RefundLineItem/%d", refundID*10),
			LineItemID: orderID * 10, LineItemGID: fmt.Sprintf("gid://shopify/LineItem/%d", orderID*10), Quantity: 1,
			RestockType: "return", LocationID: ptr(int64(55)), LocationGID: ptr("gid://shopify/Location/55"),
			Subtotal: money(amount), TotalTax: money("0.95"),
		}},
		Transactions: []events.OrderTransaction{{
			TransactionID: refundID * 100, TransactionGID: fmt.Sprintf("gid://shopify/OrderTransaction/%d", refundID*100),
			ParentID: ptr(int64(1)), ParentGID: ptr("gid://shopify/OrderTransaction/1"), Kind: "refund", Status: "success",
			Gateway: ptr("manual"), Amount: events.Money{Amount: money(amount).Amount, CurrencyCode: "USD"}, CreatedAt: created,
		}},
		OrderAdjustments: []events.OrderAdjustment{{
			OrderAdjustmentID: refundID * 1000, OrderAdjustmentGID: fmt.Sprintf("gid://shopify/OrderAdjustment/%d", refundID*1000),
			Kind: "shipping_refund", Reason: ptr("Shipping refund"), Amount: money("-4.9"), TaxAmount: money("0"),
		}},
	}
	return &events.RefundCreated{
		Envelope: envelope(events.TypeRefundCreated, "Order", orderGID(orderID), events.SourceWebhook, created, fmt.Sprint(refundID)),
		Refund:   r, PayloadJSON: "{}",
	}
}

// env is a fresh database and fresh topics on the shared Kafka, with a producer.
// env is the shared harness on the orders projection.
type env struct{ *projectiontest.Env }

func setup(t testing.TB) *env { return &env{projectiontest.Setup(t, orders.Projection{})} }

func (e *env) order(t testing.TB, id int64) *orders.Order {
	t.Helper()
	o, err := orders.NewReader(e.Pool).Order(context.Background(), id)
	if err != nil {
		t.Fatalf("order %d: %v", id, err)
	}
	return o
}

// lineIDs lists an order's line ids with their quantities, e.g. "11x2 12x1".
func lineIDs(o *orders.Order) string {
	var parts []string
	for _, li := range o.LineItems {
		parts = append(parts, fmt.Sprintf("%sx%d", li.ID, li.Quantity))
	}
	return strings.Join(parts, " ")
}
