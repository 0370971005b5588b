package icebergsink

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/sinks/iceberg/lakeschema"
)

const (
	// maxCommitAttempts bounds the retries of one commit (conflicts with other sink instances
	// writing other partitions, or catalog errors) before Run gives up.
	maxCommitAttempts = 10
	// maxLandedSearch bounds how many snapshots are searched for a commit whose outcome is unknown.
	maxLandedSearch = 1000
	// reasonInvalidEvent: the record decodes but is not an event (no envelope with an event id
	// and an occurred_at).
	reasonInvalidEvent = "invalid_event"
)

// commit writes the batch into its tables, each in one snapshot that records the batch's
// offsets, then advances the markers of the topics' other tables where they fell behind. It
// returns false, without error, when another writer committed one of the batch's partitions of
// a table first: the rest of the batch is then discarded (files already written stay as orphans
// for the orphan-file cleanup) and the caller must re-seek from the tables.
func (s *Sink) commit(ctx context.Context, b *batch, settle bool) (bool, error) {
	if err := s.dropDuplicates(ctx, b); err != nil {
		return false, err
	}
	tables, err := s.createTables(ctx, b)
	if err != nil {
		return false, err
	}
	done := map[string]bool{}
	for _, key := range b.keys() {
		if tb := b.tables[key]; !tb.isDeadLetters() {
			ok, err := s.commitEvents(ctx, b, tb, tables[key])
			if err != nil || !ok {
				return ok, err
			}
			done[key] = true
		}
	}
	// The dead-letter tables last: the event tables' commits may have added to them.
	for _, key := range b.keys() {
		if tb := b.tables[key]; tb.isDeadLetters() {
			ok, err := s.commitDeadLetters(ctx, b, tb, tables[key])
			if err != nil || !ok {
				return ok, err
			}
			done[key] = true
		}
	}
	return s.advanceMarkers(ctx, b.next, done, settle)
}

// createTables creates, before any commit, every table the batch has rows for and the
// dead-letter table of each of its topics, and returns them (a nil table for rows no schema of
// theirs maps). A table created now starts with the marker where the batch started; were they
// created as their commits come, a crash between two commits would leave tables committed past
// the rows of one not yet created, and the restart, seeking to the least marker of the tables
// that exist, would never read those rows again. Dead-letter tables are made for every topic
// because the commits find rows for them as they decode.
func (s *Sink) createTables(ctx context.Context, b *batch) (map[string]*table.Table, error) {
	out := map[string]*table.Table{}
	for _, key := range b.keys() {
		tb := b.tables[key]
		if tb.isDeadLetters() {
			continue
		}
		ids := slices.Sorted(maps.Keys(tb.writers))
		tbl, err := s.ensure(ctx, s.tables[key], func() (*iceberg.Schema, iceberg.PartitionSpec, error) {
			var firstErr error
			for _, id := range ids {
				sc, spec, err := eventSchema(tb.writers[id])
				if err == nil {
					return sc, spec, nil
				}
				firstErr = err
			}
			return nil, iceberg.PartitionSpec{}, firstErr
		})
		if err != nil {
			return nil, err
		}
		out[key] = tbl
	}
	for _, topic := range slices.Sorted(maps.Keys(b.next)) {
		dls := s.state(DeadLetterIdent(s.namespace(topic)), topic)
		tbl, err := s.ensure(ctx, dls, func() (*iceberg.Schema, iceberg.PartitionSpec, error) {
			return deadLetterSchema(), deadLetterSpec(), nil
		})
		if err != nil {
			return nil, err
		}
		out[dls.key] = tbl
	}
	return out, nil
}

// dropDuplicates removes from the batch the later copies of an event id (a redelivered
// webhook), deterministically across replays: dedup.Store remembers the first position of each.
func (s *Sink) dropDuplicates(ctx context.Context, b *batch) error {
	var rows []eventRow
	for _, key := range b.keys() {
		for _, r := range b.tables[key].rows {
			if r.eventID != "" {
				rows = append(rows, r)
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	first, err := s.dd.FirstOccurrences(ctx, positions(rows))
	if err != nil {
		return fmt.Errorf("dedup: %w", err)
	}
	type pos struct {
		topic     string
		partition int32
		offset    int64
	}
	later := map[pos]bool{}
	for i, r := range rows {
		if !first[i] {
			later[pos{r.src.Topic, r.src.Partition, r.src.Offset}] = true
		}
	}
	if len(later) == 0 {
		return nil
	}
	for _, tb := range b.tables {
		n := len(tb.rows)
		tb.rows = slices.DeleteFunc(tb.rows, func(r eventRow) bool { return later[pos{r.src.Topic, r.src.Partition, r.src.Offset}] })
		s.m.duplicates.WithLabelValues(tb.key).Add(float64(n - len(tb.rows)))
	}
	return nil
}

// commitEvents writes an event table's rows to tbl (made by createTables; nil if no schema of
// the rows maps to a table), after giving it the columns of the rows' schemas it lacks; rows that
// do not fit it go to the dead-letter table.
func (s *Sink) commitEvents(ctx context.Context, b *batch, tb *tableBatch, tbl *table.Table) (bool, error) {
	ts := s.tables[tb.key]
	ns := s.namespace(tb.topic)
	dls := s.state(DeadLetterIdent(ns), tb.topic)
	dead := func(r eventRow, reason string, cause error, eventType string) {
		if dls.holds(r.src.Topic, r.src.Partition, r.src.Offset) {
			return
		}
		d := newDeadRow(&kgo.Record{Topic: r.src.Topic, Partition: r.src.Partition, Offset: r.src.Offset, Timestamp: r.src.Timestamp,
			Key: r.key, Value: r.value, Headers: r.headers}, reason, cause, eventType)
		tbd := b.table(dls.key, tb.topic)
		tbd.dead = append(tbd.dead, d)
	}

	ids := slices.Sorted(maps.Keys(tb.writers))
	unfit := map[uint32]error{}
	for _, id := range ids {
		w := tb.writers[id]
		if tbl == nil { // no schema of the rows maps to a table
			_, _, unfit[id] = eventSchema(w)
			continue
		}
		if err := lakeschema.Compatible(tbl.Schema(), w); err != nil {
			unfit[id] = err
			continue
		}
		sc, _, err := eventSchema(w)
		if err != nil {
			unfit[id] = err
			continue
		}
		if tbl, err = evolve(ctx, s.cat, tbl, sc); err != nil {
			return false, err
		}
	}

	var files []iceberg.DataFile
	written := 0
	if tbl != nil {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return false, fmt.Errorf("arrow schema of %s: %w", tb.key, err)
		}
		// The rows are decoded into Arrow a chunk at a time, as the writer asks for them: its
		// feeder runs this on its own goroutine while its workers encode the chunks before,
		// and a batch never lives in memory as Arrow all at once.
		var deadRows []eventRowDeath
		records := func(yield func(arrow.RecordBatch, error) bool) {
			rows := newAppender(sc)
			defer rows.release()
			// probe checks rows the table already holds, whose dead-letter table may lack them.
			var probe *appender
			defer func() {
				if probe != nil {
					probe.release()
				}
			}()
			now := time.Now()
			for i, r := range tb.rows {
				held := ts.holds(r.src.Topic, r.src.Partition, r.src.Offset)
				if held && dls.holds(r.src.Topic, r.src.Partition, r.src.Offset) {
					continue // in both tables it may go to: the batch re-read it for other tables
				}
				// A row the table holds may still be a dead letter the dead-letter table lacks (a
				// crash between the two commits): it is decided again, and kept only if it is one.
				into := rows
				if held {
					if probe == nil {
						probe = newAppender(sc)
					}
					into = probe
				}
				w := tb.writers[r.schemaID]
				if reason, err := into.append(w, r, unfit[r.schemaID], tb.key, now); err != nil {
					deadRows = append(deadRows, eventRowDeath{row: i, reason: reason, err: err})
					continue
				}
				if rows.bld.Len() >= writeChunkRows {
					written += rows.bld.Len()
					if !yield(rows.bld.NewRecord(), nil) {
						return
					}
				}
			}
			if rows.bld.Len() > 0 {
				written += rows.bld.Len()
				yield(rows.bld.NewRecord(), nil)
			}
		}
		files, err = writeFiles(ctx, tbl, sc, records)
		if err != nil {
			return false, fmt.Errorf("table %s: %w", tb.key, err)
		}
		for _, d := range deadRows {
			r := tb.rows[d.row]
			dead(r, d.reason, d.err, tb.writers[r.schemaID].FullName())
		}
	} else {
		for _, r := range tb.rows {
			w := tb.writers[r.schemaID]
			dead(r, deadletter.ReasonIncompatibleSchema, fmt.Errorf("%s has no table: %w", w.FullName(), unfit[r.schemaID]), w.FullName())
		}
		return true, nil
	}
	return s.commitTable(ctx, ts, tbl, files, onlyTopic(b.next, tb.topic), written)
}

// writeChunkRows is how many rows are decoded into one Arrow record for the writer.
const writeChunkRows = 4096

// eventRowDeath is a row of a tableBatch (its index) that goes to the dead-letter table.
type eventRowDeath struct {
	row    int
	reason string
	err    error
}

// appender appends rows to a Builder straight from their Avro bodies, with one decoder per
// writer schema.
type appender struct {
	bld     *lakeschema.Builder
	decs    map[uint32]*lakeschema.Decoder
	decErrs map[uint32]error
}

func newAppender(sc *arrow.Schema) *appender {
	return &appender{bld: lakeschema.NewBuilder(memory.DefaultAllocator, sc), decs: map[uint32]*lakeschema.Decoder{}, decErrs: map[uint32]error{}}
}

func (a *appender) release() { a.bld.Release() }

// append appends r, written with w; unfit is why w does not fit the table (nil if it does). An
// error is why r is a dead letter, with its reason.
func (a *appender) append(w *avro.RecordSchema, r eventRow, unfit error, table string, now time.Time) (string, error) {
	if unfit == nil {
		unfit = a.decErrs[r.schemaID]
	}
	if unfit != nil {
		return deadletter.ReasonIncompatibleSchema, fmt.Errorf("%s does not fit table %s: %w", w.FullName(), table, unfit)
	}
	dec, ok := a.decs[r.schemaID]
	if !ok {
		var err error
		if dec, err = a.bld.NewDecoder(w); err != nil {
			a.decErrs[r.schemaID] = err
			return deadletter.ReasonIncompatibleSchema, fmt.Errorf("%s does not fit table %s: %w", w.FullName(), table, err)
		}
		a.decs[r.schemaID] = dec
	}
	// The event id and occurred_at come from the body's envelope.
	m := lakeschema.Meta{Topic: r.src.Topic, Partition: r.src.Partition, Offset: r.src.Offset, Timestamp: r.src.Timestamp,
		SchemaID: int32(r.schemaID), IngestedAt: now}
	if err := dec.AppendAvro(r.value[5:], m); err != nil {
		if errors.Is(err, lakeschema.ErrNotAnEvent) {
			return reasonInvalidEvent, err
		}
		return deadletter.ReasonUndecodable, fmt.Errorf("%s with schema %d: %w", w.FullName(), r.schemaID, err)
	}
	return "", nil
}

// commitDeadLetters writes a dead-letter table's rows.
func (s *Sink) commitDeadLetters(ctx context.Context, b *batch, tb *tableBatch, tbl *table.Table) (bool, error) {
	ts := s.tables[tb.key]
	rows := slices.DeleteFunc(slices.Clone(tb.dead), func(d deadRow) bool {
		return ts.holds(d.src.Topic, d.src.Partition, d.src.Offset)
	})
	var files []iceberg.DataFile
	if len(rows) > 0 {
		sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
		if err != nil {
			return false, fmt.Errorf("arrow schema of %s: %w", tb.key, err)
		}
		rec, err := buildDeadLetters(memory.DefaultAllocator, sc, rows, time.Now())
		if err != nil {
			return false, err
		}
		files, err = writeFiles(ctx, tbl, sc, func(yield func(arrow.RecordBatch, error) bool) { yield(rec, nil) })
		if err != nil {
			return false, fmt.Errorf("table %s: %w", tb.key, err)
		}
		for _, d := range rows {
			s.m.deadLettered.WithLabelValues(tb.key, d.reason).Inc()
			s.log.Warn("record dead-lettered", "table", tb.key, "topic", d.src.Topic, "partition", d.src.Partition,
				"offset", d.src.Offset, "reason", d.reason, "err", d.err)
		}
	}
	return s.commitTable(ctx, ts, tbl, files, onlyTopic(b.next, tb.topic), len(rows))
}

// advanceMarkers moves to next the markers of the consumed topics' tables not in done (the
// tables a batch wrote to) that are behind it and either lack one of its partitions, have not
// moved for MarkerInterval, or settle is set (shutdown, partitions revoked: the next owner then
// seeks exactly where this one stopped). It is a table-property change, no snapshot: an idle
// table makes none. It keeps the offsets a restart seeks to (the least of a topic's tables)
// close to where the sink is.
func (s *Sink) advanceMarkers(ctx context.Context, next Offsets, done map[string]bool, settle bool) (bool, error) {
	for _, key := range slices.Sorted(maps.Keys(s.tables)) {
		ts := s.tables[key]
		n := onlyTopic(next, ts.topic)
		if done[key] || !ts.exists || !ts.behind(n) {
			continue
		}
		if !settle && !ts.lacksAny(n) && time.Since(ts.markedAt) < s.cfg.MarkerInterval {
			continue
		}
		if ok, err := s.commitTable(ctx, ts, nil, nil, n, 0); err != nil || !ok {
			return ok, err
		}
	}
	return true, nil
}

// behind reports whether the marker lacks one of next's partitions or has it at a smaller
// offset.
func (ts *tableState) behind(next Offsets) bool {
	for topic, ps := range next {
		for p, off := range ps {
			if have, ok := ts.known.Get(topic, p); !ok || have < off {
				return true
			}
		}
	}
	return false
}

func (ts *tableState) lacksAny(next Offsets) bool {
	for topic, ps := range next {
		for p := range ps {
			if _, ok := ts.known.Get(topic, p); !ok {
				return true
			}
		}
	}
	return false
}

// onlyTopic returns the partitions of o that belong to topic.
func onlyTopic(o Offsets, topic string) Offsets {
	out := Offsets{}
	if ps, ok := o[topic]; ok {
		out[topic] = maps.Clone(ps)
	}
	return out
}

// ensure returns the table of ts, creating it with the schema and spec that schema gives (nil
// table if schema fails) if the sink does not know it to exist. A table the sink did not know
// (created meanwhile by another instance) is adopted with its marker where that marker is not
// past the sink's position; past it, the commit's check finds the partition moved.
func (s *Sink) ensure(ctx context.Context, ts *tableState, schema func() (*iceberg.Schema, iceberg.PartitionSpec, error)) (*table.Table, error) {
	if ts.exists {
		tbl, err := s.cat.LoadTable(ctx, ts.ident)
		if err != nil {
			return nil, fmt.Errorf("load table %s: %w", ts.key, err)
		}
		return tbl, nil
	}
	sc, spec, err := schema()
	if err != nil {
		return nil, nil //nolint:nilerr // the caller dead-letters the rows: no schema of theirs maps
	}
	tbl, err := createTable(ctx, s.cat, ts.ident, sc, spec, tableProperties(s.cfg.Group, s.initialMarker(ts.topic)))
	if err != nil {
		return nil, err
	}
	marker, err := CommittedOffsets(tbl.Metadata(), s.cfg.Group)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", ts.key, err)
	}
	ts.known = Offsets{}
	for p, off := range marker[ts.topic] {
		if start, owned := s.pos.Get(ts.topic, p); owned && off > start {
			off = start
		}
		ts.known.Set(ts.topic, p, off)
	}
	ts.exists, ts.markedAt = true, time.Now()
	s.log.Info("table created", "table", ts.key, "location", tbl.Location(), "marker", ts.known.Encode())
	return tbl, nil
}

// initialMarker is the marker a new table of topic starts with: for the partitions this sink
// consumes, where its current batch started (every record before it went to the tables that
// existed then, so none to this one); for the others, the least offset every other table of the
// topic has for them (none if one of them has none: read from the start).
func (s *Sink) initialMarker(topic string) Offsets {
	out := onlyTopic(s.pos, topic)
	var others []*tableState
	for _, ts := range s.tables {
		if ts.exists && ts.topic == topic {
			others = append(others, ts)
		}
	}
	if len(others) == 0 {
		return out
	}
	for p := range others[0].known[topic] {
		if _, owned := s.pos.Get(topic, p); owned {
			continue
		}
		least, all := int64(-1), true
		for _, ts := range others {
			off, ok := ts.known.Get(topic, p)
			if !ok {
				all = false
				break
			}
			if least < 0 || off < least {
				least = off
			}
		}
		if all {
			out.Set(topic, p, least)
		}
	}
	return out
}

// commitTable commits files (none: only the marker moves, a table property, no snapshot) to
// tbl with the marker overlaid with next, as a compare-and-swap on the table's head: if another
// writer moved one of next's partitions since the sink last looked, it returns false.
func (s *Sink) commitTable(ctx context.Context, ts *tableState, tbl *table.Table, files []iceberg.DataFile, next Offsets, rows int) (bool, error) {
	var err error
	if tbl == nil {
		if tbl, err = s.cat.LoadTable(ctx, ts.ident); err != nil {
			return false, fmt.Errorf("load table %s: %w", ts.key, err)
		}
	}
	commitID := uuid.NewString()
	for attempt := 1; ; attempt++ {
		marker, err := CommittedOffsets(tbl.Metadata(), s.cfg.Group)
		if err != nil {
			return false, err
		}
		if moved := movedPartitions(marker, ts.known, next); len(moved) > 0 {
			s.m.batchesDropped.Inc()
			s.log.Warn("another writer committed partitions of this batch first: discarding it",
				"table", ts.key, "partitions", moved, "orphan_files", filePaths(files))
			return false, nil
		}
		merged := marker.Overlay(next)
		base := tbl.CurrentSnapshot()
		_, err = appendSnapshot(ctx, tbl, files, s.cfg.Group, merged, commitID)
		if err == nil {
			s.committed(ts, merged, rows, len(files))
			return true, nil
		}
		s.m.commitFailures.WithLabelValues(ts.key).Inc()

		// A conflict, or an error that leaves the outcome unknown: reload, and if our commit is
		// there after all, it landed.
		fresh, lerr := s.cat.LoadTable(ctx, ts.ident)
		if lerr == nil {
			if landedCommit(fresh.Metadata(), s.cfg.Group, commitID, base, files, merged) {
				s.committed(ts, merged, rows, len(files))
				return true, nil
			}
			tbl = fresh
		}
		if attempt >= maxCommitAttempts || ctx.Err() != nil {
			return false, fmt.Errorf("commit to %s failed %d times: %w", ts.key, attempt, err)
		}
		s.log.Info("commit failed, retrying on the reloaded table", "table", ts.key, "attempt", attempt, "err", err)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return false, fmt.Errorf("commit to %s: %w", ts.key, err)
		}
	}
}

func (s *Sink) committed(ts *tableState, merged Offsets, rows, files int) {
	ts.known = onlyTopic(merged, ts.topic)
	ts.markedAt = time.Now()
	if files == 0 {
		s.m.markerCommits.WithLabelValues(ts.key).Inc()
		s.log.Debug("advanced the marker", "table", ts.key, "offsets", ts.known.Encode())
		return
	}
	s.m.commits.WithLabelValues(ts.key).Inc()
	s.m.rowsWritten.WithLabelValues(ts.key).Add(float64(rows))
	s.log.Info("committed snapshot", "table", ts.key, "rows", rows, "files", files, "offsets", ts.known.Encode())
}

// movedPartitions lists next's partitions whose offset in the table is no longer the one the
// sink knew.
func movedPartitions(table, known, next Offsets) []string {
	var moved []string
	for topic, ps := range next {
		for p := range ps {
			have, hok := table.Get(topic, p)
			want, wok := known.Get(topic, p)
			if hok != wok || have != want {
				moved = append(moved, fmt.Sprintf("%s/%d: table %s, the sink knew %s", topic, p, offStr(have, hok), offStr(want, wok)))
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

// writeFiles writes the records (which it releases) as Parquet data files of tbl, without
// committing them.
func writeFiles(ctx context.Context, tbl *table.Table, sc *arrow.Schema, batches iter.Seq2[arrow.RecordBatch, error]) ([]iceberg.DataFile, error) {
	var files []iceberg.DataFile
	for df, err := range table.WriteRecords(ctx, tbl, sc, batches) {
		if err != nil {
			return nil, fmt.Errorf("write data files: %w", err)
		}
		files = append(files, df)
	}
	return files, nil
}

// appendSnapshot commits files as one append snapshot on tbl's current snapshot, with the
// marker in its summary and mirrored in the table property; with no files, only the property
// changes. It fails rather than replays: iceberg-go's own retry, which would reuse the marker
// computed for the old parent, is pinned off by AssertRefSnapshotID (and the table's
// commit.retry.num-retries = 0).
func appendSnapshot(ctx context.Context, tbl *table.Table, files []iceberg.DataFile, group string, offs Offsets, commitID string) (*table.Table, error) {
	enc := offs.Encode()
	txn := tbl.NewTransaction()
	if err := txn.AssertRefSnapshotID(""); err != nil {
		return nil, fmt.Errorf("assert snapshot: %w", err)
	}
	if err := txn.SetProperties(iceberg.Properties{OffsetsProperty(group): enc}); err != nil {
		return nil, fmt.Errorf("set offsets property: %w", err)
	}
	if len(files) > 0 {
		props := iceberg.Properties{OffsetsProperty(group): enc, commitIDKey: commitID}
		if err := txn.AddDataFiles(ctx, files, props, table.WithoutDuplicateCheck()); err != nil {
			return nil, fmt.Errorf("add data files: %w", err)
		}
	}
	return txn.Commit(ctx)
}

// landedCommit reports whether a commit whose outcome was unknown is in meta: a snapshot after
// base with its commit id, or (a marker-only commit) the marker as it would have set it.
func landedCommit(meta table.Metadata, group, commitID string, base *table.Snapshot, files []iceberg.DataFile, merged Offsets) bool {
	if len(files) > 0 {
		return landed(meta, commitID, base)
	}
	v, ok := meta.Properties()[OffsetsProperty(group)]
	return ok && v == merged.Encode()
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
