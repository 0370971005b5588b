package bulksync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/storeline/storeline/events"
)

// progressEvery is how many rows pass between two progress reports.
const progressEvery = 500

// resultsLifetime is how long Shopify keeps a bulk operation's result.
const resultsLifetime = 7 * 24 * time.Hour

// resource runs (or resumes) one resource's export: submit, wait, stream, advance the watermark.
func (w *Workflow) resource(ctx context.Context, h *History, run *Run, res string) error {
	if p, ok := w.exports.(PagedExports); ok && p.Paged(res) {
		return w.paged(ctx, h, run, res, p)
	}
	o := run.op(res)
	if o.GID == "" {
		if err := w.submit(ctx, h, run, res); err != nil {
			return err
		}
	}
	op := BulkOperation{GID: o.GID, Status: o.Terminal, ObjectCount: o.ObjectCount}
	if !o.Checkpoint.Complete {
		var err error
		if op, err = w.wait(ctx, h, run, res); err != nil {
			return err
		}
		if err := w.stream(ctx, h, run, res, op); err != nil {
			return err
		}
	}
	return w.advance(ctx, h, run, res, op)
}

// submit starts the resource's bulk operation, waiting while the API version's concurrency
// limit is reached (another export of the shop, maybe not ours, is running).
func (w *Workflow) submit(ctx context.Context, h *History, run *Run, res string) error {
	query := w.exports.Query(res, run.Start[res].UpdatedSince)
	delay := w.cfg.PollEvery
	for {
		op, err := w.api.RunBulkQuery(ctx, query)
		if errors.Is(err, ErrBulkInProgress) {
			// Maybe ours: a submission whose answer was lost (a retried mutation, a crash between
			// Shopify's answer and our record). The running operation with our query is adopted.
			if cur, cerr := w.api.CurrentBulkOperation(ctx); cerr == nil && cur.GID != "" && !cur.Terminal() && cur.Query == query {
				w.cfg.Log.Info("adopting the running bulk operation of the same query", "shop", w.cfg.Shop, "resource", res, "bulk_operation", cur.GID)
				op, err = cur, nil
			}
		}
		if errors.Is(err, ErrBulkInProgress) {
			w.cfg.Log.Info("another bulk operation is running; waiting", "shop", w.cfg.Shop, "resource", res, "retry_in", delay)
			if err := w.sleep(ctx, delay); err != nil {
				return err
			}
			delay = min(2*delay, time.Minute)
			continue
		}
		if err != nil {
			return fmt.Errorf("submit the %s export: %w", res, err)
		}
		groupObjects := false
		ev := &events.BulkOperationSubmitted{
			Envelope: w.envelope(run.ID, events.TypeBulkOperationSubmitted, "submitted", res, op.GID),
			RunID:    run.ID, Resource: res, BulkOperationGID: op.GID, Query: query, GroupObjects: &groupObjects,
			Status: op.Status, SubmittedAt: op.CreatedAt.UTC().Truncate(time.Microsecond),
		}
		if ev.SubmittedAt.IsZero() {
			ev.SubmittedAt = w.now().UTC().Truncate(time.Microsecond)
		}
		if _, err := w.log.Append(ctx, ev, ""); err != nil {
			return err
		}
		h.Apply(ev)
		return nil
	}
}

// wait polls the resource's bulk operation until it ends and records how it ended. A failure
// ends the run: its partial data is never used and the watermark stays.
func (w *Workflow) wait(ctx context.Context, h *History, run *Run, res string) (BulkOperation, error) {
	o := run.op(res)
	if o.Terminal != "" && o.Terminal != "COMPLETED" { // its failure was recorded, the run's not yet
		return BulkOperation{}, &runFailure{step: "bulk_operation", resource: res, gid: o.GID, code: "bulk_" + strings.ToLower(o.Terminal),
			message: fmt.Sprintf("the %s export ended %s", res, o.Terminal), retryable: true}
	}
	for {
		op, err := w.api.BulkOperation(ctx, o.GID)
		if err != nil {
			return BulkOperation{}, fmt.Errorf("poll the %s export %s: %w", res, o.GID, err)
		}
		if !op.Terminal() {
			if err := w.sleep(ctx, w.cfg.PollEvery); err != nil {
				return BulkOperation{}, err
			}
			continue
		}
		if o.Terminal == "COMPLETED" {
			return op, nil // recorded before a restart; op has a fresh result URL
		}
		completed := op.CompletedAt.UTC().Truncate(time.Microsecond)
		if completed.IsZero() {
			completed = w.now().UTC().Truncate(time.Microsecond)
		}
		if op.Status != "COMPLETED" {
			ev := &events.BulkOperationFailed{
				Envelope: w.envelope(run.ID, events.TypeBulkOperationFailed, "bulk-ended", res, op.GID),
				RunID:    run.ID, Resource: res, BulkOperationGID: op.GID, Status: op.Status,
				ObjectCount: &op.ObjectCount, PartialDataAvailable: op.PartialDataURL != "", CompletedAt: &completed,
			}
			if op.ErrorCode != "" {
				ev.ErrorCode = &op.ErrorCode
			}
			if _, err := w.log.Append(ctx, ev, ""); err != nil {
				return BulkOperation{}, err
			}
			h.Apply(ev)
			return BulkOperation{}, &runFailure{step: "bulk_operation", resource: res, gid: op.GID, code: "bulk_" + strings.ToLower(op.Status),
				message: fmt.Sprintf("the %s export ended %s (error code %q)", res, op.Status, op.ErrorCode), retryable: true}
		}
		expires := completed.Add(resultsLifetime)
		ev := &events.BulkOperationCompleted{
			Envelope: w.envelope(run.ID, events.TypeBulkOperationCompleted, "bulk-ended", res, op.GID),
			RunID:    run.ID, Resource: res, BulkOperationGID: op.GID, Status: op.Status, ObjectCount: op.ObjectCount,
			RootObjectCount: &op.RootObjectCount, FileSize: &op.FileSize, URLAvailable: op.URL != "",
			PartialDataAvailable: op.PartialDataURL != "", CompletedAt: completed, ResultsExpireAt: &expires,
		}
		if _, err := w.log.Append(ctx, ev, ""); err != nil {
			return BulkOperation{}, err
		}
		h.Apply(ev)
		return op, nil
	}
}

// stream reads the result from the last checkpoint on and emits each line's events, recording a
// RowsEmitted checkpoint every CheckpointEvery lines once their events are acknowledged.
func (w *Workflow) stream(ctx context.Context, h *History, run *Run, res string, op BulkOperation) error {
	o := run.op(res)
	fail := func(code, msg string, retryable bool) error {
		return &runFailure{step: "stream_rows", resource: res, gid: op.GID, code: code, message: msg, retryable: retryable}
	}
	if op.PartialDataURL != "" {
		return fail("partial_result", "Shopify returned partial data only; it is never used", true)
	}
	if op.URL == "" && op.ObjectCount > 0 {
		return fail("no_result", fmt.Sprintf("%d objects and no result URL", op.ObjectCount), true)
	}
	cp := o.Checkpoint
	rows, evs, offset, lastLine := cp.RowsEmitted, cp.EventsEmitted, cp.ByteOffset, cp.LastRowNumber
	started := w.now()
	progress := func(done bool) {
		w.cfg.Progress(Progress{Resource: res, Rows: rows, Total: op.ObjectCount, Started: started, Done: done})
	}
	checkpoint := func(complete bool) error {
		ev := &events.RowsEmitted{
			Envelope: w.envelope(run.ID, events.TypeRowsEmitted, "rows", res, op.GID, fmt.Sprint(rows), fmt.Sprint(complete)),
			RunID:    run.ID, Resource: res, BulkOperationGID: op.GID, RowsEmitted: rows, LastRowNumber: lastLine,
			ByteOffset: offset, EventsEmitted: evs, Complete: complete, EmittedAt: w.now().UTC().Truncate(time.Microsecond),
		}
		if _, err := w.log.Append(ctx, ev, ""); err != nil {
			return err
		}
		h.Apply(ev)
		return nil
	}
	if op.URL != "" {
		r, err := w.api.OpenResult(ctx, op.URL, Position{Offset: offset, Line: lastLine})
		if err != nil {
			return fmt.Errorf("open the %s result at byte %d: %w", res, offset, err)
		}
		defer r.Close()
		batch := w.log.Batch()
		for {
			line, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("read the %s result after row %d: %w", res, rows, err)
			}
			out, err := w.exports.Events(ctx, w.cfg.Shop, res, line.Raw, line.Number, op, run.ID)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fail("untranslatable_row", fmt.Sprintf("row %d: %v", line.Number, err), false)
			}
			for _, ev := range out {
				if err := batch.Append(ctx, ev, ""); err != nil {
					return fail("invalid_row_event", fmt.Sprintf("row %d: %v", line.Number, err), false)
				}
			}
			rows, evs, offset, lastLine = rows+1, evs+int64(len(out)), line.Offset, line.Number
			if rows%progressEvery == 0 {
				progress(false)
			}
			if rows%w.cfg.CheckpointEvery == 0 {
				if err := batch.Wait(ctx); err != nil {
					return err
				}
				if err := checkpoint(false); err != nil {
					return err
				}
				batch = w.log.Batch()
			}
		}
		if err := batch.Wait(ctx); err != nil {
			return err
		}
	}
	if rows < op.ObjectCount {
		return fail("truncated_result", fmt.Sprintf("the result holds %d lines, Shopify counted %d objects", rows, op.ObjectCount), true)
	}
	progress(true)
	return checkpoint(true)
}

// paged reads a resource that has no bulk export (PagedExports) page by page from the start,
// emits its events, then records one RowsEmitted with complete = true and an empty
// bulk_operation_gid (rows: the events read), and advances the watermark to the time the read
// began: everything that happened before it is on a page. A crash before the watermark moved
// reads the resource again from its first page (the events' ids are deterministic, so nothing
// duplicates downstream): a page cursor is not a step worth recording for the few objects such
// a resource holds.
func (w *Workflow) paged(ctx context.Context, h *History, run *Run, res string, p PagedExports) error {
	o := run.op(res)
	if o.Watermarked {
		return w.advance(ctx, h, run, res, BulkOperation{ObjectCount: o.Checkpoint.RowsEmitted})
	}
	started := w.now().UTC().Truncate(time.Microsecond)
	var rows int64
	batch := w.log.Batch()
	cursor := ""
	for {
		out, next, err := p.Page(ctx, w.cfg.Shop, res, run.Start[res].UpdatedSince, cursor, run.ID)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, ErrUntranslatable) {
				return &runFailure{step: "stream_rows", resource: res, code: "untranslatable_row", message: err.Error()}
			}
			return fmt.Errorf("read the %s after cursor %q: %w", res, cursor, err)
		}
		for _, ev := range out {
			if err := batch.Append(ctx, ev, ""); err != nil {
				return &runFailure{step: "stream_rows", resource: res, code: "invalid_row_event", message: err.Error()}
			}
		}
		rows += int64(len(out))
		if next == "" {
			break
		}
		cursor = next
	}
	if err := batch.Wait(ctx); err != nil {
		return err
	}
	cp := &events.RowsEmitted{
		Envelope: w.envelope(run.ID, events.TypeRowsEmitted, "rows", res, fmt.Sprint(rows), "complete"),
		RunID:    run.ID, Resource: res, RowsEmitted: rows, LastRowNumber: rows, EventsEmitted: rows, Complete: true,
		EmittedAt: w.now().UTC().Truncate(time.Microsecond),
	}
	if _, err := w.log.Append(ctx, cp, ""); err != nil {
		return err
	}
	h.Apply(cp)
	if w.cfg.Progress != nil {
		w.cfg.Progress(Progress{Resource: res, Rows: rows, Total: rows, Started: started, Done: true})
	}
	o.SubmittedAt = started
	return w.advance(ctx, h, run, res, BulkOperation{ObjectCount: rows})
}

// advance moves the resource's watermark to the bulk operation's creation time: everything
// updated before it is in the export. Never backwards.
func (w *Workflow) advance(ctx context.Context, h *History, run *Run, res string, op BulkOperation) error {
	o := run.op(res)
	prev, hadPrev := h.Watermarks[res]
	result := events.SyncResourceResult{
		Resource: res, BulkOperationGID: o.GID, ObjectCount: op.ObjectCount,
		RowsEmitted: o.Checkpoint.RowsEmitted, EventsEmitted: o.Checkpoint.EventsEmitted,
	}
	if hadPrev {
		result.PreviousWatermark = &prev
	}
	next := o.SubmittedAt
	if !o.Watermarked && (!hadPrev || next.After(prev)) {
		ev := &events.WatermarkAdvanced{
			Envelope: w.envelope(run.ID, events.TypeWatermarkAdvanced, "watermark", res),
			Resource: res, NewWatermark: next, LookbackMs: w.cfg.Lookback.Milliseconds(), RunID: run.ID, Mode: run.Mode,
			BulkOperationGID: o.GID,
		}
		ev.Envelope.AggregateType, ev.Envelope.AggregateID = "Watermark", w.cfg.Shop+"/"+res
		if hadPrev {
			ev.PreviousWatermark = &prev
		}
		if _, err := w.log.Append(ctx, ev, ""); err != nil {
			return err
		}
		h.Apply(ev)
	}
	if wm, ok := h.Watermarks[res]; ok {
		result.NewWatermark = &wm
	}
	run.Result[res] = result
	return nil
}

// envelope is the envelope of a step of run: deterministic id from the run and the step, so a
// step recorded again after a crash is the same event.
func (w *Workflow) envelope(runID, eventType string, step ...string) events.Envelope {
	now := w.now().UTC().Truncate(time.Microsecond)
	return events.Envelope{
		EventID:       events.DeterministicID(append([]string{"bulk-sync", w.cfg.Shop, runID, eventType}, step...)...),
		EventType:     eventType,
		OccurredAt:    now,
		RecordedAt:    now,
		Shop:          w.cfg.Shop,
		AggregateType: "SyncRun",
		AggregateID:   runID,
		CorrelationID: &runID,
		Actor:         events.Actor{Type: events.ActorSystem, ID: "workflows/bulk-sync"},
		Source:        events.SourceWorkflow,
	}
}
