package tags_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/projections/tags"
)

// seedProduct writes a product row as the products projection would (only what analytics reads).
func seedProduct(t *testing.T, pool *pgxpool.Pool, shop string, productID int64, shopifyTags ...string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `
INSERT INTO products (product_id, product_gid, shop, title, tags, last_event_id)
VALUES ($1, $2, $3, $4, $5, gen_random_uuid())`, productID, productGID(productID), shop, fmt.Sprint("P", productID), append([]string{}, shopifyTags...)); err != nil {
		t.Fatal(err)
	}
}

type line struct {
	productID int64
	qty       int
	price     string
	discount  string
}

// seedOrder writes an order and its lines as the orders projection would (only what analytics
// reads, and the columns that may not be null).
func seedOrder(t *testing.T, pool *pgxpool.Pool, shop string, orderID int64, created time.Time, cancelled, test bool, lines ...line) {
	t.Helper()
	ctx := context.Background()
	var cancelledAt *time.Time
	if cancelled {
		cancelledAt = &created
	}
	if _, err := pool.Exec(ctx, `
INSERT INTO orders (order_id, order_gid, shop, name, order_number, currency, total_price, subtotal_price, total_tax,
                    created_at, updated_at, last_event_id, total_discounts, taxes_included, test, cancelled_at,
                    tags, discount_codes, payment_gateway_names, fulfillments)
VALUES ($1, $2, $3, $4, $1, 'EUR', 0, 0, 0, $5, $5, gen_random_uuid(), 0, false, $6, $7, '{}', '{}', '{}', '[]')`,
		orderID, fmt.Sprintf("gid://shopify/Order/%d", orderID), shop, fmt.Sprint("#", orderID), created, test, cancelledAt); err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		lineID := orderID*100 + int64(i)
		if _, err := pool.Exec(ctx, `
INSERT INTO order_line_items (order_id, line_item_id, line_item_gid, position, product_id, title, quantity, price,
                              currency, total_discount, requires_shipping, taxable, gift_card)
VALUES ($1, $2, $3, $4, $5, 'item', $6, $7::numeric, 'EUR', $8::numeric, true, true, false)`,
			orderID, lineID, fmt.Sprintf("gid://shopify/LineItem/%d", lineID), i, l.productID, l.qty, l.price, l.discount); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAnalytics checks orders, units and revenue per tag against numbers worked out by hand.
// A product's tags are its Shopify tags and storeline's (folded here from the log), compared
// case-insensitively and counted once when both have a tag.
func TestAnalytics(t *testing.T) {
	e, r := run(t, 0,
		defSet("linen", 1, "Linen", "#111111"),
		tagged(1, 1, "linen", ptr(id("linen"))), // also a Shopify tag of product 1: counted once
		tagged(2, 1, "Sale", nil),
		tagged(3, 1, "sale", nil), untagged(3, 2, "sale"), // off again: product 3 is not on sale
		tagged(3, 3, "summer", nil),
	)
	pool, ctx := e.Pool, context.Background()
	const other = "other.myshopify.com"
	seedProduct(t, pool, testShop, 1, "Linen", "summer")
	seedProduct(t, pool, testShop, 2, "linen")
	seedProduct(t, pool, testShop, 3)
	seedProduct(t, pool, testShop, 4)
	seedProduct(t, pool, other, 5, "linen")

	from, to := t0, t0.Add(7*24*time.Hour)
	seedOrder(t, pool, testShop, 1001, from.Add(time.Hour), false, false,
		line{1, 2, "10.00", "1.00"}, line{2, 1, "25.50", "0"}, line{4, 3, "5", "0"})
	seedOrder(t, pool, testShop, 1002, from.Add(2*time.Hour), false, false,
		line{2, 2, "25.50", "5.00"}, line{3, 1, "7.25", "0"})
	seedOrder(t, pool, testShop, 1003, from.Add(3*time.Hour), true, false, line{1, 10, "10", "0"})   // cancelled
	seedOrder(t, pool, testShop, 1004, from.Add(4*time.Hour), false, true, line{1, 10, "10", "0"})   // test
	seedOrder(t, pool, testShop, 1005, from.Add(-time.Second), false, false, line{1, 10, "10", "0"}) // before the window
	seedOrder(t, pool, testShop, 1006, to, false, false, line{1, 10, "10", "0"})                     // at its end: out
	seedOrder(t, pool, testShop, 1007, from, false, false, line{1, 1, "10", "0"}, line{1, 1, "12", "0"})
	seedOrder(t, pool, other, 1008, from.Add(time.Hour), false, false, line{5, 10, "10", "0"}) // another shop

	// linen (products 1, 2): orders 1001, 1002, 1007; units 2+1+2+1+1; revenue 19+25.5+46+10+12.
	// sale (product 2 only): orders 1001, 1002; units 1+2; revenue 25.5+46.
	// summer (products 1 and 3): orders 1001, 1002, 1007; units 2+1+1+1; revenue 19+7.25+10+12.
	linen := tags.TagStats{Tag: "Linen", Orders: 3, Units: 7, Revenue: "112.5", Currency: "EUR"}
	sale := tags.TagStats{Tag: "Sale", Orders: 2, Units: 3, Revenue: "71.5", Currency: "EUR"}
	summer := tags.TagStats{Tag: "summer", Orders: 3, Units: 5, Revenue: "48.25", Currency: "EUR"}

	for _, c := range []struct {
		name string
		q    tags.AnalyticsQuery
		want []tags.TagStats
	}{
		{"every tag", tags.AnalyticsQuery{Shop: testShop, From: from, To: to}, []tags.TagStats{linen, sale, summer}},
		{"some tags, any case", tags.AnalyticsQuery{Shop: testShop, From: from, To: to, Tags: []string{"LINEN", "summer", "none"}},
			[]tags.TagStats{linen, summer}},
		{"a window with only order 1007", tags.AnalyticsQuery{Shop: testShop, From: from, To: from.Add(time.Minute)},
			[]tags.TagStats{{Tag: "Linen", Orders: 1, Units: 2, Revenue: "22", Currency: "EUR"},
				{Tag: "summer", Orders: 1, Units: 2, Revenue: "22", Currency: "EUR"}}},
		{"an empty window", tags.AnalyticsQuery{Shop: testShop, From: to, To: from}, []tags.TagStats{}},
		{"another shop", tags.AnalyticsQuery{Shop: other, From: from, To: to},
			[]tags.TagStats{{Tag: "linen", Orders: 1, Units: 10, Revenue: "100", Currency: "EUR"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := r.Analytics(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Analytics = %+v\nwant       %+v", got, c.want)
			}
		})
	}

	// A removed definition no longer names the tag.
	e.Append(t, defRemoved("linen", 2, "Linen"))
	e.WaitApplied(t, time.Minute)
	got, err := r.Analytics(ctx, tags.AnalyticsQuery{Shop: testShop, From: from, To: to, Tags: []string{"linen"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Tag != "linen" && got[0].Tag != "Linen" || got[0].Orders != 3 {
		t.Errorf("after removing the definition: %+v", got)
	}
}
