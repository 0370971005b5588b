package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Blue/green rebuilds.
//
// A projection's read model has versions. The live version's tables are in the public schema,
// where readers query them. A rebuild creates the next version: its tables, made LIKE the live
// ones, in a schema of their own (proj_<name>_v<N>), with its own checkpoints and consumer group;
// its runner replays the log from the start into them (with side effects suppressed: Replaying),
// while the live version keeps serving and keeps being updated. Promotion, once the new version
// has caught up with the live one on every partition, swaps the tables in one transaction: the
// live ones move to proj_<name>_v<old>, the new ones to public. Readers see one or the other,
// never a mix and never less than the live version had. The old version is then retired and its
// schema dropped after a grace period.
//
// Every batch a runner commits first takes its version's row FOR SHARE and sets its search
// path to the version's schema, so a promotion (which updates those rows) waits for the batches
// in flight, and every batch after it writes where its version's tables now are.

// Version states.
const (
	VersionBuilding = "building"
	VersionLive     = "live"
	VersionRetired  = "retired"
	VersionAborted  = "aborted"
	VersionDropped  = "dropped"
)

// Version is one version of a projection.
type Version struct {
	Projection string     `json:"projection"`
	Version    int        `json:"version"`
	State      string     `json:"state"`
	Schema     string     `json:"schema"`
	Checkpoint string     `json:"checkpoint"`
	CreatedAt  time.Time  `json:"created_at"`
	PromotedAt *time.Time `json:"promoted_at"`
	RetiredAt  *time.Time `json:"retired_at"`
	DropAfter  *time.Time `json:"drop_after"`
}

// Tabled is a projection that says which tables hold its read model (parents before children);
// only such a projection can be rebuilt blue/green.
type Tabled interface {
	Tables() []string
}

// ErrNotCaughtUp is returned by Promote when the new version is behind the live one.
var ErrNotCaughtUp = errors.New("the new version has not caught up with the live one")

// ErrNoVersion is returned for a version that does not exist (or not in the state needed).
var ErrNoVersion = errors.New("no such projection version")

func checkpointName(name string, version int) string {
	if version == 1 {
		return name // version 1 keeps the name its checkpoints always had
	}
	return fmt.Sprintf("%s@v%d", name, version)
}

func versionSchema(name string, version int) string { return fmt.Sprintf("proj_%s_v%d", name, version) }

const selectVersion = `SELECT projection, version, state, schema_name, checkpoint, created_at, promoted_at, retired_at, drop_after FROM projection_versions `

func scanVersion(row pgx.CollectableRow) (Version, error) {
	var v Version
	err := row.Scan(&v.Projection, &v.Version, &v.State, &v.Schema, &v.Checkpoint, &v.CreatedAt, &v.PromotedAt, &v.RetiredAt, &v.DropAfter)
	return v, err
}

// EnsureLive returns the projection's live version, recording version 1 as live the first time.
func EnsureLive(ctx context.Context, pool *pgxpool.Pool, name string) (Version, error) {
	if _, err := pool.Exec(ctx, `INSERT INTO projection_versions (projection, version, state, schema_name, checkpoint, promoted_at)
SELECT $1, 1, 'live', 'public', $1, now() WHERE NOT EXISTS (SELECT 1 FROM projection_versions WHERE projection = $1)
ON CONFLICT DO NOTHING`, name); err != nil {
		return Version{}, fmt.Errorf("projection %s: record version 1: %w", name, err)
	}
	rows, err := pool.Query(ctx, selectVersion+`WHERE projection = $1 AND state = 'live'`, name)
	if err != nil {
		return Version{}, fmt.Errorf("projection %s: live version: %w", name, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanVersion)
	if err != nil {
		return Version{}, fmt.Errorf("projection %s: live version: %w", name, err)
	}
	return v, nil
}

// Versions lists a projection's versions (every projection's when name is ""), newest first.
func Versions(ctx context.Context, pool *pgxpool.Pool, name string) ([]Version, error) {
	rows, err := pool.Query(ctx, selectVersion+`WHERE $1 = '' OR projection = $1 ORDER BY projection, version DESC`, name)
	if err != nil {
		return nil, fmt.Errorf("projection versions: %w", err)
	}
	return pgx.CollectRows(rows, scanVersion)
}

// GetVersion returns one version.
func GetVersion(ctx context.Context, pool *pgxpool.Pool, name string, version int) (Version, error) {
	rows, err := pool.Query(ctx, selectVersion+`WHERE projection = $1 AND version = $2`, name, version)
	if err != nil {
		return Version{}, fmt.Errorf("projection %s v%d: %w", name, version, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return Version{}, fmt.Errorf("%w: %s v%d", ErrNoVersion, name, version)
	}
	return v, err
}

// StartRebuild creates the next version of proj, to be built by replaying the log: its schema
// and its tables, LIKE the live ones (columns, defaults, constraints, indexes) with the foreign
// keys between them. A version already being built is returned as it is, so a rebuild that
// crashed resumes where it was.
func StartRebuild(ctx context.Context, pool *pgxpool.Pool, proj Projection) (Version, error) {
	tabled, ok := proj.(Tabled)
	if !ok {
		return Version{}, fmt.Errorf("projection %s does not name its tables: it cannot be rebuilt blue/green", proj.Name())
	}
	live, err := EnsureLive(ctx, pool, proj.Name())
	if err != nil {
		return Version{}, err
	}
	var v Version
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// One rebuild at a time: the live row is the lock.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM projection_versions WHERE projection = $1 AND state = 'live' FOR UPDATE`, proj.Name()); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, selectVersion+`WHERE projection = $1 AND state = 'building'`, proj.Name())
		if err != nil {
			return err
		}
		building, err := pgx.CollectRows(rows, scanVersion)
		if err != nil {
			return err
		}
		if len(building) == 1 {
			v = building[0]
			return nil
		}
		var next int
		if err := tx.QueryRow(ctx, `SELECT max(version) + 1 FROM projection_versions WHERE projection = $1`, proj.Name()).Scan(&next); err != nil {
			return err
		}
		schema := versionSchema(proj.Name(), next)
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema %s: %w", schema, err)
		}
		// Foreign keys as the live tables have them, printed while public is the search path (so
		// they name the tables unqualified), then created with the new schema first in the path.
		var fks []string
		for _, t := range tabled.Tables() {
			rows, err := tx.Query(ctx, `SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE contype = 'f' AND conrelid = ($1::text)::regclass ORDER BY conname`, pgx.Identifier{live.Schema, t}.Sanitize())
			if err != nil {
				return fmt.Errorf("foreign keys of %s: %w", t, err)
			}
			var name, def string
			if _, err := pgx.ForEachRow(rows, []any{&name, &def}, func() error {
				fks = append(fks, `ALTER TABLE `+pgx.Identifier{t}.Sanitize()+` ADD CONSTRAINT `+pgx.Identifier{name}.Sanitize()+` `+def)
				return nil
			}); err != nil {
				return fmt.Errorf("foreign keys of %s: %w", t, err)
			}
		}
		for _, t := range tabled.Tables() {
			if _, err := tx.Exec(ctx, `CREATE TABLE `+pgx.Identifier{schema, t}.Sanitize()+` (LIKE `+pgx.Identifier{live.Schema, t}.Sanitize()+` INCLUDING ALL)`); err != nil {
				return fmt.Errorf("create %s.%s: %w", schema, t, err)
			}
			if err := renameIndexesLike(ctx, tx, live.Schema, schema, t); err != nil {
				return fmt.Errorf("name the indexes of %s.%s: %w", schema, t, err)
			}
		}
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
			return err
		}
		for _, fk := range fks {
			if _, err := tx.Exec(ctx, fk); err != nil {
				return fmt.Errorf("%s: %w", fk, err)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO public.projection_versions (projection, version, state, schema_name, checkpoint)
VALUES ($1, $2, 'building', $3, $4)`, proj.Name(), next, schema, checkpointName(proj.Name(), next)); err != nil {
			return err
		}
		v = Version{Projection: proj.Name(), Version: next, State: VersionBuilding, Schema: schema, Checkpoint: checkpointName(proj.Name(), next), CreatedAt: time.Now()}
		return nil
	})
	if err != nil {
		return Version{}, fmt.Errorf("projection %s: start rebuild: %w", proj.Name(), err)
	}
	return v, nil
}

// indexDefinition is an index's definition without its name and its table's schema, so the
// same index of the same table in two schemas reads the same.
const indexDefinition = `regexp_replace(pg_get_indexdef(%s), '^(CREATE (UNIQUE )?INDEX )\S+ ON \S+\.', '\1 ON ')`

// renameIndexesLike gives the indexes of table in schema (made LIKE the one in live, which names
// them as Postgres chooses) the names of the live table's same indexes, and so the names of
// their constraints: after a promotion the tables carry the names the migrations gave, and a
// later migration that names an index or a constraint finds it.
func renameIndexesLike(ctx context.Context, tx pgx.Tx, live, schema, table string) error {
	rows, err := tx.Query(ctx, `SELECT n.relname, l.relname
FROM pg_index ni JOIN pg_class n ON n.oid = ni.indexrelid,
     pg_index li JOIN pg_class l ON l.oid = li.indexrelid
WHERE ni.indrelid = ($1::text)::regclass AND li.indrelid = ($2::text)::regclass
  AND `+fmt.Sprintf(indexDefinition, "ni.indexrelid")+` = `+fmt.Sprintf(indexDefinition, "li.indexrelid")+`
  AND n.relname <> l.relname`,
		pgx.Identifier{schema, table}.Sanitize(), pgx.Identifier{live, table}.Sanitize())
	if err != nil {
		return err
	}
	var renames [][2]string
	var from, to string
	if _, err := pgx.ForEachRow(rows, []any{&from, &to}, func() error {
		renames = append(renames, [2]string{from, to})
		return nil
	}); err != nil {
		return err
	}
	// Through names of their own first: one index's chosen name may be another's live name.
	for i, r := range renames {
		if _, err := tx.Exec(ctx, `ALTER INDEX `+pgx.Identifier{schema, r[0]}.Sanitize()+` RENAME TO `+pgx.Identifier{fmt.Sprintf("storeline_renaming_%d", i)}.Sanitize()); err != nil {
			return err
		}
	}
	for i, r := range renames {
		if _, err := tx.Exec(ctx, `ALTER INDEX `+pgx.Identifier{schema, fmt.Sprintf("storeline_renaming_%d", i)}.Sanitize()+` RENAME TO `+pgx.Identifier{r[1]}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

// Promote makes the building version of proj live, if it has caught up with the live one on
// every partition the live one has read (ErrNotCaughtUp otherwise): in one transaction, which
// waits for both versions' batches in flight, the live tables move to their version's schema and
// the new ones to public. The old version is retired, to be dropped after grace.
func Promote(ctx context.Context, pool *pgxpool.Pool, proj Projection, grace time.Duration) (Version, error) {
	tabled, ok := proj.(Tabled)
	if !ok {
		return Version{}, fmt.Errorf("projection %s does not name its tables", proj.Name())
	}
	var promoted Version
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, selectVersion+`WHERE projection = $1 AND state IN ('live', 'building') ORDER BY version FOR UPDATE`, proj.Name())
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, scanVersion)
		if err != nil {
			return err
		}
		if len(vs) != 2 || vs[0].State != VersionLive || vs[1].State != VersionBuilding {
			return fmt.Errorf("%w: projection %s has no version being built", ErrNoVersion, proj.Name())
		}
		live, next := vs[0], vs[1]
		var behind int
		if err := tx.QueryRow(ctx, `
SELECT count(*) FROM projection_checkpoints l
LEFT JOIN projection_checkpoints n ON n.projection = $2 AND n.topic = l.topic AND n.partition = l.partition
WHERE l.projection = $1 AND coalesce(n.next_offset, 0) < l.next_offset`, live.Checkpoint, next.Checkpoint).Scan(&behind); err != nil {
			return err
		}
		if behind > 0 {
			return fmt.Errorf("%w: %d partitions behind", ErrNotCaughtUp, behind)
		}
		oldSchema := versionSchema(proj.Name(), live.Version)
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{oldSchema}.Sanitize()); err != nil {
			return err
		}
		for _, t := range tabled.Tables() {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{live.Schema, t}.Sanitize()+` SET SCHEMA `+pgx.Identifier{oldSchema}.Sanitize()); err != nil {
				return fmt.Errorf("retire %s: %w", t, err)
			}
		}
		for _, t := range tabled.Tables() {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{next.Schema, t}.Sanitize()+` SET SCHEMA public`); err != nil {
				return fmt.Errorf("promote %s: %w", t, err)
			}
		}
		if _, err := tx.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{next.Schema}.Sanitize()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE projection_versions SET state = 'retired', schema_name = $3, retired_at = now(), drop_after = now() + $4::interval
WHERE projection = $1 AND version = $2`, proj.Name(), live.Version, oldSchema, grace.String()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE projection_versions SET state = 'live', schema_name = 'public', promoted_at = now()
WHERE projection = $1 AND version = $2`, proj.Name(), next.Version); err != nil {
			return err
		}
		promoted = next
		promoted.State, promoted.Schema = VersionLive, "public"
		return nil
	})
	if err != nil {
		return Version{}, fmt.Errorf("projection %s: promote: %w", proj.Name(), err)
	}
	return promoted, nil
}

// Abort gives up the version being built: its tables and checkpoints go.
func Abort(ctx context.Context, pool *pgxpool.Pool, name string) (Version, error) {
	var v Version
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, selectVersion+`WHERE projection = $1 AND state = 'building' FOR UPDATE`, name)
		if err != nil {
			return err
		}
		if v, err = pgx.CollectExactlyOneRow(rows, scanVersion); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: projection %s has no version being built", ErrNoVersion, name)
			}
			return err
		}
		return dropVersion(ctx, tx, v, VersionAborted)
	})
	return v, err
}

// Drop drops a retired version's tables now, without waiting for its grace period.
func Drop(ctx context.Context, pool *pgxpool.Pool, name string, version int) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, selectVersion+`WHERE projection = $1 AND version = $2 AND state = 'retired' FOR UPDATE`, name, version)
		if err != nil {
			return err
		}
		v, err := pgx.CollectExactlyOneRow(rows, scanVersion)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s v%d is not retired", ErrNoVersion, name, version)
		}
		if err != nil {
			return err
		}
		return dropVersion(ctx, tx, v, VersionDropped)
	})
}

// DropExpired drops the retired versions whose grace period is over; it returns how many.
func DropExpired(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	vs, err := Versions(ctx, pool, "")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range vs {
		if v.State == VersionRetired && v.DropAfter != nil && time.Now().After(*v.DropAfter) {
			if err := Drop(ctx, pool, v.Projection, v.Version); err != nil && !errors.Is(err, ErrNoVersion) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func dropVersion(ctx context.Context, tx pgx.Tx, v Version, state string) error {
	if v.Schema == "public" || !strings.HasPrefix(v.Schema, "proj_") {
		return fmt.Errorf("refusing to drop schema %q", v.Schema)
	}
	if _, err := tx.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{v.Schema}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("drop %s: %w", v.Schema, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM projection_checkpoints WHERE projection = $1`, v.Checkpoint); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE projection_versions SET state = $3 WHERE projection = $1 AND version = $2`, v.Projection, v.Version, state)
	return err
}

// LiveCheckpoint is the checkpoint name of a projection's live version (its own name before any
// rebuild).
func LiveCheckpoint(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, name string) (string, error) {
	var cp string
	err := db.QueryRow(ctx, `SELECT coalesce((SELECT checkpoint FROM projection_versions WHERE projection = $1 AND state = 'live'), $1)`, name).Scan(&cp)
	return cp, err
}

type replayingKey struct{}

// Replaying reports whether ctx is a rebuild's replay: a projection must then not act outside
// its read model (send mail, call Shopify, shred keys): the live version already did.
func Replaying(ctx context.Context) bool {
	r, _ := ctx.Value(replayingKey{}).(bool)
	return r
}
