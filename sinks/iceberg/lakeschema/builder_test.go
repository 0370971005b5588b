package lakeschema

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
)

func arrowSchema(t testing.TB, sc *iceberg.Schema) *arrow.Schema {
	t.Helper()
	asc, err := table.SchemaToArrowSchema(sc, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return asc
}

func testMeta(n int) Meta {
	at := time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC).Add(time.Duration(n) * time.Minute)
	return Meta{
		Topic: "commerce", Partition: int32(n % 3), Offset: int64(100 + n), Timestamp: at,
		EventID: fmt.Sprintf("event-%d", n), SchemaID: 7, OccurredAt: at.Add(-time.Hour), IngestedAt: at.Add(time.Second),
	}
}

// normal states value i of arr the way eventstest.Normal states an event: structs as maps by
// field name, null as nil, decimals as strings with the column's scale, timestamps as
// microseconds, dates as YYYY-MM-DD, bytes as base64, integers as int64, floats as float64.
func normal(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		out := map[string]any{}
		for j, f := range st.Fields() {
			out[f.Name] = normal(a.Field(j), i)
		}
		return out
	case *array.List:
		start, end := a.ValueOffsets(i)
		out := make([]any, 0, end-start)
		for j := start; j < end; j++ {
			out = append(out, normal(a.ListValues(), int(j)))
		}
		return out
	case *array.Map:
		start, end := a.ValueOffsets(i)
		out := map[string]any{}
		for j := start; j < end; j++ {
			out[a.Keys().(*array.String).Value(int(j))] = normal(a.Items(), int(j))
		}
		return out
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return new(big.Rat).SetFrac(a.Value(i).BigInt(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)).FloatString(int(scale))
	case *array.Timestamp:
		return int64(a.Value(i))
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Time64:
		return int64(a.Value(i))
	case *array.Binary:
		return base64.StdEncoding.EncodeToString(a.Value(i))
	case *array.FixedSizeBinary:
		return base64.StdEncoding.EncodeToString(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	}
	panic(fmt.Sprintf("normal: %T", arr))
}

// row returns row i of rec: the data columns normalised, and the metadata columns.
func row(rec arrow.RecordBatch, i int) (data, meta map[string]any) {
	data, meta = map[string]any{}, map[string]any{}
	for j, f := range rec.Schema().Fields() {
		if isMetaColumn(f.Name) {
			meta[f.Name] = normal(rec.Column(j), i)
		} else {
			data[f.Name] = normal(rec.Column(j), i)
		}
	}
	return data, meta
}

// diff lists where got and want differ, by path.
func diff(path string, got, want any) []string {
	gm, gok := got.(map[string]any)
	wm, wok := want.(map[string]any)
	if gok && wok {
		var out []string
		for k := range wm {
			out = append(out, diff(path+"."+k, gm[k], wm[k])...)
		}
		for k := range gm {
			if _, ok := wm[k]; !ok {
				out = append(out, fmt.Sprintf("%s.%s: got %v, want nothing", path, k, gm[k]))
			}
		}
		return out
	}
	gl, gok := got.([]any)
	wl, wok := want.([]any)
	if gok && wok && len(gl) == len(wl) {
		var out []string
		for i := range wl {
			out = append(out, diff(fmt.Sprintf("%s[%d]", path, i), gl[i], wl[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(got, want) {
		return []string{fmt.Sprintf("%s: got %#v, want %#v", path, got, want)}
	}
	return nil
}

// nullOptionals sets every union-with-null field of v (of schema s) to nil, recursively.
func nullOptionals(v reflect.Value, s avro.Schema) {
	switch t := s.(type) {
	case *avro.RefSchema:
		nullOptionals(v, t.Schema())
	case *avro.RecordSchema:
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return
			}
			v = v.Elem()
		}
		for i := range v.NumField() {
			tag := v.Type().Field(i).Tag.Get("avro")
			for _, f := range t.Fields() {
				if f.Name() == tag {
					nullOptionals(v.Field(i), f.Type())
				}
			}
		}
	case *avro.UnionSchema:
		if v.Kind() == reflect.Pointer {
			v.Set(reflect.Zero(v.Type()))
		}
	case *avro.ArraySchema:
		for i := range v.Len() {
			nullOptionals(v.Index(i), t.Items())
		}
	}
}

// TestRoundTripEveryEvent takes a sample of every event type, with every field set and then
// with every optional field null, through avro.Marshal, hamba's generic decoding, Append and
// the Arrow record, and compares each row with the event (eventstest.Normal): decimals exact,
// timestamps to the microsecond, nested records and lists, nulls.
func TestRoundTripEveryEvent(t *testing.T) {
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, k := range cat.Kinds() {
		t.Run(k.Type, func(t *testing.T) {
			rec := k.Schema.(*avro.RecordSchema)
			sc := mustSchema(t, rec)
			b := NewBuilder(mem, arrowSchema(t, sc))
			defer b.Release()

			full := eventstest.Sample(k, 3)
			sparse := eventstest.Sample(k, 4)
			nullOptionals(reflect.ValueOf(sparse).Elem(), k.Schema)
			evs := []events.Event{full, sparse}
			for i, ev := range evs {
				value := decodeGeneric(t, k.Schema, ev)
				id, occurred, err := EnvelopeMeta(value)
				if err != nil {
					t.Fatal(err)
				}
				if id != ev.Meta().EventID || !occurred.Equal(ev.Meta().OccurredAt) {
					t.Fatalf("EnvelopeMeta = %s %v", id, occurred)
				}
				m := testMeta(i)
				m.EventID, m.OccurredAt = id, occurred
				if err := b.Append(value, m); err != nil {
					t.Fatal(err)
				}
			}
			if b.Len() != 2 {
				t.Fatalf("Len = %d", b.Len())
			}
			out := b.NewRecord()
			defer out.Release()
			if b.Len() != 0 || out.NumRows() != 2 {
				t.Fatalf("record has %d rows, builder %d after NewRecord", out.NumRows(), b.Len())
			}
			for i, ev := range evs {
				data, meta := row(out, i)
				for _, d := range diff(k.Type, data, eventstest.Normal(k, ev)) {
					t.Errorf("row %d: %s", i, d)
				}
				m := testMeta(i)
				wantMeta := map[string]any{
					ColKafkaTopic: m.Topic, ColKafkaPartition: int64(m.Partition), ColKafkaOffset: m.Offset,
					ColKafkaTimestamp: m.Timestamp.UnixMicro(), ColEventID: ev.Meta().EventID, ColSchemaID: int64(7),
					ColIngestedAt: m.IngestedAt.UnixMicro(), ColOccurredAt: ev.Meta().OccurredAt.UnixMicro(),
				}
				for _, d := range diff("meta", meta, wantMeta) {
					t.Errorf("row %d: %s", i, d)
				}
			}
		})
	}
}

// TestRoundTripAllTypes covers the types storeline's schemas do not use yet: maps, enums,
// fixed, times, local timestamps, unions of several branches, in a time zone that is not UTC.
func TestRoundTripAllTypes(t *testing.T) {
	old := time.Local
	time.Local = time.FixedZone("UTC+5", 5*3600)
	defer func() { time.Local = old }()

	s := avro.MustParse(allTypes)
	sc := mustSchema(t, s)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := NewBuilder(mem, arrowSchema(t, sc))
	defer b.Release()

	in := allTypesValue()
	if err := b.Append(decodeGeneric(t, s, in), testMeta(0)); err != nil {
		t.Fatal(err)
	}
	// The other branch of each union, and nulls.
	in2 := allTypesValue()
	in2["sl"], in2["sr"], in2["nrec"], in2["ni"], in2["nltu"], in2["nm"], in2["narr"] = "five", "str", nil, nil, nil, nil, nil
	if err := b.Append(decodeGeneric(t, s, in2), testMeta(1)); err != nil {
		t.Fatal(err)
	}
	out := b.NewRecord()
	defer out.Release()
	got, _ := row(out, 0)
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	// local-timestamp: hamba stores the wall clock of the time in time.Local (UTC+5 here) and
	// decodes it back into time.Local; the column holds that wall clock, read as UTC.
	wall := func(t time.Time) int64 {
		l := t.In(time.Local)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC).UnixMicro()
	}
	wallMicro := wall(tsMicro)
	if wallMicro != tsMicro.UnixMicro()+5*3600*1e6 {
		t.Fatal("the time zone is not UTC+5")
	}
	want := map[string]any{
		"i": int64(1), "l": int64(2), "f": 1.5, "d": 2.5, "b": true, "s": "s", "by": b64("x"),
		"u": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "dt": "2026-01-02", "tm": int64(1_500_000), "tu": int64(7),
		"tsm": tsMilli.UnixMicro(), "tsu": tsMicro.UnixMicro(), "ltm": wall(tsMilli), "ltu": wallMicro,
		"dec": "-123.45", "fx": b64("\x01\x02\x03\x04"), "fdec": "0.125", "en": "B",
		"arr": []any{int64(1), int64(-2)}, "m": map[string]any{"k": int64(3), "a": int64(4)},
		"rec": map[string]any{"a": int64(7), "t": nil},
		"ni":  int64(1), "nl": int64(2), "nf": 1.0, "nd": 3.5, "nb": false, "ns": "s", "nby": b64("y"),
		"nu": "6ba7b811-9dad-11d1-80b4-00c04fd430c8", "ndt": "2026-01-02", "ntm": int64(1_000_000),
		"ntsu": tsMicro.UnixMicro(), "nltu": wallMicro, "ndec": "0.50", "nfdec": "-1.500",
		"nrec": map[string]any{"a": int64(8), "t": "eight"}, "narr": []any{int64(1), int64(2)},
		"nm": map[string]any{"z": "zz"}, "nen": "A", "nfx": b64("\x09\x09\x09\x09"),
		"sl": map[string]any{"string": nil, "long": int64(5)},
		"sr": map[string]any{"string": nil, "r": map[string]any{"a": int64(9), "t": nil}},
		"lm": []any{map[string]any{"k": nil, "j": map[string]any{"a": int64(10), "t": "ten"}}, map[string]any{}},
	}
	for _, d := range diff("row0", got, want) {
		t.Error(d)
	}
	got, _ = row(out, 1)
	want["sl"] = map[string]any{"string": "five", "long": nil}
	want["sr"] = map[string]any{"string": "str", "r": nil}
	want["nrec"], want["ni"], want["nltu"], want["nm"], want["narr"] = nil, nil, nil, nil, nil
	for _, d := range diff("row1", got, want) {
		t.Error(d)
	}
	// Map entries are in key order.
	mcol := out.Column(out.Schema().FieldIndices("m")[0]).(*array.Map)
	if k := mcol.Keys().(*array.String); k.Value(0) != "a" || k.Value(1) != "k" {
		t.Errorf("map keys %s, %s: want sorted", k.Value(0), k.Value(1))
	}
}

// orderCreated returns the kind, table schema and a generically decoded OrderCreated.
func orderCreated(t testing.TB, seed int) (*events.Kind, *iceberg.Schema, map[string]any) {
	t.Helper()
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := cat.Kind(events.TypeOrderCreated)
	return k, mustSchema(t, k.Schema), decodeGeneric(t, k.Schema, eventstest.Sample(k, seed))
}

// TestEvolvedTableGetsNulls: a table with columns the records lack (added by a newer schema, at
// the top and inside a nested record and list) gets nulls in them; the rest is unchanged.
func TestEvolvedTableGetsNulls(t *testing.T) {
	k, sc, value := orderCreated(t, 1)
	str := iceberg.PrimitiveTypes.String
	sc = withField(t, sc, "", iceberg.NestedField{Name: "added", Type: str})
	sc = withField(t, sc, "order", iceberg.NestedField{Name: "added_in_order", Type: iceberg.PrimitiveTypes.Int64})
	sc = withField(t, sc, "order.line_items", iceberg.NestedField{Name: "added_in_item", Type: iceberg.DecimalTypeOf(10, 2)})
	b := NewBuilder(memory.DefaultAllocator, arrowSchema(t, sc))
	defer b.Release()
	if err := b.Append(value, testMeta(0)); err != nil {
		t.Fatal(err)
	}
	out := b.NewRecord()
	defer out.Release()
	got, _ := row(out, 0)
	want := eventstest.Normal(k, eventstest.Sample(k, 1)).(map[string]any)
	want["added"] = nil
	want["order"].(map[string]any)["added_in_order"] = nil
	for _, li := range want["order"].(map[string]any)["line_items"].([]any) {
		li.(map[string]any)["added_in_item"] = nil
	}
	for _, d := range diff("row", got, want) {
		t.Error(d)
	}
}

// TestBadValueLeavesBuilderUnchanged: a value that does not fit is refused with an error naming
// the column, and neither Len nor the record shows a trace of it, however deep the bad field.
func TestBadValueLeavesBuilderUnchanged(t *testing.T) {
	k, sc, _ := orderCreated(t, 1)
	lineItem := func(v map[string]any, i int) map[string]any {
		return v["order"].(map[string]any)["line_items"].([]any)[i].(map[string]any)
	}
	for _, tc := range []struct {
		name   string
		table  *iceberg.Schema
		spoil  func(map[string]any)
		meta   func(*Meta)
		errHas string
	}{
		{name: "wrong type at the top", spoil: func(v map[string]any) { v["payload_json"] = int64(3) }, errHas: "column payload_json: a int64 does not fit"},
		{name: "wrong type deep in a list", spoil: func(v map[string]any) { lineItem(v, 1)["quantity"] = "two" }, errHas: "column order.line_items.element.quantity: a string"},
		{name: "decimal with too many places", spoil: func(v map[string]any) {
			lineItem(v, 1)["price"].(map[string]any)["amount"] = big.NewRat(1, 100000)
		}, errHas: "column order.line_items.element.price.amount: 1/100000 has more decimal places"},
		{name: "decimal out of precision", spoil: func(v map[string]any) {
			v["order"].(map[string]any)["total_tax"].(map[string]any)["amount"], _ = new(big.Rat).SetString("12345678901234567")
		}, errHas: "column order.total_tax.amount: 12345678901234567 has more digits"},
		{name: "int out of range", spoil: func(v map[string]any) { lineItem(v, 0)["quantity"] = 1 << 40 }, errHas: "order.line_items.element.quantity: 1099511627776 is out of the range"},
		{name: "field the table lacks", spoil: func(v map[string]any) { v["order"].(map[string]any)["surprise"] = "x" }, errHas: "column order.surprise: not in the table"},
		{name: "top-level field the table lacks", spoil: func(v map[string]any) { v["surprise"] = "x" }, errHas: "column surprise: not in the table"},
		{name: "metadata column in the value", spoil: func(v map[string]any) { v[ColKafkaTopic] = "x" }, errHas: "column _kafka_topic: not in the table"},
		{name: "field the table has with another type",
			table: withChange(t, sc, "order.order_number", setType(iceberg.PrimitiveTypes.String)),
			spoil: func(map[string]any) {}, errHas: "column order.order_number: a int64 does not fit the table's utf8"},
		{name: "record where the table has a string",
			table: withChange(t, sc, "order.total_price", setType(iceberg.PrimitiveTypes.String)),
			spoil: func(map[string]any) {}, errHas: "column order.total_price: a map[string]interface {} does not fit"},
		{name: "null in a required column",
			table: withChange(t, sc, "order.cancel_reason", func(f iceberg.NestedField) iceberg.NestedField { f.Required = true; return f }),
			spoil: func(v map[string]any) { v["order"].(map[string]any)["cancel_reason"] = nil }, errHas: "column order.cancel_reason: null in a required column"},
		{name: "no event id", spoil: func(map[string]any) {}, meta: func(m *Meta) { m.EventID = "" }, errHas: "column _event_id"},
		{name: "no occurred_at", spoil: func(map[string]any) {}, meta: func(m *Meta) { m.OccurredAt = time.Time{} }, errHas: "column _occurred_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tsc := sc
			if tc.table != nil {
				tsc = tc.table
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			b := NewBuilder(mem, arrowSchema(t, tsc))
			defer b.Release()
			good1, good2 := eventstest.Sample(k, 1), eventstest.Sample(k, 2)
			// A table with another type takes neither good row: the test then only checks the error.
			goodFits := tc.table == nil || tc.name == "null in a required column"
			if goodFits {
				if err := b.Append(decodeGeneric(t, k.Schema, good1), testMeta(1)); err != nil {
					t.Fatal(err)
				}
			}
			bad := decodeGeneric(t, k.Schema, eventstest.Sample(k, 3))
			tc.spoil(bad)
			m := testMeta(3)
			if tc.meta != nil {
				tc.meta(&m)
			}
			err := b.Append(bad, m)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err = %v, want %q", err, tc.errHas)
			}
			if !goodFits {
				if b.Len() != 0 {
					t.Fatalf("Len = %d after a refused row", b.Len())
				}
				return
			}
			if b.Len() != 1 {
				t.Fatalf("Len = %d after a refused row, want 1", b.Len())
			}
			if err := b.Append(decodeGeneric(t, k.Schema, good2), testMeta(2)); err != nil {
				t.Fatal(err)
			}
			out := b.NewRecord()
			defer out.Release()
			if out.NumRows() != 2 {
				t.Fatalf("record has %d rows, want 2", out.NumRows())
			}
			for i, ev := range []events.Event{good1, good2} {
				got, meta := row(out, i)
				for _, d := range diff("row", got, eventstest.Normal(k, ev)) {
					t.Errorf("row %d: %s", i, d)
				}
				if meta[ColKafkaOffset] != testMeta(i+1).Offset {
					t.Errorf("row %d offset %v", i, meta[ColKafkaOffset])
				}
			}
		})
	}
}

func TestMetadataColumnOfAnotherType(t *testing.T) {
	_, sc, value := orderCreated(t, 1)
	sc = withChange(t, sc, ColKafkaPartition, setType(iceberg.PrimitiveTypes.Int64))
	b := NewBuilder(memory.DefaultAllocator, arrowSchema(t, sc))
	defer b.Release()
	if err := b.Append(value, testMeta(0)); err == nil || !strings.Contains(err.Error(), "metadata column _kafka_partition is int64") {
		t.Fatalf("err = %v", err)
	}
}

func TestToDecimal128(t *testing.T) {
	for _, tc := range []struct {
		in          string
		prec, scale int32
		want        string
		wantErr     error
	}{
		{"12.34", 20, 4, "123400", nil},
		{"-0.0001", 20, 4, "-1", nil},
		{"0", 20, 4, "0", nil},
		{"9999999999999999.9999", 20, 4, "99999999999999999999", nil},
		{"10000000000000000", 20, 4, "", errDecimalDigits},
		{"0.00001", 20, 4, "", errDecimalPlaces},
		{"1/3", 38, 10, "", errDecimalPlaces},
		{"-9223372036854775808", 38, 0, "-9223372036854775808", nil},
		{"92233720368547758.07", 38, 10, "922337203685477580700000000", nil}, // overflows int64: big path
		{"99999999999999999999999999999999999999", 38, 0, "99999999999999999999999999999999999999", nil},
		{"-999999999.5", 10, 1, "-9999999995", nil},
		{"999999999.5", 9, 1, "", errDecimalDigits},
		{"0.5", 1, 1, "5", nil},
		{"1", 1, 1, "", errDecimalDigits},
		{"0.000000000000000000001", 38, 21, "1", nil}, // scale above 18: big path
	} {
		r, ok := new(big.Rat).SetString(tc.in)
		if !ok {
			t.Fatalf("bad rat %s", tc.in)
		}
		got, err := toDecimal128(r, tc.prec, tc.scale)
		if err != tc.wantErr {
			t.Errorf("toDecimal128(%s, %d, %d) err = %v, want %v", tc.in, tc.prec, tc.scale, err, tc.wantErr)
			continue
		}
		if err == nil && got.BigInt().String() != tc.want {
			t.Errorf("toDecimal128(%s, %d, %d) = %s, want %s", tc.in, tc.prec, tc.scale, got.BigInt(), tc.want)
		}
	}
}
