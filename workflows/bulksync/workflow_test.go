package bulksync_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/workflows/bulksync"
)

const shop = "sync-test.myshopify.com"

// fakeShopify runs bulk operations over generated results: each poll moves an operation one
// status on, CREATED → RUNNING → the configured end.
type fakeShopify struct {
	mu       sync.Mutex
	ops      map[string]*bulksync.BulkOperation
	resource map[string]string // bulk operation → resource it exports
	polls    map[string]int
	results  map[string][]byte // by resource
	end      string            // terminal status, default COMPLETED
	partial  bool
	busy     int // RunBulkQuery answers ErrBulkInProgress this many times first
	lose     int // RunBulkQuery starts the operation but loses its answer this many times first
	current  string
	queries  []string
	openedAt []bulksync.Position
	clock    time.Time
}

func newFakeShopify(lines map[string]int) *fakeShopify {
	f := &fakeShopify{ops: map[string]*bulksync.BulkOperation{}, resource: map[string]string{}, polls: map[string]int{}, results: map[string][]byte{},
		clock: time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)}
	for res, n := range lines {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, `{"id":"gid://shopify/%s/%d"}`+"\n", res, i+1)
		}
		f.results[res] = b.Bytes()
	}
	return f
}

func (f *fakeShopify) RunBulkQuery(_ context.Context, query string) (bulksync.BulkOperation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy > 0 {
		f.busy--
		return bulksync.BulkOperation{}, fmt.Errorf("bulkOperationRunQuery: %w", bulksync.ErrBulkInProgress)
	}
	if cur, ok := f.ops[f.current]; ok && !cur.Terminal() {
		return bulksync.BulkOperation{}, fmt.Errorf("bulkOperationRunQuery: %w", bulksync.ErrBulkInProgress)
	}
	f.queries = append(f.queries, query)
	f.clock = f.clock.Add(time.Minute)
	op := &bulksync.BulkOperation{GID: fmt.Sprintf("gid://shopify/BulkOperation/%d", len(f.ops)+1), Status: "CREATED", CreatedAt: f.clock, Query: query}
	f.ops[op.GID] = op
	f.resource[op.GID] = resourceOf(query)
	f.current = op.GID
	if f.lose > 0 {
		f.lose--
		return bulksync.BulkOperation{}, errors.New("connection reset by peer")
	}
	return *op, nil
}

func (f *fakeShopify) CurrentBulkOperation(context.Context) (bulksync.BulkOperation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if op, ok := f.ops[f.current]; ok {
		return *op, nil
	}
	return bulksync.BulkOperation{}, nil
}

func (f *fakeShopify) BulkOperation(_ context.Context, gid string) (bulksync.BulkOperation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	op, ok := f.ops[gid]
	if !ok {
		return bulksync.BulkOperation{}, fmt.Errorf("no operation %s", gid)
	}
	f.polls[gid]++
	switch {
	case f.polls[gid] == 1:
		op.Status = "RUNNING"
	case f.polls[gid] >= 2 && !op.Terminal():
		op.Status = "COMPLETED"
		if f.end != "" {
			op.Status = f.end
		}
		res := f.resource[gid]
		op.CompletedAt = op.CreatedAt.Add(30 * time.Second)
		op.ObjectCount = int64(bytes.Count(f.results[res], []byte("\n")))
		op.RootObjectCount = op.ObjectCount
		op.FileSize = int64(len(f.results[res]))
		if op.Status == "COMPLETED" {
			op.URL = "fake://" + res
		}
		if f.partial {
			op.PartialDataURL = "fake://partial"
		}
	}
	return *op, nil
}

func resourceOf(query string) string {
	for _, res := range []string{"products", "inventory"} {
		if bytes.HasPrefix([]byte(query), []byte(res)) {
			return res
		}
	}
	return "orders"
}

func (f *fakeShopify) OpenResult(_ context.Context, url string, from bulksync.Position) (bulksync.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.openedAt = append(f.openedAt, from)
	data := f.results[url[len("fake://"):]]
	return &fakeResult{data: data, off: from.Offset, n: from.Line}, nil
}

type fakeResult struct {
	data []byte
	off  int64
	n    int64
}

func (r *fakeResult) Next() (bulksync.Line, error) {
	if r.off >= int64(len(r.data)) {
		return bulksync.Line{}, io.EOF
	}
	i := bytes.IndexByte(r.data[r.off:], '\n')
	line := r.data[r.off : r.off+int64(i)]
	r.off += int64(i) + 1
	r.n++
	return bulksync.Line{Raw: line, Number: r.n, Offset: r.off}, nil
}

func (r *fakeResult) Close() error { return nil }

// fakeExports turns each line into one snapshot event with the deterministic id a real
// translator derives (shop, bulk operation, row), except the odd rows of an inventory export
// (its inventory items: no event, as the real translator); crashAt cancels the run's context
// at a row.
type fakeExports struct {
	codec   *events.Codec
	crashAt int64
	cancel  context.CancelFunc
}

func (e *fakeExports) Query(resource string, since *time.Time) string {
	if since == nil {
		return resource + " (everything)"
	}
	return resource + " updated_at:>=" + since.UTC().Format(time.RFC3339)
}

func (e *fakeExports) Events(_ context.Context, shop, resource string, line []byte, row int64, op bulksync.BulkOperation, _ string) ([]events.Event, error) {
	if e.crashAt > 0 && row == e.crashAt {
		e.cancel()
		return nil, context.Canceled
	}
	if resource == "inventory" && row%2 == 1 {
		return []events.Event{}, nil
	}
	kind, _ := e.codec.Catalogue().Kind(events.TypeProductSnapshotted)
	ev := eventstest.Sample(kind, int(row))
	m := ev.Meta()
	m.Shop, m.Source = shop, events.SourceBulkSync
	m.EventID = events.DeterministicID("shopify-bulk", shop, op.GID, fmt.Sprint(row))
	m.AggregateID = string(line)
	return []events.Event{ev}, nil
}

type env struct {
	t       *testing.T
	brokers []string
	prefix  string
	codec   *events.Codec
	log     *eventlog.Producer
	lock    bulksync.PGLock
	// resources of the workflow; nil: the default (products, orders, inventory)
	resources []string
}

func setup(t *testing.T) *env {
	testkit.Integration(t)
	e := &env{t: t, brokers: testkit.Brokers(t)}
	e.prefix = testkit.FreshTopicPrefix(t, 3, events.TopicCommerce, events.TopicSync)
	e.codec = eventstest.NewCodec(t, e.prefix)
	var err error
	if e.log, err = eventlog.NewProducer(e.brokers, e.codec, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.log.Close)
	e.lock = bulksync.PGLock{Pool: testkit.FreshDatabase(t), Poll: 10 * time.Millisecond}
	return e
}

func (e *env) workflow(api bulksync.Shopify, ex bulksync.Exports) *bulksync.Workflow {
	hist := bulksync.SyncTopic{Brokers: e.brokers, Topic: e.prefix + events.TopicSync, Codec: e.codec}
	return bulksync.New(bulksync.Config{Shop: shop, Resources: e.resources, CheckpointEvery: 100, PollEvery: time.Millisecond, Lookback: time.Hour},
		api, ex, e.log, hist, e.lock)
}

// read returns every record of a topic, decoded.
func (e *env) read(topic string) []events.Event {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.ConsumeTopics(e.prefix+topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	var out []events.Event
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 {
			return out
		}
		fs.EachRecord(func(r *kgo.Record) {
			ev, err := e.codec.Decode(context.Background(), r.Value)
			if err != nil {
				e.t.Fatal(err)
			}
			out = append(out, ev)
		})
	}
}

func history(e *env) *bulksync.History {
	e.t.Helper()
	h, err := bulksync.SyncTopic{Brokers: e.brokers, Topic: e.prefix + events.TopicSync, Codec: e.codec}.Load(context.Background(), shop)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func TestRunExportsEveryObjectAndAdvancesTheWatermark(t *testing.T) {
	e := setup(t)
	api := newFakeShopify(map[string]int{"products": 250, "orders": 420, "inventory": 100})
	api.busy = 2 // another export holds the concurrency slot at first
	wf := e.workflow(api, &fakeExports{codec: e.codec})
	ctx := context.Background()
	runID, err := wf.Sync(ctx, "run-1", bulksync.ModeIncremental, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, ev := range e.read(events.TopicCommerce) {
		ids[ev.Meta().EventID] = true
	}
	if len(ids) != 720 {
		t.Errorf("%d distinct events on commerce, want 720 (one per line, none for the 50 inventory item lines)", len(ids))
	}
	h := history(e)
	run := h.Runs[runID]
	if run == nil {
		t.Fatalf("run %s not in the history: %v", runID, h.Order)
	}
	if !run.Completed || run.Failed {
		t.Fatalf("run: %+v", run)
	}
	if !h.Watermarks["products"].Equal(api.ops["gid://shopify/BulkOperation/1"].CreatedAt) ||
		!h.Watermarks["orders"].Equal(api.ops["gid://shopify/BulkOperation/2"].CreatedAt) ||
		!h.Watermarks["inventory"].Equal(api.ops["gid://shopify/BulkOperation/3"].CreatedAt) {
		t.Errorf("watermarks %v, want each export's creation time", h.Watermarks)
	}
	if api.queries[0] != "products (everything)" {
		t.Errorf("first run without a watermark exports everything, got query %q", api.queries[0])
	}

	// The next incremental run exports from the watermark less the lookback.
	if _, err := wf.Sync(ctx, "run-2", bulksync.ModeIncremental, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"}); err != nil {
		t.Fatal(err)
	}
	for i, res := range []string{"products", "orders", "inventory"} {
		want := res + " updated_at:>=" + h.Watermarks[res].Add(-time.Hour).Format(time.RFC3339)
		if api.queries[3+i] != want {
			t.Errorf("incremental query %q, want %q", api.queries[3+i], want)
		}
	}
}

// A crash mid-stream (the context ends at row 333 of 420) leaves the run unfinished; running
// again resumes it at its last checkpoint and finishes it, with every line's event once by id.
func TestRunResumesAfterACrashMidStream(t *testing.T) {
	e := setup(t)
	e.resources = []string{"products", "orders"}
	api := newFakeShopify(map[string]int{"products": 50, "orders": 420})
	ctx, crash := context.WithCancel(context.Background())
	ex := &fakeExports{codec: e.codec, crashAt: 333, cancel: crash}
	_, err := e.workflow(api, ex).Sync(ctx, "run-1", bulksync.ModeFull, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first attempt: %v, want the crash", err)
	}
	if h := history(e); h.Runs["run-1"].Finished() || h.Watermarks["orders"] != (time.Time{}) {
		t.Fatalf("after the crash the run must be unfinished and the orders watermark unset: %+v %v", h.Runs["run-1"], h.Watermarks)
	}

	runID, err := e.workflow(api, &fakeExports{codec: e.codec}).Sync(context.Background(), "run-2", bulksync.ModeFull, "cli",
		events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"})
	if err != nil || runID != "run-1" {
		t.Fatalf("second attempt: run %s, %v; want run-1 resumed", runID, err)
	}
	if len(api.queries) != 2 {
		t.Errorf("%d bulk operations submitted, want 2 (no resubmission after the crash)", len(api.queries))
	}
	if last := api.openedAt[len(api.openedAt)-1]; last.Offset == 0 || last.Line != 300 {
		t.Errorf("the resumed stream started at %+v, not at the checkpoint after line 300", last)
	}
	ids := map[string]int{}
	for _, ev := range e.read(events.TopicCommerce) {
		ids[ev.Meta().EventID]++
	}
	if len(ids) != 470 {
		t.Errorf("%d distinct events, want 470", len(ids))
	}
	h := history(e)
	if !h.Runs["run-1"].Completed || h.Watermarks["orders"].IsZero() {
		t.Errorf("after resuming: run %+v, watermarks %v", h.Runs["run-1"], h.Watermarks)
	}
}

// A failed export (Shopify's partial data included) fails the run and never moves the watermark.
func TestFailedExportNeverAdvancesTheWatermark(t *testing.T) {
	e := setup(t)
	for name, api := range map[string]*fakeShopify{
		"failed":  func() *fakeShopify { f := newFakeShopify(map[string]int{"products": 10}); f.end = "FAILED"; return f }(),
		"partial": func() *fakeShopify { f := newFakeShopify(map[string]int{"products": 10}); f.partial = true; return f }(),
	} {
		t.Run(name, func(t *testing.T) {
			wf := bulksync.New(bulksync.Config{Shop: shop, Resources: []string{"products"}, PollEvery: time.Millisecond},
				api, &fakeExports{codec: e.codec}, e.log, bulksync.SyncTopic{Brokers: e.brokers, Topic: e.prefix + events.TopicSync, Codec: e.codec}, e.lock)
			_, err := wf.Sync(context.Background(), "run-"+name, bulksync.ModeFull, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"})
			if err == nil {
				t.Fatal("the run succeeded")
			}
			h := history(e)
			if r := h.Runs["run-"+name]; !r.Failed || r.Completed {
				t.Errorf("run: %+v", r)
			}
			if !h.Watermarks["products"].IsZero() {
				t.Errorf("watermark moved to %v", h.Watermarks["products"])
			}
		})
	}
}

// The workflows role carries out a run someone requested (the scheduler, the dashboard).
func TestRoleCarriesOutARequestedRun(t *testing.T) {
	e := setup(t)
	api := newFakeShopify(map[string]int{"products": 30, "orders": 40})
	wf := e.workflow(api, &fakeExports{codec: e.codec})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := wf.Request(ctx, "scheduled-1", bulksync.ModeIncremental, "scheduler", events.SourceSystem, events.Actor{Type: events.ActorSystem, ID: "scheduler"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- bulksync.Role{Shops: []string{shop}, Every: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Workflow: func(string) (*bulksync.Workflow, error) { return e.workflow(api, &fakeExports{codec: e.codec}), nil }}.Run(ctx)
	}()
	testkit.WaitFor(t, 30*time.Second, "the requested run to complete", func() error {
		if r := history(e).Runs["scheduled-1"]; r == nil || !r.Completed {
			return errors.New("not yet")
		}
		return nil
	})
	cancel()
	<-done
}

// pagedExports is fakeExports that also reads product_deletions page by page (PagedExports):
// deletions events, pageSize a page, ids deterministic from the deletion.
type pagedExports struct {
	fakeExports
	deletions int
	pageSize  int
	mu        sync.Mutex
	since     []*time.Time // the since of each first page
	failAt    int          // a page number (1-based) answered with an untranslatable node
}

func (p *pagedExports) Paged(resource string) bool {
	return resource == bulksync.ResourceProductDeletions
}

func (p *pagedExports) Page(_ context.Context, shop, resource string, since *time.Time, cursor, _ string) ([]events.Event, string, error) {
	start := 0
	if cursor != "" {
		start, _ = strconv.Atoi(cursor)
	}
	p.mu.Lock()
	if start == 0 {
		p.since = append(p.since, since)
	}
	p.mu.Unlock()
	if p.failAt > 0 && start/p.pageSize+1 == p.failAt {
		return nil, "", fmt.Errorf("%w: node 7 is not a product's destroy", bulksync.ErrUntranslatable)
	}
	kind, _ := p.codec.Catalogue().Kind(events.TypeProductDeleted)
	var out []events.Event
	end := min(start+p.pageSize, p.deletions)
	for i := start; i < end; i++ {
		ev := eventstest.Sample(kind, i+1)
		m := ev.Meta()
		m.Shop, m.Source = shop, events.SourceBulkSync
		m.EventID = events.DeterministicID("shopify-event", shop, fmt.Sprint("gid://shopify/BasicEvent/", i+1))
		out = append(out, ev)
	}
	if end == p.deletions {
		return out, "", nil
	}
	return out, strconv.Itoa(end), nil
}

// A resource read page by page (product_deletions, PagedExports) is a default resource; its
// events are emitted once by id, one complete RowsEmitted and a WatermarkAdvanced at the time
// the read began are recorded (no bulk operation), and the next incremental run reads from that
// watermark less the lookback. An untranslatable node fails the run and keeps the watermark.
func TestPagedResource(t *testing.T) {
	e := setup(t)
	api := newFakeShopify(map[string]int{"products": 5, "orders": 5, "inventory": 4})
	ex := &pagedExports{fakeExports: fakeExports{codec: e.codec}, deletions: 23, pageSize: 10}
	wf := e.workflow(api, ex)
	ctx := context.Background()
	before := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := wf.Sync(ctx, "run-1", bulksync.ModeIncremental, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"}); err != nil {
		t.Fatal(err)
	}
	h := history(e)
	run := h.Runs["run-1"]
	if !run.Completed || !slices.Equal(run.Resources, []string{"products", "orders", "inventory", "product_deletions"}) {
		t.Fatalf("run %+v", run)
	}
	if len(api.queries) != 3 {
		t.Errorf("%d bulk operations, want 3 (none for product_deletions)", len(api.queries))
	}
	wm := h.Watermarks["product_deletions"]
	if wm.Before(before) || wm.After(time.Now()) {
		t.Errorf("product_deletions watermark %s, want the time its read began (after %s)", wm, before)
	}
	if cp := run.Ops["product_deletions"].Checkpoint; !cp.Complete || cp.RowsEmitted != 23 || cp.BulkOperationGID != "" {
		t.Errorf("checkpoint %+v", cp)
	}
	if r := run.Result["product_deletions"]; r.RowsEmitted != 23 || r.NewWatermark == nil || !r.NewWatermark.Equal(wm) {
		t.Errorf("result %+v", r)
	}
	deleted := 0
	for _, ev := range e.read(events.TopicCommerce) {
		if ev.Meta().EventType == events.TypeProductDeleted {
			deleted++
		}
	}
	if deleted != 23 {
		t.Errorf("%d ProductDeleted, want 23", deleted)
	}
	if _, err := wf.Sync(ctx, "run-2", bulksync.ModeIncremental, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"}); err != nil {
		t.Fatal(err)
	}
	if len(ex.since) != 2 || ex.since[0] != nil || ex.since[1] == nil || !ex.since[1].Equal(wm.Add(-time.Hour)) {
		t.Errorf("since of the reads %v, want nil then %s", ex.since, wm.Add(-time.Hour))
	}
	wm2 := history(e).Watermarks["product_deletions"]
	if !wm2.After(wm) {
		t.Errorf("the second run left the watermark at %s", wm2)
	}

	ex.failAt = 2
	if _, err := wf.Sync(ctx, "run-3", bulksync.ModeIncremental, "cli", events.SourceOperator, events.Actor{Type: events.ActorOperator, ID: "test"}); err == nil {
		t.Fatal("an untranslatable node did not fail the run")
	}
	h = history(e)
	if r := h.Runs["run-3"]; !r.Failed || !h.Watermarks["product_deletions"].Equal(wm2) {
		t.Errorf("run %+v, watermark %s (want %s)", r, h.Watermarks["product_deletions"], wm2)
	}
}

// A submission whose answer was lost (Shopify started the export, the workflow never heard) is
// adopted on the next attempt instead of waiting for it and submitting another.
func TestLostSubmissionAnswerIsAdopted(t *testing.T) {
	e := setup(t)
	api := newFakeShopify(map[string]int{"products": 20, "orders": 30, "inventory": 5})
	api.lose = 1
	ex := &fakeExports{codec: e.codec}
	if _, err := e.workflow(api, ex).Sync(context.Background(), "run-1", bulksync.ModeFull, "cli", events.SourceOperator,
		events.Actor{Type: events.ActorOperator, ID: "test"}); err == nil {
		t.Fatal("the lost answer went unnoticed")
	}
	if _, err := e.workflow(api, ex).Sync(context.Background(), "run-2", bulksync.ModeFull, "cli", events.SourceOperator,
		events.Actor{Type: events.ActorOperator, ID: "test"}); err != nil {
		t.Fatal(err)
	}
	resources := map[string]int{}
	for _, q := range api.queries {
		resources[resourceOf(q)]++
	}
	if resources["products"] != 1 {
		t.Errorf("products exported %d times, want once (the first export adopted)", resources["products"])
	}
	if r := history(e).Runs["run-1"]; r == nil || !r.Completed {
		t.Errorf("run-1 not completed: %+v", r)
	}
}
