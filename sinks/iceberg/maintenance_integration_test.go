package icebergsink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/storeline/storeline/testkit"
)

// The maintenance tests build a table with iceberg-go directly and append to it the way the
// sink does (data files, then one compare-and-swap commit carrying the offsets in the snapshot
// summary and the mirrored table property), without Kafka.

const maintGroup = "storeline-sink-iceberg"

var maintIdent = table.Identifier{"commerce", "maint_events"}

func maintCatalog(t *testing.T) (catalog.Catalog, string) {
	t.Helper()
	testkit.Integration(t)
	wh := t.TempDir()
	cat, err := OpenCatalog(context.Background(), Config{Warehouse: wh, CatalogURL: testkit.FreshDatabaseURL(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, ok := cat.(catalog.Closer); ok {
			_ = c.Close()
		}
	})
	return cat, wh
}

// maintTable creates commerce.maint_events, partitioned by day(created_at), with the sink's
// table properties.
func maintTable(t *testing.T, cat catalog.Catalog) *table.Table {
	t.Helper()
	ctx := context.Background()
	sc := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "created_at", Type: iceberg.PrimitiveTypes.TimestampTz, Required: true},
		iceberg.NestedField{ID: 3, Name: "amount", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 4, Name: "price", Type: iceberg.PrimitiveTypes.Float64, Required: true},
		iceberg.NestedField{ID: 5, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	spec := iceberg.NewPartitionSpec(iceberg.PartitionField{SourceIDs: []int{2}, FieldID: 1000, Name: "created_at_day", Transform: iceberg.DayTransform{}})
	if err := cat.CreateNamespace(ctx, table.Identifier{"commerce"}, nil); err != nil {
		t.Fatal(err)
	}
	tbl, err := cat.CreateTable(ctx, maintIdent, sc, catalog.WithPartitionSpec(&spec), catalog.WithProperties(iceberg.Properties{
		table.PropertyFormatVersion:               "2",
		table.ParquetCompressionKey:               "zstd",
		table.MetadataDeleteAfterCommitEnabledKey: "true",
		table.MetadataPreviousVersionsMaxKey:      "100",
		table.CommitNumRetriesKey:                 "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// maintAppend appends rows ids from..to-1, all created on day (0, 1 or 2), as the sink commits a
// batch: the files, the offsets {topic: {0: to}} in the summary and the table property.
func maintAppend(t *testing.T, cat catalog.Catalog, day, from, to int) *table.Table {
	t.Helper()
	ctx := context.Background()
	tbl, err := cat.LoadTable(ctx, maintIdent)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for n := from; n < to; n++ {
		b.Field(0).(*array.Int64Builder).Append(int64(n))
		ts := time.Date(2026, 3, 1+day, 10, 0, n%60, 0, time.UTC)
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMicro()))
		b.Field(2).(*array.Int64Builder).Append(int64(n * 3))
		b.Field(3).(*array.Float64Builder).Append(float64(n) + 0.25)
		b.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("row %d", n))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var files []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, tbl, sc, func(yield func(arrow.RecordBatch, error) bool) { yield(rec, nil) }) {
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, df)
	}
	offs := Offsets{}
	offs.Set("t.commerce", 0, int64(to))
	enc := offs.Encode()
	txn := tbl.NewTransaction()
	if err := txn.AssertRefSnapshotID(""); err != nil {
		t.Fatal(err)
	}
	if err := txn.SetProperties(iceberg.Properties{OffsetsProperty(maintGroup): enc}); err != nil {
		t.Fatal(err)
	}
	if err := txn.AddDataFiles(ctx, files, iceberg.Properties{OffsetsProperty(maintGroup): enc, commitIDKey: uuid.NewString()}, table.WithoutDuplicateCheck()); err != nil {
		t.Fatal(err)
	}
	next, err := txn.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// maintFill makes the 30 small appends of 20 rows each over 3 days (10 files per day).
func maintFill(t *testing.T, cat catalog.Catalog) {
	t.Helper()
	for i := range 30 {
		maintAppend(t, cat, i%3, i*20, (i+1)*20)
	}
}

type maintSums struct {
	rows                int64
	ids, amounts        int64
	prices              float64
	distinctIDs         int
	minID, maxID, nulls int64
}

// maintRead scans the table and sums every numeric column.
func maintRead(t *testing.T, cat catalog.Catalog) maintSums {
	t.Helper()
	tbl, err := cat.LoadTable(context.Background(), maintIdent)
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	s := maintSums{rows: at.NumRows(), minID: -1}
	col := func(name string) *arrow.Chunked {
		idx := at.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("column %s: %v", name, idx)
		}
		return at.Column(idx[0]).Data()
	}
	seen := map[int64]bool{}
	for _, c := range col("id").Chunks() {
		for _, v := range c.(*array.Int64).Int64Values() {
			s.ids += v
			seen[v] = true
			if s.minID < 0 || v < s.minID {
				s.minID = v
			}
			s.maxID = max(s.maxID, v)
		}
	}
	s.distinctIDs = len(seen)
	for _, c := range col("amount").Chunks() {
		for _, v := range c.(*array.Int64).Int64Values() {
			s.amounts += v
		}
	}
	for _, c := range col("price").Chunks() {
		for _, v := range c.(*array.Float64).Float64Values() {
			s.prices += v
		}
	}
	for _, c := range col("name").Chunks() {
		s.nulls += int64(c.NullN())
	}
	return s
}

func maintStatus(t *testing.T, cat catalog.Catalog) LakeTableStatus {
	t.Helper()
	tbl, err := cat.LoadTable(context.Background(), maintIdent)
	if err != nil {
		t.Fatal(err)
	}
	st, err := TableStatus(context.Background(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func maintOffsets(t *testing.T, cat catalog.Catalog) string {
	t.Helper()
	tbl, err := cat.LoadTable(context.Background(), maintIdent)
	if err != nil {
		t.Fatal(err)
	}
	o, err := CommittedOffsets(tbl.Metadata(), maintGroup)
	if err != nil {
		t.Fatal(err)
	}
	return o.Encode()
}

func filesPerDay(st LakeTableStatus) string {
	var parts []string
	for k, n := range st.FilesPerPartition {
		parts = append(parts, fmt.Sprintf("%s:%d", strings.TrimPrefix(k, "created_at_day="), n))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// 30 small appends over 3 days are compacted to one file per day; the rows, every column's
// sum and the sink's offsets are the same afterwards, and the sink appends on as before.
func TestMaintCompactSmallFiles(t *testing.T) {
	cat, _ := maintCatalog(t)
	maintTable(t, cat)
	maintFill(t, cat)
	ctx := context.Background()

	before, sumsBefore, offsBefore := maintStatus(t, cat), maintRead(t, cat), maintOffsets(t, cat)
	if before.DataFiles != 30 || before.Partitions != 3 || before.MaxFilesPerPartition != 10 || before.Rows != 600 {
		t.Fatalf("before compaction: %+v", before)
	}
	if offsBefore != `{"t.commerce":{"0":600}}` {
		t.Fatalf("offsets before: %s", offsBefore)
	}

	dry, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{DryRun: true})
	if err != nil || dry.Groups != 3 || dry.RemovedFiles != 30 || dry.SnapshotID != 0 {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if st := maintStatus(t, cat); st.Snapshots != before.Snapshots || st.DataFiles != 30 {
		t.Fatalf("a dry run changed the table: %+v", st)
	}

	res, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after, sumsAfter, offsAfter := maintStatus(t, cat), maintRead(t, cat), maintOffsets(t, cat)
	t.Logf("files per table-day, %s: before compaction [%s] (%d files, max %d/day, avg %.1f/day, %d bytes), after [%s] (%d files, max %d/day, avg %.1f/day, %d bytes)",
		strings.Join(maintIdent, "."), filesPerDay(before), before.DataFiles, before.MaxFilesPerPartition, before.AvgFilesPerPartition, before.TotalBytes,
		filesPerDay(after), after.DataFiles, after.MaxFilesPerPartition, after.AvgFilesPerPartition, after.TotalBytes)
	if res.RemovedFiles != 30 || res.AddedFiles != 3 || res.Rows != 600 || res.Attempts != 1 {
		t.Errorf("compaction: %+v", res)
	}
	if after.MaxFilesPerPartition > 2 || after.Partitions != 3 || after.Rows != 600 {
		t.Errorf("after compaction: %+v", after)
	}
	if sumsAfter != sumsBefore {
		t.Errorf("rows and sums: before %+v, after %+v", sumsBefore, sumsAfter)
	}
	if offsAfter != offsBefore {
		t.Errorf("offsets: before %s, after %s", offsBefore, offsAfter)
	}
	// The compaction snapshot itself carries the marker, and not the sink's commit id.
	tbl, _ := cat.LoadTable(ctx, maintIdent)
	cur := tbl.CurrentSnapshot()
	if cur.Summary.Operation != table.OpReplace || cur.Summary.Properties[OffsetsProperty(maintGroup)] != offsBefore {
		t.Errorf("compaction snapshot: %s", cur.Summary)
	}
	if _, ok := cur.Summary.Properties[commitIDKey]; ok {
		t.Errorf("compaction snapshot carries the sink's commit id: %s", cur.Summary)
	}

	// Nothing left to compact; the sink appends on top.
	if again, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{}); err != nil || again.Groups != 0 {
		t.Errorf("second compaction: %+v, %v", again, err)
	}
	maintAppend(t, cat, 0, 600, 620)
	if s, o := maintRead(t, cat), maintOffsets(t, cat); s.rows != 620 || s.distinctIDs != 620 || o != `{"t.commerce":{"0":620}}` {
		t.Errorf("after a later append: %d rows, %d ids, offsets %s", s.rows, s.distinctIDs, o)
	}
}

// The sink commits between the compaction's read and its commit: the compaction's
// compare-and-swap fails, and it commits the same files again on the new head, with the new
// head's offsets. No row is lost or duplicated, and the offsets are the sink's latest.
func TestMaintCompactConcurrentAppend(t *testing.T) {
	cat, _ := maintCatalog(t)
	maintTable(t, cat)
	maintFill(t, cat)
	ctx := context.Background()
	sumsBefore := maintRead(t, cat)

	compactHookBeforeCommit = func(attempt int) {
		if attempt == 1 {
			maintAppend(t, cat, 1, 600, 650)
		}
	}
	t.Cleanup(func() { compactHookBeforeCommit = nil })
	res, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 2 || res.SnapshotID == 0 || res.GaveUp != "" {
		t.Fatalf("compaction: %+v", res)
	}
	s := maintRead(t, cat)
	if s.rows != 650 || s.distinctIDs != 650 || s.minID != 0 || s.maxID != 649 {
		t.Errorf("after compaction with a concurrent append: %+v", s)
	}
	if want := sumsBefore.amounts + 3*(600+649)*50/2; s.amounts != want {
		t.Errorf("amounts %d, want %d", s.amounts, want)
	}
	if o := maintOffsets(t, cat); o != `{"t.commerce":{"0":650}}` {
		t.Errorf("offsets after: %s (the compaction's stale marker won?)", o)
	}
	tbl, _ := cat.LoadTable(ctx, maintIdent)
	if cur := tbl.CurrentSnapshot(); cur.Summary.Operation != table.OpReplace || cur.Summary.Properties[OffsetsProperty(maintGroup)] != `{"t.commerce":{"0":650}}` {
		t.Errorf("compaction snapshot: %s", cur.Summary)
	}
	st := maintStatus(t, cat)
	t.Logf("after compaction with a concurrent append: files per day [%s]", filesPerDay(st))
	if st.DataFiles != 4 { // 3 compacted + the concurrent append's
		t.Errorf("files: %+v", st)
	}
}

// Another compaction replaced the inputs meanwhile: this one gives up for the round and
// removes the files it wrote.
func TestMaintCompactGivesUpWhenInputsMoved(t *testing.T) {
	cat, wh := maintCatalog(t)
	maintTable(t, cat)
	maintFill(t, cat)
	ctx := context.Background()
	compactHookBeforeCommit = func(attempt int) {
		if attempt == 1 {
			compactHookBeforeCommit = nil
			if _, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{}); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(func() { compactHookBeforeCommit = nil })
	res, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{})
	if err != nil || res.GaveUp == "" || res.SnapshotID != 0 {
		t.Fatalf("compaction: %+v, %v", res, err)
	}
	if s := maintRead(t, cat); s.rows != 600 || s.distinctIDs != 600 {
		t.Errorf("rows: %+v", s)
	}
	st := maintStatus(t, cat)
	if n := countParquet(t, wh); n != 30+st.DataFiles {
		t.Errorf("%d parquet files on disk, want the 30 appended and %d compacted (the loser's removed)", n, st.DataFiles)
	}
}

func countParquet(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Expiry keeps the newest snapshots, deletes the files only expired snapshots held (the small
// files compaction replaced), and the table reads the same, offsets included.
func TestMaintExpireKeepsMarker(t *testing.T) {
	cat, wh := maintCatalog(t)
	maintTable(t, cat)
	maintFill(t, cat)
	ctx := context.Background()
	if _, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{}); err != nil {
		t.Fatal(err)
	}
	sums, offs := maintRead(t, cat), maintOffsets(t, cat)
	before := maintStatus(t, cat)
	if n := countParquet(t, wh); n != 33 {
		t.Fatalf("%d parquet files before expiry", n)
	}
	opts := MaintenanceOptions{SnapshotRetention: time.Millisecond, RetainSnapshots: 2}
	waitSnapshotsOlderThan(t, cat, opts.SnapshotRetention)

	dry := opts
	dry.DryRun = true
	d, err := ExpireSnapshots(ctx, cat, maintIdent, dry)
	if err != nil || len(d.Expired) != before.Snapshots-2 {
		t.Fatalf("dry run: %+v, %v", d, err)
	}
	if st := maintStatus(t, cat); st.Snapshots != before.Snapshots {
		t.Fatalf("a dry run expired snapshots")
	}

	res, err := ExpireSnapshots(ctx, cat, maintIdent, opts)
	if err != nil {
		t.Fatal(err)
	}
	after := maintStatus(t, cat)
	t.Logf("expiry: %d snapshots before, %d after; %d parquet files on disk", res.SnapshotsBefore, after.Snapshots, countParquet(t, wh))
	if after.Snapshots != 2 || res.SnapshotsAfter != 2 {
		t.Errorf("snapshots after expiry: %d (%+v)", after.Snapshots, res)
	}
	if s := maintRead(t, cat); s != sums {
		t.Errorf("table reads %+v after expiry, %+v before", s, sums)
	}
	if o := maintOffsets(t, cat); o != offs {
		t.Errorf("offsets %s after expiry, %s before", o, offs)
	}
	if n := countParquet(t, wh); n != 33 {
		t.Errorf("%d parquet files after expiry, want 33 (the last append, kept, still holds the small files)", n)
	}

	// Expire down to the current snapshot only, with the marker then held by it and by the
	// table property; and with it gone from every snapshot (another writer's), by the property.
	res, err = ExpireSnapshots(ctx, cat, maintIdent, MaintenanceOptions{SnapshotRetention: time.Millisecond, RetainSnapshots: 1})
	if err != nil || res.SnapshotsAfter != 1 {
		t.Fatalf("expire to 1: %+v, %v", res, err)
	}
	if o := maintOffsets(t, cat); o != offs {
		t.Errorf("offsets %s after expiry to one snapshot, %s before", o, offs)
	}
	if n := countParquet(t, wh); n != 3 {
		t.Errorf("%d parquet files after expiry to the compaction, want the 3 compacted ones", n)
	}
	if s := maintRead(t, cat); s != sums {
		t.Errorf("table reads %+v after expiry to one snapshot, %+v before", s, sums)
	}
	tbl, _ := cat.LoadTable(ctx, maintIdent)
	txn := tbl.NewTransaction()
	if err := txn.Delete(ctx, iceberg.EqualTo(iceberg.Reference("id"), int64(-1)), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitSnapshotsOlderThan(t, cat, time.Millisecond)
	if _, err := ExpireSnapshots(ctx, cat, maintIdent, MaintenanceOptions{SnapshotRetention: time.Millisecond, RetainSnapshots: 1}); err != nil {
		t.Fatal(err)
	}
	if o := maintOffsets(t, cat); o != offs {
		t.Errorf("offsets %s from the table property, %s before", o, offs)
	}
}

// Orphan cleanup deletes an old unreferenced file and keeps referenced files (however old) and
// a young orphan (a running sink's file before its commit).
func TestMaintOrphanCleanup(t *testing.T) {
	cat, wh := maintCatalog(t)
	tbl := maintTable(t, cat)
	for i := range 6 {
		tbl = maintAppend(t, cat, i%3, i*20, (i+1)*20)
	}
	ctx := context.Background()
	sums := maintRead(t, cat)
	loc := strings.TrimPrefix(tbl.Location(), "file://")
	old := time.Now().Add(-48 * time.Hour)
	// Everything the table holds is two days old.
	err := filepath.WalkDir(loc, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			err = os.Chtimes(p, old, old)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	oldOrphan := filepath.Join(loc, "data", "created_at_day=2026-03-01", "00000-0-orphan-old.parquet")
	youngOrphan := filepath.Join(loc, "data", "created_at_day=2026-03-01", "00000-0-orphan-young.parquet")
	oldMeta := filepath.Join(loc, "metadata", "snap-0-orphan.avro")
	for _, p := range []string{oldOrphan, youngOrphan, oldMeta} {
		if err := os.WriteFile(p, []byte("not referenced"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{oldOrphan, oldMeta} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := DeleteOrphanFiles(ctx, cat, maintIdent, MaintenanceOptions{OrphanAge: time.Minute}); err == nil {
		t.Error("an orphan age of a minute was accepted")
	}

	dry, err := DeleteOrphanFiles(ctx, cat, maintIdent, MaintenanceOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{oldOrphan, oldMeta}
	slices.Sort(want)
	if !sameFiles(dry.Orphans, want) || dry.Deleted != 0 {
		t.Fatalf("dry run found %v (deleted %d), want %v", dry.Orphans, dry.Deleted, want)
	}
	for _, p := range want {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("dry run deleted %s", p)
		}
	}
	res, err := DeleteOrphanFiles(ctx, cat, maintIdent, MaintenanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameFiles(res.Orphans, want) || res.Deleted != 2 {
		t.Errorf("cleanup found %v, deleted %d", res.Orphans, res.Deleted)
	}
	for _, p := range want {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there", p)
		}
	}
	if _, err := os.Stat(youngOrphan); err != nil {
		t.Errorf("the young orphan was deleted: %v", err)
	}
	if s := maintRead(t, cat); s != sums {
		t.Errorf("table reads %+v after cleanup, %+v before", s, sums)
	}
	if n := countParquet(t, wh); n != 6+1 {
		t.Errorf("%d parquet files, want 6 referenced and the young orphan", n)
	}
}

// sameFiles compares listed paths with local paths, whether listed as paths or file:// URIs.
func sameFiles(got, want []string) bool {
	g := make([]string, len(got))
	for i, p := range got {
		g[i] = strings.TrimPrefix(p, "file://")
	}
	slices.Sort(g)
	return slices.Equal(g, want)
}

// The sink advanced the marker of a table in its property alone (a table that got no rows): the
// compaction's snapshot carries the marker as CommittedOffsets reads it, the greater per
// partition, so it never takes the table back.
func TestMaintCompactCarriesAPropertyOnlyMarker(t *testing.T) {
	cat, _ := maintCatalog(t)
	maintTable(t, cat)
	maintFill(t, cat)
	ctx := context.Background()
	tbl, err := cat.LoadTable(ctx, maintIdent)
	if err != nil {
		t.Fatal(err)
	}
	const advanced = `{"t.commerce":{"0":700,"1":5}}`
	txn := tbl.NewTransaction()
	if err := txn.SetProperties(iceberg.Properties{OffsetsProperty(maintGroup): advanced}); err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if o := maintOffsets(t, cat); o != advanced {
		t.Fatalf("offsets before compaction: %s", o)
	}
	if _, err := CompactTable(ctx, cat, maintIdent, MaintenanceOptions{}); err != nil {
		t.Fatal(err)
	}
	if o := maintOffsets(t, cat); o != advanced {
		t.Errorf("offsets after compaction: %s, want %s", o, advanced)
	}
	tbl, _ = cat.LoadTable(ctx, maintIdent)
	if got := tbl.CurrentSnapshot().Summary.Properties[OffsetsProperty(maintGroup)]; got != advanced {
		t.Errorf("compaction snapshot's marker %s, want %s", got, advanced)
	}
	st := maintStatus(t, cat)
	if got := st.Offsets[maintGroup].Encode(); got != advanced {
		t.Errorf("status offsets %s", got)
	}
}

// waitSnapshotsOlderThan waits until the table's newest snapshot is older than age, so that a
// retention of age covers every snapshot.
func waitSnapshotsOlderThan(t *testing.T, cat catalog.Catalog, age time.Duration) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, "the newest snapshot to age", func() error {
		tbl, err := cat.LoadTable(context.Background(), maintIdent)
		if err != nil {
			return err
		}
		snap := tbl.CurrentSnapshot()
		if snap == nil {
			return errors.New("no snapshot")
		}
		if since := time.Since(time.UnixMilli(snap.TimestampMs)); since <= age {
			return fmt.Errorf("newest snapshot %s old", since)
		}
		return nil
	})
}
