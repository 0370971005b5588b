package products_test

import (
	"math/rand/v2"
	"testing"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/products"
	"github.com/storeline/storeline/projections/projectiontest"
)

func TestConformance(t *testing.T) {
	projectiontest.Conformance(t, projectiontest.Suite{
		Projection: products.Projection{},
		History: func() []events.Event {
			return randomHistory(rand.New(rand.NewPCG(21, 22)), 4_000_000, 25).deliveries
		},
		Snapshot: projectiontest.Tables(map[string]string{
			"products":                  "t.product_id",
			"product_variants":          "t.product_id, t.variant_id",
			"product_snapshots":         "t.product_id, t.bulk_operation_id",
			"product_variant_snapshots": "t.product_id, t.bulk_operation_id, t.variant_id",
		},
			// Which of a deleted product's events last touched its tombstone can depend on how
			// the log was cut into batches; what the tombstone says does not.
			"last_event_id"),
	})
}
