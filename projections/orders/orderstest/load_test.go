package orderstest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/orders/orderstest"
	"github.com/storeline/storeline/testkit"
)

// TestLoadOrders loads two shops and reads an order back through the read model's reader: the
// rows are complete enough for the API's code, and the totals add up.
func TestLoadOrders(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	const n = 120_000 // more than one chunk, so chunks load in parallel
	start := time.Now()
	if err := orderstest.LoadOrders(ctx, pool, n, "a.myshopify.com", 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %d orders in %s", n, time.Since(start))
	if err := orderstest.LoadOrders(ctx, pool, 10, "b.myshopify.com", 1); err != nil {
		t.Fatal(err)
	}
	var orderCount, lineCount, badTotals, products int64
	var first, last time.Time
	if err := pool.QueryRow(ctx, `
SELECT (SELECT count(*) FROM orders WHERE shop = 'a.myshopify.com'),
       (SELECT count(*) FROM order_line_items li JOIN orders o USING (order_id) WHERE o.shop = 'a.myshopify.com'),
       (SELECT count(*) FROM orders o WHERE total_line_items_price <>
            (SELECT sum(price * quantity) FROM order_line_items li WHERE li.order_id = o.order_id)),
       (SELECT count(DISTINCT product_id) FROM order_line_items),
       (SELECT min(created_at) FROM orders), (SELECT max(created_at) FROM orders)`).
		Scan(&orderCount, &lineCount, &badTotals, &products, &first, &last); err != nil {
		t.Fatal(err)
	}
	if orderCount != n || lineCount < n || lineCount > 4*n || badTotals != 0 {
		t.Errorf("shop a: %d orders, %d lines, %d orders whose lines do not add up", orderCount, lineCount, badTotals)
	}
	if products < orderstest.Products*9/10 || products > orderstest.Products {
		t.Errorf("lines refer to %d products, want most of %d", products, orderstest.Products)
	}
	if last.After(orderstest.End) || first.Before(orderstest.End.Add(-orderstest.Span)) || last.Sub(first) < orderstest.Span*99/100 {
		t.Errorf("orders created from %s to %s, want over %s up to %s", first, last, orderstest.Span, orderstest.End)
	}
	var id int64
	if err := pool.QueryRow(ctx, `SELECT order_id FROM orders WHERE shop = 'b.myshopify.com' AND order_number = 1005`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	o, err := orders.NewReader(pool).Order(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "#1005" || len(o.LineItems) == 0 || o.Currency != "EUR" || o.LineItems[0].ProductID == nil {
		t.Errorf("order #1005 = %+v", o)
	}
}

// TestLoadMillion times the benchmark's load (STORELINE_LOAD_FULL=1): a million orders.
func TestLoadMillion(t *testing.T) {
	testkit.Integration(t)
	if os.Getenv("STORELINE_LOAD_FULL") != "1" {
		t.Skip("STORELINE_LOAD_FULL=1 loads a million orders")
	}
	pool := testkit.FreshDatabase(t)
	start := time.Now()
	if err := orderstest.LoadOrders(context.Background(), pool, 1_000_000, "a.myshopify.com", 1); err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded 1,000,000 orders in %s", time.Since(start))
}
