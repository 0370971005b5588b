package registry

import (
	"errors"
	"testing"
)

const (
	stateV1 = `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"}]}`
	stateV2 = `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"},{"name":"b","type":["null","string"],"default":null}]}`
)

func schemaRecord(t *testing.T, subject string, version int, text string) (key, value []byte) {
	t.Helper()
	p, err := parseSchema(text)
	if err != nil {
		t.Fatal(err)
	}
	return encodeSchemaRecord(schemaValue{Subject: subject, Version: version, ID: p.id(), Schema: text, SchemaType: schemaTypeAvro})
}

func TestKeysAreDeterministicBytes(t *testing.T) {
	k, _ := encodeSchemaRecord(schemaValue{Subject: "s", Version: 3, ID: 9, Schema: stateV1})
	if got, want := string(k), `{"keytype":"SCHEMA","subject":"s","version":3}`; got != want {
		t.Fatalf("schema key %s, want %s", got, want)
	}
	k, v := encodeConfigRecord("", LevelFull)
	if string(k) != `{"keytype":"CONFIG","subject":""}` || string(v) != `{"compatibilityLevel":"FULL"}` {
		t.Fatalf("config record %s → %s", k, v)
	}
	if _, v := encodeConfigRecord("s", ""); v != nil {
		t.Fatalf("deleting a config is not a tombstone: %q", v)
	}
}

func TestFoldFirstRecordOfAVersionWins(t *testing.T) {
	st := newState()
	k1, w := schemaRecord(t, "s", 1, stateV1)
	_, l := schemaRecord(t, "s", 1, stateV2) // a losing writer proposed version 1 too
	if err := st.apply(k1, w, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.apply(k1, l, 1); err != nil {
		t.Fatal(err)
	}
	v, err := st.get("s", 1)
	if err != nil || v.Schema != stateV1 {
		t.Fatalf("version 1 is %+v, %v; want the first record's schema", v, err)
	}
	if _, ok := st.conflicts[versionKey{"s", 1}]; !ok {
		t.Fatal("a losing record last for its key is not tracked as a conflict")
	}
	if _, ok := st.ids[v.ID+0]; !ok {
		t.Fatal("winner's id unknown")
	}
	p2, _ := parseSchema(stateV2)
	if _, ok := st.ids[p2.id()]; ok {
		t.Fatal("the loser's id is served")
	}
	// The loser repairs: the winner's value again, last for its key.
	if err := st.apply(k1, w, 2); err != nil {
		t.Fatal(err)
	}
	if len(st.conflicts) != 0 {
		t.Fatalf("conflicts after repair: %v", st.conflicts)
	}
	if vs := st.subjects["s"]; len(vs) != 1 {
		t.Fatalf("subject has %d versions", len(vs))
	}
}

func TestFoldConfigIsLastWriterWinsAndTombstoneDeletes(t *testing.T) {
	st := newState()
	if st.level("s") != LevelBackward {
		t.Fatalf("default level %s", st.level("s"))
	}
	for i, rec := range []struct {
		subject string
		level   Level
	}{{"", LevelFull}, {"s", LevelNone}, {"s", LevelForward}} {
		k, v := encodeConfigRecord(rec.subject, rec.level)
		if err := st.apply(k, v, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if st.level("s") != LevelForward || st.level("other") != LevelFull {
		t.Fatalf("levels s=%s other=%s", st.level("s"), st.level("other"))
	}
	k, v := encodeConfigRecord("s", "")
	if err := st.apply(k, v, 3); err != nil {
		t.Fatal(err)
	}
	if st.level("s") != LevelFull {
		t.Fatalf("after deleting its config, s is %s, want the global FULL", st.level("s"))
	}
}

func TestFoldIgnoresMalformedRecords(t *testing.T) {
	st := newState()
	k, v := schemaRecord(t, "s", 1, stateV1)
	cases := []struct{ name, key, value string }{
		{"undecodable key", `nope`, string(v)},
		{"unknown keytype", `{"keytype":"DELETE_SUBJECT","subject":"s"}`, `{}`},
		{"value for another key", `{"keytype":"SCHEMA","subject":"s","version":2}`, string(v)},
		{"undecodable value", string(k), `{`},
		{"protobuf", `{"keytype":"SCHEMA","subject":"p","version":1}`, `{"subject":"p","version":1,"id":5,"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`},
		{"invalid level", `{"keytype":"CONFIG","subject":"s"}`, `{"compatibilityLevel":"SOMETIMES"}`},
	}
	for i, c := range cases {
		if err := st.apply([]byte(c.key), []byte(c.value), int64(i)); err == nil {
			t.Errorf("%s: applied without complaint", c.name)
		}
	}
	if len(st.subjects) != 0 || len(st.configs) != 0 {
		t.Fatalf("malformed records changed the state: %v %v", st.subjects, st.configs)
	}
	// A malformed record does not take the key: the next good one decides it.
	if err := st.apply(k, v, 10); err != nil {
		t.Fatal(err)
	}
	nk, nv := encodeNoopRecord()
	if err := st.apply(nk, nv, 11); err != nil {
		t.Fatalf("noop: %v", err)
	}
	if _, err := st.get("s", Latest); err != nil {
		t.Fatal(err)
	}
}

func TestFoldReportsIDCollision(t *testing.T) {
	st := newState()
	k, v := encodeSchemaRecord(schemaValue{Subject: "a", Version: 1, ID: 7, Schema: stateV1, SchemaType: schemaTypeAvro})
	if err := st.apply(k, v, 0); err != nil {
		t.Fatal(err)
	}
	k, v = encodeSchemaRecord(schemaValue{Subject: "b", Version: 1, ID: 7, Schema: stateV2, SchemaType: schemaTypeAvro})
	if err := st.apply(k, v, 1); !errors.Is(err, errIDCollision) {
		t.Fatalf("collision not reported: %v", err)
	}
	if st.ids[7].Schema != stateV1 {
		t.Fatal("id 7 no longer serves the first schema")
	}
}
