package bulksync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
)

// BulkOperation is a Shopify bulk operation as the workflow needs it.
type BulkOperation struct {
	GID             string
	Status          string // CREATED, RUNNING, COMPLETED, FAILED, CANCELING, CANCELED, EXPIRED
	ErrorCode       string
	CreatedAt       time.Time
	CompletedAt     time.Time
	ObjectCount     int64
	RootObjectCount int64
	FileSize        int64
	URL             string // the result, signed and short-lived: fetch a fresh one before reading
	PartialDataURL  string
	Query           string // the bulk query it runs
}

// Terminal reports whether the operation has ended.
func (o BulkOperation) Terminal() bool {
	switch o.Status {
	case "COMPLETED", "FAILED", "CANCELED", "EXPIRED":
		return true
	}
	return false
}

// ErrBulkInProgress is what Shopify answers a new bulk operation when the API version's limit of
// concurrent ones is reached; the workflow waits and tries again.
var ErrBulkInProgress = errors.New("a bulk operation is already in progress")

// Shopify is the Admin API as the workflow uses it (package shopifyapi, through an adapter).
type Shopify interface {
	RunBulkQuery(ctx context.Context, query string) (BulkOperation, error)
	BulkOperation(ctx context.Context, gid string) (BulkOperation, error)
	// CurrentBulkOperation is the app's latest bulk operation on the shop (zero GID: none).
	CurrentBulkOperation(ctx context.Context) (BulkOperation, error)
	// OpenResult reads the JSONL result from a position a previous reader reached (the zero
	// Position: the start).
	OpenResult(ctx context.Context, url string, from Position) (Result, error)
}

// Result is a JSONL result being read; Next returns io.EOF after the last line.
type Result interface {
	Next() (Line, error)
	Close() error
}

// Position is a place in a result: after the line numbered Line, which ends at byte Offset.
type Position struct {
	Offset int64
	Line   int64
}

// Line is one line of a result.
type Line struct {
	Raw    []byte
	Number int64 // 1-based line number in the file
	Offset int64 // bytes from the start of the file to the end of this line
}

// Exports says how a resource is exported and how its lines become events (package
// commands/shopify).
type Exports interface {
	// Query is the bulk query of resource, of what changed since since (nil: everything).
	Query(resource string, since *time.Time) string
	// Events are the events of one line (row is its 1-based number in the file); none is fine
	// for a line that records nothing (an inventory item row, the parent of its levels' rows),
	// which still counts as a line read. An error means the line cannot be translated; the run
	// then fails rather than skip data.
	Events(ctx context.Context, shop, resource string, line []byte, row int64, op BulkOperation, runID string) ([]events.Event, error)
}

// PagedExports is implemented by an Exports that reads some resources page by page with
// ordinary GraphQL queries instead of a bulk operation: Shopify's events (the product
// deletions) cannot be bulk-exported. Such a resource records no bulk operation steps: see
// Workflow.paged.
type PagedExports interface {
	// Paged reports whether resource is read page by page.
	Paged(resource string) bool
	// Page reads the page of resource after cursor ("" for the first) of what happened since
	// since (nil: everything), and returns its events and the next page's cursor ("" after the
	// last page). A node that cannot be translated is an error wrapping ErrUntranslatable (the
	// run fails); any other error leaves the run unfinished.
	Page(ctx context.Context, shop, resource string, since *time.Time, cursor, runID string) (evs []events.Event, next string, err error)
}

// ErrUntranslatable is what PagedExports.Page wraps for a node it cannot translate.
var ErrUntranslatable = errors.New("untranslatable node")

// Log is where the workflow records its steps and emits the exported objects.
type Log interface {
	Append(ctx context.Context, ev events.Event, traceparent string) (eventlog.Position, error)
	Batch() *eventlog.Batch
}

// HistorySource loads what the sync topic says of a shop (SyncTopic).
type HistorySource interface {
	Load(ctx context.Context, shop string) (*History, error)
}

// Locker makes one run per shop execute at a time across processes (PGLock).
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Progress is where a resource's export stands, for a progress display.
type Progress struct {
	Resource string
	Rows     int64 // lines read so far
	Total    int64 // lines Shopify counted (objectCount)
	Started  time.Time
	Done     bool
}

// Config configures a Workflow.
type Config struct {
	Shop            string
	Resources       []string      // default products, orders, inventory (and product_deletions when the Exports is a PagedExports)
	Lookback        time.Duration // re-export this much before the watermark; default 1h
	CheckpointEvery int64         // rows between RowsEmitted checkpoints; default 5000
	PollEvery       time.Duration // bulk operation polling; default 2s
	Progress        func(Progress)
	Log             *slog.Logger
}

// Workflow runs bulk syncs of one shop.
type Workflow struct {
	cfg     Config
	api     Shopify
	exports Exports
	log     Log
	hist    HistorySource
	lock    Locker
	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
}

// New returns the bulk sync workflow of cfg.Shop.
func New(cfg Config, api Shopify, exports Exports, log Log, hist HistorySource, lock Locker) *Workflow {
	if len(cfg.Resources) == 0 {
		cfg.Resources = []string{ResourceProducts, ResourceOrders, ResourceInventory}
		if p, ok := exports.(PagedExports); ok && p.Paged(ResourceProductDeletions) {
			cfg.Resources = append(cfg.Resources, ResourceProductDeletions)
		}
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = time.Hour
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 5000
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Progress == nil {
		cfg.Progress = func(Progress) {}
	}
	return &Workflow{cfg: cfg, api: api, exports: exports, log: log, hist: hist, lock: lock,
		now: time.Now, sleep: sleepCtx}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Request records a new run of the shop: SyncRunRequested. via says who asked (cli, dashboard,
// scheduler); source and actor go in the envelope.
func (w *Workflow) Request(ctx context.Context, runID, mode, via, source string, actor events.Actor) error {
	if mode != ModeIncremental && mode != ModeFull {
		return fmt.Errorf("sync mode %q: want incremental or full", mode)
	}
	ev := &events.SyncRunRequested{
		Envelope: w.envelope(runID, events.TypeSyncRunRequested, "requested"),
		RunID:    runID, Resources: w.cfg.Resources, Mode: mode, RequestedVia: via,
	}
	ev.Envelope.Source, ev.Envelope.Actor = source, actor
	_, err := w.log.Append(ctx, ev, "")
	return err
}

// Sync resumes the shop's unfinished run if there is one (after a crash, the same command
// finishes the same run), or else records a new run with newRunID and mode and executes it.
func (w *Workflow) Sync(ctx context.Context, newRunID, mode, via, source string, actor events.Actor) (runID string, err error) {
	h, err := w.hist.Load(ctx, w.cfg.Shop)
	if err != nil {
		return "", err
	}
	if r := h.Unfinished(); r != nil {
		w.cfg.Log.Info("resuming an unfinished sync run", "shop", w.cfg.Shop, "run", r.ID, "mode", r.Mode)
		return r.ID, w.Execute(ctx, r.ID)
	}
	if err := w.Request(ctx, newRunID, mode, via, source, actor); err != nil {
		return "", err
	}
	return newRunID, w.Execute(ctx, newRunID)
}

// runFailure is a run's end in failure: recorded as SyncRunFailed, the run is over (a new run
// may retry).
type runFailure struct {
	step, resource, gid, code, message string
	retryable                          bool
}

func (f *runFailure) Error() string {
	return fmt.Sprintf("sync run failed at %s of %s: %s: %s", f.step, f.resource, f.code, f.message)
}

// Execute runs or resumes a run until it completes or fails. An error that is not the run's
// failure (the context ended, Kafka or Shopify unreachable past the client's retries) leaves the
// run unfinished: executing it again resumes it.
func (w *Workflow) Execute(ctx context.Context, runID string) error {
	unlock, err := w.lock.Lock(ctx, "bulksync/"+w.cfg.Shop)
	if err != nil {
		return fmt.Errorf("sync run %s: %w", runID, err)
	}
	defer unlock()
	h, err := w.hist.Load(ctx, w.cfg.Shop)
	if err != nil {
		return err
	}
	run, ok := h.Runs[runID]
	if !ok || !run.Requested {
		return fmt.Errorf("sync run %s of %s was never requested", runID, w.cfg.Shop)
	}
	if run.Finished() {
		return nil
	}
	started := w.now()
	if !run.Started {
		if err := w.start(ctx, h, run); err != nil {
			return err
		}
	}
	for _, res := range run.Resources {
		err := w.resource(ctx, h, run, res)
		var f *runFailure
		if errors.As(err, &f) {
			ev := &events.SyncRunFailed{
				Envelope: w.envelope(run.ID, events.TypeSyncRunFailed, "failed", f.step, res),
				RunID:    run.ID, Step: f.step, Resource: &f.resource, ErrorCode: f.code, ErrorMessage: f.message,
				Retryable: f.retryable, Attempt: 1,
			}
			if f.gid != "" {
				ev.BulkOperationGID = &f.gid
			}
			if _, aerr := w.log.Append(ctx, ev, ""); aerr != nil {
				return errors.Join(err, aerr)
			}
			return err
		}
		if err != nil {
			return err
		}
	}
	ev := &events.SyncRunCompleted{
		Envelope: w.envelope(run.ID, events.TypeSyncRunCompleted, "completed"),
		RunID:    run.ID, Mode: run.Mode, DurationMs: w.now().Sub(started).Milliseconds(),
	}
	for _, res := range run.Resources {
		ev.Resources = append(ev.Resources, run.Result[res])
	}
	_, err = w.log.Append(ctx, ev, "")
	return err
}

// start records where each resource's export starts: from its watermark less the lookback
// (incremental), or from the beginning (full, or no watermark yet).
func (w *Workflow) start(ctx context.Context, h *History, run *Run) error {
	ev := &events.SyncRunStarted{Envelope: w.envelope(run.ID, events.TypeSyncRunStarted, "started"), RunID: run.ID, Mode: run.Mode}
	for _, res := range run.Resources {
		s := events.SyncResourceStart{Resource: res, LookbackMs: w.cfg.Lookback.Milliseconds()}
		if wm, ok := h.Watermarks[res]; ok && run.Mode == ModeIncremental {
			since := wm.Add(-w.cfg.Lookback)
			s.FromWatermark, s.UpdatedSince = &wm, &since
		}
		ev.Resources = append(ev.Resources, s)
	}
	if _, err := w.log.Append(ctx, ev, ""); err != nil {
		return err
	}
	h.Apply(ev)
	return nil
}
