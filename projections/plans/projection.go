// Package plans is the combo plans read model (Plan Specifications): each plan as its newest
// version stands, with its items, discount and state, folded from the publication topic; and the
// queries the API reads them with.
//
// # Versions
//
// A plan is an aggregate storeline decides: every event carries the plan's version after it (1
// for ComboPlanCreated, one more per later event). ComboPlanCreated and ComboPlanChanged carry
// the whole plan and replace the row; ComboPlanStateChanged carries only the move, and updates
// the row's state (and updated_at, the move's time). Either writes only where its version is
// greater than the row's, so a duplicate, or an older event replayed after a newer one, changes
// nothing, and the table does not depend on how the log is cut into batches (whole plans are
// written before moves: a move never beats a whole plan of a later version, and a whole plan
// carries the state of the moves before it).
//
// A move of a plan the read model never saw created changes nothing: a plan's events share a
// partition, in order, so its ComboPlanCreated always comes first.
//
// An event without aggregate_version (a breach of the contract) counts as version 0: it may
// create a row but never overwrites one.
package plans

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/recordset"
)

// Projection folds combo plan events into the read model.
type Projection struct{}

// Name implements projections.Projection.
func (Projection) Name() string { return "plans" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicPublication} }

// Tables are the tables of its read model, for blue/green rebuilds (projections.Tabled).
func (Projection) Tables() []string {
	return []string{"combo_plans"}
}

// Apply implements projections.Projection: whole plans in one statement, then moves in another,
// sent in one round trip.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	var (
		whole []planRow
		moves []moveRow
	)
	for _, r := range batch {
		switch e := r.Event.(type) {
		case *events.ComboPlanCreated:
			whole = append(whole, newPlanRow(&e.Envelope, &e.Plan))
		case *events.ComboPlanChanged:
			whole = append(whole, newPlanRow(&e.Envelope, &e.Plan))
		case *events.ComboPlanStateChanged:
			moves = append(moves, newMoveRow(e))
		}
	}
	b := &pgx.Batch{}
	if err := recordset.Queue(b, upsertPlans, whole); err != nil {
		return fmt.Errorf("fold plans: %w", err)
	}
	if err := recordset.Queue(b, movePlans, moves); err != nil {
		return fmt.Errorf("fold plan states: %w", err)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold plans: %w", err)
	}
	return nil
}
