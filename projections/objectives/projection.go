// Package objectives is the objectives read model: every objective (Objective Specification)
// as its newest version stands, removed ones as tombstones, and every version of each for the
// history of its edits, folded from the publication topic; and the queries the API reads them
// with.
//
// # Versions
//
// An objective is an aggregate storeline decides: ObjectiveSpecificationSet carries the whole
// specification and the objective's version after it (1 on creation, one more per later Set or
// Removed). The objectives row keeps the version that wrote it and an event writes only where
// its version is greater, so a duplicate, or an older event replayed after a newer one, changes
// nothing, and the tables do not depend on how the log is cut into batches. objective_versions
// holds one row per version, written once: the specification a Set carried, or the removal.
//
// ObjectiveSpecificationRemoved makes the row a tombstone (removed_at and removed_reason set,
// the specification of the last Set kept). List leaves tombstones out unless asked; Get returns
// them. A later Set (a newer version) brings the objective back. A removal of an objective the
// read model never saw set leaves only its history row: an objective's events share a partition,
// in order, so its Set always comes first.
//
// An event without aggregate_version (a breach of the contract) counts as version 0: it may
// create a row but never overwrites one.
package objectives

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/recordset"
)

// Projection folds objective events into the read model.
type Projection struct{}

// Name implements projections.Projection.
func (Projection) Name() string { return "objectives" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicPublication} }

// Tables are the tables of its read model, for blue/green rebuilds (projections.Tabled).
func (Projection) Tables() []string {
	return []string{"objectives", "objective_versions"}
}

// Apply implements projections.Projection: one statement per kind of row for the whole batch,
// sent in one round trip. Sets run before removals, so a batch holding a Set and the removal after
// it ends with the tombstone (and a Set after a removal, with the objective), as one event per
// batch would.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	var (
		sets     []objectiveRow
		removals []removalRow
		versions []versionRow
	)
	for _, r := range batch {
		switch e := r.Event.(type) {
		case *events.ObjectiveSpecificationSet:
			row := newObjectiveRow(e)
			sets = append(sets, row)
			v, err := newSetVersionRow(e)
			if err != nil {
				return err
			}
			versions = append(versions, v)
		case *events.ObjectiveSpecificationRemoved:
			removals = append(removals, newRemovalRow(e))
			versions = append(versions, newRemovedVersionRow(e))
		}
	}
	b := &pgx.Batch{}
	for _, q := range []error{
		recordset.Queue(b, upsertObjectives, sets),
		recordset.Queue(b, removeObjectives, removals),
		recordset.Queue(b, insertVersions, versions),
	} {
		if q != nil {
			return fmt.Errorf("fold objectives: %w", q)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold objectives: %w", err)
	}
	return nil
}
