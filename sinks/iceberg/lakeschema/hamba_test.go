package lakeschema

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
)

// allTypes is a record with every Avro type and logical type the mapping handles, in and out
// of unions.
const allTypes = `{"type":"record","name":"All","namespace":"x.y","fields":[
	{"name":"i","type":"int"},{"name":"l","type":"long"},{"name":"f","type":"float"},{"name":"d","type":"double"},
	{"name":"b","type":"boolean"},{"name":"s","type":"string"},{"name":"by","type":"bytes"},
	{"name":"u","type":{"type":"string","logicalType":"uuid"}},
	{"name":"dt","type":{"type":"int","logicalType":"date"}},
	{"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
	{"name":"tu","type":{"type":"long","logicalType":"time-micros"}},
	{"name":"tsm","type":{"type":"long","logicalType":"timestamp-millis"}},
	{"name":"tsu","type":{"type":"long","logicalType":"timestamp-micros"}},
	{"name":"ltm","type":{"type":"long","logicalType":"local-timestamp-millis"}},
	{"name":"ltu","type":{"type":"long","logicalType":"local-timestamp-micros"}},
	{"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
	{"name":"fx","type":{"type":"fixed","name":"F4","size":4}},
	{"name":"fdec","type":{"type":"fixed","name":"FD","size":8,"logicalType":"decimal","precision":18,"scale":3}},
	{"name":"en","type":{"type":"enum","name":"E","symbols":["A","B"]}},
	{"name":"arr","type":{"type":"array","items":"long"}},
	{"name":"m","type":{"type":"map","values":"int"}},
	{"name":"rec","type":{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"t","type":["null","string"]}]}},
	{"name":"ni","type":["null","int"]},{"name":"nl","type":["long","null"]},{"name":"nf","type":["null","float"]},
	{"name":"nd","type":["null","double"]},{"name":"nb","type":["null","boolean"]},
	{"name":"ns","type":["null","string"]},{"name":"nby","type":["null","bytes"]},
	{"name":"nu","type":["null",{"type":"string","logicalType":"uuid"}]},
	{"name":"ndt","type":["null",{"type":"int","logicalType":"date"}]},
	{"name":"ntm","type":["null",{"type":"int","logicalType":"time-millis"}]},
	{"name":"ntsu","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
	{"name":"nltu","type":["null",{"type":"long","logicalType":"local-timestamp-micros"}]},
	{"name":"ndec","type":["null",{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}]},
	{"name":"nfdec","type":["null","FD"]},
	{"name":"nrec","type":["null","R"]},{"name":"narr","type":["null",{"type":"array","items":"int"}]},
	{"name":"nm","type":["null",{"type":"map","values":"string"}]},{"name":"nen","type":["null","E"]},
	{"name":"nfx","type":["null","F4"]},
	{"name":"sl","type":["string","long"]},
	{"name":"sr","type":["null","string","R"]},
	{"name":"lm","type":{"type":"array","items":{"type":"map","values":["null","R"]}}}
	]}`

var (
	tsMicro = time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	tsMilli = time.Date(2026, 1, 2, 3, 4, 5, 7000000, time.UTC)
	day     = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
)

// allTypesValue is a value of allTypes in the form avro.Marshal takes.
func allTypesValue() map[string]any {
	return map[string]any{
		"i": 1, "l": int64(2), "f": float32(1.5), "d": 2.5, "b": true, "s": "s", "by": []byte("x"),
		"u": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "dt": day, "tm": 1500 * time.Millisecond, "tu": 7 * time.Microsecond,
		"tsm": tsMilli, "tsu": tsMicro, "ltm": tsMilli, "ltu": tsMicro,
		"dec": big.NewRat(-12345, 100), "fx": [4]byte{1, 2, 3, 4}, "fdec": big.NewRat(1, 8),
		"en": "B", "arr": []any{int64(1), int64(-2)}, "m": map[string]any{"k": 3, "a": 4},
		"rec": map[string]any{"a": 7, "t": nil},
		"ni":  1, "nl": int64(2), "nf": float32(1), "nd": 3.5, "nb": false, "ns": "s", "nby": []byte("y"),
		"nu": "6ba7b811-9dad-11d1-80b4-00c04fd430c8", "ndt": day, "ntm": time.Second,
		"ntsu": tsMicro, "nltu": map[string]any{"long.local-timestamp-micros": tsMicro},
		"ndec": big.NewRat(1, 2), "nfdec": map[string]any{"x.y.FD": big.NewRat(-3, 2)},
		"nrec": map[string]any{"x.y.R": map[string]any{"a": 8, "t": "eight"}},
		"narr": map[string]any{"array": []any{1, 2}}, "nm": map[string]any{"map": map[string]any{"z": "zz"}},
		"nen": map[string]any{"x.y.E": "A"}, "nfx": map[string]any{"x.y.F4": [4]byte{9, 9, 9, 9}},
		"sl": int64(5), "sr": map[string]any{"x.y.R": map[string]any{"a": 9, "t": nil}},
		"lm": []any{map[string]any{"k": nil, "j": map[string]any{"x.y.R": map[string]any{"a": 10, "t": "ten"}}}, map[string]any{}},
	}
}

// decodeGeneric encodes v with s and decodes it back the way the sink does: into an any.
func decodeGeneric(t testing.TB, s avro.Schema, v any) map[string]any {
	t.Helper()
	body, err := avro.Marshal(s, v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out any
	if err := avro.Unmarshal(s, body, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out.(map[string]any)
}

// TestHambaGenericDecodeTypes pins the Go types hamba/avro's generic decoding returns, which
// the builder's column appenders switch on (see the package doc): a hamba upgrade that changes
// them fails here first.
func TestHambaGenericDecodeTypes(t *testing.T) {
	s := avro.MustParse(allTypes)
	got := decodeGeneric(t, s, allTypesValue())
	typeOf := func(v any) string { return reflect.TypeOf(v).String() }
	want := map[string]string{
		"i": "int", "l": "int64", "f": "float32", "d": "float64", "b": "bool", "s": "string", "by": "[]uint8",
		"u": "string", "dt": "time.Time", "tm": "time.Duration", "tu": "time.Duration",
		"tsm": "time.Time", "tsu": "time.Time", "ltm": "time.Time", "ltu": "time.Time",
		"dec": "*big.Rat", "fx": "[4]uint8", "fdec": "*big.Rat", "en": "string",
		"arr": "[]interface {}", "m": "map[string]interface {}", "rec": "map[string]interface {}",
		"ni": "int", "nl": "int64", "nf": "float32", "nd": "float64", "nb": "bool", "ns": "string", "nby": "[]uint8",
		"nu": "string", "ndt": "time.Time", "ntm": "time.Duration", "ntsu": "time.Time", "ndec": "*big.Rat",
		"sl": "int64",
		// Branches hamba's type resolver does not know come as a one-entry map.
		"nltu": "map[string]interface {}", "nfdec": "map[string]interface {}", "nrec": "map[string]interface {}",
		"narr": "map[string]interface {}", "nm": "map[string]interface {}", "nen": "map[string]interface {}",
		"nfx": "map[string]interface {}", "sr": "map[string]interface {}", "lm": "[]interface {}",
	}
	for k, w := range want {
		if g := typeOf(got[k]); g != w {
			t.Errorf("%s decodes to %s, want %s", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("decoded %d fields, want %d", len(got), len(want))
	}
	wrapped := map[string]string{
		"nltu": "long.local-timestamp-micros", "nfdec": "x.y.FD", "nrec": "x.y.R", "narr": "array",
		"nm": "map", "nen": "x.y.E", "nfx": "x.y.F4", "sr": "x.y.R",
	}
	for k, key := range wrapped {
		m := got[k].(map[string]any)
		if _, ok := m[key]; !ok || len(m) != 1 {
			t.Errorf("%s = %#v, want one entry keyed %s", k, m, key)
		}
	}
	if _, ok := got["rec"].(map[string]any)["t"]; !ok {
		t.Error("a null field of a record is absent from its map, want present and nil")
	}
	if g := typeOf(got["m"].(map[string]any)["k"]); g != "int" {
		t.Errorf("map value decodes to %s", g)
	}
	// local-timestamp: the wall clock is the stored value, in time.Local.
	if ltu := got["ltu"].(time.Time); ltu.Location() != time.Local {
		t.Errorf("local-timestamp-micros decodes in %v, want Local", ltu.Location())
	}
	if tsu := got["tsu"].(time.Time); tsu.Location() != time.UTC || !tsu.Equal(tsMicro) {
		t.Errorf("timestamp-micros decodes to %v", tsu)
	}
}
