package inventory_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/inventory"
	"github.com/storeline/storeline/projections/projectiontest"
)

func TestConformance(t *testing.T) {
	projectiontest.Conformance(t, projectiontest.Suite{
		Projection: inventory.Projection{},
		History:    func() []events.Event { return inventoryHistory(rand.New(rand.NewPCG(31, 32))) },
		Snapshot: projectiontest.Tables(map[string]string{
			"inventory_levels": "t.inventory_item_id, t.location_id",
		},
			// Two events of one level with an equal updated_at describe the same state (the
			// package doc: updated_at moves with every change of the quantity), and the one
			// folded first stays: which of them last wrote the row depends on the order the log
			// delivers them in; what the row says does not.
			"last_event_id"),
	})
}

// inventoryHistory is 15 inventory items at 3 locations, each level changing 2 to 5 times over
// a few hours (sometimes untracked), as Shopify tells it: a webhook per change (some dropped,
// some retried hours later, after newer ones; some changes sent twice under two webhook ids:
// two events of equal updated_at), and two bulk exports reading every level at a moment, their
// rows folded a while after the read (older than the webhooks that arrived in between, or
// repairing a dropped one), in the order the events reached the log.
func inventoryHistory(rng *rand.Rand) []events.Event {
	type arrival struct {
		at time.Time
		ev events.Event
	}
	var log []arrival
	exports := []struct {
		op     int64
		readAt time.Time
		rows   int64
	}{{op: 700, readAt: t0.Add(2 * time.Hour)}, {op: 701, readAt: t0.Add(5 * time.Hour)}}
	for item := int64(1); item <= 15; item++ {
		for _, location := range []int64{61, 62, 63} {
			type state struct {
				at        time.Time
				available *int32
			}
			var states []state
			at := t0.Add(time.Duration(rng.IntN(3600)) * time.Second)
			for range 2 + rng.IntN(4) {
				// Shopify's updated_at is to the second.
				at = at.Add(time.Duration(1+rng.IntN(90*60)) * time.Second)
				var avail *int32
				if rng.IntN(8) > 0 {
					avail = ptr(int32(rng.IntN(40) - 3))
				}
				states = append(states, state{at, avail})
			}
			for k, s := range states {
				if rng.IntN(8) == 0 {
					continue // the webhook never came
				}
				delay := time.Duration(1+rng.IntN(5)) * time.Second
				if rng.IntN(6) == 0 {
					delay = time.Duration(rng.IntN(4*3600)) * time.Second // retried, after newer ones
				}
				log = append(log, arrival{s.at.Add(delay), level(item, location, s.at, s.available, fmt.Sprint("w", k))})
				if rng.IntN(5) == 0 { // the same change sent again under another webhook id
					log = append(log, arrival{s.at.Add(delay + time.Duration(rng.IntN(600))*time.Second),
						level(item, location, s.at, s.available, fmt.Sprint("w", k, "-again"))})
				}
			}
			for j := range exports {
				x := &exports[j]
				i := slices.IndexFunc(states, func(s state) bool { return s.at.After(x.readAt) })
				if i == 0 || rng.IntN(6) == 0 {
					continue // not stocked yet when read, or a row the export left out
				}
				if i < 0 {
					i = len(states)
				}
				s := states[i-1]
				x.rows++
				log = append(log, arrival{x.readAt.Add(time.Duration(rng.IntN(90*60)) * time.Second),
					snapshot(item, location, s.at, s.available, x.op, x.rows)})
			}
		}
	}
	slices.SortStableFunc(log, func(a, b arrival) int { return a.at.Compare(b.at) })
	out := make([]events.Event, len(log))
	for i, a := range log {
		out[i] = a.ev
	}
	return out
}
