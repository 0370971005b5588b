package lakeschema

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
)

// TestWriteRecordsAcceptsRecords writes records of every event type with iceberg-go's
// table.WriteRecords (Parquet data files, no commit; a table made from metadata alone, on the
// local file system: no catalog is needed) into a table partitioned by PartitionSpec, and reads
// the Parquet files back: same rows.
func TestWriteRecordsAcceptsRecords(t *testing.T) {
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cat.Kinds() {
		t.Run(k.Type, func(t *testing.T) {
			sc := mustSchema(t, k.Schema.(*avro.RecordSchema))
			tbl := newLocalTable(t, sc)
			// The table's schema as the catalog left it (ids reassigned), as a sink would see it.
			asc := arrowSchema(t, tbl.Schema())
			b := NewBuilder(memory.DefaultAllocator, asc)
			defer b.Release()
			var want []map[string]any
			for i := range 3 {
				ev := eventstest.Sample(k, i)
				value := decodeGeneric(t, k.Schema, ev)
				m := testMeta(i)
				m.EventID, m.OccurredAt, _ = EnvelopeMeta(value)
				if err := b.Append(value, m); err != nil {
					t.Fatal(err)
				}
				want = append(want, eventstest.Normal(k, ev).(map[string]any))
			}
			rec := b.NewRecord()
			defer rec.Release()
			got := writeAndRead(t, tbl, asc, rec)
			ids := slices.Sorted(func(yield func(string) bool) {
				for id := range got {
					if !yield(id) {
						return
					}
				}
			})
			if len(ids) != 3 {
				t.Fatalf("read back %d rows: %v", len(ids), ids)
			}
			for _, w := range want {
				id := w["envelope"].(map[string]any)["event_id"].(string)
				for _, d := range diff(id, got[id], w) {
					t.Error(d)
				}
			}
		})
	}
}

// writeAndRead writes rec into tbl with table.WriteRecords and reads the data files back: the
// rows' data columns by event id.
func writeAndRead(t *testing.T, tbl *table.Table, asc *arrow.Schema, rec arrow.RecordBatch) map[string]map[string]any {
	t.Helper()
	ctx := context.Background()
	var files []string
	var rows int64
	for df, err := range table.WriteRecords(ctx, tbl, asc, func(yield func(arrow.RecordBatch, error) bool) { yield(rec, nil) }) {
		if err != nil {
			t.Fatalf("WriteRecords: %v", err)
		}
		files = append(files, strings.TrimPrefix(df.FilePath(), "file://"))
		rows += df.Count()
	}
	if rows != rec.NumRows() {
		t.Fatalf("data files hold %d rows, want %d", rows, rec.NumRows())
	}
	// Read the rows back, by event id.
	got := map[string]map[string]any{}
	for _, f := range files {
		fh, err := os.Open(filepath.Clean(f))
		if err != nil {
			t.Fatal(err)
		}
		tab, err := pqarrow.ReadTable(ctx, fh, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		tr := array.NewTableReader(tab, -1)
		for tr.Next() {
			r := tr.RecordBatch()
			for i := range int(r.NumRows()) {
				data, meta := row(r, i)
				got[meta[ColEventID].(string)] = data
			}
		}
		tr.Release()
		tab.Release()
	}
	return got
}

// newLocalTable is a table of schema sc partitioned by PartitionSpec, from metadata alone, on
// the local file system.
func newLocalTable(t *testing.T, sc *iceberg.Schema) *table.Table {
	t.Helper()
	spec, err := PartitionSpec(sc)
	if err != nil {
		t.Fatal(err)
	}
	loc := "file://" + t.TempDir()
	meta, err := table.NewMetadata(sc, &spec, table.UnsortedSortOrder, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	return table.New(table.Identifier{"test", "t"}, meta, loc+"/metadata/v1.metadata.json", iceio.LoadFSFunc(nil, loc), nil)
}

// TestWriteRecordsAllTypes writes the types the event schemas do not use yet (maps, fixed,
// time, local timestamps, unions of several branches) through WriteRecords and back.
func TestWriteRecordsAllTypes(t *testing.T) {
	s := avro.MustParse(allTypes)
	tbl := newLocalTable(t, mustSchema(t, s))
	asc := arrowSchema(t, tbl.Schema())
	b := NewBuilder(memory.DefaultAllocator, asc)
	defer b.Release()
	value := decodeGeneric(t, s, allTypesValue())
	if err := b.Append(value, testMeta(0)); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	want, _ := row(rec, 0)
	got := writeAndRead(t, tbl, asc, rec)
	for _, d := range diff("row", got[testMeta(0).EventID], want) {
		t.Error(d)
	}
}
