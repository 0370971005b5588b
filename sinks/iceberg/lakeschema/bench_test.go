package lakeschema

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkAppendOrderCreated appends a generically decoded OrderCreated (every field set, two
// line items, two fulfillments) per op: ns/op is ns per row. A record is cut every 4096 rows, as
// a sink's batch would be.
func BenchmarkAppendOrderCreated(b *testing.B) {
	_, sc, value := orderCreated(b, 1)
	bld := NewBuilder(memory.DefaultAllocator, arrowSchema(b, sc))
	defer bld.Release()
	m := testMeta(0)
	b.ReportAllocs()
	for b.Loop() {
		if err := bld.Append(value, m); err != nil {
			b.Fatal(err)
		}
		if bld.Len() == 4096 {
			bld.NewRecord().Release()
		}
	}
}
