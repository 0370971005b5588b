package projections

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storeline/storeline/events"
)

// Supervisor runs a runner for every live and building version of its projections, and follows
// rebuilds: it starts the runner of a version being built, stops the runner of a version retired
// or aborted, and drops retired versions once their grace period is over.
type Supervisor struct {
	Config      Config
	Projections []Projection
	Pool        *pgxpool.Pool
	Codec       *events.Codec
	Metrics     prometheus.Registerer
	Log         *slog.Logger
	// Every is how often it looks at the versions; default 5 s.
	Every time.Duration
}

// Run supervises until ctx ends, then waits for its runners to finish their batches. A runner
// that fails is restarted at the next look.
func (s *Supervisor) Run(ctx context.Context) error {
	if s.Every <= 0 {
		s.Every = 5 * time.Second
	}
	type running struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	runners := map[string]*running{}
	var wg sync.WaitGroup
	defer func() {
		for _, r := range runners {
			r.cancel()
		}
		wg.Wait()
	}()
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		want := map[string]bool{}
		for _, p := range s.Projections {
			if _, err := EnsureLive(ctx, s.Pool, p.Name()); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.Log.Warn("projection versions", "projection", p.Name(), "err", err)
				continue
			}
			vs, err := Versions(ctx, s.Pool, p.Name())
			if err != nil {
				s.Log.Warn("projection versions", "projection", p.Name(), "err", err)
				continue
			}
			for _, v := range vs {
				if v.State != VersionLive && v.State != VersionBuilding {
					continue
				}
				key := fmt.Sprintf("%s@%d", p.Name(), v.Version)
				want[key] = true
				if r, ok := runners[key]; ok {
					select {
					case <-r.done: // it ended (an error, or its version ended): start it again below
					default:
						continue
					}
				}
				cfg := s.Config
				cfg.Version = v.Version
				runner := NewRunner(cfg, p, s.Pool, s.Codec, s.Metrics, s.Log)
				rctx, cancel := context.WithCancel(ctx)
				r := &running{cancel: cancel, done: make(chan struct{})}
				runners[key] = r
				wg.Go(func() {
					defer close(r.done)
					if err := runner.Run(rctx); err != nil && rctx.Err() == nil {
						s.Log.Error("projection runner stopped; restarting it shortly", "runner", key, "err", err)
					}
				})
				if v.State == VersionBuilding {
					s.Log.Info("rebuilding a projection", "projection", p.Name(), "version", v.Version)
				}
			}
		}
		for key, r := range runners {
			if !want[key] {
				r.cancel()
				<-r.done
				delete(runners, key)
				s.Log.Info("projection version ended; its runner stopped", "runner", key)
			}
		}
		if n, err := DropExpired(ctx, s.Pool); err != nil && ctx.Err() == nil {
			s.Log.Warn("drop retired projection versions", "err", err)
		} else if n > 0 {
			s.Log.Info("retired projection versions dropped", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
