package icebergsink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// maxCommitAttempts bounds the retries of one commit (conflicts with other sink instances
	// writing other partitions, or catalog errors) before Run gives up.
	maxCommitAttempts = 10
	// maxLandedSearch bounds how many snapshots are searched for a commit whose outcome is unknown.
	maxLandedSearch = 1000
)

// commit writes the batch's rows as Parquet files and appends them to the table in one
// snapshot that records the batch's offsets. It returns false, without error, when another
// writer committed one of the batch's partitions first: the batch is then discarded (its files
// stay as orphans for the orphan-file cleanup) and the caller must re-seek from the table.
func (s *Sink) commit(ctx context.Context, b *batch) (bool, error) {
	rows := b.rows
	if len(rows) > 0 {
		first, err := s.dd.FirstOccurrences(ctx, b.positions())
		if err != nil {
			return false, fmt.Errorf("dedup: %w", err)
		}
		rows = keep(rows, first)
		s.m.duplicates.Add(float64(len(b.rows) - len(rows)))
	}

	tbl, err := s.cat.LoadTable(ctx, OrdersIdent)
	if err != nil {
		return false, fmt.Errorf("load table %v: %w", OrdersIdent, err)
	}
	var files []iceberg.DataFile
	if len(rows) > 0 {
		if files, err = writeFiles(ctx, tbl, rows); err != nil {
			return false, err
		}
	}

	commitID := uuid.NewString()
	for attempt := 1; ; attempt++ {
		parent, err := CommittedOffsets(tbl.Metadata(), s.cfg.Group)
		if err != nil {
			return false, err
		}
		if moved := s.movedPartitions(parent, b.next); len(moved) > 0 {
			s.m.batchesDropped.Inc()
			s.log.Warn("another writer committed partitions of this batch first: discarding it",
				"partitions", moved, "orphan_files", filePaths(files))
			return false, nil
		}
		merged := parent.Overlay(b.next)
		base := tbl.CurrentSnapshot()
		next, err := appendSnapshot(ctx, tbl, files, s.cfg.Group, merged, commitID)
		if err == nil {
			s.committedSnapshot(next, len(rows), len(files), b)
			return true, nil
		}
		s.m.commitFailures.Inc()

		// A conflict, or an error that leaves the outcome unknown: reload, and if our snapshot
		// is there after all, the commit landed.
		fresh, lerr := s.cat.LoadTable(ctx, OrdersIdent)
		if lerr == nil {
			if landed(fresh.Metadata(), commitID, base) {
				s.committedSnapshot(fresh, len(rows), len(files), b)
				return true, nil
			}
			tbl = fresh
		}
		if attempt >= maxCommitAttempts || ctx.Err() != nil {
			return false, fmt.Errorf("commit to %v failed %d times: %w", OrdersIdent, attempt, err)
		}
		s.log.Info("commit failed, retrying on the reloaded table", "attempt", attempt, "err", err)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return false, fmt.Errorf("commit to %v: %w", OrdersIdent, err)
		}
	}
}

func (s *Sink) committedSnapshot(tbl *table.Table, rows, files int, b *batch) {
	s.m.commits.Inc()
	s.m.rowsWritten.Add(float64(rows))
	var id int64
	if snap := tbl.CurrentSnapshot(); snap != nil {
		id = snap.SnapshotID
	}
	s.log.Info("committed snapshot", "snapshot_id", id, "rows", rows, "files", files,
		"records", b.records, "offsets", b.next.Encode())
}

// movedPartitions lists the batch's partitions whose offset in the table is no longer the one
// the batch started from.
func (s *Sink) movedPartitions(table, batchNext Offsets) []string {
	var moved []string
	for topic, ps := range batchNext {
		for p := range ps {
			have, hok := table.Get(topic, p)
			want, wok := s.committed.Get(topic, p)
			if hok != wok || have != want {
				moved = append(moved, fmt.Sprintf("%s/%d: table %s, batch started at %s", topic, p, offStr(have, hok), offStr(want, wok)))
			}
		}
	}
	return moved
}

func offStr(off int64, ok bool) string {
	if !ok {
		return "none"
	}
	return fmt.Sprint(off)
}

// writeFiles writes rows as Parquet data files of tbl, without committing them.
func writeFiles(ctx context.Context, tbl *table.Table, rows []orderRow) ([]iceberg.DataFile, error) {
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		return nil, fmt.Errorf("arrow schema of %v: %w", OrdersIdent, err)
	}
	rec, err := buildOrdersRecord(memory.DefaultAllocator, sc, rows, time.Now())
	if err != nil {
		return nil, fmt.Errorf("build rows: %w", err)
	}
	batches := func(yield func(arrow.RecordBatch, error) bool) { yield(rec, nil) }
	var files []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, tbl, sc, batches) {
		if err != nil {
			return nil, fmt.Errorf("write data files: %w", err)
		}
		files = append(files, df)
	}
	return files, nil
}

// appendSnapshot commits files (possibly none: the snapshot then only advances the offsets) as
// one append snapshot on tbl's current snapshot, or fails: iceberg-go's own retry, which would
// replay the offsets computed for the old parent, is pinned off by AssertRefSnapshotID.
func appendSnapshot(ctx context.Context, tbl *table.Table, files []iceberg.DataFile, group string, offs Offsets, commitID string) (*table.Table, error) {
	enc := offs.Encode()
	props := iceberg.Properties{OffsetsProperty(group): enc, commitIDKey: commitID}
	txn := tbl.NewTransaction()
	if err := txn.AssertRefSnapshotID(""); err != nil {
		return nil, fmt.Errorf("assert snapshot: %w", err)
	}
	// Mirror the offsets in a table property, which survives snapshot expiration.
	if err := txn.SetProperties(iceberg.Properties{OffsetsProperty(group): enc}); err != nil {
		return nil, fmt.Errorf("set offsets property: %w", err)
	}
	if len(files) > 0 {
		if err := txn.AddDataFiles(ctx, files, props, table.WithoutDuplicateCheck()); err != nil {
			return nil, fmt.Errorf("add data files: %w", err)
		}
	} else if err := txn.AddFiles(ctx, nil, props, true); err != nil {
		return nil, fmt.Errorf("add empty snapshot: %w", err)
	}
	return txn.Commit(ctx)
}

// landed reports whether a snapshot committed after base carries commitID.
func landed(meta table.Metadata, commitID string, base *table.Snapshot) bool {
	cur := meta.CurrentSnapshot()
	if cur == nil {
		return false
	}
	for i, snap := range table.AncestorsOf(cur.SnapshotID, meta.SnapshotByID) {
		if i >= maxLandedSearch || (base != nil && snap.SnapshotID == base.SnapshotID) {
			return false
		}
		if snap.Summary != nil && snap.Summary.Properties[commitIDKey] == commitID {
			return true
		}
	}
	return false
}

// commitKafka mirrors the committed offsets into the consumer group, for lag tooling only: the
// sink never reads them back.
func (s *Sink) commitKafka(ctx context.Context, cl *kgo.Client, next Offsets) {
	offs := map[string]map[int32]kgo.EpochOffset{}
	for topic, ps := range next {
		offs[topic] = map[int32]kgo.EpochOffset{}
		for p, off := range ps {
			offs[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: off}
		}
	}
	cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			s.log.Debug("mirror offsets to the consumer group", "err", err)
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					s.log.Debug("mirror offsets to the consumer group", "partition", p.Partition, "error_code", p.ErrorCode)
				}
			}
		}
	})
}

func filePaths(files []iceberg.DataFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.FilePath()
	}
	return out
}

// backoff is the pause before commit attempt n+1: 100ms doubling up to 2s, with jitter.
func backoff(n int) time.Duration {
	d := 100 * time.Millisecond << min(n-1, 5)
	d = min(d, 2*time.Second)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
