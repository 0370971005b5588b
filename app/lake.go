package app

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/scheduler"
	icebergsink "github.com/storeline/storeline/sinks/iceberg"
)

// Lake is the operator's access to the Iceberg tables' maintenance (storeline lake): their
// state, compaction, snapshot expiry and orphan-file cleanup.
type Lake struct {
	cfg *config.Config
	log *slog.Logger
	svc *Services
	cat catalog.Catalog
}

// lakeCatalogConfig is the catalog the sink writes through, as the sink role configures it.
func lakeCatalogConfig(cfg *config.Config, dbURL string) icebergsink.Config {
	return IcebergCatalogConfig(cfg, dbURL)
}

// LakeOptions are the configured maintenance settings.
func LakeOptions(cfg *config.Config, log *slog.Logger) icebergsink.MaintenanceOptions {
	return icebergsink.MaintenanceOptions{
		TargetFileSize:    cfg.LakeTargetFileSize,
		SnapshotRetention: cfg.LakeSnapshotRetention,
		RetainSnapshots:   cfg.LakeRetainSnapshots,
		OrphanAge:         cfg.LakeOrphanAge,
		Log:               log,
	}
}

// OpenLake connects to the deployment's Postgres (the SQL catalog) and opens the catalog.
func OpenLake(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Lake, error) {
	svc, err := StartServices(ctx, cfg, log, false)
	if err != nil {
		return nil, err
	}
	cat, err := icebergsink.OpenCatalog(ctx, lakeCatalogConfig(cfg, svc.DBURL))
	if err != nil {
		svc.Close()
		return nil, err
	}
	return &Lake{cfg: cfg, log: log, svc: svc, cat: cat}, nil
}

// Close releases the catalog and the connections.
func (l *Lake) Close() {
	if c, ok := l.cat.(catalog.Closer); ok {
		_ = c.Close()
	}
	l.svc.Close()
}

// Tables resolves table names (namespace.table); none means every table of the catalog.
func (l *Lake) Tables(ctx context.Context, names []string) ([]table.Identifier, error) {
	if len(names) == 0 {
		return icebergsink.LakeTables(ctx, l.cat)
	}
	out := make([]table.Identifier, 0, len(names))
	for _, n := range names {
		ident, err := icebergsink.ParseTableName(n)
		if err != nil {
			return nil, err
		}
		out = append(out, ident)
	}
	return out, nil
}

// Status describes the tables named (all if none).
func (l *Lake) Status(ctx context.Context, names []string) ([]icebergsink.LakeTableStatus, error) {
	idents, err := l.Tables(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make([]icebergsink.LakeTableStatus, 0, len(idents))
	for _, ident := range idents {
		tbl, err := l.cat.LoadTable(ctx, ident)
		if err != nil {
			return nil, fmt.Errorf("load table %v: %w", ident, err)
		}
		st, err := icebergsink.TableStatus(ctx, tbl)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Maintain runs the selected maintenance tasks on the tables named (all if none).
func (l *Lake) Maintain(ctx context.Context, names []string, tasks icebergsink.MaintenanceTasks, opts icebergsink.MaintenanceOptions) (icebergsink.MaintenanceReport, error) {
	idents, err := l.Tables(ctx, names)
	if err != nil {
		return icebergsink.MaintenanceReport{}, err
	}
	if len(idents) == 0 {
		return icebergsink.MaintenanceReport{}, nil
	}
	return icebergsink.Maintain(ctx, l.cat, idents, tasks, opts)
}

// lakeJobs are the scheduler role's maintenance jobs: compaction and snapshot expiry, and
// orphan-file cleanup, each on its schedule (none when it is empty). A firing runs on one
// replica at a time (a Postgres advisory lock); another replica's firing meanwhile is skipped.
func lakeJobs(cfg *config.Config, dbURL string, pool *pgxpool.Pool, log *slog.Logger) []scheduler.Job {
	var jobs []scheduler.Job
	add := func(name, spec string, tasks icebergsink.MaintenanceTasks) {
		if spec == "" {
			return
		}
		jobs = append(jobs, scheduler.Job{Name: name, Spec: spec, Fire: func(ctx context.Context, _ time.Time) error {
			return withLakeLock(ctx, pool, log, name, func() error {
				cat, err := icebergsink.OpenCatalog(ctx, lakeCatalogConfig(cfg, dbURL))
				if err != nil {
					return err
				}
				defer func() {
					if c, ok := cat.(catalog.Closer); ok {
						_ = c.Close()
					}
				}()
				rep, err := icebergsink.Maintain(ctx, cat, nil, tasks, LakeOptions(cfg, log))
				var compacted, expired, orphans int
				for _, c := range rep.Compacted {
					compacted += c.RemovedFiles - c.AddedFiles
				}
				for _, e := range rep.Expired {
					expired += len(e.Expired)
				}
				for _, o := range rep.Orphans {
					orphans += o.Deleted
				}
				log.Info("lake maintenance done", "job", name, "files_merged_away", compacted, "snapshots_expired", expired, "orphans_deleted", orphans, "err", err)
				return err
			})
		}})
	}
	add("lake-maintenance", cfg.LakeMaintenance, icebergsink.MaintenanceTasks{Compact: true, Expire: true})
	add("lake-orphan-cleanup", cfg.LakeOrphanCleanup, icebergsink.MaintenanceTasks{Orphans: true})
	return jobs
}

// withLakeLock runs fn holding a session advisory lock named after the job, or skips it when
// another replica holds it.
func withLakeLock(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, name string, fn func() error) error {
	h := fnv.New64a()
	_, _ = h.Write([]byte("storeline." + name))
	key := int64(h.Sum64())
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		return fmt.Errorf("%s: lock: %w", name, err)
	}
	if !got {
		log.Info("lake maintenance skipped: another replica is running it", "job", name)
		return nil
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			log.Warn("unlock lake maintenance", "job", name, "err", err)
		}
	}()
	return fn()
}
