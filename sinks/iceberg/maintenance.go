package icebergsink

// Table maintenance of the lake: compaction of the small files a 10 s commit interval makes,
// snapshot expiry with a retention, and orphan-file cleanup — on a schedule (the scheduler role)
// and on demand (storeline lake status|compact|expire).
//
// What iceberg-go v0.7.0 does and what is done here:
//
//   - Compaction. The bin-pack planner (table/compaction: Config.PlanCompaction) picks, per
//     partition, the files smaller than 75 % of the target; table.ExecuteCompactionGroup reads
//     them and writes the larger files (no commit); Transaction.NewRewrite + ApplyResult stage a
//     "replace" snapshot whose conflict validator allows concurrent appends. Done here: the
//     snapshot's summary carries the table's offsets markers (every
//     storeline.kafka.offsets.<group>, valued as CommittedOffsets reads it: the greater of the
//     newest snapshot's and the table property's per partition; never the sink's commit id, which the sink's "did my commit
//     land" search matches on); the commit is a compare-and-swap on the snapshot the compaction
//     read (AssertRefSnapshotID, no replay, whose stale markers would rewind the sink), and when
//     the sink committed meanwhile the same written files are committed again on the new head
//     with the new head's markers, as long as every replaced file is still live there; otherwise
//     the round gives up and removes the files it wrote. Rows are counted before committing.
//   - Snapshot expiry: Transaction.ExpireSnapshots (older than, retain last N, unreferenced
//     manifests, manifest lists and data files deleted after the commit). Done here: a
//     compare-and-swap on the branch head with retries, a dry run (the staged table is compared
//     with the current one), and a check, before committing, that every consumer group's offsets
//     read the same from the table after the expiry.
//   - Orphan files: Table.DeleteOrphanFiles (walks the table location through the file IO's
//     io.ListableIO — local directories and gocloud buckets such as s3:// alike — and deletes what
//     no metadata file, manifest list or manifest of any snapshot references, older than a cutoff,
//     or lists them in a dry run). Done here: a floor on the cutoff, so a running sink's files,
//     written before their snapshot commits, are never taken for orphans.

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/apache/iceberg-go/table/compaction"
	"github.com/google/uuid"
)

// Defaults of MaintenanceOptions.
const (
	// DefaultCompactTargetFileSize is the size compaction writes files of. Files under 75 % of
	// it are compacted.
	DefaultCompactTargetFileSize = 128 << 20
	// DefaultCompactMinInputFiles is how many small files a partition needs to be compacted.
	DefaultCompactMinInputFiles = 2
	// DefaultSnapshotRetention is how long snapshots are kept (time travel).
	DefaultSnapshotRetention = 7 * 24 * time.Hour
	// DefaultRetainSnapshots is how many of the newest snapshots are kept whatever their age.
	DefaultRetainSnapshots = 5
	// DefaultOrphanAge is how old an unreferenced file must be before it is deleted.
	DefaultOrphanAge = 24 * time.Hour
	// MinOrphanAge is the least OrphanAge accepted: a running sink writes its data files, and
	// a commit its manifests and metadata file, before the catalog references them.
	MinOrphanAge = time.Hour

	// maintenanceIDKey holds a UUID per compaction commit, so one whose outcome is unknown can
	// be recognised after a reload. It is not the sink's commit-id key on purpose.
	maintenanceIDKey = "storeline.maintenance-id"
	// maxMaintenanceAttempts bounds the compare-and-swap attempts of one compaction or expiry.
	maxMaintenanceAttempts = 5
	// maxMaintenanceSearch bounds how many snapshots are searched for a compaction whose
	// outcome is unknown.
	maxMaintenanceSearch = 1000
)

// MaintenanceOptions tune compaction, expiry and orphan cleanup. Zero values take the defaults.
type MaintenanceOptions struct {
	// TargetFileSize is the size of the files compaction writes; files under 75 % of it are
	// compacted, files over 180 % never. Default 128 MiB.
	TargetFileSize int64
	// MinInputFiles is how many small files a partition needs to be compacted. Default 2.
	MinInputFiles int
	// SnapshotRetention keeps snapshots younger than this. Default 7 days.
	SnapshotRetention time.Duration
	// RetainSnapshots keeps at least the newest N snapshots of the branch. Default 5.
	RetainSnapshots int
	// OrphanAge deletes unreferenced files only once older than this (at least MinOrphanAge).
	// Default 1 day.
	OrphanAge time.Duration
	// DryRun reports what would be done without changing anything.
	DryRun bool
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

func (o MaintenanceOptions) withDefaults() MaintenanceOptions {
	if o.TargetFileSize <= 0 {
		o.TargetFileSize = DefaultCompactTargetFileSize
	}
	if o.MinInputFiles <= 0 {
		o.MinInputFiles = DefaultCompactMinInputFiles
	}
	if o.SnapshotRetention <= 0 {
		o.SnapshotRetention = DefaultSnapshotRetention
	}
	if o.RetainSnapshots <= 0 {
		o.RetainSnapshots = DefaultRetainSnapshots
	}
	if o.OrphanAge == 0 {
		o.OrphanAge = DefaultOrphanAge
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// LakeTables lists every table of every namespace of the catalog, sorted by name.
func LakeTables(ctx context.Context, cat catalog.Catalog) ([]table.Identifier, error) {
	nss, err := cat.ListNamespaces(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	var out []table.Identifier
	for _, ns := range nss {
		for ident, err := range cat.ListTables(ctx, ns) {
			if err != nil {
				return nil, fmt.Errorf("list tables of %s: %w", strings.Join(ns, "."), err)
			}
			out = append(out, ident)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], ".") < strings.Join(out[j], ".") })
	return out, nil
}

// ParseTableName turns "commerce.orders" into a table identifier.
func ParseTableName(name string) (table.Identifier, error) {
	parts := strings.Split(strings.TrimSpace(name), ".")
	if len(parts) < 2 || slices.Contains(parts, "") {
		return nil, fmt.Errorf("table %q: want namespace.table, e.g. commerce.orders", name)
	}
	return table.Identifier(parts), nil
}

// LakeTableStatus is where one table stands.
type LakeTableStatus struct {
	Table             string     `json:"table"`
	Location          string     `json:"location"`
	Snapshots         int        `json:"snapshots"`
	CurrentSnapshotID int64      `json:"current_snapshot_id,omitempty"`
	CurrentSnapshotAt *time.Time `json:"current_snapshot_at,omitempty"`
	Operation         string     `json:"current_operation,omitempty"`
	OldestSnapshotAt  *time.Time `json:"oldest_snapshot_at,omitempty"`
	DataFiles         int        `json:"data_files"`
	DeleteFiles       int        `json:"delete_files"`
	TotalBytes        int64      `json:"total_bytes"`
	Rows              int64      `json:"rows"`
	// Partitions is the number of partitions (days) holding data.
	Partitions int `json:"partitions"`
	// MaxFilesPerPartition and AvgFilesPerPartition measure the small files a partition holds.
	MaxFilesPerPartition int     `json:"max_files_per_partition"`
	AvgFilesPerPartition float64 `json:"avg_files_per_partition"`
	// FilesPerPartition maps a partition (e.g. created_at_day=2026-03-01) to its data files.
	FilesPerPartition map[string]int `json:"files_per_partition"`
	// Offsets are the consumer groups' offsets as the sink reads them from the table.
	Offsets map[string]Offsets `json:"offsets"`
}

// TableStatus describes a table: its snapshots, live data files per partition, and offsets.
func TableStatus(ctx context.Context, tbl *table.Table) (LakeTableStatus, error) {
	meta := tbl.Metadata()
	st := LakeTableStatus{
		Table:             strings.Join(tbl.Identifier(), "."),
		Location:          tbl.Location(),
		Snapshots:         len(meta.Snapshots()),
		FilesPerPartition: map[string]int{},
		Offsets:           map[string]Offsets{},
	}
	for _, s := range meta.Snapshots() {
		at := time.UnixMilli(s.TimestampMs).UTC()
		if st.OldestSnapshotAt == nil || at.Before(*st.OldestSnapshotAt) {
			st.OldestSnapshotAt = &at
		}
	}
	markers, err := offsetMarkers(meta)
	if err != nil {
		return st, err
	}
	for key, v := range markers {
		o, err := DecodeOffsets(v)
		if err != nil {
			return st, err
		}
		st.Offsets[strings.TrimPrefix(key, offsetsKeyPrefix)] = o
	}
	cur := meta.CurrentSnapshot()
	if cur == nil {
		return st, nil
	}
	at := time.UnixMilli(cur.TimestampMs).UTC()
	st.CurrentSnapshotID, st.CurrentSnapshotAt = cur.SnapshotID, &at
	if cur.Summary != nil {
		st.Operation = string(cur.Summary.Operation)
	}
	files, err := liveFiles(ctx, tbl)
	if err != nil {
		return st, err
	}
	deletes := map[string]bool{}
	for _, f := range files {
		st.DataFiles++
		st.TotalBytes += f.File.FileSizeBytes()
		st.Rows += f.File.Count()
		st.FilesPerPartition[partitionLabel(meta, f.File)]++
		for _, d := range slices.Concat(f.DeleteFiles, f.EqualityDeleteFiles, f.DeletionVectorFiles) {
			deletes[d.FilePath()] = true
		}
	}
	st.DeleteFiles = len(deletes)
	st.Partitions = len(st.FilesPerPartition)
	for _, n := range st.FilesPerPartition {
		st.MaxFilesPerPartition = max(st.MaxFilesPerPartition, n)
	}
	if st.Partitions > 0 {
		st.AvgFilesPerPartition = float64(st.DataFiles) / float64(st.Partitions)
	}
	return st, nil
}

// liveFiles returns the scan tasks of the current snapshot, one per data file.
func liveFiles(ctx context.Context, tbl *table.Table) ([]table.FileScanTask, error) {
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan files of %s: %w", strings.Join(tbl.Identifier(), "."), err)
	}
	seen := make(map[string]bool, len(tasks))
	out := tasks[:0]
	for _, t := range tasks {
		if p := t.File.FilePath(); !seen[p] {
			seen[p] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// partitionLabel renders a data file's partition as name=value/..., e.g. created_at_day=2026-03-01.
func partitionLabel(meta table.Metadata, df iceberg.DataFile) string {
	spec := meta.PartitionSpecByID(int(df.SpecID()))
	if spec == nil || spec.IsUnpartitioned() {
		return "(unpartitioned)"
	}
	sc := meta.CurrentSchema()
	vals := df.Partition()
	var parts []string
	for _, f := range spec.Fields() {
		var src iceberg.Type = iceberg.UnknownType{}
		if t, ok := sc.FindTypeByID(f.SourceID()); ok {
			src = t
		}
		parts = append(parts, f.Name+"="+f.Transform.ToHumanStrType(f.Transform.ResultType(src), vals[f.FieldID]))
	}
	return strings.Join(parts, "/")
}

// offsetMarkers returns every offsets marker (storeline.kafka.offsets.<group>) the table holds,
// in a snapshot of the current ancestry or in the table property the sink mirrors it in, each
// with the value CommittedOffsets reads for its group (the table's marker as the sink sees it).
func offsetMarkers(meta table.Metadata) (iceberg.Properties, error) {
	groups := map[string]bool{}
	if cur := meta.CurrentSnapshot(); cur != nil {
		for _, s := range table.AncestorsOf(cur.SnapshotID, meta.SnapshotByID) {
			if s.Summary == nil {
				continue
			}
			for k := range s.Summary.Properties {
				if strings.HasPrefix(k, offsetsKeyPrefix) {
					groups[strings.TrimPrefix(k, offsetsKeyPrefix)] = true
				}
			}
		}
	}
	for k := range meta.Properties() {
		if strings.HasPrefix(k, offsetsKeyPrefix) {
			groups[strings.TrimPrefix(k, offsetsKeyPrefix)] = true
		}
	}
	out := iceberg.Properties{}
	for g := range groups {
		o, err := CommittedOffsets(meta, g)
		if err != nil {
			return nil, err
		}
		out[OffsetsProperty(g)] = o.Encode()
	}
	return out, nil
}

// OffsetsGroups returns the consumer groups whose offsets the table holds, sorted.
func OffsetsGroups(meta table.Metadata) ([]string, error) {
	ms, err := offsetMarkers(meta)
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range ms {
		out = append(out, strings.TrimPrefix(k, offsetsKeyPrefix))
	}
	slices.Sort(out)
	return out, nil
}

// CompactResult reports one table's compaction.
type CompactResult struct {
	Table string `json:"table"`
	// Groups is the number of partitions (or parts of one) rewritten.
	Groups int `json:"groups"`
	// RemovedFiles small files were replaced by AddedFiles larger ones.
	RemovedFiles int   `json:"removed_files"`
	AddedFiles   int   `json:"added_files"`
	BytesBefore  int64 `json:"bytes_before"`
	BytesAfter   int64 `json:"bytes_after"`
	Rows         int64 `json:"rows"`
	// Attempts is the number of compare-and-swap commits tried (more than one when the sink
	// committed meanwhile).
	Attempts   int   `json:"attempts"`
	SnapshotID int64 `json:"snapshot_id,omitempty"`
	DryRun     bool  `json:"dry_run,omitempty"`
	// GaveUp says why nothing was committed this round, if so (the next round tries again).
	GaveUp string `json:"gave_up,omitempty"`
}

// compactHookBeforeCommit, when set (by tests), runs before each compaction commit attempt.
var compactHookBeforeCommit func(attempt int)

// CompactTable rewrites, per partition, the table's data files smaller than 75 % of the target
// size into files of about the target size, in one snapshot that carries the table's offsets
// markers. It commits only on the snapshot it read, retrying on the new head when the sink
// committed meanwhile; rows are never lost or duplicated. With DryRun it only plans.
func CompactTable(ctx context.Context, cat catalog.Catalog, ident table.Identifier, opts MaintenanceOptions) (CompactResult, error) {
	opts = opts.withDefaults()
	name := strings.Join(ident, ".")
	res := CompactResult{Table: name, DryRun: opts.DryRun}
	tbl, err := cat.LoadTable(ctx, ident)
	if err != nil {
		return res, fmt.Errorf("load table %s: %w", name, err)
	}
	if tbl.CurrentSnapshot() == nil {
		return res, nil
	}
	tasks, err := liveFiles(ctx, tbl)
	if err != nil {
		return res, err
	}
	ccfg := compaction.DefaultConfig()
	ccfg.TargetFileSizeBytes = opts.TargetFileSize
	ccfg.MinFileSizeBytes = opts.TargetFileSize * 3 / 4
	ccfg.MaxFileSizeBytes = opts.TargetFileSize * 9 / 5
	ccfg.MinInputFiles = uint(opts.MinInputFiles)
	plan, err := ccfg.PlanCompaction(tasks)
	if err != nil {
		return res, fmt.Errorf("plan compaction of %s: %w", name, err)
	}
	for _, g := range plan.Groups {
		res.Groups++
		res.RemovedFiles += len(g.Tasks)
		res.BytesBefore += g.TotalSizeBytes
		for _, t := range g.Tasks {
			res.Rows += t.File.Count()
		}
	}
	if len(plan.Groups) == 0 || opts.DryRun {
		return res, nil
	}

	// Write the compacted files (nothing is committed yet).
	var results []table.CompactionGroupResult
	var written []iceberg.DataFile
	uncertain := false // a commit attempt's outcome was unknown: leave its files to orphan cleanup
	dropWritten := func() {
		if uncertain {
			return
		}
		if err := removeFiles(ctx, tbl, written); err != nil {
			opts.Log.Warn("remove compacted files that were not committed (orphan cleanup will)", "table", name, "err", err)
		}
	}
	var oldRows, newRows int64
	hasDeletes := false
	for _, g := range plan.Groups {
		gr, err := table.ExecuteCompactionGroup(ctx, tbl, table.CompactionTaskGroup{
			PartitionKey: g.PartitionKey, Tasks: g.Tasks, TotalSizeBytes: g.TotalSizeBytes,
		}, table.WithCompactionTargetFileSize(opts.TargetFileSize))
		written = append(written, gr.NewDataFiles...)
		if err != nil {
			dropWritten()
			return res, fmt.Errorf("compact %s: %w", name, err)
		}
		for _, t := range g.Tasks {
			oldRows += t.File.Count()
			hasDeletes = hasDeletes || g.DeleteFileCount > 0
		}
		for _, f := range gr.NewDataFiles {
			newRows += f.Count()
		}
		results = append(results, gr)
	}
	if !hasDeletes && oldRows != newRows {
		dropWritten()
		return res, fmt.Errorf("compact %s: the rewritten files hold %d rows, the files they replace %d: not committed", name, newRows, oldRows)
	}
	res.AddedFiles, res.BytesAfter, res.Rows = 0, 0, newRows
	for _, gr := range results {
		res.AddedFiles += len(gr.NewDataFiles)
		res.BytesAfter += gr.BytesAfter
	}

	id := uuid.NewString()
	for attempt := 1; ; attempt++ {
		res.Attempts = attempt
		if compactHookBeforeCommit != nil {
			compactHookBeforeCommit(attempt)
		}
		base := tbl.CurrentSnapshot()
		next, err := commitRewrite(ctx, tbl, results, id)
		if err == nil {
			res.SnapshotID = next.CurrentSnapshot().SnapshotID
			opts.Log.Info("compacted", "table", name, "removed_files", res.RemovedFiles, "added_files", res.AddedFiles,
				"rows", res.Rows, "attempts", attempt, "snapshot_id", res.SnapshotID)
			return res, nil
		}
		fresh, lerr := cat.LoadTable(ctx, ident)
		if lerr != nil {
			if !isConflict(err) {
				uncertain = true
			}
			dropWritten()
			return res, fmt.Errorf("commit compaction of %s: %w (and reloading it: %v)", name, err, lerr)
		}
		if !isConflict(err) {
			// The outcome is unknown: the commit may have landed.
			if s := snapshotWith(fresh.Metadata(), maintenanceIDKey, id, base); s != nil {
				res.SnapshotID = s.SnapshotID
				return res, nil
			}
			uncertain = true
			opts.Log.Warn("compaction commit failed", "table", name, "attempt", attempt, "err", err)
		}
		// Another writer committed first. The same files can replace the same inputs on the new
		// head if every input is still live there (the sink only appends).
		live, err := liveFiles(ctx, fresh)
		if err != nil {
			dropWritten()
			return res, err
		}
		if missing := missingInputs(results, live); missing != "" {
			dropWritten()
			res.GaveUp = "an input file was replaced meanwhile: " + missing
			opts.Log.Info("compaction gave up for this round", "table", name, "reason", res.GaveUp)
			return res, nil
		}
		if attempt >= maxMaintenanceAttempts || ctx.Err() != nil {
			dropWritten()
			res.GaveUp = fmt.Sprintf("the table moved on %d commit attempts in a row", attempt)
			opts.Log.Info("compaction gave up for this round", "table", name, "reason", res.GaveUp)
			return res, ctx.Err()
		}
		opts.Log.Info("compaction commit conflicted, retrying on the new head", "table", name, "attempt", attempt)
		tbl = fresh
		if err := maintenanceSleep(ctx, attempt); err != nil {
			dropWritten()
			return res, err
		}
	}
}

// isConflict reports whether a commit failed because the table moved since it was read, without
// writing anything: a failed compare-and-swap (ErrCommitFailed), or a requirement the catalog
// checked against the current metadata before swapping (the SQL catalog returns those
// unwrapped, e.g. `requirement failed: branch "main" has changed` or `Requirement failed:
// current schema id has changed`).
func isConflict(err error) bool {
	return errors.Is(err, table.ErrCommitFailed) || strings.Contains(strings.ToLower(err.Error()), "requirement failed:")
}

// commitRewrite commits the compaction results as one replace snapshot on tbl's current
// snapshot, or fails with ErrCommitFailed if the branch moved.
func commitRewrite(ctx context.Context, tbl *table.Table, results []table.CompactionGroupResult, id string) (*table.Table, error) {
	props, err := offsetMarkers(tbl.Metadata())
	if err != nil {
		return nil, err
	}
	props[maintenanceIDKey] = id
	props["storeline.maintenance"] = "compaction"
	txn := tbl.NewTransaction()
	if err := txn.AssertRefSnapshotID(""); err != nil {
		return nil, fmt.Errorf("assert snapshot: %w", err)
	}
	rw := txn.NewRewrite(props)
	for _, gr := range results {
		rw.ApplyResult(gr)
	}
	if err := rw.Commit(ctx); err != nil {
		return nil, fmt.Errorf("stage rewrite: %w", err)
	}
	return txn.Commit(ctx)
}

// missingInputs names a replaced input file no longer live in the table, or returns "".
func missingInputs(results []table.CompactionGroupResult, live []table.FileScanTask) string {
	have := make(map[string]bool, len(live))
	for _, t := range live {
		have[t.File.FilePath()] = true
	}
	for _, gr := range results {
		for _, f := range gr.OldDataFiles {
			if !have[f.FilePath()] {
				return f.FilePath()
			}
		}
	}
	return ""
}

// snapshotWith returns the snapshot committed after base whose summary has key=value, or nil.
func snapshotWith(meta table.Metadata, key, value string, base *table.Snapshot) *table.Snapshot {
	cur := meta.CurrentSnapshot()
	if cur == nil {
		return nil
	}
	for i, s := range table.AncestorsOf(cur.SnapshotID, meta.SnapshotByID) {
		if i >= maxMaintenanceSearch || (base != nil && s.SnapshotID == base.SnapshotID) {
			return nil
		}
		if s.Summary != nil && s.Summary.Properties[key] == value {
			return &s
		}
	}
	return nil
}

func removeFiles(ctx context.Context, tbl *table.Table, files []iceberg.DataFile) error {
	if len(files) == 0 {
		return nil
	}
	fs, err := tbl.FS(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		if err := fs.Remove(f.FilePath()); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ExpireResult reports one table's snapshot expiry.
type ExpireResult struct {
	Table           string  `json:"table"`
	SnapshotsBefore int     `json:"snapshots_before"`
	SnapshotsAfter  int     `json:"snapshots_after"`
	Expired         []int64 `json:"expired"`
	DryRun          bool    `json:"dry_run,omitempty"`
}

// ExpireSnapshots removes the table's snapshots older than the retention beyond the newest
// RetainSnapshots (the current one always stays), and the manifests, manifest lists and data
// files only they referenced. Every consumer group's offsets must read the same afterwards (the
// sink mirrors them in a table property, and compactions carry them), or nothing is committed.
func ExpireSnapshots(ctx context.Context, cat catalog.Catalog, ident table.Identifier, opts MaintenanceOptions) (ExpireResult, error) {
	opts = opts.withDefaults()
	name := strings.Join(ident, ".")
	res := ExpireResult{Table: name, DryRun: opts.DryRun}
	for attempt := 1; ; attempt++ {
		tbl, err := cat.LoadTable(ctx, ident)
		if err != nil {
			return res, fmt.Errorf("load table %s: %w", name, err)
		}
		before := tbl.Metadata().Snapshots()
		res.SnapshotsBefore, res.SnapshotsAfter, res.Expired = len(before), len(before), nil
		txn := tbl.NewTransaction()
		if err := txn.AssertRefSnapshotID(""); err != nil {
			return res, fmt.Errorf("assert snapshot: %w", err)
		}
		if err := txn.ExpireSnapshots(table.WithOlderThan(opts.SnapshotRetention), table.WithRetainLast(opts.RetainSnapshots),
			table.WithPostCommit(true)); err != nil {
			return res, fmt.Errorf("expire snapshots of %s: %w", name, err)
		}
		staged, err := txn.StagedTable()
		if err != nil {
			return res, fmt.Errorf("stage expiry of %s: %w", name, err)
		}
		kept := map[int64]bool{}
		for _, s := range staged.Metadata().Snapshots() {
			kept[s.SnapshotID] = true
		}
		for _, s := range before {
			if !kept[s.SnapshotID] {
				res.Expired = append(res.Expired, s.SnapshotID)
			}
		}
		res.SnapshotsAfter = len(before) - len(res.Expired)
		if len(res.Expired) == 0 || opts.DryRun {
			return res, nil
		}
		if err := sameOffsets(tbl.Metadata(), staged.Metadata()); err != nil {
			return res, fmt.Errorf("expire snapshots of %s: not committed: %w", name, err)
		}
		next, err := txn.Commit(ctx)
		if next != nil && err != nil && onlyNotExist(err) {
			// Committed; the files it removes afterwards include ones an earlier expiry removed
			// (a compaction's snapshot lists the files it replaced, and they go with the older
			// snapshots that held them live).
			err = nil
		}
		if err == nil {
			opts.Log.Info("expired snapshots", "table", name, "expired", len(res.Expired), "kept", res.SnapshotsAfter)
			return res, nil
		}
		if next != nil {
			return res, fmt.Errorf("expired snapshots of %s, but deleting their files: %w", name, err)
		}
		if !isConflict(err) || attempt >= maxMaintenanceAttempts {
			return res, fmt.Errorf("commit expiry of %s: %w", name, err)
		}
		opts.Log.Info("expiry commit conflicted, retrying on the new head", "table", name, "attempt", attempt)
		if err := maintenanceSleep(ctx, attempt); err != nil {
			return res, err
		}
	}
}

// onlyNotExist reports whether err is made only of "file does not exist" errors.
func onlyNotExist(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != nil && !onlyNotExist(e) {
				return false
			}
		}
		return true
	}
	return errors.Is(err, iofs.ErrNotExist)
}

// sameOffsets checks that every consumer group's offsets read the same from after as from before.
func sameOffsets(before, after table.Metadata) error {
	groups, err := OffsetsGroups(before)
	if err != nil {
		return err
	}
	for _, group := range groups {
		b, err := CommittedOffsets(before, group)
		if err != nil {
			return err
		}
		a, err := CommittedOffsets(after, group)
		if err != nil {
			return err
		}
		if b.Encode() != a.Encode() {
			return fmt.Errorf("offsets of group %s would read %s instead of %s", group, a.Encode(), b.Encode())
		}
	}
	return nil
}

// OrphanResult reports one table's orphan-file cleanup.
type OrphanResult struct {
	Table   string   `json:"table"`
	Orphans []string `json:"orphans"`
	Bytes   int64    `json:"bytes"`
	Deleted int      `json:"deleted"`
	DryRun  bool     `json:"dry_run,omitempty"`
}

// DeleteOrphanFiles deletes the files under the table's location that no metadata file,
// manifest list or manifest of any snapshot references, once older than OrphanAge (files a
// running sink or compaction has written but not yet committed are younger). DryRun lists them.
func DeleteOrphanFiles(ctx context.Context, cat catalog.Catalog, ident table.Identifier, opts MaintenanceOptions) (OrphanResult, error) {
	opts = opts.withDefaults()
	name := strings.Join(ident, ".")
	res := OrphanResult{Table: name, DryRun: opts.DryRun}
	if opts.OrphanAge < MinOrphanAge {
		return res, fmt.Errorf("orphan age %s is below %s: files of commits in flight could be deleted", opts.OrphanAge, MinOrphanAge)
	}
	tbl, err := cat.LoadTable(ctx, ident)
	if err != nil {
		return res, fmt.Errorf("load table %s: %w", name, err)
	}
	out, err := tbl.DeleteOrphanFiles(ctx, table.WithFilesOlderThan(opts.OrphanAge), table.WithDryRun(opts.DryRun))
	if err != nil {
		return res, fmt.Errorf("orphan files of %s: %w", name, err)
	}
	res.Orphans, res.Bytes, res.Deleted = out.OrphanFileLocations, out.TotalSizeBytes, len(out.DeletedFiles)
	slices.Sort(res.Orphans)
	if len(res.Orphans) > 0 {
		opts.Log.Info("orphan files", "table", name, "orphans", len(res.Orphans), "bytes", res.Bytes, "deleted", res.Deleted, "dry_run", opts.DryRun)
	}
	return res, nil
}

// MaintenanceReport is what one maintenance round did to every table.
type MaintenanceReport struct {
	Compacted []CompactResult `json:"compacted,omitempty"`
	Expired   []ExpireResult  `json:"expired,omitempty"`
	Orphans   []OrphanResult  `json:"orphans,omitempty"`
}

// MaintenanceTasks selects what a round does.
type MaintenanceTasks struct {
	Compact, Expire, Orphans bool
}

// Maintain runs the selected tasks on the given tables (every table of the catalog if none):
// compaction first, so its replaced files go with the expiry of the snapshots that held them.
// A table's failure is reported with the others' and does not stop them.
func Maintain(ctx context.Context, cat catalog.Catalog, tables []table.Identifier, tasks MaintenanceTasks, opts MaintenanceOptions) (MaintenanceReport, error) {
	var rep MaintenanceReport
	if len(tables) == 0 {
		var err error
		if tables, err = LakeTables(ctx, cat); err != nil {
			return rep, err
		}
	}
	var errs []error
	for _, ident := range tables {
		if tasks.Compact {
			r, err := CompactTable(ctx, cat, ident, opts)
			rep.Compacted = append(rep.Compacted, r)
			errs = append(errs, err)
		}
		if tasks.Expire {
			r, err := ExpireSnapshots(ctx, cat, ident, opts)
			rep.Expired = append(rep.Expired, r)
			errs = append(errs, err)
		}
		if tasks.Orphans {
			r, err := DeleteOrphanFiles(ctx, cat, ident, opts)
			rep.Orphans = append(rep.Orphans, r)
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return rep, errors.Join(errs...)
}

// maintenanceSleep pauses before attempt n+1: 200ms doubling, with jitter.
func maintenanceSleep(ctx context.Context, n int) error {
	d := 200 * time.Millisecond << min(n-1, 4)
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
