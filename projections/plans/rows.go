package plans

import (
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/recordset"
)

// Rows as the statements read them (jsonb_to_recordset): JSON field = column name. Each
// statement keeps the newest version per plan of its batch (DISTINCT ON ... version DESC), then
// writes it only over an older stored version.

var planColumns = recordset.Columns{
	{"plan_id", "uuid"}, {"shop", "text"}, {"name", "text"}, {"description", "text"}, {"state", "text"},
	{"items", "jsonb"}, {"discount", "jsonb"}, {"objective_id", "uuid"}, {"starts_on", "date"}, {"ends_on", "date"},
	{"source_suggestion_id", "uuid"}, {"created_at", "timestamptz"}, {"updated_at", "timestamptz"},
	{"version", "bigint"}, {"last_event_id", "uuid"},
}

// upsertPlans writes whole plans. The last move's time and reason stay: a whole plan does not
// move it (its state is the one the moves left).
var upsertPlans = `
INSERT INTO combo_plans (` + planColumns.Names("") + `, projected_at)
SELECT DISTINCT ON (r.plan_id) ` + planColumns.Names("r.") + `, now()
FROM ` + planColumns.Recordset("$1") + `
ORDER BY r.plan_id, r.version DESC
ON CONFLICT (plan_id) DO UPDATE SET ` + planColumns.SetExcluded("plan_id") + `, projected_at = now()
WHERE combo_plans.version < excluded.version`

type planRow struct {
	PlanID             string    `json:"plan_id"`
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
	Version            int64     `json:"version"`
	LastEventID        string    `json:"last_event_id"`
}

func newPlanRow(env *events.Envelope, p *events.ComboPlan) planRow {
	row := planRow{
		PlanID: p.PlanID, Shop: env.Shop, Name: p.Name, Description: p.Description, State: p.State,
		Items: make([]Item, len(p.Items)), Discount: newDiscount(p.Discount), ObjectiveID: p.ObjectiveID,
		StartsOn: optDate(p.StartsOn), EndsOn: optDate(p.EndsOn), SourceSuggestionID: p.SourceSuggestionID,
		CreatedAt: recordset.UTC(p.CreatedAt), UpdatedAt: recordset.UTC(p.UpdatedAt),
		Version: version(env), LastEventID: env.EventID,
	}
	for i, it := range p.Items {
		row.Items[i] = Item{
			ProductID: recordset.IDString(it.ProductID), ProductGID: it.ProductGID, VariantID: recordset.OptIDString(it.VariantID),
			VariantGID: it.VariantGID, Title: it.Title, Quantity: it.Quantity, Discount: newDiscount(it.Discount),
		}
	}
	return row
}

func newDiscount(d *events.ComboDiscount) *Discount {
	if d == nil {
		return nil
	}
	out := &Discount{Kind: d.Kind, Percentage: d.Percentage}
	if d.Amount != nil {
		amount, currency := recordset.Trimmed(d.Amount.Amount), d.Amount.CurrencyCode
		out.Amount, out.Currency = &amount, &currency
	}
	return out
}

// optDate renders an Avro date (midnight UTC) as YYYY-MM-DD.
func optDate(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.DateOnly)
	return &s
}

var moveColumns = recordset.Columns{
	{"plan_id", "uuid"}, {"state", "text"}, {"reason", "text"}, {"moved_at", "timestamptz"},
	{"version", "bigint"}, {"last_event_id", "uuid"},
}

// movePlans applies state changes. A move newer than the row moves it (state, updated_at,
// version); one older than the row but newer than the last move recorded only records its time
// and reason: the whole plan that beat it already carries its state. So a batch holding a move
// and a later whole plan ends as the two events in two batches would.
var movePlans = `
UPDATE combo_plans p SET
    state            = CASE WHEN p.version < r.version THEN r.state ELSE p.state END,
    updated_at       = CASE WHEN p.version < r.version THEN greatest(p.updated_at, r.moved_at) ELSE p.updated_at END,
    last_event_id    = CASE WHEN p.version < r.version THEN r.last_event_id ELSE p.last_event_id END,
    version          = greatest(p.version, r.version),
    state_reason     = r.reason,
    state_changed_at = r.moved_at,
    state_version    = r.version,
    projected_at     = now()
FROM (SELECT DISTINCT ON (r.plan_id) ` + moveColumns.Names("r.") + ` FROM ` + moveColumns.Recordset("$1") + `
      ORDER BY r.plan_id, r.version DESC) r
WHERE p.plan_id = r.plan_id AND COALESCE(p.state_version, 0) < r.version`

type moveRow struct {
	PlanID      string    `json:"plan_id"`
	State       string    `json:"state"`
	Reason      *string   `json:"reason"`
	MovedAt     time.Time `json:"moved_at"`
	Version     int64     `json:"version"`
	LastEventID string    `json:"last_event_id"`
}

func newMoveRow(e *events.ComboPlanStateChanged) moveRow {
	return moveRow{
		PlanID: e.PlanID, State: e.ToState, Reason: e.Reason, MovedAt: recordset.UTC(e.Envelope.OccurredAt),
		Version: version(&e.Envelope), LastEventID: e.Envelope.EventID,
	}
}

// version is the aggregate version an event carries; 0 when it carries none (see the package
// doc).
func version(env *events.Envelope) int64 {
	if env.AggregateVersion == nil {
		return 0
	}
	return *env.AggregateVersion
}
