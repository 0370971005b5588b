package tags

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/events"
)

// CollectionSpec is a tag collection as the merchant writes it (the body of create and update).
type CollectionSpec struct {
	Name             string   `json:"name" minLength:"1" maxLength:"200" doc:"Name of the collection, e.g. Materials."`
	Description      *string  `json:"description,omitempty" maxLength:"2000" doc:"What the collection groups."`
	TagDefinitionIDs []string `json:"tag_definition_ids,omitempty" maxItems:"500" doc:"The collection's tag definitions in the merchant's order: ids of live definitions of the shop, each once."`
}

// clean is the spec as it is kept: trimmed name, ids in their canonical (lowercase) spelling,
// never a nil list. Call it on a valid spec.
func (s CollectionSpec) clean() CollectionSpec {
	s.Name = strings.TrimSpace(s.Name)
	ids := make([]string, len(s.TagDefinitionIDs))
	for i, id := range s.TagDefinitionIDs {
		ids[i] = uuid.MustParse(id).String()
	}
	s.TagDefinitionIDs = ids
	return s
}

// ValidateCollection checks what the request's schema cannot: a name that is not blank, and
// definition ids that are UUIDs, each once. Whether they name live definitions is decided in the
// command's transaction.
func ValidateCollection(s CollectionSpec) error {
	var errs fielderr.List
	if strings.TrimSpace(s.Name) == "" {
		errs.Add("body.name", "a name cannot be blank", s.Name)
	}
	seen := map[string]bool{}
	for i, id := range s.TagDefinitionIDs {
		loc := "body.tag_definition_ids[" + strconv.Itoa(i) + "]"
		u, err := uuid.Parse(id)
		switch {
		case err != nil:
			errs.Add(loc, "not a tag definition id (UUID)", id)
		case seen[u.String()]:
			errs.Add(loc, "the tag definition is already in the collection", id)
		default:
			seen[u.String()] = true
		}
	}
	return errs.Err()
}

// collectionState is a collection's aggregate state between commands.
type collectionState struct {
	Spec      CollectionSpec `json:"spec"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	RemovedAt *time.Time     `json:"removed_at"`
}

// Collection is the answer to a collection command, in the read model's shape
// (projections/tags.Collection).
type Collection struct {
	ID               string     `json:"id"`
	Shop             string     `json:"shop"`
	Name             string     `json:"name"`
	Description      *string    `json:"description"`
	TagDefinitionIDs []string   `json:"tag_definition_ids"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	RemovedAt        *time.Time `json:"removed_at"`
	Version          int64      `json:"version"`
}

func collectionView(id, shop string, st collectionState, version int64) Collection {
	ids := st.Spec.TagDefinitionIDs
	if ids == nil {
		ids = []string{}
	}
	return Collection{ID: id, Shop: shop, Name: st.Spec.Name, Description: st.Spec.Description, TagDefinitionIDs: ids,
		CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt, RemovedAt: st.RemovedAt, Version: version}
}

func collectionSet(id string, st collectionState, now time.Time) *events.TagCollectionSet {
	return &events.TagCollectionSet{Envelope: events.Envelope{EventType: events.TypeTagCollectionSet, OccurredAt: now},
		TagCollection: events.TagCollection{TagCollectionID: id, Name: st.Spec.Name, Description: st.Spec.Description,
			TagDefinitionIds: slices.Clone(st.Spec.TagDefinitionIDs), CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt}}
}

// SetCollection creates the collection (cur does not exist) or saves a new version of it. Every
// definition it names must be a live definition of the shop: an unknown one is a 400 on its
// field, a removed one a rejection.
func SetCollection(id, shop string, spec CollectionSpec, now time.Time) decision.Decide {
	return func(ctx context.Context, tx pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		spec := spec.clean()
		st := collectionState{Spec: spec, CreatedAt: now, UpdatedAt: now}
		if cur.Exists {
			var old collectionState
			if err := json.Unmarshal(cur.State, &old); err != nil {
				return decision.Outcome{}, fmt.Errorf("tag collection state: %w", err)
			}
			if old.RemovedAt != nil {
				return decision.Outcome{}, decision.Reject("tag collection %s was removed; create a new one", id)
			}
			st.CreatedAt = old.CreatedAt
		}
		if err := checkDefinitions(ctx, tx, shop, spec.TagDefinitionIDs); err != nil {
			return decision.Outcome{}, err
		}
		status := 200
		if !cur.Exists {
			status = 201
		}
		return decision.Outcome{Events: []events.Event{collectionSet(id, st, now)}, State: st, Status: status,
			Response: func(version int64) any { return collectionView(id, shop, st, version) }}, nil
	}
}

// RemoveCollection removes the collection; its definitions stay.
func RemoveCollection(id, shop string, now time.Time) decision.Decide {
	return func(_ context.Context, _ pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		var st collectionState
		if err := json.Unmarshal(cur.State, &st); err != nil {
			return decision.Outcome{}, fmt.Errorf("tag collection state: %w", err)
		}
		if st.RemovedAt != nil {
			return decision.Outcome{}, decision.Reject("tag collection %s is already removed", id)
		}
		st.RemovedAt, st.UpdatedAt = &now, now
		ev := &events.TagCollectionRemoved{Envelope: events.Envelope{EventType: events.TypeTagCollectionRemoved, OccurredAt: now},
			TagCollectionID: id}
		return decision.Outcome{Events: []events.Event{ev}, State: st,
			Response: func(version int64) any { return collectionView(id, shop, st, version) }}, nil
	}
}

// checkDefinitions refuses ids that are not live definitions of the shop. It locks them FOR SHARE
// (in id order) until the command commits, so a concurrent removal of one of them waits for this
// collection to be saved and then finds it, and takes the definition out again (see
// dropFromCollections). The two lock in opposite orders (definition then collection, collection
// then definitions); a deadlock between them is detected by PostgreSQL and retried by the engine.
func checkDefinitions(ctx context.Context, tx pgx.Tx, shop string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT aggregate_id, state->'spec'->>'name', state->>'removed_at' IS NOT NULL
		FROM aggregates WHERE aggregate_type = $1 AND shop = $2 AND aggregate_id = ANY($3)
		ORDER BY aggregate_id FOR SHARE`, DefinitionAggregate, shop, ids)
	if err != nil {
		return fmt.Errorf("check tag definitions: %w", err)
	}
	type def struct {
		name    string
		removed bool
	}
	found := map[string]def{}
	for rows.Next() {
		var id string
		var d def
		if err := rows.Scan(&id, &d.name, &d.removed); err != nil {
			rows.Close()
			return fmt.Errorf("check tag definitions: %w", err)
		}
		found[id] = d
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check tag definitions: %w", err)
	}
	var unknown fielderr.List
	var removed []string
	for i, id := range ids {
		d, ok := found[id]
		switch {
		case !ok:
			unknown.Add("body.tag_definition_ids["+strconv.Itoa(i)+"]", "no such tag definition in this shop", id)
		case d.removed:
			removed = append(removed, fmt.Sprintf("%s (%s)", id, d.name))
		}
	}
	if err := unknown.Err(); err != nil {
		return err
	}
	if len(removed) > 0 {
		return decision.Reject("tag definitions were removed: %s; leave them out", strings.Join(removed, ", "))
	}
	return nil
}
