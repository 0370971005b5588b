package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/orders/orderstest"
	"github.com/storeline/storeline/testkit"
)

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan tree, what the checks need of it.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	ActualRows   float64    `json:"Actual Rows"`
	ActualLoops  float64    `json:"Actual Loops"`
	RowsRemoved  float64    `json:"Rows Removed by Filter"`
	Plans        []planNode `json:"Plans"`
}

func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}

func (n planNode) String() string {
	var b strings.Builder
	var rec func(planNode, int)
	rec = func(n planNode, depth int) {
		fmt.Fprintf(&b, "%s%s %s %s rows=%.0f removed=%.0f\n", strings.Repeat("  ", depth), n.NodeType, n.RelationName,
			n.IndexName, n.ActualRows*max(n.ActualLoops, 1), n.RowsRemoved)
		for _, c := range n.Plans {
			rec(c, depth+1)
		}
	}
	rec(n, 0)
	return b.String()
}

// TestListPlans checks on 50,000 orders that the lists the dashboard asks for most are index
// scans that stop after about a page, not a scan of the orders table: the plans PostgreSQL
// picks at this size are the ones it picks at a million (the costs grow with the table, the
// page's does not).
func TestListPlans(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	const shop, n = "a.myshopify.com", 50_000
	if err := orderstest.LoadOrders(ctx, pool, n, shop, 11); err != nil {
		t.Fatal(err)
	}
	// Another shop's orders in the same table, as in a multi-shop deployment.
	if err := orderstest.LoadOrders(ctx, pool, 5_000, "b.myshopify.com", 11); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE orders; ANALYZE order_line_items`); err != nil {
		t.Fatal(err)
	}
	r := orders.NewReader(pool)
	first, err := r.List(ctx, orders.ListQuery{Shop: shop})
	if err != nil {
		t.Fatal(err)
	}
	from := orderstest.End.Add(-90 * 24 * time.Hour)
	to := orderstest.End.Add(-30 * 24 * time.Hour)
	for _, tc := range []struct {
		name string
		q    orders.ListQuery
		// maxRead bounds the rows the orders scan returns (0: not checked): a page and the
		// one more row that says whether there is a next page, plus what filters drop.
		maxRead float64
	}{
		{"default first page", orders.ListQuery{Shop: shop}, orders.DefaultLimit + 1},
		{"default cursor page", orders.ListQuery{Shop: shop, After: first.Next}, orders.DefaultLimit + 1},
		{"status and created range", orders.ListQuery{Shop: shop, FinancialStatus: []string{"paid", "refunded"},
			CreatedFrom: &from, CreatedTo: &to}, orders.DefaultLimit + 1},
		{"status and created range, cursor page", orders.ListQuery{Shop: shop, FinancialStatus: []string{"paid"},
			CreatedFrom: &from, CreatedTo: &to, After: first.Next}, orders.DefaultLimit + 1},
		{"by total, cursor page", orders.ListQuery{Shop: shop, Sort: "-total_price", After: &orders.ListPosition{Value: "100", ID: 1}}, orders.DefaultLimit + 1},
		{"by number", orders.ListQuery{Shop: shop, Sort: "order_number"}, orders.DefaultLimit + 1},
		{"updated", orders.ListQuery{Shop: shop, Sort: "-updated_at"}, orders.DefaultLimit + 1},
		{"tag", orders.ListQuery{Shop: shop, Tag: "vip"}, 0},
		{"product", orders.ListQuery{Shop: shop, ProductID: orderstest.ProductID(1500)}, 0},
		{"name", orders.ListQuery{Shop: shop, Q: "4321"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql, args, err := orders.ListSQL(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			if err := pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...).Scan(&out); err != nil {
				t.Fatal(err)
			}
			var plans []struct {
				Plan planNode `json:"Plan"`
			}
			if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
				t.Fatalf("EXPLAIN output %s: %v", out, err)
			}
			plan := plans[0].Plan
			var read float64
			plan.walk(func(n planNode) {
				if n.RelationName != "orders" {
					return
				}
				if n.NodeType == "Seq Scan" {
					t.Errorf("a sequential scan of orders:\n%s", plan)
				}
				read += n.ActualRows * max(n.ActualLoops, 1)
			})
			if tc.maxRead > 0 && read > tc.maxRead {
				t.Errorf("the orders scans return %.0f rows, want at most %.0f:\n%s", read, tc.maxRead, plan)
			}
			t.Logf("\n%s", plan)
		})
	}
}
