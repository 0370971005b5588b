package e2e

import (
	"context"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/shopifysim"
	"github.com/storeline/storeline/testkit"
)

// TestReadModelsEqualShopifyAfterFaultyWebhooksAndOneSync is issue 4's acceptance: a simulated
// shop's whole history as webhooks with 10% duplicated, 10% out of order and 5% dropped, then
// one incremental bulk sync; the orders, products and inventory read models then equal the
// shop's final state, row by row and amount by amount. CI runs 200 products and 2,000 orders;
// STORELINE_ACCEPTANCE_FULL=1 runs the 2,000 and 20,000.
func TestReadModelsEqualShopifyAfterFaultyWebhooksAndOneSync(t *testing.T) {
	size := shopifysim.Size{Products: 200, Orders: 2000}
	if os.Getenv("STORELINE_ACCEPTANCE_FULL") == "1" {
		size = shopifysim.Size{Products: 2000, Orders: 20000}
	}
	d := newDeployment(t)
	store, _ := simulatedShop(t, d, size)
	d.start()
	ctx := context.Background()

	sender := shopifysim.NewWebhookSender(store, shopifysim.SenderOptions{URL: "http://" + d.addr + "/webhooks/shopify",
		Secret: simulatedShopSecret, Concurrency: 8, Seed: 11,
		Faults: shopifysim.Faults{Duplicate: 0.10, OutOfOrder: 0.10, Drop: 0.05}})
	defer sender.Close()
	started := time.Now()
	report, err := sender.Send(ctx, store.History())
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Dropped) == 0 || len(report.Duplicated) == 0 || len(report.Reordered) == 0 || len(report.Failed) > 0 {
		t.Fatalf("faults not as planned: %d dropped, %d duplicated, %d reordered, %d failed",
			len(report.Dropped), len(report.Duplicated), len(report.Reordered), len(report.Failed))
	}
	t.Logf("%d webhooks delivered (%d dropped, %d duplicated, %d reordered) in %s",
		len(report.Delivered), len(report.Dropped), len(report.Duplicated), len(report.Reordered), time.Since(started).Round(time.Millisecond))

	cmd := exec.Command(binary(t), "sync", "run", "--shop", store.Shop().MyshopifyDomain)
	cmd.Env = d.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("storeline sync run: %v\n%s", err, out)
	}

	pool, err := pgxpool.New(ctx, d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var diffs []string
	testkit.WaitFor(t, 180*time.Second, "the read models to equal the shop", func() error {
		diffs = compareReadModels(ctx, t, pool, store)
		if len(diffs) > 0 {
			return fmt.Errorf("%d differences, first: %s", len(diffs), diffs[0])
		}
		return nil
	})
}

// compareReadModels lists every difference between the read models and the shop's final state.
func compareReadModels(ctx context.Context, t *testing.T, pool *pgxpool.Pool, store *shopifysim.Store) []string {
	t.Helper()
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < 50 {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	type orderRow struct {
		total, current     string
		financial, fulfill *string
		cancelled          bool
		lines, units       int64
	}
	rows, err := pool.Query(ctx, `
SELECT o.order_id, o.total_price::text, o.current_total_price::text, o.financial_status, o.fulfillment_status, o.cancelled_at IS NOT NULL,
       (SELECT count(*) FROM order_line_items l WHERE l.order_id = o.order_id),
       (SELECT COALESCE(sum(quantity), 0) FROM order_line_items l WHERE l.order_id = o.order_id)
FROM orders o`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]orderRow{}
	for rows.Next() {
		var id int64
		var r orderRow
		var current *string
		if err := rows.Scan(&id, &r.total, &current, &r.financial, &r.fulfill, &r.cancelled, &r.lines, &r.units); err != nil {
			t.Fatal(err)
		}
		if current != nil {
			r.current = *current
		}
		got[id] = r
	}
	rows.Close()
	orders := store.Orders()
	if len(got) != len(orders) {
		add("%d orders in the read model, %d in the shop", len(got), len(orders))
	}
	for _, o := range orders {
		r, ok := got[o.ID]
		if !ok {
			add("order %d missing", o.ID)
			continue
		}
		var units int64
		for _, li := range o.LineItems {
			units += int64(li.Quantity)
		}
		switch {
		case !sameAmount(r.total, o.TotalPrice.String()):
			add("order %d total %s, shop %s", o.ID, r.total, o.TotalPrice)
		case !sameAmount(r.current, o.CurrentTotalPrice.String()):
			add("order %d current total %s, shop %s", o.ID, r.current, o.CurrentTotalPrice)
		case deref(r.financial) != o.FinancialStatus:
			add("order %d financial status %q, shop %q", o.ID, deref(r.financial), o.FinancialStatus)
		case deref(r.fulfill) != o.FulfillmentStatus:
			add("order %d fulfillment status %q, shop %q", o.ID, deref(r.fulfill), o.FulfillmentStatus)
		case r.cancelled != (o.CancelledAt != nil):
			add("order %d cancelled %t, shop %t", o.ID, r.cancelled, o.CancelledAt != nil)
		case r.lines != int64(len(o.LineItems)) || r.units != units:
			add("order %d has %d lines (%d units), shop %d (%d)", o.ID, r.lines, r.units, len(o.LineItems), units)
		}
	}

	live := map[int64]bool{}
	prows, err := pool.Query(ctx, `SELECT product_id FROM products WHERE deleted_at IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for prows.Next() {
		var id int64
		if err := prows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		live[id] = true
	}
	prows.Close()
	products := store.Products()
	if len(live) != len(products) {
		add("%d live products in the read model, %d in the shop", len(live), len(products))
	}
	for _, p := range products {
		if !live[p.ID] {
			add("product %d missing or deleted", p.ID)
		}
	}
	for _, p := range store.DeletedProducts() {
		if live[p.ID] {
			add("deleted product %d is live", p.ID)
		}
	}

	for _, l := range store.InventoryLevels() {
		var available *int
		err := pool.QueryRow(ctx, `SELECT available FROM inventory_levels WHERE inventory_item_id = $1 AND location_id = $2`,
			l.InventoryItemID, l.LocationID).Scan(&available)
		if err != nil {
			add("inventory level %d@%d: %v", l.InventoryItemID, l.LocationID, err)
			continue
		}
		if available == nil || *available != l.Available {
			add("inventory level %d@%d available %v, shop %d", l.InventoryItemID, l.LocationID, available, l.Available)
		}
	}
	return diffs
}

func sameAmount(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(a)
	y, ok2 := new(big.Rat).SetString(b)
	return ok1 && ok2 && x.Cmp(y) == 0
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
