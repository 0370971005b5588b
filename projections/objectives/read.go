package objectives

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/projections/recordset"
)

// ErrNotFound is returned for an objective the read model does not hold (neither live nor
// removed).
var ErrNotFound = errors.New("objective not found")

// Objective is an objective as the API shows it: its newest version. A removed one is a
// tombstone: RemovedAt is set and the rest is its last specification. Version is the aggregate
// version (the API's ETag).
type Objective struct {
	ID                 string     `json:"id"`
	Shop               string     `json:"shop"`
	Name               string     `json:"name"`
	Description        *string    `json:"description"`
	Scope              Scope      `json:"scope"`
	Metric             string     `json:"metric"`
	Comparison         string     `json:"comparison"`
	Target             Value      `json:"target"`
	Period             Period     `json:"period"`
	AtRiskThreshold    *float64   `json:"at_risk_threshold"`
	SourceSuggestionID *string    `json:"source_suggestion_id"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	RemovedAt          *time.Time `json:"removed_at"`
	RemovedReason      *string    `json:"removed_reason"`
	Version            int64      `json:"version"`
}

// Scope is what an objective targets: a product, a tag or a collection (Type), identified by
// ID (the product or collection GID, or the tag); the typed fields of its kind repeat it.
type Scope struct {
	Type            string  `json:"type"`
	ID              string  `json:"id"`
	ProductID       *string `json:"product_id"`
	ProductGID      *string `json:"product_gid"`
	CollectionID    *string `json:"collection_id"`
	CollectionGID   *string `json:"collection_gid"`
	Tag             *string `json:"tag"`
	TagDefinitionID *string `json:"tag_definition_id"`
	Title           *string `json:"title"`
}

// Value is a metric's value: Amount and Currency when Unit is money (a decimal string), Value
// otherwise (count, ratio, days).
type Value struct {
	Unit     string   `json:"unit"`
	Amount   *string  `json:"amount"`
	Currency *string  `json:"currency"`
	Value    *float64 `json:"value"`
}

// Period is when an objective applies; dates are YYYY-MM-DD.
type Period struct {
	Kind      string  `json:"kind"`
	StartDate *string `json:"start_date"`
	EndDate   *string `json:"end_date"`
	TimeZone  *string `json:"time_zone"`
}

// Kinds of version.
const (
	KindSet     = "set"     // the objective was created or edited: Objective is set
	KindRemoved = "removed" // the objective was removed: Objective is nil
)

// Version is one version of an objective, for the history of its edits.
type Version struct {
	Version int64  `json:"version"`
	Kind    string `json:"kind"`
	// Objective is the specification as this version set it (with this Version); nil for a removal.
	Objective     *Objective `json:"objective,omitempty"`
	ChangedFields []string   `json:"changed_fields"`
	RemovedReason *string    `json:"removed_reason"`
	OccurredAt    time.Time  `json:"occurred_at"`
	Actor         Actor      `json:"actor"`
}

// Actor is who made a version: a staff member (opaque id) or the system.
type Actor struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ListQuery selects objectives.
type ListQuery struct {
	Shop string
	// ScopeType and ScopeID, when set, keep the objectives of that scope kind and that scope.
	ScopeType string
	ScopeID   string
	// IncludeRemoved adds the tombstones of removed objectives.
	IncludeRemoved bool
}

// Reader queries the read model.
type Reader struct {
	pool *pgxpool.Pool
}

// NewReader returns a reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

const selectObjective = `
SELECT objective_id::text, shop, name, description, scope, metric, comparison, target, period, at_risk_threshold,
       source_suggestion_id::text, created_at, updated_at, removed_at, removed_reason, version
FROM objectives `

func scanObjective(row pgx.Row) (Objective, error) {
	var o Objective
	err := row.Scan(&o.ID, &o.Shop, &o.Name, &o.Description, &o.Scope, &o.Metric, &o.Comparison, &o.Target, &o.Period,
		&o.AtRiskThreshold, &o.SourceSuggestionID, &o.CreatedAt, &o.UpdatedAt, &o.RemovedAt, &o.RemovedReason, &o.Version)
	o.CreatedAt, o.UpdatedAt, o.RemovedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC(), recordset.OptUTC(o.RemovedAt)
	return o, err
}

// List returns the shop's objectives that q selects, oldest first.
func (r *Reader) List(ctx context.Context, q ListQuery) ([]Objective, error) {
	os, err := recordset.All(ctx, r.pool, scanObjective, selectObjective+`
WHERE shop = $1 AND ($2 = '' OR scope_type = $2) AND ($3 = '' OR scope_id = $3) AND ($4 OR removed_at IS NULL)
ORDER BY created_at, objective_id`, q.Shop, q.ScopeType, q.ScopeID, q.IncludeRemoved)
	if err != nil {
		return nil, fmt.Errorf("list objectives: %w", err)
	}
	return os, nil
}

// Get returns an objective's newest version, or its tombstone, by id.
func (r *Reader) Get(ctx context.Context, id string) (*Objective, error) {
	o, found, err := recordset.ByUUID(ctx, r.pool, scanObjective, selectObjective+`WHERE objective_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("read objective %s: %w", id, err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return &o, nil
}

// Versions returns every version of an objective, oldest first. An objective's later edits
// arrive after its earlier ones, so a version missing in the middle is one not folded yet.
func (r *Reader) Versions(ctx context.Context, id string) ([]Version, error) {
	if !recordset.IsUUID(id) {
		return nil, ErrNotFound
	}
	rows, err := r.pool.Query(ctx, `
SELECT version, kind, spec, changed_fields, removed_reason, occurred_at, actor_type, actor_id
FROM objective_versions WHERE objective_id = $1 ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("read objective %s versions: %w", id, err)
	}
	vs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Version, error) {
		var v Version
		var spec []byte
		if err := row.Scan(&v.Version, &v.Kind, &spec, &v.ChangedFields, &v.RemovedReason, &v.OccurredAt, &v.Actor.Type, &v.Actor.ID); err != nil {
			return v, err
		}
		v.OccurredAt = v.OccurredAt.UTC()
		if spec != nil {
			v.Objective = new(Objective)
			if err := json.Unmarshal(spec, v.Objective); err != nil {
				return v, fmt.Errorf("decode version %d: %w", v.Version, err)
			}
		}
		return v, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read objective %s versions: %w", id, err)
	}
	if len(vs) == 0 {
		return nil, ErrNotFound
	}
	return vs, nil
}
