package orders_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/orders/orderstest"
	"github.com/storeline/storeline/testkit"
)

// row is what the reference list needs of an order, read without the code under test.
type row struct {
	id, number             int64
	shop, name             string
	total                  *big.Rat
	created, updated       time.Time
	financial, fulfillment *string
	tags                   []string
	products               []int64
}

func loadRows(t *testing.T, pool *pgxpool.Pool) []row {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
SELECT order_id, order_number, shop, name, total_price::text, created_at, updated_at, financial_status,
       fulfillment_status, tags, ARRAY(SELECT product_id FROM order_line_items li WHERE li.order_id = o.order_id)
FROM orders o`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		var total string
		if err := rows.Scan(&r.id, &r.number, &r.shop, &r.name, &total, &r.created, &r.updated, &r.financial,
			&r.fulfillment, &r.tags, &r.products); err != nil {
			t.Fatal(err)
		}
		r.total, _ = new(big.Rat).SetString(total)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// reference is q's answer computed in Go: every matching id, in q's order.
func reference(all []row, q orders.ListQuery) []int64 {
	in := func(t time.Time, from, to *time.Time) bool {
		return (from == nil || !t.Before(*from)) && (to == nil || t.Before(*to))
	}
	var hits []row
	for _, r := range all {
		if r.shop != q.Shop || !in(r.created, q.CreatedFrom, q.CreatedTo) || !in(r.updated, q.UpdatedFrom, q.UpdatedTo) {
			continue
		}
		if len(q.FinancialStatus) > 0 && (r.financial == nil || !slices.Contains(q.FinancialStatus, *r.financial)) {
			continue
		}
		if len(q.FulfillmentStatus) > 0 {
			s := orders.Unfulfilled
			if r.fulfillment != nil {
				s = *r.fulfillment
			}
			if !slices.Contains(q.FulfillmentStatus, s) {
				continue
			}
		}
		if (q.Tag != "" && !slices.Contains(r.tags, q.Tag)) || (q.ProductID != 0 && !slices.Contains(r.products, q.ProductID)) ||
			!strings.Contains(strings.ToLower(r.name), strings.ToLower(q.Q)) {
			continue
		}
		hits = append(hits, r)
	}
	sort, desc := strings.CutPrefix(q.Sort, "-")
	if q.Sort == "" {
		sort, desc = "created_at", true
	}
	slices.SortFunc(hits, func(a, b row) int {
		c := 0
		switch sort {
		case "created_at":
			c = a.created.Compare(b.created)
		case "updated_at":
			c = a.updated.Compare(b.updated)
		case "total_price":
			c = a.total.Cmp(b.total)
		case "order_number":
			c = int(a.number - b.number)
		}
		if c == 0 {
			c = int(a.id - b.id)
		}
		if desc {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	return ids
}

// TestListMatchesReference pages through many queries with random page sizes and compares the
// concatenated pages with the same query answered in Go over every row.
func TestListMatchesReference(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	const shop = "a.myshopify.com"
	if err := orderstest.LoadOrders(ctx, pool, 3000, shop, 7); err != nil {
		t.Fatal(err)
	}
	if err := orderstest.LoadOrders(ctx, pool, 500, "b.myshopify.com", 7); err != nil {
		t.Fatal(err)
	}
	// Equal totals and equal times, so that ties are broken by id.
	if _, err := pool.Exec(ctx, `UPDATE orders SET total_price = 42, created_at = '2026-01-01Z', updated_at = '2026-01-02Z'
WHERE shop = $1 AND order_number % 10 = 3`, shop); err != nil {
		t.Fatal(err)
	}
	all := loadRows(t, pool)
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	queries := []struct {
		name string
		q    orders.ListQuery
	}{
		{"default", orders.ListQuery{Shop: shop}},
		{"other shop", orders.ListQuery{Shop: "b.myshopify.com"}},
		{"unknown shop", orders.ListQuery{Shop: "nobody.myshopify.com"}},
		{"created range and financial status", orders.ListQuery{Shop: shop, CreatedFrom: at("2025-06-01T00:00:00Z"), CreatedTo: at("2025-09-01T00:00:00Z"), FinancialStatus: []string{"paid", "refunded"}}},
		{"updated from, ascending", orders.ListQuery{Shop: shop, UpdatedFrom: at("2026-01-01T00:00:00Z"), Sort: "updated_at"}},
		{"unfulfilled or partial by number desc", orders.ListQuery{Shop: shop, FulfillmentStatus: []string{orders.Unfulfilled, "partial"}, Sort: "-order_number"}},
		{"tag by total", orders.ListQuery{Shop: shop, Tag: "vip", Sort: "total_price"}},
		{"popular product by total desc", orders.ListQuery{Shop: shop, ProductID: orderstest.ProductID(0), Sort: "-total_price"}},
		{"rare product", orders.ListQuery{Shop: shop, ProductID: orderstest.ProductID(1999)}},
		{"name substring", orders.ListQuery{Shop: shop, Q: "100", Sort: "order_number"}},
		{"LIKE wildcards are literal", orders.ListQuery{Shop: shop, Q: "#2_"}}, // _ is literal, not LIKE's wildcard: nothing matches
		{"combined filters", orders.ListQuery{Shop: shop, Tag: "gift", FinancialStatus: []string{"paid"}, CreatedFrom: at("2025-01-01T00:00:00Z"), Sort: "-updated_at"}},
		{"created ascending", orders.ListQuery{Shop: shop, Sort: "created_at"}},
		{"updated descending", orders.ListQuery{Shop: shop, Sort: "-updated_at"}},
	}
	r := orders.NewReader(pool)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range queries {
		q := tc.q
		t.Run(tc.name, func(t *testing.T) {
			want := reference(all, q)
			q.Limit = 1 + rng.IntN(60)
			if len(want) > 0 && rng.IntN(3) == 0 {
				q.Limit = len(want) // exactly one full page: no next page
			}
			if q.Limit > orders.MaxLimit {
				q.Limit = orders.MaxLimit
			}
			var got []int64
			pages := 0
			for {
				page, err := r.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(page.Orders) > q.Limit || (page.Next != nil && len(page.Orders) != q.Limit) {
					t.Fatalf("page %d: %d orders, limit %d, next %v", pages, len(page.Orders), q.Limit, page.Next)
				}
				for _, o := range page.Orders {
					var id int64
					fmt.Sscan(o.ID, &id)
					got = append(got, id)
				}
				if page.Next == nil {
					break
				}
				if pages > len(want)+1 {
					t.Fatalf("more than %d pages", pages)
				}
				q.After = page.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d orders, want %d; first difference at %d", len(got), len(want), firstDiff(got, want))
			}
			if wantPages := max(1, (len(want)+q.Limit-1)/q.Limit); pages != wantPages {
				t.Errorf("%d pages of %d for %d orders, want %d", pages, q.Limit, len(want), wantPages)
			}
		})
	}
	if n := len(reference(all, queries[3].q)); n < 20 {
		t.Errorf("the filtered query finds only %d orders: the test data no longer exercises paging", n)
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestListSummary: a list row says what the full order says.
func TestListSummary(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	if err := orderstest.LoadOrders(ctx, pool, 300, testShop, 3); err != nil {
		t.Fatal(err)
	}
	r := orders.NewReader(pool)
	page, err := r.List(ctx, orders.ListQuery{Shop: testShop, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 200 || page.Next == nil {
		t.Fatalf("first page: %d orders, next %v", len(page.Orders), page.Next)
	}
	for _, s := range page.Orders[:20] {
		var id int64
		fmt.Sscan(s.ID, &id)
		o, err := r.Order(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var units int64
		for _, li := range o.LineItems {
			units += int64(li.Quantity)
		}
		if s.GID != o.GID || s.Name != o.Name || s.OrderNumber != o.OrderNumber || s.TotalPrice != o.TotalPrice ||
			!s.CreatedAt.Equal(o.CreatedAt) || !s.UpdatedAt.Equal(o.UpdatedAt) || !slices.Equal(s.Tags, o.Tags) ||
			int(s.LineCount) != len(o.LineItems) || s.Units != units || s.Currency != o.Currency ||
			*s.FinancialStatus != *o.FinancialStatus || s.Shop != testShop || s.CreatedAt.Location() != time.UTC {
			t.Errorf("summary %+v does not match order %+v", s, o)
		}
	}
	if got := page.Orders[199]; page.Next.Value != got.CreatedAt.Format(time.RFC3339Nano) || fmt.Sprint(page.Next.ID) != got.ID {
		t.Errorf("next %+v, want the last row's created_at and id (%s, %s)", page.Next, got.CreatedAt, got.ID)
	}
}

func TestOrderByName(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	for _, shop := range []string{"a.myshopify.com", "b.myshopify.com"} {
		if err := orderstest.LoadOrders(ctx, pool, 20, shop, 1); err != nil {
			t.Fatal(err)
		}
	}
	r := orders.NewReader(pool)
	a, err := r.OrderByName(ctx, "a.myshopify.com", "#1005")
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.OrderByName(ctx, "b.myshopify.com", "#1005")
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "#1005" || a.Shop != "a.myshopify.com" || b.Shop != "b.myshopify.com" || a.ID == b.ID || len(a.LineItems) == 0 {
		t.Errorf("#1005 of a = %s %s (%d lines), of b = %s %s", a.Shop, a.ID, len(a.LineItems), b.Shop, b.ID)
	}
	for _, name := range []string{"1005", "#100", "#9999", "#1005 "} {
		if _, err := r.OrderByName(ctx, "a.myshopify.com", name); !errors.Is(err, orders.ErrNotFound) {
			t.Errorf("OrderByName(%q) = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := r.OrderByName(ctx, "c.myshopify.com", "#1005"); !errors.Is(err, orders.ErrNotFound) {
		t.Errorf("another shop's #1005 = %v, want ErrNotFound", err)
	}
}

// TestListRefuses: what the caller got wrong is an ErrInvalidQuery, before any SQL runs.
func TestListRefuses(t *testing.T) {
	r := orders.NewReader(nil) // never reaches the pool
	for _, tc := range []struct {
		q    orders.ListQuery
		want error
	}{
		{orders.ListQuery{Shop: "s", Sort: "name"}, orders.ErrInvalidSort},
		{orders.ListQuery{Shop: "s", Sort: "created_at; DROP TABLE orders"}, orders.ErrInvalidSort},
		{orders.ListQuery{Shop: "s", Sort: "--created_at"}, orders.ErrInvalidSort},
		{orders.ListQuery{Shop: "s", Limit: -1}, orders.ErrInvalidLimit},
		{orders.ListQuery{Shop: "s", Limit: orders.MaxLimit + 1}, orders.ErrInvalidLimit},
		{orders.ListQuery{}, orders.ErrMissingShop},
		{orders.ListQuery{Shop: "s", After: &orders.ListPosition{Value: "12.5", ID: 1}}, orders.ErrInvalidPosition},
		{orders.ListQuery{Shop: "s", Sort: "total_price", After: &orders.ListPosition{Value: "1e9", ID: 1}}, orders.ErrInvalidPosition},
		{orders.ListQuery{Shop: "s", Sort: "total_price", After: &orders.ListPosition{Value: "1.", ID: 1}}, orders.ErrInvalidPosition},
		{orders.ListQuery{Shop: "s", Sort: "order_number", After: &orders.ListPosition{Value: "2026-01-01T00:00:00Z", ID: 1}}, orders.ErrInvalidPosition},
	} {
		_, err := r.List(context.Background(), tc.q)
		if !errors.Is(err, tc.want) || !errors.Is(err, orders.ErrInvalidQuery) {
			t.Errorf("List(%+v) = %v, want %v", tc.q, err, tc.want)
		}
	}
}
