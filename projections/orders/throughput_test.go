package orders_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/testkit"
)

// createdOrders returns n OrderCreated events of distinct orders with three lines each.
func createdOrders(firstID int64, n int) []events.Event {
	evs := make([]events.Event, n)
	for i := range n {
		id := firstID + int64(i)
		evs[i] = webhook(events.TypeOrderCreated, newOrder(id, t0.Add(time.Hour),
			newLine(id*10, 1, "19.99"), newLine(id*10+1, 2, "5.25"), newLine(id*10+2, 3, "0.5")), "c")
	}
	return evs
}

// applyInBatches applies evs straight to the projection, size records per transaction.
func applyInBatches(tb testing.TB, pool *pgxpool.Pool, evs []events.Event, size int) {
	ctx := context.Background()
	for start := 0; start < len(evs); start += size {
		recs := make([]projections.Record, 0, size)
		for _, ev := range evs[start:min(start+size, len(evs))] {
			recs = append(recs, projections.Record{Topic: events.TopicCommerce, Event: ev})
		}
		if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return orders.Projection{}.Apply(ctx, tx, recs) }); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestFoldThroughput measures (and logs, without asserting a timing) how fast 20,000
// OrderCreated events with three lines each fold: through Kafka with the runner (fetch, decode,
// apply, checkpoint), and straight through Apply in batches of 1,000 as the runner makes them.
func TestFoldThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("throughput measurement")
	}
	const n = 20_000
	e := setup(t)
	evs := createdOrders(10_000_000, n)
	e.AppendMany(t, evs)
	start := time.Now()
	e.Start(t, 0, nil)
	e.WaitApplied(t, 5*time.Minute)
	runner := time.Since(start)
	if got := e.count(t, `SELECT count(*) FROM order_line_items`); got != 3*n {
		t.Fatalf("%d lines, want %d", got, 3*n)
	}

	pool := testkit.FreshDatabase(t)
	start = time.Now()
	applyInBatches(t, pool, evs, 1000)
	direct := time.Since(start)
	t.Logf("fold of %d OrderCreated (%d lines): runner from Kafka %.2fs = %.0f events/s; Apply in batches of 1000 %.2fs = %.0f events/s",
		n, 3*n, runner.Seconds(), n/runner.Seconds(), direct.Seconds(), n/direct.Seconds())

	// Then a bulk sync that saw a newer version of every order: 20,000 OrderSnapshotted and
	// 60,000 OrderLineItemSnapshotted, each order's rows together as the export streams them.
	var rows []events.Event
	for i := range n {
		id := int64(10_000_000 + i)
		rows = append(rows, snapshot(newOrder(id, t0.Add(2*time.Hour),
			newLine(id*10, 1, "19.99"), newLine(id*10+1, 2, "5.25"), newLine(id*10+2, 4, "0.5")), 900, t0.Add(3*time.Hour))...)
	}
	start = time.Now()
	applyInBatches(t, pool, rows, 1000)
	bulk := time.Since(start)
	var lines, waiting int64
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM order_line_items WHERE quantity = 4),
       (SELECT count(*) FROM order_line_item_snapshots)`).Scan(&lines, &waiting); err != nil {
		t.Fatal(err)
	}
	if lines != n || waiting != 0 {
		t.Fatalf("after the bulk sync: %d lines of the snapshots, %d kept aside; want %d and 0", lines, waiting, n)
	}
	t.Logf("bulk sync over them: %d snapshot events (%d orders) with Apply in batches of 1000 %.2fs = %.0f events/s",
		len(rows), n, bulk.Seconds(), float64(len(rows))/bulk.Seconds())
}

// BenchmarkApply1000OrderCreated is one runner batch: 1,000 new orders with three lines each.
func BenchmarkApply1000OrderCreated(b *testing.B) {
	testkit.Integration(b)
	pool := testkit.FreshDatabase(b)
	next := int64(20_000_000)
	for b.Loop() {
		b.StopTimer()
		evs := createdOrders(next, 1000)
		next += 1000
		b.StartTimer()
		applyInBatches(b, pool, evs, 1000)
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
