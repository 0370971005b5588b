package orders_test

import (
	"math/rand/v2"
	"testing"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/projectiontest"
)

func TestConformance(t *testing.T) {
	projectiontest.Conformance(t, projectiontest.Suite{
		Projection: orders.Projection{},
		History: func() []events.Event {
			return randomHistory(rand.New(rand.NewPCG(11, 12)), 3_000_000, 25).deliveries
		},
		Snapshot: projectiontest.Tables(map[string]string{
			"orders":                    "t.order_id",
			"order_line_items":          "t.order_id, t.line_item_id",
			"refunds":                   "t.refund_id",
			"order_snapshots":           "t.order_id, t.bulk_operation_id",
			"order_line_item_snapshots": "t.order_id, t.bulk_operation_id, t.line_item_id",
		}),
	})
}
