package lakeschema

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/schemas"
)

// genericMeta is m with EventID and OccurredAt, when zero, read from the generically decoded
// value, as AppendAvro reads them from the body.
func genericMeta(t testing.TB, value map[string]any, m Meta) Meta {
	t.Helper()
	if m.EventID == "" || m.OccurredAt.IsZero() {
		id, occ, err := EnvelopeMeta(value)
		if err != nil {
			t.Fatal(err)
		}
		if m.EventID == "" {
			m.EventID = id
		}
		if m.OccurredAt.IsZero() {
			m.OccurredAt = occ
		}
	}
	return m
}

// buildBoth appends bodies (written with writer) to two builders of asc: through hamba's
// generic decoding and Append, and through AppendAvro. It returns both records.
func buildBoth(t testing.TB, mem memory.Allocator, asc *arrow.Schema, writer *avro.RecordSchema, bodies [][]byte, metas []Meta) (want, got arrow.RecordBatch) {
	t.Helper()
	gb, db := NewBuilder(mem, asc), NewBuilder(mem, asc)
	defer gb.Release()
	defer db.Release()
	d, err := db.NewDecoder(writer)
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range bodies {
		var v any
		if err := avro.Unmarshal(writer, body, &v); err != nil {
			t.Fatal(err)
		}
		value := v.(map[string]any)
		if err := gb.Append(value, genericMeta(t, value, metas[i])); err != nil {
			t.Fatalf("Append row %d: %v", i, err)
		}
		if err := d.AppendAvro(body, metas[i]); err != nil {
			t.Fatalf("AppendAvro row %d: %v", i, err)
		}
	}
	if gb.Len() != len(bodies) || db.Len() != len(bodies) {
		t.Fatalf("Len = %d (generic), %d (direct), want %d", gb.Len(), db.Len(), len(bodies))
	}
	return gb.NewRecord(), db.NewRecord()
}

// sameRecords fails unless got and want are array.RecordEqual, listing the differing rows.
func sameRecords(t testing.TB, want, got arrow.RecordBatch) {
	t.Helper()
	if array.RecordEqual(want, got) {
		return
	}
	if !want.Schema().Equal(got.Schema()) || want.NumRows() != got.NumRows() {
		t.Fatalf("records differ: schema or rows (%d, %d)", want.NumRows(), got.NumRows())
	}
	for i := range int(want.NumRows()) {
		wd, wm := row(want, i)
		gd, gm := row(got, i)
		for _, d := range append(diff(fmt.Sprintf("row %d", i), gd, wd), diff(fmt.Sprintf("row %d meta", i), gm, wm)...) {
			t.Error(d)
		}
	}
	for j := range int(want.NumCols()) {
		if !array.Equal(want.Column(j), got.Column(j)) {
			t.Errorf("column %s differs:\nwant %v\ngot  %v", want.Schema().Field(j).Name, want.Column(j), got.Column(j))
		}
	}
	t.FailNow()
}

func marshal(t testing.TB, s avro.Schema, v any) []byte {
	t.Helper()
	body, err := avro.Marshal(s, v)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestAppendAvroEveryEvent: for every event type, samples with several seeds, all fields set and
// with every optional field null, with metadata given and read from the envelope, make the same
// record through AppendAvro as through hamba's generic decoding and Append.
func TestAppendAvroEveryEvent(t *testing.T) {
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(loadEvents(t)); len(cat.Kinds()) != n {
		t.Fatalf("catalogue has %d kinds, schemas/ %d events", len(cat.Kinds()), n)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, k := range cat.Kinds() {
		t.Run(k.Type, func(t *testing.T) {
			rec := k.Schema.(*avro.RecordSchema)
			asc := arrowSchema(t, mustSchema(t, rec))
			var bodies [][]byte
			var metas []Meta
			for seed := range 5 {
				full := eventstest.Sample(k, seed)
				sparse := eventstest.Sample(k, seed+100)
				nullOptionals(reflect.ValueOf(sparse).Elem(), k.Schema)
				for j, ev := range []events.Event{full, sparse} {
					bodies = append(bodies, marshal(t, k.Schema, ev))
					m := testMeta(len(metas))
					switch (seed + j) % 3 {
					case 0: // both from the envelope
						m.EventID, m.OccurredAt = "", time.Time{}
					case 1: // the id from the envelope
						m.EventID = ""
					}
					metas = append(metas, m)
				}
			}
			want, got := buildBoth(t, mem, asc, rec, bodies, metas)
			defer want.Release()
			defer got.Release()
			sameRecords(t, want, got)
			// The envelope's values made the metadata columns where Meta lacked them.
			ids := got.Column(got.Schema().FieldIndices(ColEventID)[0]).(*array.String)
			if ids.Value(0) != eventstest.Sample(k, 0).Meta().EventID {
				t.Errorf("_event_id = %q, want the envelope's", ids.Value(0))
			}
		})
	}
}

// TestAppendAvroAllTypes: every type of allTypes, both branches of the unions, nulls, and maps
// with many keys (hamba writes a Go map in random order; the column has them sorted), in a time
// zone that is not UTC.
func TestAppendAvroAllTypes(t *testing.T) {
	old := time.Local
	time.Local = time.FixedZone("UTC+5", 5*3600)
	defer func() { time.Local = old }()

	s := avro.MustParse(allTypes).(*avro.RecordSchema)
	asc := arrowSchema(t, mustSchema(t, s))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	in := allTypesValue()
	in2 := allTypesValue()
	in2["sl"], in2["sr"], in2["nrec"], in2["ni"], in2["nltu"], in2["nm"], in2["narr"] = "five", "str", nil, nil, nil, nil, nil
	in2["nl"], in2["nf"], in2["nd"], in2["nb"], in2["ns"], in2["nby"], in2["nu"], in2["ndt"] = nil, nil, nil, nil, nil, nil, nil, nil
	in2["ntm"], in2["ntsu"], in2["ndec"], in2["nfdec"], in2["nen"], in2["nfx"] = nil, nil, nil, nil, nil, nil
	in3 := allTypesValue()
	many := map[string]any{}
	for i := range 40 {
		many[fmt.Sprintf("k%02d", 39-i)] = i
	}
	in3["m"], in3["arr"], in3["sr"] = many, []any{}, nil
	in3["lm"] = []any{map[string]any{"b": nil, "a": map[string]any{"x.y.R": map[string]any{"a": 1, "t": nil}}, "": nil}}
	in3["dec"], in3["fdec"], in3["ndec"] = big.NewRat(9999999, 100), big.NewRat(-999999999999999999, 1000), big.NewRat(-1, 100)
	in3["tm"], in3["tu"] = 24*time.Hour-time.Millisecond, 24*time.Hour-time.Microsecond
	var bodies [][]byte
	for _, v := range []map[string]any{in, in2, in3} {
		bodies = append(bodies, marshal(t, s, v))
	}
	metas := []Meta{testMeta(0), testMeta(1), testMeta(2)}
	want, got := buildBoth(t, mem, asc, s, bodies, metas)
	defer want.Release()
	defer got.Release()
	sameRecords(t, want, got)
}

// mapSchema is a record with a map, for bodies written by hand.
const mapSchema = `{"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map","values":"int"}}]}`

// TestAppendAvroMapBlocks: a map written in two blocks, one with a byte size (negative count),
// a key repeated (the last value wins, as in the generic decoding), keys out of order.
func TestAppendAvroMapBlocks(t *testing.T) {
	s := avro.MustParse(mapSchema).(*avro.RecordSchema)
	asc := arrowSchema(t, mustSchema(t, s))
	// block 1: count -2, size, "b"→1, "a"→2; block 2: count 1, "b"→3; end.
	body := []byte{3, 8, 2, 'b', 2, 2, 'a', 4, 2, 2, 'b', 6, 0}
	want, got := buildBoth(t, memory.DefaultAllocator, asc, s, [][]byte{body}, []Meta{testMeta(0)})
	defer want.Release()
	defer got.Release()
	sameRecords(t, want, got)
	data, _ := row(got, 0)
	if !reflect.DeepEqual(data["m"], map[string]any{"a": int64(2), "b": int64(3)}) {
		t.Errorf("m = %v", data["m"])
	}
}

// evolveSchemas are two versions of a record: v2 adds fields at the top, in a nested record and
// in a list's records, widens an int to long, a float to double and a decimal's precision.
const (
	evolveV1 = `{"type":"record","name":"E","namespace":"x","fields":[
		{"name":"id","type":"long"},
		{"name":"n","type":"int"},
		{"name":"f","type":"float"},
		{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
		{"name":"r","type":{"type":"record","name":"R","fields":[{"name":"a","type":"string"}]}},
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"q","type":"int"}]}}}]}`
	evolveV2 = `{"type":"record","name":"E","namespace":"x","fields":[
		{"name":"id","type":"long"},
		{"name":"added","type":["null","string"],"default":null},
		{"name":"n","type":"long"},
		{"name":"f","type":"double"},
		{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
		{"name":"r","type":{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":["null","long"],"default":null}]}},
		{"name":"items","type":{"type":"array","items":{"type":"record","name":"I","fields":[{"name":"q","type":"int"},{"name":"note","type":["null","string"],"default":null}]}}}]}`
)

// TestAppendAvroEvolution: records of an older writer go to a newer table (its extra columns
// null, the promotions applied), as Append does; records of a newer writer are refused by
// NewDecoder until the table is evolved.
func TestAppendAvroEvolution(t *testing.T) {
	v1 := avro.MustParse(evolveV1).(*avro.RecordSchema)
	v2 := avro.MustParse(evolveV2).(*avro.RecordSchema)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	if err := Compatible(mustSchema(t, v2), v1); err != nil {
		t.Fatal(err)
	}
	asc := arrowSchema(t, mustSchema(t, v2))
	var bodies [][]byte
	for i := range 3 {
		bodies = append(bodies, marshal(t, v1, map[string]any{
			"id": int64(i), "n": -i * 1000, "f": float32(i) + 0.5, "amount": big.NewRat(int64(-i*12345), 100),
			"r": map[string]any{"a": fmt.Sprint("a", i)}, "items": []any{map[string]any{"q": i}, map[string]any{"q": 2 * i}},
		}))
	}
	want, got := buildBoth(t, mem, asc, v1, bodies, []Meta{testMeta(0), testMeta(1), testMeta(2)})
	defer want.Release()
	defer got.Release()
	sameRecords(t, want, got)
	data, _ := row(got, 2)
	if data["added"] != nil || data["r"].(map[string]any)["b"] != nil || data["n"] != int64(-2000) || data["amount"] != "-246.90" {
		t.Errorf("row 2 = %v", data)
	}

	// The OrderCreated table with columns added (at the top, in order, in its line items).
	k, sc, _ := orderCreated(t, 1)
	str := iceberg.PrimitiveTypes.String
	sc = withField(t, sc, "", iceberg.NestedField{Name: "added", Type: str})
	sc = withField(t, sc, "order", iceberg.NestedField{Name: "added_in_order", Type: iceberg.PrimitiveTypes.Int64})
	sc = withField(t, sc, "order.line_items", iceberg.NestedField{Name: "added_in_item", Type: iceberg.DecimalTypeOf(10, 2)})
	sc = withChange(t, sc, "order.line_items.quantity", setType(iceberg.PrimitiveTypes.Int64))
	sc = withChange(t, sc, "order.total_price.amount", setType(iceberg.DecimalTypeOf(38, 4)))
	ocBodies := [][]byte{marshal(t, k.Schema, eventstest.Sample(k, 1)), marshal(t, k.Schema, eventstest.Sample(k, 2))}
	want2, got2 := buildBoth(t, mem, arrowSchema(t, sc), k.Schema.(*avro.RecordSchema), ocBodies, []Meta{testMeta(0), testMeta(1)})
	defer want2.Release()
	defer got2.Release()
	sameRecords(t, want2, got2)

	// A newer writer than the table: refused, naming the column.
	b := NewBuilder(mem, arrowSchema(t, mustSchema(t, v1)))
	defer b.Release()
	if _, err := b.NewDecoder(v2); err == nil || !strings.Contains(err.Error(), "column added: not in the table") {
		t.Errorf("NewDecoder(newer writer) err = %v", err)
	}
}

// TestAppendAvroReleasedWriters: the current table of every event takes records of each of
// its released schema versions (NewDecoder accepts what Compatible accepts).
func TestAppendAvroReleasedWriters(t *testing.T) {
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	released := releasedByType(t)
	n := 0
	for _, k := range cat.Kinds() {
		b := NewBuilder(memory.DefaultAllocator, arrowSchema(t, mustSchema(t, k.Schema)))
		for _, r := range released[k.Type] {
			if Compatible(mustSchema(t, k.Schema), r) != nil {
				continue
			}
			n++
			if _, err := b.NewDecoder(r); err != nil {
				t.Errorf("%s: released writer: %v", k.Type, err)
			}
		}
		b.Release()
	}
	t.Logf("%d released writer schemas", n)
}

// TestNewDecoderRefuses: writer schemas whose records do not fit the table.
func TestNewDecoderRefuses(t *testing.T) {
	k, sc, _ := orderCreated(t, 1)
	writer := k.Schema.(*avro.RecordSchema)
	required := func(f iceberg.NestedField) iceberg.NestedField { f.Required = true; return f }
	for _, tc := range []struct {
		name  string
		table *iceberg.Schema
		want  string
	}{
		{"another type", withChange(t, sc, "order.order_number", setType(iceberg.PrimitiveTypes.String)), "column order.order_number: table has utf8, records have long"},
		{"record for a string", withChange(t, sc, "order.total_price", setType(iceberg.PrimitiveTypes.String)), "column order.total_price: table has utf8, records have record"},
		{"narrower int", withChange(t, sc, "order.order_id", setType(iceberg.PrimitiveTypes.Int32)), "column order.order_id: table has int32"},
		{"narrower decimal", withChange(t, sc, "order.line_items.price.amount", setType(iceberg.DecimalTypeOf(18, 4))), "column order.line_items.element.price.amount: table has decimal(18, 4)"},
		{"decimal scale", withChange(t, sc, "order.line_items.price.amount", setType(iceberg.DecimalTypeOf(21, 5))), "decimal(21, 5)"},
		{"nullable for required", withChange(t, sc, "order.cancel_reason", required), "column order.cancel_reason: required in the table, nullable"},
		{"required column absent", withField(t, sc, "order", iceberg.NestedField{Name: "must", Type: iceberg.PrimitiveTypes.String, Required: true}), "column order.must: required in the table, absent"},
		{"field the table lacks", iceberg.NewSchema(0, sc.Fields()[1:]...), "column envelope: not in the table"},
		{"metadata column type", withChange(t, sc, ColKafkaPartition, setType(iceberg.PrimitiveTypes.Int64)), "metadata column _kafka_partition is int64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBuilder(memory.DefaultAllocator, arrowSchema(t, tc.table))
			defer b.Release()
			if _, err := b.NewDecoder(writer); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Writer types with no Iceberg equivalent.
	b := NewBuilder(memory.DefaultAllocator, arrowSchema(t, sc))
	defer b.Release()
	meta := avro.MustParse(`{"type":"record","name":"A","fields":[{"name":"_kafka_offset","type":"long"}]}`).(*avro.RecordSchema)
	if _, err := b.NewDecoder(meta); err == nil || !strings.Contains(err.Error(), "column _kafka_offset: not in the table") {
		t.Errorf("metadata column in the writer: err = %v", err)
	}
	if _, err := b.NewDecoder(nil); err == nil {
		t.Error("nil writer accepted")
	}
}

// corruptCase is a writer schema and bodies for the corruption tests.
type corruptCase struct {
	name   string
	writer *avro.RecordSchema
	asc    *arrow.Schema
	bodies [][]byte
	meta   Meta
}

func corruptCases(t testing.TB) []corruptCase {
	k, sc, _ := orderCreated(t, 1)
	sparse := eventstest.Sample(k, 5)
	nullOptionals(reflect.ValueOf(sparse).Elem(), k.Schema)
	all := avro.MustParse(allTypes).(*avro.RecordSchema)
	in2 := allTypesValue()
	in2["sl"], in2["sr"], in2["nrec"], in2["ni"], in2["nm"], in2["narr"] = "five", "str", nil, nil, nil, nil
	noMeta := testMeta(9)
	noMeta.EventID, noMeta.OccurredAt = "", time.Time{}
	return []corruptCase{
		{"OrderCreated", k.Schema.(*avro.RecordSchema), arrowSchema(t, sc),
			[][]byte{marshal(t, k.Schema, eventstest.Sample(k, 4)), marshal(t, k.Schema, sparse)}, noMeta},
		{"AllTypes", all, arrowSchema(t, mustSchema(t, all)),
			[][]byte{marshal(t, all, allTypesValue()), marshal(t, all, in2)}, testMeta(9)},
	}
}

// expectOne checks that b holds exactly one row, the one generic decoding gives for body.
func expectOne(t *testing.T, b *Builder, c corruptCase, body []byte) {
	t.Helper()
	var v any
	if err := avro.Unmarshal(c.writer, body, &v); err != nil {
		t.Fatal(err)
	}
	g := NewBuilder(memory.DefaultAllocator, c.asc)
	defer g.Release()
	if err := g.Append(v.(map[string]any), genericMeta(t, v.(map[string]any), c.meta)); err != nil {
		t.Fatal(err)
	}
	want, got := g.NewRecord(), b.NewRecord()
	defer want.Release()
	defer got.Release()
	sameRecords(t, want, got)
}

// TestAppendAvroCorruptLeavesBuilderUnchanged: truncated bodies (at every length), bodies with a
// flipped byte, trailing bytes: an error and no trace in the builder; a good row after them
// makes a record of that row alone.
func TestAppendAvroCorruptLeavesBuilderUnchanged(t *testing.T) {
	for _, c := range corruptCases(t) {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			b := NewBuilder(mem, c.asc)
			defer b.Release()
			d, err := b.NewDecoder(c.writer)
			if err != nil {
				t.Fatal(err)
			}
			for _, body := range c.bodies {
				for n := range len(body) {
					if err := d.AppendAvro(body[:n], c.meta); err == nil {
						t.Fatalf("body truncated to %d of %d bytes accepted", n, len(body))
					}
					if b.Len() != 0 {
						t.Fatalf("Len = %d after a refused body", b.Len())
					}
				}
				if err := d.AppendAvro(append(body[:len(body):len(body)], 0), c.meta); err == nil || !strings.Contains(err.Error(), "1 trailing bytes") {
					t.Fatalf("trailing byte: err = %v", err)
				}
				// Every byte flipped in turn: refused, or (a byte inside a string, say) accepted.
				accepted := 0
				for i := range body {
					bad := bytes.Clone(body)
					bad[i] ^= 0xff
					before := b.Len()
					if err := d.AppendAvro(bad, c.meta); err != nil {
						if b.Len() != before {
							t.Fatalf("Len %d → %d after a refused body", before, b.Len())
						}
						continue
					}
					accepted++
					if b.Len() != before+1 {
						t.Fatalf("Len %d → %d after an accepted body", before, b.Len())
					}
				}
				t.Logf("%d of %d single-byte flips accepted", accepted, len(body))
				b.NewRecord().Release()
				if err := d.AppendAvro(body, c.meta); err != nil {
					t.Fatal(err)
				}
				expectOne(t, b, c, body)
			}
		})
	}
}

// handSchema has one field of each kind the hand-written bodies below spoil.
const handSchema = `{"type":"record","name":"H","fields":[
	{"name":"u","type":["null","int"]},
	{"name":"s","type":"string"},
	{"name":"b","type":"boolean"},
	{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
	{"name":"sl","type":["string","long"]},
	{"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}},
	{"name":"fd","type":{"type":"fixed","name":"FD","size":17,"logicalType":"decimal","precision":38,"scale":0}},
	{"name":"t","type":{"type":"int","logicalType":"time-millis"}},
	{"name":"i","type":"int"},
	{"name":"a","type":{"type":"array","items":"long"}}]}`

// handBody is a valid body of handSchema with some parts replaced.
func handBody(parts map[string][]byte) []byte {
	fd := make([]byte, 17)
	fd[16] = 7
	def := []struct {
		name string
		b    []byte
	}{
		{"u", []byte{2, 6}}, {"s", []byte{2, 'x'}}, {"b", []byte{1}}, {"e", []byte{2}}, {"sl", []byte{2, 10}},
		{"d", []byte{4, 0x30, 0x39}}, {"fd", fd}, {"t", []byte{4}}, {"i", []byte{8}}, {"a", []byte{4, 2, 4, 0}},
	}
	var out []byte
	for _, p := range def {
		if b, ok := parts[p.name]; ok {
			out = append(out, b...)
			continue
		}
		out = append(out, p.b...)
	}
	return out
}

// TestAppendAvroBadValues: hand-written bodies with a bad union index, a length past the end, a
// negative length, a bad boolean, an enum index out of range, a decimal wider than its column,
// a time of day out of range, an overlong varint: each an error naming the column, and no trace.
func TestAppendAvroBadValues(t *testing.T) {
	s := avro.MustParse(handSchema).(*avro.RecordSchema)
	b := NewBuilder(memory.DefaultAllocator, arrowSchema(t, mustSchema(t, s)))
	defer b.Release()
	d, err := b.NewDecoder(s)
	if err != nil {
		t.Fatal(err)
	}
	minus := func(n int) []byte { // 16 bytes of two's-complement -n, after a 0xff sign byte
		v := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 136), big.NewInt(int64(n)))
		return v.FillBytes(make([]byte, 17))
	}
	for _, tc := range []struct {
		name  string
		parts map[string][]byte
		want  string
	}{
		{"union index", map[string][]byte{"u": {4}}, "column u: union index 2 out of range"},
		{"negative union index", map[string][]byte{"u": {1}}, "column u: union index -1 out of range"},
		{"branch union index", map[string][]byte{"sl": {4, 10}}, "column sl: union index 2 out of range"},
		{"length past the end", map[string][]byte{"s": {0xd0, 0x0f, 'x'}}, "column s: body truncated"},
		{"negative length", map[string][]byte{"s": {3, 'x'}}, "column s: negative length"},
		{"boolean", map[string][]byte{"b": {2}}, "column b: boolean byte"},
		{"enum index", map[string][]byte{"e": {4}}, "column e: enum index 2 out of range"},
		{"decimal too wide", map[string][]byte{"d": {6, 0x01, 0x86, 0xa0}}, "column d: decimal has more digits than the column's precision"},
		{"fixed decimal beyond 128 bits", map[string][]byte{"fd": append([]byte{1}, make([]byte, 16)...)}, "column fd: decimal does not fit in 128 bits"},
		{"fixed decimal -2^127", map[string][]byte{"fd": append([]byte{0xff, 0x80}, make([]byte, 15)...)}, "column fd: decimal has more digits"},
		{"fixed decimal 10^38", map[string][]byte{"fd": new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil).FillBytes(make([]byte, 17))}, "column fd: decimal has more digits"},
		{"time of day", map[string][]byte{"t": binary.AppendVarint(nil, 86_400_000)}, "column t: time of day 24h0m0s"},
		{"negative time of day", map[string][]byte{"t": {1}}, "column t: time of day"},
		{"int out of range", map[string][]byte{"i": {0x80, 0x80, 0x80, 0x80, 0x10}}, "column i: int out of range"},
		{"overlong varint", map[string][]byte{"i": bytes.Repeat([]byte{0xff}, 11)}, "column i: malformed varint"},
		{"array count past the end", map[string][]byte{"a": {0x80, 0x01, 2}}, "column a: block of 64 items"},
		{"array block size", map[string][]byte{"a": {3, 3, 2, 0}}, "column a: negative block size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := d.AppendAvro(handBody(tc.parts), testMeta(0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if b.Len() != 0 {
				t.Fatalf("Len = %d", b.Len())
			}
		})
	}
	// The valid body, and the largest negative decimal that fits: accepted, like Append.
	c := corruptCase{writer: s, asc: b.Schema(), meta: testMeta(0)}
	for _, body := range [][]byte{handBody(nil), handBody(map[string][]byte{"fd": minus(7)})} {
		if err := d.AppendAvro(body, testMeta(0)); err != nil {
			t.Fatal(err)
		}
		expectOne(t, b, c, body)
	}
	// No envelope: the metadata must come in Meta.
	m := testMeta(0)
	m.EventID = ""
	if err := d.AppendAvro(handBody(nil), m); err == nil || !strings.Contains(err.Error(), "no envelope.event_id") {
		t.Errorf("no event id: err = %v", err)
	}
	m = testMeta(0)
	m.OccurredAt = time.Time{}
	if err := d.AppendAvro(handBody(nil), m); err == nil || !strings.Contains(err.Error(), "no envelope.occurred_at") {
		t.Errorf("no occurred_at: err = %v", err)
	}
	if b.Len() != 0 {
		t.Fatalf("Len = %d", b.Len())
	}
}

// fuzzTarget is a writer schema with a decoder, and a builder for the generic path.
type fuzzTarget struct {
	writer  *avro.RecordSchema
	direct  *Builder
	dec     *Decoder
	generic *Builder
}

// FuzzAppendAvro feeds arbitrary bodies to decoders of allTypes and OrderCreated: AppendAvro
// never panics; an error leaves Len unchanged, success adds one row; and a row it accepts that
// hamba's generic decoding and Append accept too is the same row.
func FuzzAppendAvro(f *testing.F) {
	old := time.Local
	time.Local = time.UTC
	defer func() { time.Local = old }()
	var targets []*fuzzTarget
	for _, c := range corruptCases(f) {
		b := NewBuilder(memory.DefaultAllocator, c.asc)
		d, err := b.NewDecoder(c.writer)
		if err != nil {
			f.Fatal(err)
		}
		targets = append(targets, &fuzzTarget{writer: c.writer, direct: b, dec: d, generic: NewBuilder(memory.DefaultAllocator, c.asc)})
		for _, body := range c.bodies {
			f.Add(uint8(len(targets)-1), false, body)
			f.Add(uint8(len(targets)-1), true, body) // metadata from the envelope
		}
	}
	hand := avro.MustParse(handSchema).(*avro.RecordSchema)
	hb := NewBuilder(memory.DefaultAllocator, arrowSchema(f, mustSchema(f, hand)))
	hd, err := hb.NewDecoder(hand)
	if err != nil {
		f.Fatal(err)
	}
	targets = append(targets, &fuzzTarget{writer: hand, direct: hb, dec: hd, generic: NewBuilder(memory.DefaultAllocator, hb.Schema())})
	f.Add(uint8(2), false, handBody(nil))
	f.Fuzz(func(t *testing.T, which uint8, fromEnvelope bool, body []byte) {
		tg := targets[int(which)%len(targets)]
		m := testMeta(int(which))
		if fromEnvelope {
			m.EventID, m.OccurredAt = "", time.Time{}
		}
		before := tg.direct.Len()
		if err := tg.dec.AppendAvro(body, m); err != nil {
			if tg.direct.Len() != before {
				t.Fatalf("Len %d → %d after %v", before, tg.direct.Len(), err)
			}
			return
		}
		if tg.direct.Len() != before+1 {
			t.Fatalf("Len %d → %d after an accepted body", before, tg.direct.Len())
		}
		got := tg.direct.NewRecord()
		defer got.Release()
		var v any
		if avro.Unmarshal(tg.writer, body, &v) != nil {
			return
		}
		value, ok := v.(map[string]any)
		if !ok {
			return
		}
		gm := m
		if gm.EventID == "" || gm.OccurredAt.IsZero() {
			id, occ, err := EnvelopeMeta(value)
			if err != nil {
				return
			}
			if gm.EventID == "" {
				gm.EventID = id
			}
			if gm.OccurredAt.IsZero() {
				gm.OccurredAt = occ
			}
		}
		if tg.generic.Append(value, gm) != nil {
			return
		}
		want := tg.generic.NewRecord()
		defer want.Release()
		// A map with the single key "map" is ambiguous in the generic form (see the package doc).
		if !array.RecordApproxEqual(want, got, array.WithNaNsEqual(true)) && !bytes.Contains(body, []byte("\x06map")) {
			sameRecords(t, want, got)
			t.Fatal("records differ (NaN-aware)")
		}
	})
}

// realisticOrderCreated is an OrderCreated as the intake makes it from a real orders/create
// payload (commands/shopify/samples: long payload_json, sealed personal data), with lines
// lines (copies of the payload's, with their own ids), and its Avro body.
func realisticOrderCreated(t testing.TB, lines int) (*events.Kind, *events.OrderCreated, []byte) {
	t.Helper()
	sealer, _ := piitest.NewSealer()
	ev, err := shopify.OrderCreated(context.Background(), shopify.Delivery{
		Shop: "bench.myshopify.com", Topic: "orders/create", EventID: "e-1", WebhookID: "w-1", APIVersion: "2025-10",
		Body: samples.OrdersCreateWithCustomer, ReceivedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
	}, shopify.PersonalData{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := ev.Order.LineItems
	ev.Order.LineItems = make([]events.OrderLineItem, lines)
	for i := range ev.Order.LineItems {
		li := tmpl[i%len(tmpl)]
		li.LineItemID += int64(1000 * i)
		li.LineItemGID = fmt.Sprintf("gid://shopify/LineItem/%d", li.LineItemID)
		ev.Order.LineItems[i] = li
	}
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := cat.Kind(events.TypeOrderCreated)
	return k, ev, marshal(t, k.Schema, ev)
}

// TestAppendAvroRealisticOrder: the benchmark's order makes the same row both ways.
func TestAppendAvroRealisticOrder(t *testing.T) {
	k, _, body := realisticOrderCreated(t, 3)
	asc := arrowSchema(t, mustSchema(t, k.Schema))
	m := testMeta(0)
	m.EventID, m.OccurredAt = "", time.Time{}
	want, got := buildBoth(t, memory.DefaultAllocator, asc, k.Schema.(*avro.RecordSchema), [][]byte{body, body}, []Meta{m, testMeta(1)})
	defer want.Release()
	defer got.Release()
	sameRecords(t, want, got)
	t.Logf("body %d bytes", len(body))
}

// releasedByType returns the released schema versions of every event type.
func releasedByType(t testing.TB) map[string][]*avro.RecordSchema {
	t.Helper()
	released, err := schemas.LoadReleased(os.DirFS("../../../schemas"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]*avro.RecordSchema{}
	for _, r := range released {
		out[r.EventType] = append(out[r.EventType], r.Schema.(*avro.RecordSchema))
	}
	return out
}

// TestNewRecordReservesLastSizes: builders reused across records (each reserving, at its next
// row, what the last record needed: more, fewer and differently sized rows) make the records
// fresh builders make, through Append and AppendAvro; the reservations cover the last record;
// a builder holds no memory after NewRecord until a row comes, and frees it all on Release.
func TestNewRecordReservesLastSizes(t *testing.T) {
	s := avro.MustParse(allTypes).(*avro.RecordSchema)
	asc := arrowSchema(t, mustSchema(t, s))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	small := allTypesValue()
	small["sl"], small["sr"], small["nrec"], small["nm"], small["narr"], small["ns"], small["nby"] = "", "", nil, nil, nil, nil, nil
	large := allTypesValue()
	many := map[string]any{}
	for i := range 40 {
		many[fmt.Sprintf("k%02d", i)] = i
	}
	large["m"], large["sl"], large["sr"] = many, strings.Repeat("x", 3000), strings.Repeat("é", 500)
	bodies := map[string][]byte{"all": marshal(t, s, allTypesValue()), "small": marshal(t, s, small), "big": marshal(t, s, large)}
	rounds := [][]string{
		{"all", "small", "big"},
		{"big", "big", "big", "big", "all"},
		{"small"},
		{"big", "all", "small", "big", "big", "big", "big"},
		{"all", "all"},
	}

	gb, db := NewBuilder(mem, asc), NewBuilder(mem, asc)
	d, err := db.NewDecoder(s)
	if err != nil {
		t.Fatal(err)
	}
	for r, names := range rounds {
		var round [][]byte
		var metas []Meta
		for i, n := range names {
			round = append(round, bodies[n])
			metas = append(metas, testMeta(10*r+i))
		}
		want, fresh := buildBoth(t, mem, asc, s, round, metas)
		sameRecords(t, want, fresh)
		fresh.Release()
		for i, body := range round {
			var v any
			if err := avro.Unmarshal(s, body, &v); err != nil {
				t.Fatal(err)
			}
			value := v.(map[string]any)
			if err := gb.Append(value, genericMeta(t, value, metas[i])); err != nil {
				t.Fatalf("round %d: Append row %d: %v", r, i, err)
			}
			if err := d.AppendAvro(body, metas[i]); err != nil {
				t.Fatalf("round %d: AppendAvro row %d: %v", r, i, err)
			}
			if i == 0 && r > 0 {
				for _, b := range []*Builder{gb, db} {
					for _, sz := range b.sizes {
						if sz.b.Cap() < sz.n {
							t.Errorf("round %d: a %s builder has room for %d values, the last record had %d", r, sz.b.Type(), sz.b.Cap(), sz.n)
						}
						if sz.data == nil {
							continue
						}
						if c := sz.data.(interface{ DataCap() int }).DataCap(); c < sz.bytes {
							t.Errorf("round %d: a %s builder has room for %d bytes, the last record had %d", r, sz.b.Type(), c, sz.bytes)
						}
					}
				}
			}
		}
		for _, b := range []*Builder{gb, db} {
			got := b.NewRecord()
			sameRecords(t, want, got)
			got.Release()
		}
		want.Release()
		if n := mem.CurrentAlloc(); n != 0 {
			t.Fatalf("round %d: the builders hold %d bytes after NewRecord", r, n)
		}
	}
	if err := d.AppendAvro(bodies["big"], testMeta(99)); err != nil {
		t.Fatal(err)
	}
	gb.Release()
	db.Release()
}
