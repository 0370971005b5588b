package plans

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/events"
)

// A plan's states.
const (
	StateDraft     = "draft"
	StateApproved  = "approved"
	StatePublished = "published"
	StateArchived  = "archived"
)

// States lists the states, in their usual order.
var States = []string{StateDraft, StateApproved, StatePublished, StateArchived}

// The moves through a plan's states:
//
//	draft ──approve──▶ approved ──publish──▶ published
//	  ▲                  │
//	  └─────reopen───────┘
//	draft, approved, published ──archive──▶ archived ──restore──▶ draft
const (
	Approve = "approve"
	Reopen  = "reopen"
	Publish = "publish"
	Archive = "archive"
	Restore = "restore"
)

// Transitions lists the moves, in the order of a plan's life.
var Transitions = []string{Approve, Reopen, Publish, Archive, Restore}

// refusals says, per move and state the move does not start from, why. A (move, state) pair
// absent from it and from moves is impossible only for an unknown move or state.
var refusals = map[string]map[string]string{
	Approve: {
		StateApproved:  "the plan is already approved",
		StatePublished: "a published plan cannot be approved: it was approved before it was published",
		StateArchived:  "an archived plan cannot be approved: restore it first",
	},
	Reopen: {
		StateDraft:     "the plan is already a draft",
		StatePublished: "a published plan cannot be reopened: archive it, then restore it as a draft",
		StateArchived:  "an archived plan cannot be reopened: restore it instead",
	},
	Publish: {
		StateDraft:     "a draft plan cannot be published: approve it first",
		StatePublished: "the plan is already published",
		StateArchived:  "an archived plan cannot be published: restore it and approve it first",
	},
	Archive: {
		StateArchived: "the plan is already archived",
	},
	Restore: {
		StateDraft:     "only an archived plan can be restored; this one is a draft",
		StateApproved:  "only an archived plan can be restored; this one is approved",
		StatePublished: "only an archived plan can be restored; this one is published: archive it first",
	},
}

// moves gives each move's target state from the states it starts from.
var moves = map[string]map[string]string{
	Approve: {StateDraft: StateApproved},
	Reopen:  {StateApproved: StateDraft},
	Publish: {StateApproved: StatePublished},
	Archive: {StateDraft: StateArchived, StateApproved: StateArchived, StatePublished: StateArchived},
	Restore: {StateArchived: StateDraft},
}

// Next returns the state a move leads to from state, or the Rejection saying why it may not.
// p is the plan, for moves with conditions on its content (approving needs an item).
func Next(p Plan, move string) (string, error) {
	to, ok := moves[move][p.State]
	if !ok {
		if why, ok := refusals[move][p.State]; ok {
			return "", decision.Reject("%s", why)
		}
		return "", decision.Reject("no move %q from state %q", move, p.State)
	}
	if move == Approve && len(p.Items) == 0 {
		return "", decision.Reject("a plan without items cannot be approved: add at least one item")
	}
	return to, nil
}

// Move moves the plan (approve, reopen, publish, archive, restore), with the merchant's reason
// if given.
func Move(move string, reason *string, now time.Time) decision.Decide {
	return func(_ context.Context, _ pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		p, err := load(cur)
		if err != nil {
			return decision.Outcome{}, err
		}
		to, err := Next(p, move)
		if err != nil {
			return decision.Outcome{}, err
		}
		ev := &events.ComboPlanStateChanged{Envelope: events.Envelope{EventType: events.TypeComboPlanStateChanged, OccurredAt: now},
			PlanID: p.ID, FromState: p.State, ToState: to, Reason: reason}
		p.State, p.UpdatedAt, p.StateChangedAt, p.StateReason = to, now, &now, reason
		return decision.Outcome{Events: []events.Event{ev}, State: p, Response: view(p)}, nil
	}
}
