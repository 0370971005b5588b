package bulksync

import (
	"time"

	"github.com/storeline/storeline/events"
)

// Modes of a run.
const (
	ModeIncremental = "incremental"
	ModeFull        = "full"
)

// Resources a run can export.
const (
	ResourceProducts = "products"
	ResourceOrders   = "orders"
	// ResourceInventory is the inventory levels (an inventory items export whose item rows
	// record nothing: Exports.Events gives them no events).
	ResourceInventory = "inventory"
	// ResourceProductDeletions is the products deleted since the watermark, read page by page
	// from Shopify's events (PagedExports), not with a bulk operation.
	ResourceProductDeletions = "product_deletions"
)

// Run is what the sync topic says of one run.
type Run struct {
	ID        string
	Shop      string
	Mode      string
	Resources []string
	Requested bool
	Started   bool
	Start     map[string]events.SyncResourceStart // by resource, once started
	Ops       map[string]*OpState                 // by resource
	Completed bool
	Failed    bool
	Result    map[string]events.SyncResourceResult // by resource, once its watermark is decided
}

// OpState is what the sync topic says of one resource's bulk operation in a run.
type OpState struct {
	GID         string
	Query       string
	SubmittedAt time.Time
	Terminal    string // "" while running; COMPLETED, FAILED, CANCELED, EXPIRED
	ObjectCount int64
	Checkpoint  events.RowsEmitted // the last one; zero before the first
	Watermarked bool
}

// Finished reports whether the run reached its end, completed or failed.
func (r *Run) Finished() bool { return r.Completed || r.Failed }

// History is a shop's runs and watermarks as the sync topic holds them.
type History struct {
	Runs       map[string]*Run
	Order      []string             // run ids in the order they were requested
	Watermarks map[string]time.Time // by resource: the newest WatermarkAdvanced
}

func newHistory() *History {
	return &History{Runs: map[string]*Run{}, Watermarks: map[string]time.Time{}}
}

func (h *History) run(id, shop string) *Run {
	r, ok := h.Runs[id]
	if !ok {
		r = &Run{ID: id, Shop: shop, Start: map[string]events.SyncResourceStart{}, Ops: map[string]*OpState{},
			Result: map[string]events.SyncResourceResult{}}
		h.Runs[id] = r
		h.Order = append(h.Order, id)
	}
	return r
}

func (r *Run) op(resource string) *OpState {
	o, ok := r.Ops[resource]
	if !ok {
		o = &OpState{}
		r.Ops[resource] = o
	}
	return o
}

// Apply folds one sync event into the history. Events of other kinds are ignored; events may
// repeat (a step re-recorded after a crash) and folding them again changes nothing.
func (h *History) Apply(ev events.Event) {
	switch e := ev.(type) {
	case *events.SyncRunRequested:
		r := h.run(e.RunID, e.Envelope.Shop)
		r.Requested, r.Mode, r.Resources = true, e.Mode, e.Resources
	case *events.SyncRunStarted:
		r := h.run(e.RunID, e.Envelope.Shop)
		r.Started, r.Mode = true, e.Mode
		for _, s := range e.Resources {
			r.Start[s.Resource] = s
		}
	case *events.BulkOperationSubmitted:
		o := h.run(e.RunID, e.Envelope.Shop).op(e.Resource)
		if o.GID != e.BulkOperationGID { // a resubmission replaces a failed attempt
			*o = OpState{GID: e.BulkOperationGID}
		}
		o.Query, o.SubmittedAt = e.Query, e.SubmittedAt
	case *events.BulkOperationCompleted:
		o := h.run(e.RunID, e.Envelope.Shop).op(e.Resource)
		if o.GID == e.BulkOperationGID {
			o.Terminal, o.ObjectCount = e.Status, e.ObjectCount
		}
	case *events.BulkOperationFailed:
		o := h.run(e.RunID, e.Envelope.Shop).op(e.Resource)
		if o.GID == e.BulkOperationGID {
			o.Terminal = e.Status
		}
	case *events.RowsEmitted:
		o := h.run(e.RunID, e.Envelope.Shop).op(e.Resource)
		if o.GID == e.BulkOperationGID && e.LastRowNumber >= o.Checkpoint.LastRowNumber {
			o.Checkpoint = *e
		}
	case *events.WatermarkAdvanced:
		if cur, ok := h.Watermarks[e.Resource]; !ok || e.NewWatermark.After(cur) {
			h.Watermarks[e.Resource] = e.NewWatermark
		}
		if r, ok := h.Runs[e.RunID]; ok {
			r.op(e.Resource).Watermarked = true
		}
	case *events.SyncRunCompleted:
		r := h.run(e.RunID, e.Envelope.Shop)
		r.Completed = true
		for _, res := range e.Resources {
			r.Result[res.Resource] = res
		}
	case *events.SyncRunFailed:
		h.run(e.RunID, e.Envelope.Shop).Failed = true
	}
}

// Unfinished returns the oldest run that was requested and has not ended, or nil.
func (h *History) Unfinished() *Run {
	for _, id := range h.Order {
		if r := h.Runs[id]; r.Requested && !r.Finished() {
			return r
		}
	}
	return nil
}
