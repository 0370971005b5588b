package lakeschema

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/hamba/avro/v2"
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

// BenchmarkUnmarshalAppendOrderCreated is the generic path on a realistic order (the intake's
// OrderCreated of a real orders/create payload, three lines, about 8.7 kB of Avro): hamba's
// generic decoding, EnvelopeMeta and Append per op. Compare BenchmarkAppendAvroOrderCreated.
func BenchmarkUnmarshalAppendOrderCreated(b *testing.B) {
	k, _, body := realisticOrderCreated(b, 3)
	bld := NewBuilder(memory.DefaultAllocator, arrowSchema(b, mustSchema(b, k.Schema)))
	defer bld.Release()
	m := testMeta(0)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := avro.Unmarshal(k.Schema, body, &v); err != nil {
			b.Fatal(err)
		}
		value := v.(map[string]any)
		id, occurred, err := EnvelopeMeta(value)
		if err != nil {
			b.Fatal(err)
		}
		m.EventID, m.OccurredAt = id, occurred
		if err := bld.Append(value, m); err != nil {
			b.Fatal(err)
		}
		if bld.Len() == 4096 {
			bld.NewRecord().Release()
		}
	}
}

// BenchmarkAppendAvroOrderCreated appends the realistic order's Avro body with a Decoder
// (event id and occurred_at from the body's envelope): ns/op is ns per row.
func BenchmarkAppendAvroOrderCreated(b *testing.B) {
	k, _, body := realisticOrderCreated(b, 3)
	bld := NewBuilder(memory.DefaultAllocator, arrowSchema(b, mustSchema(b, k.Schema)))
	defer bld.Release()
	d, err := bld.NewDecoder(k.Schema.(*avro.RecordSchema))
	if err != nil {
		b.Fatal(err)
	}
	m := testMeta(0)
	m.EventID, m.OccurredAt = "", time.Time{}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := d.AppendAvro(body, m); err != nil {
			b.Fatal(err)
		}
		if bld.Len() == 4096 {
			bld.NewRecord().Release()
		}
	}
}

// BenchmarkAppendAvroValidateOrderCreated is AppendAvro's first pass alone (validating the body,
// appending nothing): its share of BenchmarkAppendAvroOrderCreated is the cost of all or nothing.
func BenchmarkAppendAvroValidateOrderCreated(b *testing.B) {
	k, _, body := realisticOrderCreated(b, 3)
	bld := NewBuilder(memory.DefaultAllocator, arrowSchema(b, mustSchema(b, k.Schema)))
	defer bld.Release()
	d, err := bld.NewDecoder(k.Schema.(*avro.RecordSchema))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.r = reader{buf: body}
		if err := d.root.skip(&d.r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendAvroRecordOrderCreated is the sink's loop: per op, 4096 realistic orders
// appended with a Decoder, then NewRecord (the record released); ns/row is what matters.
func BenchmarkAppendAvroRecordOrderCreated(b *testing.B) {
	k, _, body := realisticOrderCreated(b, 3)
	bld := NewBuilder(memory.DefaultAllocator, arrowSchema(b, mustSchema(b, k.Schema)))
	defer bld.Release()
	d, err := bld.NewDecoder(k.Schema.(*avro.RecordSchema))
	if err != nil {
		b.Fatal(err)
	}
	m := testMeta(0)
	m.EventID, m.OccurredAt = "", time.Time{}
	const rows = 4096
	b.SetBytes(int64(len(body)) * rows)
	b.ReportAllocs()
	for b.Loop() {
		for range rows {
			if err := d.AppendAvro(body, m); err != nil {
				b.Fatal(err)
			}
		}
		bld.NewRecord().Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
