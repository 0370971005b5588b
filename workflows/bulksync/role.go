package bulksync

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Role is the workflows role's part of the bulk sync: it carries out the runs the scheduler,
// the dashboard or an operator requested, and resumes the unfinished ones after a restart. Each
// shop is looked at every Every; its unfinished run executes under the shop's lock, so replicas
// of the role share the work without running one shop twice.
type Role struct {
	Shops    []string
	Workflow func(shop string) (*Workflow, error)
	Every    time.Duration // default 10s
	Log      *slog.Logger
}

// Run looks after every shop until ctx ends.
func (r Role) Run(ctx context.Context) error {
	if r.Every <= 0 {
		r.Every = 10 * time.Second
	}
	var wg sync.WaitGroup
	for _, shop := range r.Shops {
		wg.Go(func() { r.shop(ctx, shop) })
	}
	wg.Wait()
	return nil
}

func (r Role) shop(ctx context.Context, shop string) {
	for {
		if err := r.once(ctx, shop); err != nil && ctx.Err() == nil {
			r.Log.Error("bulk sync", "shop", shop, "err", err)
		}
		if sleepCtx(ctx, r.Every) != nil {
			return
		}
	}
}

// once executes the shop's unfinished run, if any.
func (r Role) once(ctx context.Context, shop string) error {
	wf, err := r.Workflow(shop)
	if err != nil {
		return err
	}
	h, err := wf.hist.Load(ctx, shop)
	if err != nil {
		return err
	}
	run := h.Unfinished()
	if run == nil {
		return nil
	}
	r.Log.Info("bulk sync run", "shop", shop, "run", run.ID, "mode", run.Mode)
	err = wf.Execute(ctx, run.ID)
	var failed *runFailure
	if errors.As(err, &failed) {
		r.Log.Warn("bulk sync run failed", "shop", shop, "run", run.ID, "err", err)
		return nil // recorded as SyncRunFailed: a new run retries
	}
	return err
}
