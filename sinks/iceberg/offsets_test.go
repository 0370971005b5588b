package icebergsink

import (
	"reflect"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

func TestOffsetsOverlayKeepsOtherPartitions(t *testing.T) {
	parent := Offsets{"commerce": {0: 10, 1: 20}, "sync": {0: 5}}
	batch := Offsets{"commerce": {1: 25, 2: 3}}
	got := parent.Overlay(batch)
	want := Offsets{"commerce": {0: 10, 1: 25, 2: 3}, "sync": {0: 5}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("overlay = %v, want %v", got, want)
	}
	if parent["commerce"][1] != 20 {
		t.Fatalf("overlay changed its receiver: %v", parent)
	}
	if got.Len() != 4 {
		t.Fatalf("Len = %d", got.Len())
	}
}

func TestOffsetsEncodeRoundTrip(t *testing.T) {
	o := Offsets{"t.commerce": {2: 7, 0: 1, 10: 99}}
	enc := o.Encode()
	if enc != `{"t.commerce":{"0":1,"10":99,"2":7}}` {
		t.Fatalf("encode = %s", enc)
	}
	back, err := DecodeOffsets(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, o) {
		t.Fatalf("round trip = %v, want %v", back, o)
	}
	if _, err := DecodeOffsets(`{"t":{"x":1}}`); err == nil {
		t.Fatal("decoding a non-numeric partition succeeded")
	}
}

func TestOffsetsGetSetDelete(t *testing.T) {
	o := Offsets{}
	if _, ok := o.Get("a", 0); ok {
		t.Fatal("empty map has a partition")
	}
	o.Set("a", 0, 5)
	if v, ok := o.Get("a", 0); !ok || v != 5 {
		t.Fatalf("Get = %d %v", v, ok)
	}
	o.Delete("a", 0)
	if len(o) != 0 {
		t.Fatalf("Delete left %v", o)
	}
}

// TestCommittedOffsetsWalksAncestry checks where offsets are read from: per partition the greater
// of the newest ancestor that carries the property (a snapshot in between may carry none) and
// the table property (ahead when the marker moved without a snapshot).
func TestCommittedOffsetsWalksAncestry(t *testing.T) {
	key := OffsetsProperty("g")
	meta, err := table.NewMetadata(deadLetterSchema(), ptr(deadLetterSpec()), table.UnsortedSortOrder, "file:///tmp/x",
		iceberg.Properties{key: `{"t":{"0":1}}`})
	if err != nil {
		t.Fatal(err)
	}
	got, err := CommittedOffsets(meta, "g")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Offsets{"t": {0: 1}}) {
		t.Fatalf("no snapshot: got %v, want the table property", got)
	}

	b, err := table.MetadataBuilderFromBase(meta, "")
	if err != nil {
		t.Fatal(err)
	}
	addSnap := func(id int64, parent *int64, props iceberg.Properties) {
		t.Helper()
		snap := &table.Snapshot{SnapshotID: id, ParentSnapshotID: parent, SequenceNumber: id, TimestampMs: time.Now().UnixMilli() + 1000*id,
			ManifestList: "file:///tmp/x/m.avro", Summary: &table.Summary{Operation: table.OpAppend, Properties: props}}
		if err := b.AddSnapshot(snap); err != nil {
			t.Fatal(err)
		}
		if err := b.SetSnapshotRef(table.MainBranch, id, table.BranchRef); err != nil {
			t.Fatal(err)
		}
	}
	addSnap(1, nil, iceberg.Properties{key: `{"t":{"0":7}}`})
	addSnap(2, ptr(int64(1)), iceberg.Properties{key: `{"t":{"0":9,"1":2}}`})
	addSnap(3, ptr(int64(2)), iceberg.Properties{"other": "compaction"})
	built, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	got, err = CommittedOffsets(built, "g")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Offsets{"t": {0: 9, 1: 2}}) {
		t.Fatalf("got %v, want snapshot 2's map", got)
	}
	if got, _ := CommittedOffsets(built, "other-group"); len(got) != 0 {
		t.Fatalf("another group's offsets = %v, want none", got)
	}

	ahead, err := table.MetadataBuilderFromBase(built, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ahead.SetProperties(iceberg.Properties{key: `{"t":{"0":12,"2":5}}`}); err != nil {
		t.Fatal(err)
	}
	aheadMeta, err := ahead.Build()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := CommittedOffsets(aheadMeta, "g"); !reflect.DeepEqual(got, Offsets{"t": {0: 12, 1: 2, 2: 5}}) {
		t.Fatalf("property ahead of the snapshot: got %v", got)
	}
}

func TestLandedFindsCommitIDAfterBase(t *testing.T) {
	meta, err := table.NewMetadata(deadLetterSchema(), ptr(deadLetterSpec()), table.UnsortedSortOrder, "file:///tmp/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := table.MetadataBuilderFromBase(meta, "")
	for id := int64(1); id <= 3; id++ {
		var parent *int64
		if id > 1 {
			parent = ptr(id - 1)
		}
		snap := &table.Snapshot{SnapshotID: id, ParentSnapshotID: parent, SequenceNumber: id, TimestampMs: time.Now().UnixMilli() + 1000*id,
			ManifestList: "file:///tmp/x/m.avro", Summary: &table.Summary{Operation: table.OpAppend,
				Properties: iceberg.Properties{commitIDKey: []string{"", "a", "b", "c"}[id]}}}
		if err := b.AddSnapshot(snap); err != nil {
			t.Fatal(err)
		}
		if err := b.SetSnapshotRef(table.MainBranch, id, table.BranchRef); err != nil {
			t.Fatal(err)
		}
	}
	built, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	base := built.SnapshotByID(2)
	if !landed(built, "c", base) {
		t.Fatal("commit c after base 2 not found")
	}
	if landed(built, "a", base) {
		t.Fatal("commit a is at or before the base, must not count")
	}
	if !landed(built, "a", nil) {
		t.Fatal("commit a not found with no base")
	}
}
