package registry

import (
	"strings"
	"testing"
)

func versions(t *testing.T, texts ...string) []*version {
	t.Helper()
	out := make([]*version, len(texts))
	for i, text := range texts {
		p, err := parseSchema(text)
		if err != nil {
			t.Fatalf("version %d: %v", i+1, err)
		}
		out[i] = &version{schemaValue: schemaValue{Version: i + 1, Schema: text}, parsed: p}
	}
	return out
}

func record(fields string) string {
	return `{"type":"record","name":"T","namespace":"x","fields":[` + fields + `]}`
}

const (
	fieldA         = `{"name":"a","type":"int"}`
	fieldALong     = `{"name":"a","type":"long"}`
	fieldBDefault  = `{"name":"b","type":"string","default":"x"}`
	fieldBRequired = `{"name":"b","type":"string"}`
)

func TestCompatibilityLevelsFollowAvroResolution(t *testing.T) {
	cases := []struct {
		name      string
		level     Level
		history   []string
		candidate string
		wantErr   string // "" compatible; otherwise part of the reason
	}{
		{"backward: new field with default", LevelBackward, []string{record(fieldA)}, record(fieldA + "," + fieldBDefault), ""},
		{"backward: new field without default", LevelBackward, []string{record(fieldA)}, record(fieldA + "," + fieldBRequired),
			"reader field b is missing in writer schema and has no default"},
		{"backward: removed field", LevelBackward, []string{record(fieldA + "," + fieldBRequired)}, record(fieldA), ""},
		{"backward: int promoted to long", LevelBackward, []string{record(fieldA)}, record(fieldALong), ""},
		{"backward: long narrowed to int", LevelBackward, []string{record(fieldALong)}, record(fieldA), "not compatible"},
		{"forward: removed field without default", LevelForward, []string{record(fieldA + "," + fieldBRequired)}, record(fieldA),
			"reader field b is missing"},
		{"forward: removed field with default", LevelForward, []string{record(fieldA + "," + fieldBDefault)}, record(fieldA), ""},
		{"forward: new field without default", LevelForward, []string{record(fieldA)}, record(fieldA + "," + fieldBRequired), ""},
		{"full: new field without default", LevelFull, []string{record(fieldA)}, record(fieldA + "," + fieldBRequired), "missing"},
		{"full: new field with default", LevelFull, []string{record(fieldA)}, record(fieldA + "," + fieldBDefault), ""},
		{"none: anything", LevelNone, []string{record(fieldA)}, `"string"`, ""},
		// Avro resolves on the underlying type; a decimal whose scale changed would read 1.2345
		// as 123.4500. Refused.
		{"backward: decimal scale changed", LevelBackward,
			[]string{record(`{"name":"m","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}}`)},
			record(`{"name":"m","type":{"type":"bytes","logicalType":"decimal","precision":20,"scale":2}}`), "decimal(20,4) cannot be read as decimal(20,2)"},
		{"backward: timestamp unit changed", LevelBackward,
			[]string{record(`{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}}`)},
			record(`{"name":"t","type":{"type":"long","logicalType":"timestamp-micros"}}`), "timestamp-millis cannot be read as timestamp-micros"},
		// v1 lacks b; v2 adds it with a default; v3 drops the default: fine against v2 (which
		// always wrote b), not against v1.
		{"backward checks the latest only", LevelBackward,
			[]string{record(fieldA), record(fieldA + "," + fieldBDefault)}, record(fieldA + "," + fieldBRequired), ""},
		{"backward transitive checks every version", LevelBackwardTransitive,
			[]string{record(fieldA), record(fieldA + "," + fieldBDefault)}, record(fieldA + "," + fieldBRequired),
			"written with version 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cand, err := parseSchema(c.candidate)
			if err != nil {
				t.Fatal(err)
			}
			msgs := c.level.check(cand, c.level.against(versions(t, c.history...)))
			got := strings.Join(msgs, "; ")
			switch {
			case c.wantErr == "" && len(msgs) > 0:
				t.Fatalf("refused: %s", got)
			case c.wantErr != "" && !strings.Contains(got, c.wantErr):
				t.Fatalf("reasons %q, want one containing %q", got, c.wantErr)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	if l, err := ParseLevel("full_transitive"); err != nil || l != LevelFullTransitive {
		t.Fatalf("ParseLevel: %s, %v", l, err)
	}
	if _, err := ParseLevel("SOMETIMES"); err == nil {
		t.Fatal("an invalid level parsed")
	}
}

func TestSchemaIdentity(t *testing.T) {
	base := `{"type":"record","name":"T","namespace":"x","doc":"a T","fields":[{"name":"a","type":"long","default":1}]}`
	reformatted := "{\n  \"namespace\": \"x\", \"name\": \"T\",\n  \"type\": \"record\", \"doc\": \"a T\",\n  \"fields\": [ {\"type\": \"long\", \"name\": \"a\", \"default\": 1} ]\n}"
	otherDoc := `{"type":"record","name":"T","namespace":"x","doc":"another T","fields":[{"name":"a","type":"long","default":1}]}`
	otherDefault := `{"type":"record","name":"T","namespace":"x","doc":"a T","fields":[{"name":"a","type":"long","default":2}]}`
	id := func(text string) int {
		t.Helper()
		id, err := SchemaID(text)
		if err != nil {
			t.Fatal(err)
		}
		if id < 1 {
			t.Fatalf("id %d is not positive", id)
		}
		return id
	}
	if id(base) != id(reformatted) {
		t.Fatal("formatting changed the id")
	}
	if id(base) == id(otherDoc) || id(base) == id(otherDefault) {
		t.Fatal("a different doc or default kept the id: the new version would be swallowed by the old one")
	}
	if _, err := SchemaID(`{"type":"record","name":"T","fields":[{"name":"a","type":"Unknown"}]}`); err == nil {
		t.Fatal("a schema referencing an undefined type parsed")
	}
	// Nothing leaks between parses: a type defined by one schema is unknown to the next.
	if _, err := SchemaID(`{"type":"record","name":"U","namespace":"x","fields":[{"name":"t","type":"x.T"}]}`); err == nil {
		t.Fatal("a type from an earlier parse resolved")
	}
}
