package plans

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/projections/recordset"
)

// ErrNotFound is returned for a plan the read model does not hold.
var ErrNotFound = errors.New("combo plan not found")

// States of a plan.
const (
	StateDraft     = "draft"
	StateApproved  = "approved"
	StatePublished = "published"
	StateArchived  = "archived"
)

// Plan is a combo plan as the API shows it: its newest version. Ids are strings, money decimal
// strings, dates YYYY-MM-DD. Version is the aggregate version (the API's ETag).
type Plan struct {
	ID                 string    `json:"id"`
	Shop               string    `json:"shop"`
	Name               string    `json:"name"`
	Description        *string   `json:"description"`
	State              string    `json:"state"`
	Items              []Item    `json:"items"`
	Discount           *Discount `json:"discount"`
	ObjectiveID        *string   `json:"objective_id"`
	StartsOn           *string   `json:"starts_on"`
	EndsOn             *string   `json:"ends_on"`
	SourceSuggestionID *string   `json:"source_suggestion_id"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	// StateChangedAt and StateReason are of the plan's last move (null before its first).
	StateChangedAt *time.Time `json:"state_changed_at"`
	StateReason    *string    `json:"state_reason"`
	Version        int64      `json:"version"`
}

// Item is one product of a combo: VariantID null means any variant.
type Item struct {
	ProductID  string    `json:"product_id"`
	ProductGID string    `json:"product_gid"`
	VariantID  *string   `json:"variant_id"`
	VariantGID *string   `json:"variant_gid"`
	Title      *string   `json:"title"`
	Quantity   int32     `json:"quantity"`
	Discount   *Discount `json:"discount"`
}

// Discount is a combo's or an item's discount: Percentage (0 to 100) for kind percentage,
// Amount and Currency for fixed_amount and fixed_price.
type Discount struct {
	// A plan's or an item's discount is null when there is none: the schema says so (huma makes
	// pointers to scalars nullable, not pointers to objects).
	_          struct{} `json:"-" nullable:"true"`
	Kind       string   `json:"kind"`
	Percentage *float64 `json:"percentage"`
	Amount     *string  `json:"amount"`
	Currency   *string  `json:"currency"`
}

// ListQuery selects plans.
type ListQuery struct {
	Shop string
	// States keeps the plans in one of these states; empty means every state.
	States []string
}

// Reader queries the read model.
type Reader struct {
	pool *pgxpool.Pool
}

// NewReader returns a reader on pool.
func NewReader(pool *pgxpool.Pool) *Reader { return &Reader{pool: pool} }

const selectPlan = `
SELECT plan_id::text, shop, name, description, state, items, discount, objective_id::text,
       to_char(starts_on, 'YYYY-MM-DD'), to_char(ends_on, 'YYYY-MM-DD'), source_suggestion_id::text,
       created_at, updated_at, state_changed_at, state_reason, version
FROM combo_plans `

func scanPlan(row pgx.Row) (Plan, error) {
	var p Plan
	err := row.Scan(&p.ID, &p.Shop, &p.Name, &p.Description, &p.State, &p.Items, &p.Discount, &p.ObjectiveID,
		&p.StartsOn, &p.EndsOn, &p.SourceSuggestionID, &p.CreatedAt, &p.UpdatedAt, &p.StateChangedAt, &p.StateReason, &p.Version)
	p.CreatedAt, p.UpdatedAt, p.StateChangedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC(), recordset.OptUTC(p.StateChangedAt)
	p.Items = recordset.NonNil(p.Items)
	return p, err
}

// List returns the shop's plans that q selects, newest first.
func (r *Reader) List(ctx context.Context, q ListQuery) ([]Plan, error) {
	ps, err := recordset.All(ctx, r.pool, scanPlan, selectPlan+`
WHERE shop = $1 AND (cardinality($2::text[]) = 0 OR state = ANY($2::text[]))
ORDER BY created_at DESC, plan_id`, q.Shop, recordset.NonNil(q.States))
	if err != nil {
		return nil, fmt.Errorf("list combo plans: %w", err)
	}
	return ps, nil
}

// Get returns a plan by id.
func (r *Reader) Get(ctx context.Context, id string) (*Plan, error) {
	p, found, err := recordset.ByUUID(ctx, r.pool, scanPlan, selectPlan+`WHERE plan_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("read combo plan %s: %w", id, err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return &p, nil
}
