package orders_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/testkit"
)

// TestBlueGreenRebuildUnderReads rebuilds the orders read model while events keep arriving and
// a reader polls it every few milliseconds: the reader never sees an error, fewer orders than
// before, or an order going back to an older version; after promotion the new version is live
// and keeps up, the old runner stops, and dropping the old version removes its tables.
func TestBlueGreenRebuildUnderReads(t *testing.T) {
	e := setup(t)
	proj := orders.Projection{}
	h := randomHistory(rand.New(rand.NewPCG(31, 32)), 5_000_000, 60)
	third := len(h.deliveries) / 3
	e.AppendMany(t, h.deliveries[:third])
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := func(version int) (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		r := projections.NewRunner(projections.Config{Brokers: e.Brokers, TopicPrefix: e.Prefix, MaxBatch: 7, Version: version}, proj, e.Pool, e.Codec, nil, log)
		go func() { done <- r.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("runner v%d: %v", version, err)
			}
		}
	}
	applied := func(checkpoint string) int64 {
		var n int64
		_ = e.Pool.QueryRow(context.Background(), `SELECT coalesce(sum(next_offset), 0) FROM projection_checkpoints WHERE projection = $1`, checkpoint).Scan(&n)
		return n
	}
	stopLive := run(0)
	defer stopLive()
	testkit.WaitFor(t, time.Minute, "the live version to apply the first third", func() error {
		if n := applied("orders"); n != e.Produced {
			return fmt.Errorf("%d of %d", n, e.Produced)
		}
		return nil
	})

	// A reader polls all the while.
	readerCtx, stopReader := context.WithCancel(context.Background())
	var readerErr error
	var reads, most int
	var wg sync.WaitGroup
	wg.Go(func() {
		reader := orders.NewReader(e.Pool)
		seen := map[string]time.Time{}
		for readerCtx.Err() == nil {
			page, err := reader.List(readerCtx, orders.ListQuery{Shop: "demo.myshopify.com", Sort: "order_number", Limit: 200})
			if readerCtx.Err() != nil {
				return
			}
			if err != nil {
				readerErr = fmt.Errorf("read %d: %w", reads, err)
				return
			}
			if len(page.Orders) < most {
				readerErr = fmt.Errorf("read %d: %d orders, after %d", reads, len(page.Orders), most)
				return
			}
			most = len(page.Orders)
			for _, o := range page.Orders {
				if o.UpdatedAt.Before(seen[o.ID]) {
					readerErr = fmt.Errorf("read %d: order %s went back from %s to %s", reads, o.ID, seen[o.ID], o.UpdatedAt)
					return
				}
				seen[o.ID] = o.UpdatedAt
			}
			reads++
			time.Sleep(3 * time.Millisecond) // the poll interval of a dashboard, not a synchronisation
		}
	})

	indexes := func() string {
		var names string
		if err := e.Pool.QueryRow(context.Background(), `SELECT string_agg(indexname, ' ' ORDER BY indexname) FROM pg_indexes
WHERE schemaname = 'public' AND tablename = ANY($1)`, proj.Tables()).Scan(&names); err != nil {
			t.Fatal(err)
		}
		return names
	}
	liveIndexes := indexes()
	v2, err := projections.StartRebuild(context.Background(), e.Pool, proj)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.State != projections.VersionBuilding {
		t.Fatalf("rebuild started %+v", v2)
	}
	if again, err := projections.StartRebuild(context.Background(), e.Pool, proj); err != nil || again.Version != 2 {
		t.Fatalf("a second start: %+v %v, want the same version to resume", again, err)
	}
	stopBuild := run(2)
	defer stopBuild()
	e.AppendMany(t, h.deliveries[third:2*third])
	var promoted projections.Version
	testkit.WaitFor(t, time.Minute, "the new version to catch up and be promoted", func() error {
		if applied("orders@v2") < e.Produced {
			return fmt.Errorf("v2 at %d of %d", applied("orders@v2"), e.Produced)
		}
		promoted, err = projections.Promote(context.Background(), e.Pool, proj, time.Hour)
		return err
	})
	if promoted.Version != 2 || promoted.Schema != "public" {
		t.Fatalf("promoted %+v", promoted)
	}
	if got := indexes(); got != liveIndexes {
		t.Errorf("indexes after the promotion: %s\nthe migrations named them: %s", got, liveIndexes)
	}
	e.AppendMany(t, h.deliveries[2*third:])
	testkit.WaitFor(t, time.Minute, "the new live version to apply the rest", func() error {
		if n := applied("orders@v2"); n != e.Produced {
			return fmt.Errorf("%d of %d", n, e.Produced)
		}
		return nil
	})
	stopReader()
	wg.Wait()
	if readerErr != nil {
		t.Fatal(readerErr)
	}
	if reads < 10 || most < 20 {
		t.Fatalf("%d reads during the rebuild, seeing up to %d orders", reads, most)
	}
	checkEqual(t, orders.NewReader(e.Pool), h.ids, h.expected())

	// The old version's runner stops by itself at its next batch; its tables are the retired schema's.
	v1, err := projections.GetVersion(context.Background(), e.Pool, "orders", 1)
	if err != nil || v1.State != projections.VersionRetired || v1.Schema != "proj_orders_v1" {
		t.Fatalf("v1 after promotion: %+v %v", v1, err)
	}
	if err := projections.Drop(context.Background(), e.Pool, "orders", 1); err != nil {
		t.Fatal(err)
	}
	var schemas int
	if err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'proj_orders_%'`).Scan(&schemas); err != nil || schemas != 0 {
		t.Fatalf("%d version schemas left (%v)", schemas, err)
	}
	if _, err := projections.Promote(context.Background(), e.Pool, proj, time.Hour); !errors.Is(err, projections.ErrNoVersion) {
		t.Errorf("promote with nothing building: %v", err)
	}
}
