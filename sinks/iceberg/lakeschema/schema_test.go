package lakeschema

import (
	"os"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/schemas"
)

func loadEvents(t testing.TB) []*schemas.Event {
	t.Helper()
	evs, err := schemas.Load(schemas.FS)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) < 40 {
		t.Fatalf("loaded %d event schemas, want every one", len(evs))
	}
	return evs
}

func mustSchema(t testing.TB, rec avro.Schema) *iceberg.Schema {
	t.Helper()
	sc, err := Schema(rec.(*avro.RecordSchema))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestEverySchemaMaps maps every event schema of schemas/: the Avro fields become optional
// columns, the metadata columns follow, the Arrow schema iceberg-go derives converts back to the
// same Iceberg schema, the partition spec binds, and the schema is compatible with itself.
func TestEverySchemaMaps(t *testing.T) {
	for _, ev := range loadEvents(t) {
		t.Run(ev.Type(), func(t *testing.T) {
			sc, err := Schema(ev.Schema)
			if err != nil {
				t.Fatal(err)
			}
			fields := sc.Fields()
			n := len(ev.Schema.Fields())
			if len(fields) != n+len(metaColumns) {
				t.Fatalf("%d columns, want %d fields + %d metadata", len(fields), n, len(metaColumns))
			}
			for i, f := range fields {
				if i < n {
					if f.Name != ev.Schema.Fields()[i].Name() || f.Required || f.ID != i+1 {
						t.Errorf("column %d = %s (id %d, required %v), want optional %s id %d", i, f.Name, f.ID, f.Required, ev.Schema.Fields()[i].Name(), i+1)
					}
					continue
				}
				m := metaColumns[i-n]
				if f.Name != m.name || !f.Required || !f.Type.Equals(m.typ) {
					t.Errorf("column %d = %s, want metadata column %s", i, f, m.name)
				}
			}
			checkAllOptional(t, "", sc.AsStruct())

			asc, err := table.SchemaToArrowSchema(sc, nil, true, false)
			if err != nil {
				t.Fatal(err)
			}
			back, err := table.ArrowSchemaToIceberg(asc, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equals(sc) {
				t.Errorf("Arrow round trip changed the schema:\n%s\nwant\n%s", back, sc)
			}
			spec, err := PartitionSpec(sc)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := table.NewMetadata(sc, &spec, table.UnsortedSortOrder, "file:///tmp/x", nil); err != nil {
				t.Fatalf("table metadata: %v", err)
			}
			if err := Compatible(sc, ev.Schema); err != nil {
				t.Errorf("not compatible with itself: %v", err)
			}
		})
	}
}

// checkAllOptional fails for any required Avro-derived field, element or value.
func checkAllOptional(t *testing.T, path string, st iceberg.StructType) {
	t.Helper()
	for _, f := range st.FieldList {
		if path == "" && isMetaColumn(f.Name) {
			continue
		}
		p := path + f.Name
		if f.Required {
			t.Errorf("%s is required", p)
		}
		checkTypeOptional(t, p, f.Type)
	}
}

func checkTypeOptional(t *testing.T, path string, typ iceberg.Type) {
	t.Helper()
	switch x := typ.(type) {
	case *iceberg.StructType:
		checkAllOptional(t, path+".", *x)
	case *iceberg.ListType:
		if x.ElementRequired {
			t.Errorf("%s.element is required", path)
		}
		checkTypeOptional(t, path+".element", x.Element)
	case *iceberg.MapType:
		if x.ValueRequired {
			t.Errorf("%s.value is required", path)
		}
		checkTypeOptional(t, path+".value", x.ValueType)
	}
}

// TestReleasedSchemasEvolve: a table made from each released version of an event accepts the
// records of its current schema, and the current schema maps every released one.
func TestReleasedSchemasEvolve(t *testing.T) {
	released, err := schemas.LoadReleased(os.DirFS("../../../schemas"))
	if err != nil {
		t.Fatal(err)
	}
	if len(released) == 0 {
		t.Fatal("no released schemas")
	}
	current := map[string]*avro.RecordSchema{}
	for _, ev := range loadEvents(t) {
		current[ev.Type()] = ev.Schema
	}
	for _, r := range released {
		old := mustSchema(t, r.Schema)
		cur, ok := current[r.EventType]
		if !ok {
			continue
		}
		if err := Compatible(old, cur); err != nil {
			t.Errorf("%s: table of v%d does not take current records: %v", r.EventType, r.Version, err)
		}
		if err := Compatible(mustSchema(t, cur), r.Schema.(*avro.RecordSchema)); err != nil {
			t.Errorf("%s: current table does not take v%d records: %v", r.EventType, r.Version, err)
		}
	}
}

// TestSchemaTypeMapping checks the Iceberg type of every Avro type.
func TestSchemaTypeMapping(t *testing.T) {
	sc := mustSchema(t, avro.MustParse(allTypes))
	want := map[string]string{
		"i": "int", "l": "long", "f": "float", "d": "double", "b": "boolean", "s": "string", "by": "binary",
		"u": "string", "dt": "date", "tm": "time", "tu": "time", "tsm": "timestamptz", "tsu": "timestamptz",
		"ltm": "timestamp", "ltu": "timestamp", "dec": "decimal(9, 2)", "fx": "fixed[4]", "fdec": "decimal(18, 3)",
		"en": "string", "arr": "list<long>", "m": "map<string, int>",
		"rec": "struct<",
		"ni":  "int", "nl": "long", "nf": "float", "nd": "double", "nb": "boolean", "ns": "string", "nby": "binary",
		"nu": "string", "ndt": "date", "ntm": "time", "ntsu": "timestamptz", "nltu": "timestamp",
		"ndec": "decimal(9, 2)", "nfdec": "decimal(18, 3)", "narr": "list<int>", "nm": "map<string, string>",
		"nen": "string", "nfx": "fixed[4]",
	}
	for name, w := range want {
		f, ok := sc.FindFieldByName(name)
		if !ok {
			t.Errorf("no column %s", name)
			continue
		}
		if g := f.Type.String(); !strings.HasPrefix(g, w) {
			t.Errorf("%s is %s, want %s", name, g, w)
		}
	}
	// A union of several branches: a struct with one optional field per branch.
	for name, branches := range map[string][]string{"sl": {"string", "long"}, "sr": {"string", "r"}} {
		f, _ := sc.FindFieldByName(name)
		st, ok := f.Type.(*iceberg.StructType)
		if !ok || len(st.FieldList) != len(branches) {
			t.Errorf("%s is %s, want a struct of %v", name, f.Type, branches)
			continue
		}
		for i, b := range branches {
			if st.FieldList[i].Name != b || st.FieldList[i].Required {
				t.Errorf("%s branch %d is %s, want optional %s", name, i, st.FieldList[i], b)
			}
		}
	}
	if f, _ := sc.FindFieldByName("sr.r.t"); f.Type == nil || !f.Type.Equals(iceberg.PrimitiveTypes.String) {
		t.Errorf("sr.r.t = %v", f)
	}
	// Ids: top level first (the Avro fields, then the metadata), then nested ones.
	n := len(avro.MustParse(allTypes).(*avro.RecordSchema).Fields())
	if f, _ := sc.FindFieldByName(ColOccurredAt); f.ID != n+len(metaColumns) {
		t.Errorf("%s has id %d, want %d", ColOccurredAt, f.ID, n+len(metaColumns))
	}
	if sc.HighestFieldID() <= n+len(metaColumns) {
		t.Errorf("nested fields got no ids of their own")
	}
	// Docs are kept.
	if f, _ := sc.FindFieldByName(ColEventID); f.Doc == "" {
		t.Error("metadata column without doc")
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"type":"record","name":"A","fields":[{"name":"a","type":{"type":"bytes","logicalType":"decimal","precision":39,"scale":2}}]}`, "a: decimal(39,2)"},
		{`{"type":"record","name":"A","fields":[{"name":"r","type":{"type":"record","name":"B","fields":[{"name":"d","type":{"type":"fixed","name":"D","size":12,"logicalType":"duration"}}]}}]}`, "r.d: Avro duration"},
		{`{"type":"record","name":"A","fields":[{"name":"next","type":["null","A"]}]}`, "next: recursive record A"},
		{`{"type":"record","name":"A","fields":[{"name":"_kafka_offset","type":"long"}]}`, "metadata column"},
		{`{"type":"record","name":"A","fields":[{"name":"n","type":"null"}]}`, "n: a field of type null"},
		{`{"type":"record","name":"A","fields":[{"name":"u","type":[{"type":"record","name":"X","namespace":"a","fields":[]},{"type":"record","name":"X","namespace":"b","fields":[]}]}]}`, "u: union branches a.X and b.X would both be column x"},
		{`{"type":"record","name":"A","fields":[{"name":"l","type":{"type":"array","items":{"type":"map","values":{"type":"bytes","logicalType":"decimal","precision":40,"scale":0}}}}]}`, "l.element.value: decimal(40,0)"},
	} {
		s, err := avro.Parse(tc.schema)
		if err != nil {
			t.Errorf("parse %s: %v", tc.schema, err)
			continue
		}
		_, err = Schema(s.(*avro.RecordSchema))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Schema(%s) err = %v, want %q", tc.schema, err, tc.want)
		}
	}
}

func TestPartitionSpec(t *testing.T) {
	sc := mustSchema(t, avro.MustParse(allTypes))
	spec, err := PartitionSpec(sc)
	if err != nil {
		t.Fatal(err)
	}
	occ, _ := sc.FindFieldByName(ColOccurredAt)
	f := spec.Field(0)
	if spec.NumFields() != 1 || f.Name != PartitionFieldName || f.SourceIDs[0] != occ.ID || f.Transform != (iceberg.DayTransform{}) {
		t.Fatalf("spec = %s", spec)
	}
	if _, err := PartitionSpec(iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "x", Type: iceberg.PrimitiveTypes.String})); err == nil {
		t.Fatal("a schema without _occurred_at got a spec")
	}
}

// withField returns sc with field f added at the end of the struct at path (top level for "").
func withField(t testing.TB, sc *iceberg.Schema, path string, f iceberg.NestedField) *iceberg.Schema {
	t.Helper()
	f.ID = sc.HighestFieldID() + 1
	st := sc.AsStruct()
	if path == "" {
		return iceberg.NewSchema(0, append(st.FieldList, f)...)
	}
	return iceberg.NewSchema(0, mapField(t, st.FieldList, strings.Split(path, "."), func(n iceberg.NestedField) iceberg.NestedField {
		switch x := n.Type.(type) {
		case *iceberg.StructType:
			n.Type = &iceberg.StructType{FieldList: append(append([]iceberg.NestedField{}, x.FieldList...), f)}
		case *iceberg.ListType:
			s := x.Element.(*iceberg.StructType)
			l := *x
			l.Element = &iceberg.StructType{FieldList: append(append([]iceberg.NestedField{}, s.FieldList...), f)}
			n.Type = &l
		}
		return n
	})...)
}

// withType returns sc with the field at path changed by change.
func withChange(t testing.TB, sc *iceberg.Schema, path string, change func(iceberg.NestedField) iceberg.NestedField) *iceberg.Schema {
	t.Helper()
	return iceberg.NewSchema(0, mapField(t, sc.AsStruct().FieldList, strings.Split(path, "."), change)...)
}

func mapField(t testing.TB, fields []iceberg.NestedField, path []string, change func(iceberg.NestedField) iceberg.NestedField) []iceberg.NestedField {
	out := append([]iceberg.NestedField{}, fields...)
	for i, f := range out {
		if f.Name != path[0] {
			continue
		}
		if len(path) == 1 {
			out[i] = change(f)
			return out
		}
		switch x := f.Type.(type) {
		case *iceberg.StructType:
			out[i].Type = &iceberg.StructType{FieldList: mapField(t, x.FieldList, path[1:], change)}
		case *iceberg.ListType:
			st := x.Element.(*iceberg.StructType)
			l := *x
			l.Element = &iceberg.StructType{FieldList: mapField(t, st.FieldList, path[1:], change)}
			out[i].Type = &l
		default:
			t.Fatalf("cannot descend into %s", f)
		}
		return out
	}
	t.Fatalf("no field %v", path)
	return nil
}

func setType(typ iceberg.Type) func(iceberg.NestedField) iceberg.NestedField {
	return func(f iceberg.NestedField) iceberg.NestedField { f.Type = typ; return f }
}

func TestCompatible(t *testing.T) {
	var orderCreated *avro.RecordSchema
	for _, ev := range loadEvents(t) {
		if ev.Type() == "commerce.OrderCreated" {
			orderCreated = ev.Schema
		}
	}
	sc := mustSchema(t, orderCreated)
	str := iceberg.PrimitiveTypes.String

	// Records with a field the table lacks: the table gets it as an optional column.
	fewer := iceberg.NewSchema(0, sc.Fields()[1:]...) // no envelope column
	if err := Compatible(fewer, orderCreated); err != nil {
		t.Errorf("a table lacking a column: %v", err)
	}
	// A table with a column the records lack (optional): null.
	if err := Compatible(withField(t, sc, "order", iceberg.NestedField{Name: "extra", Type: str}), orderCreated); err != nil {
		t.Errorf("a table with an extra optional column: %v", err)
	}
	// Promotions: the table has the wider type.
	for path, typ := range map[string]iceberg.Type{
		"order.line_items.quantity":     iceberg.PrimitiveTypes.Int64, // int → long
		"order.line_items.price.amount": iceberg.DecimalTypeOf(30, 4), // decimal(20,4) → (30,4)
		"order.total_price.amount":      iceberg.DecimalTypeOf(38, 4),
	} {
		if err := Compatible(withChange(t, sc, path, setType(typ)), orderCreated); err != nil {
			t.Errorf("table with %s %s: %v", path, typ, err)
		}
	}
	for _, tc := range []struct {
		path string
		typ  iceberg.Type
		want string
	}{
		{"order.order_number", str, "column order.order_number: table has string, records have long"},
		{"order.line_items.quantity", iceberg.PrimitiveTypes.Int64, ""},
		{"order.order_id", iceberg.PrimitiveTypes.Int32, "column order.order_id: table has int, records have long"}, // narrowing
		{"order.line_items.price.amount", iceberg.DecimalTypeOf(18, 4), "column order.line_items.element.price.amount: table has decimal(18, 4)"},
		{"order.line_items.price.amount", iceberg.DecimalTypeOf(21, 5), "decimal(21, 5)"}, // scale change
		{"order.total_price", str, "column order.total_price: table has string, records have struct"},
		{"payload_json", iceberg.PrimitiveTypes.Binary, "column payload_json"},
		{ColKafkaOffset, iceberg.PrimitiveTypes.Int32, "column _kafka_offset"},
	} {
		err := Compatible(withChange(t, sc, tc.path, setType(tc.typ)), orderCreated)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s as %s: %v", tc.path, tc.typ, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s as %s: err = %v, want %q", tc.path, tc.typ, err, tc.want)
		}
	}
	// A required table column the records may leave null.
	required := withChange(t, sc, "order.cancel_reason", func(f iceberg.NestedField) iceberg.NestedField { f.Required = true; return f })
	if err := Compatible(required, orderCreated); err == nil || !strings.Contains(err.Error(), "order.cancel_reason: required") {
		t.Errorf("required column nullable in the records: err = %v", err)
	}
	// A required table column the records lack.
	lacking := withField(t, sc, "", iceberg.NestedField{Name: "must", Type: str, Required: true})
	if err := Compatible(lacking, orderCreated); err == nil || !strings.Contains(err.Error(), "column must: required") {
		t.Errorf("required column the records lack: err = %v", err)
	}
	// A required table column the records always fill is fine.
	if err := Compatible(withChange(t, sc, "order.order_id", func(f iceberg.NestedField) iceberg.NestedField { f.Required = true; return f }), orderCreated); err != nil {
		t.Errorf("required column the records always fill: %v", err)
	}
}
