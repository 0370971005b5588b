package events_test

import (
	"context"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
)

// BenchmarkCodec measures, side by side, the codec's Encode (envelope checks, decimal
// validation, Avro) against a bare avro.Marshal of the same event, and Decode.
func BenchmarkCodec(b *testing.B) {
	codec := eventstest.NewCodec(b, "")
	k, _ := codec.Catalogue().Kind(events.TypeOrderCreated)
	ev := eventstest.Sample(k, 1)
	wire, err := codec.Encode(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := codec.Encode(ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare_avro_marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := avro.Marshal(k.Schema, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			if _, err := codec.Decode(ctx, wire); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(len(wire)), "bytes/event")
}
