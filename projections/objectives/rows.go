package objectives

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/recordset"
)

// Rows as the statements read them (jsonb_to_recordset): JSON field = column name. Each
// statement keeps the newest version per objective of its batch (DISTINCT ON ... version DESC),
// then writes it only over an older stored version.

var objectiveColumns = recordset.Columns{
	{"objective_id", "uuid"}, {"shop", "text"}, {"name", "text"}, {"description", "text"},
	{"scope_type", "text"}, {"scope_id", "text"}, {"scope", "jsonb"}, {"metric", "text"}, {"comparison", "text"},
	{"target", "jsonb"}, {"period", "jsonb"}, {"at_risk_threshold", "double precision"},
	{"source_suggestion_id", "uuid"}, {"created_at", "timestamptz"}, {"updated_at", "timestamptz"},
	{"version", "bigint"}, {"last_event_id", "uuid"},
}

var upsertObjectives = `
INSERT INTO objectives (` + objectiveColumns.Names("") + `, removed_at, removed_reason, projected_at)
SELECT DISTINCT ON (r.objective_id) ` + objectiveColumns.Names("r.") + `, NULL::timestamptz, NULL::text, now()
FROM ` + objectiveColumns.Recordset("$1") + `
ORDER BY r.objective_id, r.version DESC
ON CONFLICT (objective_id) DO UPDATE SET ` + objectiveColumns.SetExcluded("objective_id") + `,
    removed_at = NULL, removed_reason = NULL, projected_at = now()
WHERE objectives.version < excluded.version`

type objectiveRow struct {
	ObjectiveID        string    `json:"objective_id"`
	Shop               string    `json:"shop"`
	Name               string    `json:"name"`
	Description        *string   `json:"description"`
	ScopeType          string    `json:"scope_type"`
	ScopeID            string    `json:"scope_id"`
	Scope              Scope     `json:"scope"`
	Metric             string    `json:"metric"`
	Comparison         string    `json:"comparison"`
	Target             Value     `json:"target"`
	Period             Period    `json:"period"`
	AtRiskThreshold    *float64  `json:"at_risk_threshold"`
	SourceSuggestionID *string   `json:"source_suggestion_id"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	Version            int64     `json:"version"`
	LastEventID        string    `json:"last_event_id"`
}

func newObjectiveRow(e *events.ObjectiveSpecificationSet) objectiveRow {
	o := newObjective(e)
	return objectiveRow{
		ObjectiveID: o.ID, Shop: o.Shop, Name: o.Name, Description: o.Description, ScopeType: o.Scope.Type,
		ScopeID: o.Scope.ID, Scope: o.Scope, Metric: o.Metric, Comparison: o.Comparison, Target: o.Target,
		Period: o.Period, AtRiskThreshold: o.AtRiskThreshold, SourceSuggestionID: o.SourceSuggestionID,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Version: o.Version, LastEventID: e.Envelope.EventID,
	}
}

// newObjective is the objective as the API shows it after e.
func newObjective(e *events.ObjectiveSpecificationSet) Objective {
	s := e.Objective
	return Objective{
		ID: s.ObjectiveID, Shop: e.Envelope.Shop, Name: s.Name, Description: s.Description,
		Scope: Scope{
			Type: s.Scope.ScopeType, ID: s.Scope.ScopeID, ProductID: recordset.OptIDString(s.Scope.ProductID),
			ProductGID: s.Scope.ProductGID, CollectionID: recordset.OptIDString(s.Scope.CollectionID),
			CollectionGID: s.Scope.CollectionGID, Tag: s.Scope.Tag, TagDefinitionID: s.Scope.TagDefinitionID, Title: s.Scope.Title,
		},
		Metric: s.Metric, Comparison: s.Comparison, Target: newValue(s.Target),
		Period:          Period{Kind: s.Period.Kind, StartDate: optDate(s.Period.StartDate), EndDate: optDate(s.Period.EndDate), TimeZone: s.Period.TimeZone},
		AtRiskThreshold: s.AtRiskThreshold, SourceSuggestionID: s.SourceSuggestionID,
		CreatedAt: recordset.UTC(s.CreatedAt), UpdatedAt: recordset.UTC(s.UpdatedAt), Version: version(&e.Envelope),
	}
}

func newValue(v events.MetricValue) Value {
	out := Value{Unit: v.Unit, Value: v.Value}
	if v.Money != nil {
		amount, currency := recordset.Trimmed(v.Money.Amount), v.Money.CurrencyCode
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

var removalColumns = recordset.Columns{
	{"objective_id", "uuid"}, {"removed_at", "timestamptz"}, {"removed_reason", "text"},
	{"version", "bigint"}, {"last_event_id", "uuid"},
}

var removeObjectives = `
UPDATE objectives o SET removed_at = r.removed_at, removed_reason = r.removed_reason, version = r.version,
    last_event_id = r.last_event_id, projected_at = now()
FROM (SELECT DISTINCT ON (r.objective_id) ` + removalColumns.Names("r.") + ` FROM ` + removalColumns.Recordset("$1") + `
      ORDER BY r.objective_id, r.version DESC) r
WHERE o.objective_id = r.objective_id AND o.version < r.version`

type removalRow struct {
	ObjectiveID   string    `json:"objective_id"`
	RemovedAt     time.Time `json:"removed_at"`
	RemovedReason *string   `json:"removed_reason"`
	Version       int64     `json:"version"`
	LastEventID   string    `json:"last_event_id"`
}

func newRemovalRow(e *events.ObjectiveSpecificationRemoved) removalRow {
	return removalRow{
		ObjectiveID: e.ObjectiveID, RemovedAt: recordset.UTC(e.Envelope.OccurredAt), RemovedReason: e.Reason,
		Version: version(&e.Envelope), LastEventID: e.Envelope.EventID,
	}
}

var versionColumns = recordset.Columns{
	{"objective_id", "uuid"}, {"version", "bigint"}, {"shop", "text"}, {"kind", "text"}, {"spec", "jsonb"},
	{"changed_fields", "text[]"}, {"removed_reason", "text"}, {"occurred_at", "timestamptz"},
	{"actor_type", "text"}, {"actor_id", "text"}, {"event_id", "uuid"},
}

// insertVersions records each version once: the first event seen of a version is kept (two
// events of one version can only be one event delivered twice).
var insertVersions = `
INSERT INTO objective_versions (` + versionColumns.Names("") + `)
SELECT DISTINCT ON (r.objective_id, r.version) ` + versionColumns.Names("r.") + `
FROM ` + versionColumns.Recordset("$1") + `
ORDER BY r.objective_id, r.version
ON CONFLICT (objective_id, version) DO NOTHING`

type versionRow struct {
	ObjectiveID   string          `json:"objective_id"`
	Version       int64           `json:"version"`
	Shop          string          `json:"shop"`
	Kind          string          `json:"kind"`
	Spec          json.RawMessage `json:"spec"`
	ChangedFields []string        `json:"changed_fields"`
	RemovedReason *string         `json:"removed_reason"`
	OccurredAt    time.Time       `json:"occurred_at"`
	ActorType     string          `json:"actor_type"`
	ActorID       string          `json:"actor_id"`
	EventID       string          `json:"event_id"`
}

func newSetVersionRow(e *events.ObjectiveSpecificationSet) (versionRow, error) {
	spec, err := json.Marshal(newObjective(e))
	if err != nil {
		return versionRow{}, fmt.Errorf("encode objective %s: %w", e.Objective.ObjectiveID, err)
	}
	return versionRow{
		ObjectiveID: e.Objective.ObjectiveID, Version: version(&e.Envelope), Shop: e.Envelope.Shop, Kind: KindSet,
		Spec: spec, ChangedFields: recordset.NonNil(e.ChangedFields), OccurredAt: recordset.UTC(e.Envelope.OccurredAt),
		ActorType: e.Envelope.Actor.Type, ActorID: e.Envelope.Actor.ID, EventID: e.Envelope.EventID,
	}, nil
}

func newRemovedVersionRow(e *events.ObjectiveSpecificationRemoved) versionRow {
	return versionRow{
		ObjectiveID: e.ObjectiveID, Version: version(&e.Envelope), Shop: e.Envelope.Shop, Kind: KindRemoved,
		Spec: json.RawMessage("null"), ChangedFields: []string{}, RemovedReason: e.Reason,
		OccurredAt: recordset.UTC(e.Envelope.OccurredAt), ActorType: e.Envelope.Actor.Type, ActorID: e.Envelope.Actor.ID,
		EventID: e.Envelope.EventID,
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
