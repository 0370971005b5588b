package tags

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/events"
)

// DefinitionSpec is a tag definition as the merchant writes it (the body of create and update).
type DefinitionSpec struct {
	Name        string  `json:"name" minLength:"1" maxLength:"255" doc:"The tag as it is written on products, e.g. linen. Unique among the shop's tag definitions, case-insensitively; no commas."`
	Description *string `json:"description,omitempty" maxLength:"2000" doc:"What the tag means, for the merchant's team."`
	Color       *string `json:"color,omitempty" pattern:"^#[0-9a-fA-F]{6}$" doc:"Display colour as #rrggbb; the dashboard's default when absent."`
}

// clean is the spec as it is kept: the name without surrounding spaces.
func (s DefinitionSpec) clean() DefinitionSpec {
	s.Name = strings.TrimSpace(s.Name)
	return s
}

// ValidateDefinition checks what the request's schema cannot.
func ValidateDefinition(s DefinitionSpec) error {
	if p := tagProblem(strings.TrimSpace(s.Name)); p != "" {
		return fielderr.One("body.name", p, s.Name)
	}
	return nil
}

// definitionState is a definition's aggregate state between commands.
type definitionState struct {
	Spec      DefinitionSpec `json:"spec"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	RemovedAt *time.Time     `json:"removed_at"`
}

// Definition is the answer to a definition command: the shape of the read model's
// (projections/tags.Definition), so a command's answer and a later read look alike.
type Definition struct {
	ID          string     `json:"id"`
	Shop        string     `json:"shop"`
	Name        string     `json:"name"`
	Description *string    `json:"description"`
	Color       *string    `json:"color"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	RemovedAt   *time.Time `json:"removed_at"`
	Version     int64      `json:"version"`
}

func definitionView(id, shop string, st definitionState, version int64) Definition {
	return Definition{ID: id, Shop: shop, Name: st.Spec.Name, Description: st.Spec.Description, Color: st.Spec.Color,
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt, RemovedAt: st.RemovedAt, Version: version}
}

// SetDefinition creates the definition (cur does not exist) or saves a new version of it. The
// name is claimed lowercased, so two definitions of a shop never differ only by case; a rename
// releases the old name and the event carries it as previous_name.
func SetDefinition(id, shop string, spec DefinitionSpec, now time.Time) decision.Decide {
	return func(_ context.Context, _ pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		spec := spec.clean()
		st := definitionState{Spec: spec, CreatedAt: now, UpdatedAt: now}
		var previous *string
		if cur.Exists {
			var old definitionState
			if err := json.Unmarshal(cur.State, &old); err != nil {
				return decision.Outcome{}, fmt.Errorf("tag definition state: %w", err)
			}
			if old.RemovedAt != nil {
				return decision.Outcome{}, decision.Reject("tag definition %s was removed; create a new one", id)
			}
			st.CreatedAt = old.CreatedAt
			if old.Spec.Name != spec.Name {
				name := old.Spec.Name
				previous = &name
			}
		}
		ev := &events.TagDefinitionSet{Envelope: events.Envelope{EventType: events.TypeTagDefinitionSet, OccurredAt: now},
			TagDefinition: events.TagDefinition{TagDefinitionID: id, Name: spec.Name, Description: spec.Description, Color: spec.Color,
				CreatedAt: st.CreatedAt, UpdatedAt: now},
			PreviousName: previous}
		status := 200
		if !cur.Exists {
			status = 201
		}
		return decision.Outcome{Events: []events.Event{ev}, State: st, Status: status, Names: []string{key(spec.Name)},
			Response: func(version int64) any { return definitionView(id, shop, st, version) }}, nil
	}
}

// RemoveDefinition removes the definition, releases its name, and takes it out of every
// collection of the shop that holds it (a new TagCollectionSet for each, in the same
// transaction), so no collection ever names a removed definition.
func RemoveDefinition(id, shop string, now time.Time) decision.Decide {
	return func(ctx context.Context, tx pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		var st definitionState
		if err := json.Unmarshal(cur.State, &st); err != nil {
			return decision.Outcome{}, fmt.Errorf("tag definition state: %w", err)
		}
		if st.RemovedAt != nil {
			return decision.Outcome{}, decision.Reject("tag definition %s is already removed", id)
		}
		st.RemovedAt, st.UpdatedAt = &now, now
		also, err := dropFromCollections(ctx, tx, shop, id, now)
		if err != nil {
			return decision.Outcome{}, err
		}
		ev := &events.TagDefinitionRemoved{Envelope: events.Envelope{EventType: events.TypeTagDefinitionRemoved, OccurredAt: now},
			TagDefinitionID: id, Name: st.Spec.Name}
		// Names nil: the name is released, a new definition may take it.
		return decision.Outcome{Events: []events.Event{ev}, State: st, Also: also,
			Response: func(version int64) any { return definitionView(id, shop, st, version) }}, nil
	}
}

// dropFromCollections takes definition id out of the shop's live collections holding it. The
// definition's row is locked (the command's own), and a collection command locks the
// definitions it names (FOR SHARE, see checkDefinitions), so no collection can take the
// definition in while it is being removed. Collections are locked in id order.
func dropFromCollections(ctx context.Context, tx pgx.Tx, shop, id string, now time.Time) ([]decision.Change, error) {
	rows, err := tx.Query(ctx, `SELECT aggregate_id FROM aggregates
		WHERE aggregate_type = $1 AND shop = $2 AND state->'spec'->'tag_definition_ids' ? $3 AND state->>'removed_at' IS NULL
		ORDER BY aggregate_id`, CollectionAggregate, shop, id)
	if err != nil {
		return nil, fmt.Errorf("collections holding tag definition %s: %w", id, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("collections holding tag definition %s: %w", id, err)
	}
	var changes []decision.Change
	for _, cid := range ids {
		c, err := decision.Load(ctx, tx, shop, CollectionAggregate, cid)
		if err != nil {
			return nil, err
		}
		var st collectionState
		if err := json.Unmarshal(c.State, &st); err != nil {
			return nil, fmt.Errorf("tag collection %s state: %w", cid, err)
		}
		if !c.Exists || st.RemovedAt != nil || !slices.Contains(st.Spec.TagDefinitionIDs, id) {
			continue // changed since the search
		}
		st.Spec.TagDefinitionIDs = slices.DeleteFunc(slices.Clone(st.Spec.TagDefinitionIDs), func(d string) bool { return d == id })
		st.UpdatedAt = now
		changes = append(changes, decision.Change{AggregateType: CollectionAggregate, AggregateID: cid, Current: c,
			Events: []events.Event{collectionSet(cid, st, now)}, State: st})
	}
	return changes, nil
}
