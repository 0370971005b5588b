package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/recordset"
	"github.com/storeline/storeline/testkit"
)

// history is what the property tests deliver: random versions of random orders, as webhooks
// (some dropped, some duplicated) and bulk snapshots (complete, some rows duplicated), shuffled
// together with refunds.
type history struct {
	ids        []int64
	deliveries []events.Event
}

func randomHistory(rng *rand.Rand, firstID int64, n int) history {
	var h history
	for i := range int64(n) {
		id := firstID + i
		h.ids = append(h.ids, id)
		at := t0.Add(time.Duration(rng.IntN(1_000_000)) * time.Microsecond)
		var versions []events.Order
		for range 1 + rng.IntN(4) {
			at = at.Add(time.Duration(1+rng.IntN(3_000_000)) * time.Microsecond)
			versions = append(versions, randomOrder(rng, id, at))
		}
		webhooks := len(versions)
		if rng.IntN(10) < 3 { // a newest version only a bulk export sees: its webhook was dropped
			at = at.Add(time.Duration(1+rng.IntN(3_000_000)) * time.Microsecond)
			versions = append(versions, randomOrder(rng, id, at))
		}
		for k := range webhooks {
			if rng.IntN(10) < 2 {
				continue // dropped
			}
			ev := webhook(webhookTypes[rng.IntN(len(webhookTypes))], versions[k], fmt.Sprint(k))
			for range 1 + dup(rng) {
				h.deliveries = append(h.deliveries, ev)
			}
		}
		if rng.IntN(10) < 7 || webhooks < len(versions) {
			k := rng.IntN(len(versions))
			if webhooks < len(versions) {
				k = len(versions) - 1
			}
			exports := []int{k}
			if rng.IntN(10) < 3 {
				exports = append(exports, k+rng.IntN(len(versions)-k)) // a second export, of the same or a newer version
			}
			for j, k := range exports {
				bulk := 7_000_000 + id*10 + int64(j)
				for _, ev := range snapshot(versions[k], bulk, versions[k].UpdatedAt.Add(time.Second)) {
					for range 1 + dup(rng) {
						h.deliveries = append(h.deliveries, ev)
					}
				}
			}
		}
		for r := range int64(rng.IntN(3)) {
			ev := newRefund(id, id*10+r, at.Add(time.Duration(r)*time.Minute), fmt.Sprintf("%d.%04d", rng.IntN(100), rng.IntN(10000)))
			for range 1 + dup(rng) {
				h.deliveries = append(h.deliveries, ev)
			}
		}
	}
	rng.Shuffle(len(h.deliveries), func(i, j int) { h.deliveries[i], h.deliveries[j] = h.deliveries[j], h.deliveries[i] })
	return h
}

// dup is how many extra copies of a delivery there are.
func dup(rng *rand.Rand) int {
	if rng.IntN(10) < 3 {
		return 1 + rng.IntN(2)
	}
	return 0
}

func randomOrder(rng *rand.Rand, id int64, updated time.Time) events.Order {
	var lines []events.OrderLineItem
	for l := range int64(6) {
		if rng.IntN(2) == 0 || l == 5 && len(lines) == 0 {
			li := newLine(id*100+l, int32(1+rng.IntN(5)), fmt.Sprintf("%d.%02d", rng.IntN(500), rng.IntN(100)))
			li.TotalTax = optMoney(fmt.Sprintf("0.%04d", rng.IntN(10000)))
			lines = append(lines, li)
		}
	}
	o := newOrder(id, updated, lines...)
	o.TotalPrice = money(fmt.Sprintf("%d.%04d", rng.IntN(100000), rng.IntN(10000)))
	o.CurrentTotalPrice = optMoney(fmt.Sprintf("-%d.%02d", rng.IntN(100), rng.IntN(100)))
	o.FinancialStatus = ptr([]string{"pending", "paid", "partially_refunded", "refunded"}[rng.IntN(4)])
	o.Tags = []string{fmt.Sprintf("t%d", rng.IntN(9)), "vip"}[:rng.IntN(3)]
	if rng.IntN(3) == 0 {
		o.CancelledAt, o.CancelReason = ptr(updated), ptr("customer")
	}
	if rng.IntN(2) == 0 {
		o.Fulfillments = []events.OrderFulfillment{{
			FulfillmentID: id, FulfillmentGID: fmt.Sprintf("gid://shopify/Fulfillment/%d", id), Status: "success",
			CreatedAt: updated, UpdatedAt: updated, TrackingCompany: ptr("DHL"), TrackingNumbers: []string{fmt.Sprint(rng.IntN(1e6))},
			TrackingUrls: []string{}, LineItems: []events.OrderFulfillmentLineItem{{
				LineItemID: lines[0].LineItemID, LineItemGID: lines[0].LineItemGID, Quantity: lines[0].Quantity}},
		}}
	}
	return o
}

// expected folds the deliveries one by one with the rules of the package doc, the plain
// sequential way, into what the reader must return for each order.
func (h history) expected() map[int64]*orders.Order {
	type state struct {
		order   *events.Order
		bulk    *int64
		refunds map[int64]*events.Refund
	}
	states := map[int64]*state{}
	snapLines := map[[2]int64][]events.OrderLineItem{} // (order, bulk) → lines exported
	seenLine := map[[3]int64]bool{}
	get := func(id int64) *state {
		if states[id] == nil {
			states[id] = &state{refunds: map[int64]*events.Refund{}}
		}
		return states[id]
	}
	offer := func(o *events.Order, bulk *int64) {
		s := get(o.OrderID)
		if s.order == nil || o.UpdatedAt.After(s.order.UpdatedAt) ||
			o.UpdatedAt.Equal(s.order.UpdatedAt) && bulk == nil && s.bulk != nil ||
			o.UpdatedAt.Equal(s.order.UpdatedAt) && bulk != nil && s.bulk != nil && *bulk > *s.bulk {
			s.order, s.bulk = o, bulk
		}
	}
	for _, ev := range h.deliveries {
		switch e := ev.(type) {
		case *events.OrderSnapshotted:
			offer(&e.Order, &e.BulkOperationID)
		case *events.OrderLineItemSnapshotted:
			k := [3]int64{e.OrderID, e.BulkOperationID, e.LineItem.LineItemID}
			if !seenLine[k] {
				seenLine[k] = true
				snapLines[[2]int64{e.OrderID, e.BulkOperationID}] = append(snapLines[[2]int64{e.OrderID, e.BulkOperationID}], e.LineItem)
			}
		case *events.RefundCreated:
			get(e.Refund.OrderID).refunds[e.Refund.RefundID] = &e.Refund
		default:
			offer(orderOf(ev), nil)
		}
	}
	out := map[int64]*orders.Order{}
	for id, s := range states {
		if s.order == nil {
			continue
		}
		lines := s.order.LineItems
		if s.bulk != nil {
			lines = slices.Clone(snapLines[[2]int64{id, *s.bulk}])
			slices.SortFunc(lines, func(a, b events.OrderLineItem) int { return int(a.LineItemID - b.LineItemID) })
		}
		var refunds []*events.Refund
		for _, r := range s.refunds {
			refunds = append(refunds, r)
		}
		slices.SortFunc(refunds, func(a, b *events.Refund) int { return int(a.RefundID - b.RefundID) })
		out[id] = expectOrder(s.order, s.bulk, lines, refunds)
	}
	return out
}

func orderOf(ev events.Event) *events.Order {
	switch e := ev.(type) {
	case *events.OrderCreated:
		return &e.Order
	case *events.OrderUpdated:
		return &e.Order
	case *events.OrderCancelled:
		return &e.Order
	case *events.OrderFulfilled:
		return &e.Order
	case *events.OrderPaid:
		return &e.Order
	}
	panic(fmt.Sprintf("no order in %T", ev))
}

// expectOrder is the reader's view of an order version, written independently of the package.
func expectOrder(o *events.Order, bulk *int64, lines []events.OrderLineItem, refunds []*events.Refund) *orders.Order {
	id := func(i int64) string { return fmt.Sprint(i) }
	optID := func(i *int64) *string {
		if i == nil {
			return nil
		}
		return ptr(id(*i))
	}
	out := &orders.Order{
		ID: id(o.OrderID), GID: o.OrderGID, Shop: testShop, Name: o.Name, OrderNumber: o.OrderNumber, Currency: o.Currency,
		PresentmentCurrency: o.PresentmentCurrency, TotalPrice: dec(o.TotalPrice), SubtotalPrice: dec(o.SubtotalPrice),
		TotalTax: dec(o.TotalTax), TotalDiscounts: dec(o.TotalDiscounts), TotalShipping: optDec(o.TotalShipping),
		TotalLineItemsPrice: optDec(o.TotalLineItemsPrice), CurrentTotalPrice: optDec(o.CurrentTotalPrice),
		CurrentSubtotalPrice: optDec(o.CurrentSubtotalPrice), CurrentTotalTax: optDec(o.CurrentTotalTax),
		CurrentTotalDiscounts: optDec(o.CurrentTotalDiscounts), FinancialStatus: o.FinancialStatus,
		FulfillmentStatus: o.FulfillmentStatus, ProcessedAt: o.ProcessedAt, CancelledAt: o.CancelledAt,
		CancelReason: o.CancelReason, ClosedAt: o.ClosedAt, TaxesIncluded: o.TaxesIncluded, Test: o.Test,
		CustomerID: optID(o.CustomerID), CustomerGID: o.CustomerGID, SourceName: o.SourceName,
		Tags: recordset.NonNil(o.Tags), DiscountCodes: recordset.NonNil(o.DiscountCodes), PaymentGatewayNames: recordset.NonNil(o.PaymentGatewayNames),
		LocationID: optID(o.LocationID), LocationGID: o.LocationGID, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		LineItems: []orders.LineItem{}, Fulfillments: []orders.Fulfillment{}, Refunds: []orders.Refund{}, BulkOperationID: optID(bulk),
	}
	for _, li := range lines {
		out.LineItems = append(out.LineItems, orders.LineItem{
			ID: id(li.LineItemID), GID: li.LineItemGID, ProductID: optID(li.ProductID), ProductGID: li.ProductGID,
			VariantID: optID(li.VariantID), VariantGID: li.VariantGID, Title: li.Title, VariantTitle: li.VariantTitle,
			SKU: li.SKU, Vendor: li.Vendor, Quantity: li.Quantity, CurrentQuantity: li.CurrentQuantity,
			Currency: li.Price.CurrencyCode, Price: dec(li.Price), TotalDiscount: dec(li.TotalDiscount), TotalTax: optDec(li.TotalTax),
			RequiresShipping: li.RequiresShipping, Taxable: li.Taxable, GiftCard: li.GiftCard,
			FulfillableQuantity: li.FulfillableQuantity, FulfillmentStatus: li.FulfillmentStatus,
		})
	}
	for _, f := range o.Fulfillments {
		ef := orders.Fulfillment{ID: id(f.FulfillmentID), GID: f.FulfillmentGID, Name: f.Name, Status: f.Status,
			ShipmentStatus: f.ShipmentStatus, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, LocationID: optID(f.LocationID),
			LocationGID: f.LocationGID, Service: f.Service, TrackingCompany: f.TrackingCompany, TrackingNumber: f.TrackingNumber,
			TrackingNumbers: recordset.NonNil(f.TrackingNumbers), TrackingURL: f.TrackingURL, TrackingURLs: recordset.NonNil(f.TrackingUrls),
			LineItems: []orders.FulfillmentLineItem{}}
		for _, fl := range f.LineItems {
			ef.LineItems = append(ef.LineItems, orders.FulfillmentLineItem{LineItemID: id(fl.LineItemID), LineItemGID: fl.LineItemGID, Quantity: fl.Quantity})
		}
		out.Fulfillments = append(out.Fulfillments, ef)
	}
	for _, r := range refunds {
		er := orders.Refund{ID: id(r.RefundID), GID: r.RefundGID, OrderID: id(r.OrderID), OrderGID: r.OrderGID,
			CreatedAt: r.CreatedAt, ProcessedAt: r.ProcessedAt, Restock: r.Restock,
			RefundLineItems: []orders.RefundLineItem{}, Transactions: []orders.Transaction{}, OrderAdjustments: []orders.OrderAdjustment{}}
		for _, l := range r.RefundLineItems {
			er.RefundLineItems = append(er.RefundLineItems, orders.RefundLineItem{ID: id(l.RefundLineItemID), GID: l.RefundLineItemGID,
				LineItemID: id(l.LineItemID), LineItemGID: l.LineItemGID, ProductID: optID(l.ProductID), ProductGID: l.ProductGID,
				VariantID: optID(l.VariantID), VariantGID: l.VariantGID, Quantity: l.Quantity, RestockType: l.RestockType,
				LocationID: optID(l.LocationID), LocationGID: l.LocationGID, Currency: l.Subtotal.CurrencyCode,
				Subtotal: dec(l.Subtotal), TotalTax: dec(l.TotalTax)})
		}
		for _, tx := range r.Transactions {
			er.Transactions = append(er.Transactions, orders.Transaction{ID: id(tx.TransactionID), GID: tx.TransactionGID,
				ParentID: optID(tx.ParentID), ParentGID: tx.ParentGID, Kind: tx.Kind, Status: tx.Status, Gateway: tx.Gateway,
				Amount: dec(tx.Amount), Currency: tx.Amount.CurrencyCode, CreatedAt: tx.CreatedAt, ProcessedAt: tx.ProcessedAt,
				Test: tx.Test, ErrorCode: tx.ErrorCode})
		}
		for _, a := range r.OrderAdjustments {
			er.OrderAdjustments = append(er.OrderAdjustments, orders.OrderAdjustment{ID: id(a.OrderAdjustmentID),
				GID: a.OrderAdjustmentGID, Kind: a.Kind, Reason: a.Reason, Currency: a.Amount.CurrencyCode,
				Amount: dec(a.Amount), TaxAmount: dec(a.TaxAmount)})
		}
		out.Refunds = append(out.Refunds, er)
	}
	return out
}

// dec is an amount as the reader renders it: exact, without trailing zeros.
func dec(m events.Money) string {
	s := new(big.Rat).Set(m.Amount).FloatString(4)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

func optDec(m *events.Money) *string {
	if m == nil {
		return nil
	}
	return ptr(dec(*m))
}

// checkEqual compares the read model with the expected orders, field by field through JSON.
func checkEqual(t *testing.T, r *orders.Reader, ids []int64, want map[int64]*orders.Order) {
	t.Helper()
	n, err := r.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if int(n) < len(want) {
		t.Errorf("the read model holds %d orders, want at least %d", n, len(want))
	}
	bad := 0
	for _, id := range ids {
		got, err := r.Order(context.Background(), id)
		if want[id] == nil {
			if err != orders.ErrNotFound {
				t.Errorf("order %d: %v, want not found", id, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("order %d: %v", id, err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want[id])
		if string(g) != string(w) {
			if bad++; bad <= 3 {
				t.Errorf("order %d:\n got  %s\n want %s", id, g, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d orders differ from the newest version", bad, len(ids))
	}
}

// TestPropertyRandomBatches applies random histories in random batch splits straight to the
// projection (no Kafka, to try many) and checks every order equals the sequential fold.
func TestPropertyRandomBatches(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 42))
		h := randomHistory(rng, 1_000_000+int64(seed)*1000, 30)
		for rest := h.deliveries; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN([]int{1, 5, 40, 500}[seed%4]))
			recs := make([]projections.Record, n)
			for i, ev := range rest[:n] {
				recs[i] = projections.Record{Topic: events.TopicCommerce, Event: ev}
			}
			if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return orders.Projection{}.Apply(ctx, tx, recs) }); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			rest = rest[n:]
		}
		checkEqual(t, orders.NewReader(pool), h.ids, h.expected())
	}
	// Kept aside: only lines whose export's order row has not arrived.
	var settled int64
	if err := pool.QueryRow(ctx, `
SELECT count(*) FROM order_line_item_snapshots s JOIN order_snapshots h USING (order_id, bulk_operation_id)`).Scan(&settled); err != nil {
		t.Fatal(err)
	}
	if settled != 0 {
		t.Errorf("%d kept-aside lines of exports already settled", settled)
	}
	// Every order's kept line count and units are those of its lines, whichever way they came.
	var wrong int64
	if err := pool.QueryRow(ctx, `
SELECT count(*) FROM orders o
LEFT JOIN LATERAL (SELECT count(*) AS n, COALESCE(sum(li.quantity), 0)::bigint AS u
                   FROM order_line_items li WHERE li.order_id = o.order_id) l ON true
WHERE o.line_count <> l.n OR o.units <> l.u`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d orders keep a line count or units that their lines do not add up to", wrong)
	}
}

// TestPropertyThroughKafka delivers a random history through the log to the running projection
// in small batches and checks every order equals the sequential fold.
func TestPropertyThroughKafka(t *testing.T) {
	e := setup(t)
	h := randomHistory(rand.New(rand.NewPCG(7, 7)), 2_000_000, 40)
	e.AppendMany(t, h.deliveries)
	e.Start(t, 7, nil)
	e.WaitApplied(t, 60*time.Second)
	checkEqual(t, orders.NewReader(e.Pool), h.ids, h.expected())
}
