package inventory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/inventory"
	"github.com/storeline/storeline/testkit"
)

// TestWinningRules: duplicates, older levels after newer ones and another event of an equal
// time change nothing; null (untracked) is kept as null, and replaced like any value — one
// event per transaction and in large batches.
func TestWinningRules(t *testing.T) {
	v1, v2, v3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	log := []events.Event{
		// item 1 at location 10: newest 7, delivered twice, older ones late, an equal one other.
		level(1, 10, v2, ptr(int32(7)), "a"), level(1, 10, v2, ptr(int32(7)), "a"), level(1, 10, v1, ptr(int32(3)), "a"),
		level(1, 10, v2, ptr(int32(99)), "b"),
		// item 1 at location 11: untracked after being counted.
		level(1, 11, v1, ptr(int32(5)), "a"), level(1, 11, v3, nil, "a"),
		// item 2 at location 10: untracked, then counted (oversold), then an older untracked late.
		level(2, 10, v1, nil, "a"), level(2, 10, v2, ptr(int32(-2)), "a"), level(2, 10, v1.Add(time.Minute), nil, "a"),
		// item 3 at location 10: only ever untracked.
		level(3, 10, v1, nil, "a"), level(3, 10, v1, nil, "a"),
	}
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"one event per batch", 1}, {"large batches", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			e := setup(t)
			e.Append(t, log...)
			e.Start(t, mode.maxBatch, nil)
			e.WaitApplied(t, 60*time.Second)
			for _, c := range []struct {
				item, location int64
				want           string
				updated        time.Time
			}{{1, 10, "7", v2}, {1, 11, "untracked", v3}, {2, 10, "-2", v2}, {3, 10, "untracked", v1}} {
				if l := e.level(t, c.item, c.location); available(l) != c.want || !l.UpdatedAt.Equal(c.updated) {
					t.Errorf("level %d@%d = %s at %s, want %s at %s", c.item, c.location, available(l), l.UpdatedAt, c.want, c.updated)
				}
			}
		})
	}
}

// TestSnapshotsAndWebhooks: a bulk export's InventoryLevelSnapshotted repairs a dropped
// inventory_levels/update (newer updated_at wins), an older snapshot (the export read the shop
// before a webhook arrived) changes nothing, an equal updated_at changes nothing whichever came
// first, and a snapshot fills a level no webhook ever named — one event per transaction and in
// large batches.
func TestSnapshotsAndWebhooks(t *testing.T) {
	v1, v2, v3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	log := []events.Event{
		// item 1@10: webhook v1, its v2 webhook dropped; the snapshot of v2 repairs it.
		level(1, 10, v1, ptr(int32(4)), "a"), snapshot(1, 10, v2, ptr(int32(6)), 100, 1),
		// item 1@11: webhook v3 first, then a snapshot read earlier (v2): stays v3.
		level(1, 11, v3, ptr(int32(9)), "a"), snapshot(1, 11, v2, ptr(int32(1)), 100, 2),
		// item 2@10: snapshot v2, then a webhook of equal time (another value): the snapshot stays.
		snapshot(2, 10, v2, ptr(int32(5)), 100, 3), level(2, 10, v2, ptr(int32(50)), "b"),
		// item 2@11: webhook v2, then a snapshot of equal time: the webhook stays.
		level(2, 11, v2, ptr(int32(8)), "a"), snapshot(2, 11, v2, ptr(int32(80)), 100, 4),
		// item 3@10: only a snapshot, untracked; read again by a later export unchanged.
		snapshot(3, 10, v1, nil, 100, 5), snapshot(3, 10, v1, nil, 101, 1),
		// item 4@10: snapshot v1, then a newer webhook: the webhook wins.
		snapshot(4, 10, v1, ptr(int32(2)), 100, 6), level(4, 10, v3, ptr(int32(0)), "a"),
	}
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"one event per batch", 1}, {"large batches", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			e := setup(t)
			e.Append(t, log...)
			e.Start(t, mode.maxBatch, nil)
			e.WaitApplied(t, 60*time.Second)
			for _, c := range []struct {
				item, location int64
				want           string
				updated        time.Time
			}{{1, 10, "6", v2}, {1, 11, "9", v3}, {2, 10, "5", v2}, {2, 11, "8", v2}, {3, 10, "untracked", v1}, {4, 10, "0", v3}} {
				if l := e.level(t, c.item, c.location); available(l) != c.want || !l.UpdatedAt.Equal(c.updated) {
					t.Errorf("level %d@%d = %s at %s, want %s at %s", c.item, c.location, available(l), l.UpdatedAt, c.want, c.updated)
				}
			}
		})
	}
}

func TestReaders(t *testing.T) {
	e := setup(t)
	e.Append(t, level(1, 10, t0, ptr(int32(1)), "a"), level(1, 11, t0, nil, "a"), level(2, 10, t0, ptr(int32(2)), "a"))
	e.Start(t, 0, nil)
	e.WaitApplied(t, 30*time.Second)
	r := inventory.NewReader(e.Pool)
	ctx := context.Background()
	l := e.level(t, 1, 11)
	if l.InventoryItemID != "1" || l.LocationID != "11" || l.InventoryItemGID != "gid://shopify/InventoryItem/1" ||
		l.LocationGID != "gid://shopify/Location/11" || l.GID == nil || *l.GID != "gid://shopify/InventoryLevel/11?inventory_item_id=1" ||
		l.Shop != testShop || l.Available != nil {
		t.Errorf("level 1@11 = %+v", l)
	}
	byItem, err := r.ByItem(ctx, 1)
	if err != nil || len(byItem) != 2 || byItem[0].LocationID != "10" || byItem[1].LocationID != "11" {
		t.Errorf("ByItem(1) = %+v, %v", byItem, err)
	}
	byLocation, err := r.ByLocation(ctx, 10)
	if err != nil || len(byLocation) != 2 || byLocation[0].InventoryItemID != "1" || byLocation[1].InventoryItemID != "2" {
		t.Errorf("ByLocation(10) = %+v, %v", byLocation, err)
	}
	if none, err := r.ByItem(ctx, 3); err != nil || len(none) != 0 {
		t.Errorf("ByItem(3) = %+v, %v; want none", none, err)
	}
	if _, err := r.Level(ctx, 2, 11); err != inventory.ErrNotFound {
		t.Errorf("Level(2, 11): %v, want ErrNotFound", err)
	}
	if n, err := r.Count(ctx); err != nil || n != 3 {
		t.Errorf("Count = %d, %v", n, err)
	}
}

// TestPropertyRandomBatches delivers random versions of random levels, shuffled with duplicates,
// in random batch splits (and once through Kafka), and checks each level is its newest version.
func TestPropertyRandomBatches(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 44))
		deliveries, want := randomLevels(rng, int64(seed)*100)
		for rest := deliveries; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN([]int{1, 5, 40, 500}[seed%4]))
			recs := make([]projections.Record, n)
			for i, ev := range rest[:n] {
				recs[i] = projections.Record{Topic: events.TopicCommerce, Event: ev}
			}
			if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return inventory.Projection{}.Apply(ctx, tx, recs) }); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		checkLevels(t, inventory.NewReader(pool), want)
	}
}

func TestPropertyThroughKafka(t *testing.T) {
	e := setup(t)
	deliveries, want := randomLevels(rand.New(rand.NewPCG(9, 9)), 5000)
	e.AppendMany(t, deliveries)
	e.Start(t, 7, nil)
	e.WaitApplied(t, 60*time.Second)
	checkLevels(t, inventory.NewReader(e.Pool), want)
}

// randomLevels returns shuffled deliveries of 1–5 versions of 20 items at 3 locations each (some
// dropped, some duplicated) and the newest delivered version of each level.
func randomLevels(rng *rand.Rand, firstItem int64) ([]events.Event, map[[2]int64]*events.InventoryLevelUpdated) {
	var out []events.Event
	want := map[[2]int64]*events.InventoryLevelUpdated{}
	for item := firstItem; item < firstItem+20; item++ {
		for loc := int64(1); loc <= 3; loc++ {
			at := t0
			for k := range 1 + rng.IntN(5) {
				at = at.Add(time.Duration(1+rng.IntN(2_000_000)) * time.Microsecond)
				var avail *int32
				if rng.IntN(4) > 0 {
					avail = ptr(int32(rng.IntN(50) - 10))
				}
				ev := level(item, loc, at, avail, fmt.Sprint(k))
				if rng.IntN(10) < 2 {
					continue // dropped
				}
				for range 1 + rng.IntN(3) {
					out = append(out, ev)
				}
				if w := want[[2]int64{item, loc}]; w == nil || ev.UpdatedAt.After(w.UpdatedAt) {
					want[[2]int64{item, loc}] = ev
				}
			}
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, want
}

func checkLevels(t *testing.T, r *inventory.Reader, want map[[2]int64]*events.InventoryLevelUpdated) {
	t.Helper()
	for k, ev := range want {
		got, err := r.Level(context.Background(), k[0], k[1])
		if err != nil {
			t.Fatalf("level %v: %v", k, err)
		}
		w := inventory.Level{InventoryItemID: fmt.Sprint(ev.InventoryItemID), InventoryItemGID: ev.InventoryItemGID,
			LocationID: fmt.Sprint(ev.LocationID), LocationGID: ev.LocationGID, GID: ev.InventoryLevelGID, Shop: testShop,
			Available: ev.Available, UpdatedAt: ev.UpdatedAt}
		g, _ := json.Marshal(got)
		wj, _ := json.Marshal(w)
		if string(g) != string(wj) {
			t.Errorf("level %v:\n got  %s\n want %s", k, g, wj)
		}
	}
}
