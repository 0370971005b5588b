package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/projections"
)

// RebuildOptions steer a rebuild.
type RebuildOptions struct {
	Promote bool          // promote once caught up (else leave it built, to promote by hand)
	Grace   time.Duration // how long the old version's tables are kept after promotion
}

// projectionOps opens what the projection commands need: services, codec, the projections.
type projectionOps struct {
	svc   *Services
	projs []projections.Projection
	close func()
}

func openProjectionOps(ctx context.Context, cfg *config.Config, log *slog.Logger) (*projectionOps, error) {
	if len(cfg.KafkaBrokers) == 0 || cfg.DatabaseURL == "" {
		return nil, errors.New("storeline projections needs STORELINE_KAFKA_BROKERS and STORELINE_DATABASE_URL (the deployment's)")
	}
	svc, err := StartServices(ctx, cfg, log, true)
	if err != nil {
		return nil, err
	}
	kek, err := piiKey(cfg, svc.Embedded)
	if err != nil {
		svc.Close()
		return nil, err
	}
	keystore, err := pii.NewKeystore(svc.Pool, kek)
	if err != nil {
		svc.Close()
		return nil, err
	}
	return &projectionOps{svc: svc, projs: allProjections(keystore), close: svc.Close}, nil
}

func (o *projectionOps) projection(name string) (projections.Projection, error) {
	for _, p := range o.projs {
		if p.Name() == name {
			return p, nil
		}
	}
	var names []string
	for _, p := range o.projs {
		names = append(names, p.Name())
	}
	return nil, fmt.Errorf("no projection %q (there are %v)", name, names)
}

// RebuildProjection builds the next version of a projection by replaying the log, in this
// process (and in the projector role, which joins the same consumer group), showing its progress,
// and promotes it once it has caught up with the live version. Run again after a crash, it
// resumes the version being built from its checkpoints.
func RebuildProjection(ctx context.Context, cfg *config.Config, log *slog.Logger, name string, opts RebuildOptions, progress io.Writer) (projections.Version, error) {
	ops, err := openProjectionOps(ctx, cfg, log)
	if err != nil {
		return projections.Version{}, err
	}
	defer ops.close()
	proj, err := ops.projection(name)
	if err != nil {
		return projections.Version{}, err
	}
	codec, _, closeRegistry, err := openCodec(ctx, cfg, ops.svc.Brokers, log)
	if err != nil {
		return projections.Version{}, err
	}
	defer closeRegistry()
	v, err := projections.StartRebuild(ctx, ops.svc.Pool, proj)
	if err != nil {
		return projections.Version{}, err
	}
	fmt.Fprintf(progress, "rebuilding %s as version %d (tables in schema %s)\n", name, v.Version, v.Schema)

	runCtx, stopRunner := context.WithCancel(ctx)
	runner := projections.NewRunner(projections.Config{Brokers: ops.svc.Brokers, TopicPrefix: cfg.TopicPrefix, Version: v.Version}, proj, ops.svc.Pool, codec, nil, log)
	runErr := make(chan error, 1)
	go func() { runErr <- runner.Run(runCtx) }()
	runnerEnded := false
	// The runner shares the version's consumer group with the projector role's: it must leave
	// the group before the process exits, or its partitions wait a session timeout before the
	// projector's runner gets them (updates after the promotion would wait as long).
	defer func() {
		stopRunner()
		if !runnerEnded {
			<-runErr
		}
	}()

	cl, err := kgo.NewClient(kgo.SeedBrokers(ops.svc.Brokers...))
	if err != nil {
		return v, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var bar *progressbar.ProgressBar
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		parts, err := projections.Lag(ctx, adm, ops.svc.Pool, cfg.TopicPrefix, v.Checkpoint, proj.Topics())
		if err != nil {
			return v, err
		}
		var done, total int64
		for _, p := range parts {
			done, total = done+p.Next, total+p.End
		}
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(progress), progressbar.OptionSetDescription(name+" v"+fmt.Sprint(v.Version)),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
				progressbar.OptionThrottle(progressThrottle), progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }))
		}
		bar.ChangeMax64(max(total, done))
		_ = bar.Set64(done)
		// Close enough to the end (under load the end keeps moving): try; Promote itself checks
		// that the new version is at or past the live one on every partition.
		if total-done <= promoteWithin {
			if !opts.Promote {
				_ = bar.Finish()
				fmt.Fprintf(progress, "%s v%d has caught up; promote it with: storeline projections promote %s\n", name, v.Version, name)
				return v, nil
			}
			promoted, err := projections.Promote(ctx, ops.svc.Pool, proj, opts.Grace)
			if err == nil {
				_ = bar.Finish()
				fmt.Fprintf(progress, "%s v%d is live; the old version's tables are kept for %s\n", name, promoted.Version, opts.Grace)
				return promoted, nil
			}
			if !errors.Is(err, projections.ErrNotCaughtUp) {
				return v, err
			}
		}
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case err := <-runErr:
			runnerEnded = true
			if err == nil {
				err = errors.New("the rebuild's runner stopped (the version was aborted?)")
			}
			return v, err
		case <-tick.C:
		}
	}
}

// promoteWithin is how many events from the end a rebuild tries to promote.
const promoteWithin = 500

// PromoteProjection promotes the version being built, if it has caught up.
func PromoteProjection(ctx context.Context, cfg *config.Config, log *slog.Logger, name string, grace time.Duration) (projections.Version, error) {
	ops, err := openProjectionOps(ctx, cfg, log)
	if err != nil {
		return projections.Version{}, err
	}
	defer ops.close()
	proj, err := ops.projection(name)
	if err != nil {
		return projections.Version{}, err
	}
	return projections.Promote(ctx, ops.svc.Pool, proj, grace)
}

// AbortProjection gives up the version being built.
func AbortProjection(ctx context.Context, cfg *config.Config, log *slog.Logger, name string) (projections.Version, error) {
	ops, err := openProjectionOps(ctx, cfg, log)
	if err != nil {
		return projections.Version{}, err
	}
	defer ops.close()
	return projections.Abort(ctx, ops.svc.Pool, name)
}

// DropProjectionVersion drops a retired version's tables now.
func DropProjectionVersion(ctx context.Context, cfg *config.Config, log *slog.Logger, name string, version int) error {
	ops, err := openProjectionOps(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer ops.close()
	return projections.Drop(ctx, ops.svc.Pool, name, version)
}
