package orders_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/orders"
)

// ruleScenario is a sequence of events (in log order) about orders of its own, and what the
// read model must show once they are all applied.
type ruleScenario struct {
	name   string
	events []events.Event
	check  func(t *testing.T, e *env)
}

func ruleScenarios() []ruleScenario {
	v1, v2, v3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	var sc []ruleScenario

	// Duplicates, and another event of an equal version, change nothing.
	{
		o := newOrder(101, v1, newLine(1011, 2, "5.25"))
		other := newOrder(101, v1, newLine(1012, 9, "1"))
		other.TotalPrice = money("999")
		created := webhook(events.TypeOrderCreated, o, "a")
		sc = append(sc, ruleScenario{"duplicates and equal versions change nothing",
			[]events.Event{created, created, webhook(events.TypeOrderPaid, other, "b")},
			func(t *testing.T, e *env) {
				got := e.order(t, 101)
				if got.TotalPrice != "160.5" || lineIDs(got) != "1011x2" || !got.UpdatedAt.Equal(v1) {
					t.Errorf("order 101 = total %s lines %q updated %s", got.TotalPrice, lineIDs(got), got.UpdatedAt)
				}
			}})
	}
	// Out of order: older versions arriving after a newer one change nothing, lines included.
	{
		sc = append(sc, ruleScenario{"older versions after a newer one change nothing",
			[]events.Event{
				webhook(events.TypeOrderUpdated, newOrder(102, v3, newLine(1021, 1, "2"), newLine(1023, 1, "3")), "3"),
				webhook(events.TypeOrderCreated, newOrder(102, v1, newLine(1021, 2, "2")), "1"),
				webhook(events.TypeOrderUpdated, newOrder(102, v2, newLine(1024, 5, "1")), "2"),
			},
			func(t *testing.T, e *env) {
				got := e.order(t, 102)
				if !got.UpdatedAt.Equal(v3) || lineIDs(got) != "1021x1 1023x1" || got.Tags[0] != "v180" {
					t.Errorf("order 102 = updated %s lines %q tags %v, want v3 with its lines", got.UpdatedAt, lineIDs(got), got.Tags)
				}
			}})
	}
	// Lines are replaced by each winning version, not merged.
	{
		sc = append(sc, ruleScenario{"lines are replaced by the winning version",
			[]events.Event{
				webhook(events.TypeOrderCreated, newOrder(103, v1, newLine(1031, 1, "2"), newLine(1032, 1, "3")), "1"),
				webhook(events.TypeOrderUpdated, newOrder(103, v2, newLine(1031, 4, "2")), "2"),
			},
			func(t *testing.T, e *env) {
				if got := e.order(t, 103); lineIDs(got) != "1031x4" {
					t.Errorf("order 103 lines %q, want v2's only", lineIDs(got))
				}
			}})
	}
	// A bulk snapshot fills in a dropped webhook; its lines arrive around the order's row.
	{
		final := newOrder(104, v2, newLine(1041, 1, "7.1"), newLine(1042, 2, "8"))
		rows := snapshot(final, 900, v3)
		sc = append(sc, ruleScenario{"a snapshot fills in a dropped webhook, lines before and after its order",
			[]events.Event{webhook(events.TypeOrderCreated, newOrder(104, v1, newLine(1041, 1, "7.1")), "1"), rows[1], rows[0], rows[2]},
			func(t *testing.T, e *env) {
				got := e.order(t, 104)
				if !got.UpdatedAt.Equal(v2) || lineIDs(got) != "1041x1 1042x2" || got.BulkOperationID == nil || *got.BulkOperationID != "900" {
					t.Errorf("order 104 = updated %s lines %q bulk %v, want the snapshot", got.UpdatedAt, lineIDs(got), got.BulkOperationID)
				}
				if got.LineItems[1].FulfillmentStatus != nil || got.LineItems[1].Price != "8" {
					t.Errorf("order 104 line = %+v, want the bulk row's", got.LineItems[1])
				}
			}})
	}
	// A newer webhook wins over an older snapshot, even when the snapshot's lines come later.
	{
		old := newOrder(105, v1, newLine(1051, 1, "1"), newLine(1053, 1, "1"))
		rows := snapshot(old, 900, v1.Add(time.Minute))
		sc = append(sc, ruleScenario{"a newer webhook wins over an older snapshot",
			[]events.Event{rows[0], rows[1], webhook(events.TypeOrderUpdated, newOrder(105, v2, newLine(1051, 1, "1"), newLine(1052, 1, "1")), "2"), rows[2]},
			func(t *testing.T, e *env) {
				got := e.order(t, 105)
				if !got.UpdatedAt.Equal(v2) || lineIDs(got) != "1051x1 1052x1" || got.BulkOperationID != nil {
					t.Errorf("order 105 = updated %s lines %q bulk %v, want the webhook's", got.UpdatedAt, lineIDs(got), got.BulkOperationID)
				}
				if n := e.count(t, `SELECT count(*) FROM order_line_item_snapshots WHERE order_id = 105`); n != 0 {
					t.Errorf("%d snapshot lines of order 105 kept, want none (they can never win)", n)
				}
			}})
	}
	// An older webhook after a snapshot changes nothing.
	{
		rows := snapshot(newOrder(106, v2, newLine(1061, 3, "1")), 900, v3)
		sc = append(sc, ruleScenario{"an older webhook after a snapshot changes nothing",
			append(rows, webhook(events.TypeOrderCreated, newOrder(106, v1, newLine(1061, 1, "1")), "1")),
			func(t *testing.T, e *env) {
				if got := e.order(t, 106); !got.UpdatedAt.Equal(v2) || lineIDs(got) != "1061x3" {
					t.Errorf("order 106 = updated %s lines %q, want the snapshot", got.UpdatedAt, lineIDs(got))
				}
			}})
	}
	// At an equal version a webhook beats a snapshot, whichever arrives first.
	{
		o := newOrder(107, v1, newLine(1071, 1, "1"), newLine(1072, 1, "1"))
		o.Fulfillments = []events.OrderFulfillment{{FulfillmentID: 1, FulfillmentGID: "gid://shopify/Fulfillment/1", Status: "success",
			CreatedAt: v1, UpdatedAt: v1, TrackingNumbers: []string{"T1"}, TrackingUrls: []string{},
			LineItems: []events.OrderFulfillmentLineItem{{LineItemID: 1071, LineItemGID: "gid://shopify/LineItem/1071", Quantity: 1}}}}
		o2 := o
		o2.OrderID, o2.OrderGID = 108, orderGID(108)
		sc = append(sc, ruleScenario{"at an equal version a webhook beats a snapshot",
			append(append(snapshot(o, 900, v2), webhook(events.TypeOrderUpdated, o, "1"), webhook(events.TypeOrderUpdated, o2, "1")),
				snapshot(o2, 900, v2)...),
			func(t *testing.T, e *env) {
				for _, id := range []int64{107, 108} {
					got := e.order(t, id)
					if got.BulkOperationID != nil || lineIDs(got) != "1071x1 1072x1" || got.LineItems[0].FulfillmentStatus == nil ||
						len(got.Fulfillments) != 1 || len(got.Fulfillments[0].LineItems) != 1 {
						t.Errorf("order %d = bulk %v lines %+v fulfillments %+v, want the webhook's", id, got.BulkOperationID, got.LineItems, got.Fulfillments)
					}
				}
				if n := e.count(t, `SELECT count(*) FROM order_line_item_snapshots WHERE order_id IN (107, 108)`); n != 0 {
					t.Errorf("%d snapshot lines kept, want none", n)
				}
			}})
	}
	// Two bulk exports: the newer one wins, whatever order their rows come in.
	{
		b1 := snapshot(newOrder(109, v1, newLine(1091, 1, "1")), 901, v1.Add(time.Minute))
		b2 := snapshot(newOrder(109, v2, newLine(1091, 2, "1"), newLine(1092, 1, "1")), 902, v2.Add(time.Minute))
		sc = append(sc, ruleScenario{"the newer of two bulk exports wins",
			[]events.Event{b2[1], b2[2], b1[0], b1[1], b2[0], b1[1]},
			func(t *testing.T, e *env) {
				got := e.order(t, 109)
				if !got.UpdatedAt.Equal(v2) || lineIDs(got) != "1091x2 1092x1" || *got.BulkOperationID != "902" {
					t.Errorf("order 109 = updated %s lines %q bulk %v, want export 902", got.UpdatedAt, lineIDs(got), got.BulkOperationID)
				}
				if n := e.count(t, `SELECT count(*) FROM order_line_item_snapshots WHERE order_id = 109`); n != 0 {
					t.Errorf("%d lines of settled exports kept aside", n)
				}
			}})
	}
	// Refunds: stored once per id, duplicates change nothing, and one may precede its order.
	{
		r1, r2 := newRefund(110, 5001, v2, "10.5"), newRefund(110, 5002, v3, "3.3333")
		sc = append(sc, ruleScenario{"refunds are idempotent and may precede their order",
			[]events.Event{r1, webhook(events.TypeOrderCreated, newOrder(110, v1, newLine(1101, 2, "10.5")), "1"), r1, r2, r1, r2},
			func(t *testing.T, e *env) {
				got := e.order(t, 110)
				if len(got.Refunds) != 2 {
					t.Fatalf("order 110 has %d refunds, want 2", len(got.Refunds))
				}
				r := got.Refunds[1]
				if r.ID != "5002" || len(r.RefundLineItems) != 1 || len(r.Transactions) != 1 || len(r.OrderAdjustments) != 1 ||
					r.RefundLineItems[0].Subtotal != "3.3333" || r.Transactions[0].Amount != "3.3333" || r.Transactions[0].Currency != "USD" ||
					r.OrderAdjustments[0].Amount != "-4.9" || *r.RefundLineItems[0].LocationID != "55" {
					t.Errorf("refund 5002 = %+v", r)
				}
				if n := e.count(t, `SELECT count(*) FROM refund_line_items`); n != 2 {
					t.Errorf("%d refund lines, want 2", n)
				}
			}})
	}
	return sc
}

func (e *env) count(t *testing.T, sql string) int64 {
	t.Helper()
	var n int64
	if err := e.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWinningRules applies every scenario twice: one event per transaction (each event against
// the stored rows) and in large batches (events against each other in memory first).
func TestWinningRules(t *testing.T) {
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"one event per batch", 1}, {"large batches", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			e := setup(t)
			scenarios := ruleScenarios()
			for _, s := range scenarios {
				e.Append(t, s.events...)
			}
			e.Start(t, mode.maxBatch, nil)
			e.WaitApplied(t, 60*time.Second)
			for _, s := range scenarios {
				t.Run(s.name, func(t *testing.T) { s.check(t, e) })
			}
		})
	}
}

func TestReaderByGIDAndNotFound(t *testing.T) {
	e := setup(t)
	e.Append(t, webhook(events.TypeOrderCreated, newOrder(201, t0, newLine(2011, 1, "1")), "1"))
	e.Start(t, 0, nil)
	e.WaitApplied(t, 30*time.Second)
	r := orders.NewReader(e.Pool)
	byGID, err := r.OrderByGID(context.Background(), orderGID(201))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byGID, e.order(t, 201)) {
		t.Errorf("by GID %+v differs from by id", byGID)
	}
	if _, err := r.Order(context.Background(), 202); err != orders.ErrNotFound {
		t.Errorf("unknown order: %v, want ErrNotFound", err)
	}
	if _, err := r.OrderByGID(context.Background(), orderGID(202)); err != orders.ErrNotFound {
		t.Errorf("unknown GID: %v, want ErrNotFound", err)
	}
}
