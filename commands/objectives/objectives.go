// Package objectives decides the dashboard's objective commands (Objective Specifications): set
// (create or save a new version) and remove. It validates what the merchant wrote, turns it into
// publication.ObjectiveSpecificationSet / Removed, and keeps the aggregate's state; package
// decision runs it in a transaction with the version check and the outbox.
package objectives

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/commands/shopifyid"
	"github.com/storeline/storeline/events"
	readmodel "github.com/storeline/storeline/projections/objectives"
)

// AggregateType is the objectives' aggregate type in envelopes and the aggregates table.
const AggregateType = "ObjectiveSpecification"

// ObjectiveSpec is an objective as the merchant writes it (the request body of create and update).
type ObjectiveSpec struct {
	Name            string   `json:"name" minLength:"1" maxLength:"200" doc:"Name of the objective, e.g. Spring revenue for the linen range."`
	Description     *string  `json:"description,omitempty" maxLength:"2000" doc:"What the objective is about, for the merchant's team."`
	Scope           Scope    `json:"scope" doc:"What the objective targets."`
	Metric          string   `json:"metric" enum:"revenue,units_sold,orders,average_order_value,conversion_rate,sell_through,margin,margin_rate,refund_rate,days_of_inventory" doc:"What is measured. Money metrics (revenue, average_order_value, margin) take target.amount; the others take target.value."`
	Comparison      string   `json:"comparison" enum:"at_least,at_most" doc:"at_least: the measured value should reach the target; at_most: it should stay at or under it."`
	Target          Target   `json:"target" doc:"Target value for each period."`
	Period          Period   `json:"period" doc:"When the objective applies and over which windows it is judged."`
	AtRiskThreshold *float64 `json:"at_risk_threshold,omitempty" exclusiveMinimum:"0" maximum:"10" doc:"Pace (ratio of the pro-rated target) under which a running period is at risk; default the measurement refresh's."`
}

// Scope is what an objective targets: one product, every product with a tag, or a Shopify collection.
type Scope struct {
	Type         string  `json:"type" enum:"product,tag,collection" doc:"product, tag or collection."`
	ProductID    string  `json:"product_id,omitempty" doc:"For product: the Shopify product id, numeric or gid://shopify/Product/<id>."`
	Tag          string  `json:"tag,omitempty" maxLength:"255" doc:"For tag: the tag as written on products."`
	CollectionID string  `json:"collection_id,omitempty" doc:"For collection: the Shopify collection id, numeric or gid://shopify/Collection/<id>."`
	Title        *string `json:"title,omitempty" maxLength:"255" doc:"Display name of the scope (product title, collection title)."`
}

// Target is the objective's target: amount for money metrics, value for the others.
type Target struct {
	Amount   *string  `json:"amount,omitempty" pattern:"^-?[0-9]{1,16}(\\.[0-9]{1,4})?$" doc:"Money target as a decimal string, for money metrics."`
	Currency *string  `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO 4217 currency of amount; the shop's currency when absent."`
	Value    *float64 `json:"value,omitempty" minimum:"0" doc:"Target for count, ratio and days metrics (a ratio as a fraction: 0.032 is 3.2 %)."`
}

// Period says when an objective applies.
type Period struct {
	Kind      string  `json:"kind" enum:"daily,weekly,monthly,quarterly,yearly,date_range" doc:"Every calendar period of a kind, or one date_range."`
	StartDate *string `json:"start_date,omitempty" format:"date" doc:"First day (required for date_range)."`
	EndDate   *string `json:"end_date,omitempty" format:"date" doc:"Last day, inclusive (required for date_range)."`
	TimeZone  *string `json:"time_zone,omitempty" maxLength:"64" doc:"IANA time zone the periods are counted in; the shop's when absent."`
}

// metricUnits gives each metric's unit.
var metricUnits = map[string]string{
	"revenue": "money", "average_order_value": "money", "margin": "money",
	"units_sold": "count", "orders": "count",
	"conversion_rate": "ratio", "sell_through": "ratio", "margin_rate": "ratio", "refund_rate": "ratio",
	"days_of_inventory": "days",
}

// State is the aggregate's state between commands: the specification as written and as sent.
type State struct {
	ObjectiveSpec ObjectiveSpec                 `json:"spec"`
	Objective     events.ObjectiveSpecification `json:"objective"`
	Removed       bool                          `json:"removed"`
}

// Validate checks what the schema of the request cannot: the fields that belong together.
func Validate(s ObjectiveSpec) error {
	var errs fielderr.List
	switch s.Scope.Type {
	case "product":
		if _, err := shopifyid.Parse(s.Scope.ProductID, "Product"); err != nil {
			errs.Add("body.scope.product_id", err.Error(), s.Scope.ProductID)
		}
	case "tag":
		if strings.TrimSpace(s.Scope.Tag) == "" {
			errs.Add("body.scope.tag", "a tag scope needs the tag", s.Scope.Tag)
		}
	case "collection":
		if _, err := shopifyid.Parse(s.Scope.CollectionID, "Collection"); err != nil {
			errs.Add("body.scope.collection_id", err.Error(), s.Scope.CollectionID)
		}
	}
	unit := metricUnits[s.Metric]
	switch {
	case unit == "money" && s.Target.Amount == nil:
		errs.Add("body.target.amount", s.Metric+" is money: target.amount is required", nil)
	case unit == "money" && s.Target.Value != nil:
		errs.Add("body.target.value", s.Metric+" is money: give target.amount, not target.value", *s.Target.Value)
	case unit != "money" && s.Target.Value == nil:
		errs.Add("body.target.value", s.Metric+" is a "+unit+": target.value is required", nil)
	case unit != "money" && s.Target.Amount != nil:
		errs.Add("body.target.amount", s.Metric+" is a "+unit+": give target.value, not target.amount", *s.Target.Amount)
	}
	start, errStart := optDate(s.Period.StartDate)
	if errStart != nil {
		errs.Add("body.period.start_date", errStart.Error(), *s.Period.StartDate)
	}
	end, errEnd := optDate(s.Period.EndDate)
	if errEnd != nil {
		errs.Add("body.period.end_date", errEnd.Error(), *s.Period.EndDate)
	}
	if s.Period.Kind == "date_range" && (s.Period.StartDate == nil || s.Period.EndDate == nil) {
		errs.Add("body.period", "a date_range needs start_date and end_date", nil)
	}
	if start != nil && end != nil && end.Before(*start) {
		errs.Add("body.period.end_date", "end_date is before start_date", *s.Period.EndDate)
	}
	if tz := s.Period.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || *tz == "Local" {
			errs.Add("body.period.time_zone", "not an IANA time zone", *tz)
		}
	}
	return errs.Err()
}

// Set creates the objective (cur does not exist) or saves a new version of it.
func Set(id, shop string, s ObjectiveSpec, shopCurrency string, now time.Time) decision.Decide {
	return func(_ context.Context, _ pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		created := now
		var changed []string
		if cur.Exists {
			var old State
			if err := json.Unmarshal(cur.State, &old); err != nil {
				return decision.Outcome{}, fmt.Errorf("objective state: %w", err)
			}
			if old.Removed {
				return decision.Outcome{}, decision.Reject("objective %s was removed; create a new one", id)
			}
			created = old.Objective.CreatedAt
			changed = changedFields(old.ObjectiveSpec, s)
			if len(changed) == 0 {
				// Saving what already is makes no version: the answer is the objective as it stands.
				ev := &events.ObjectiveSpecificationSet{Envelope: events.Envelope{Shop: shop, AggregateVersion: &cur.Version}, Objective: old.Objective}
				return decision.Outcome{Unchanged: true, Response: func(int64) any { return readmodel.FromEvent(ev) }}, nil
			}
		} else {
			changed = []string{"name", "description", "scope", "metric", "comparison", "target", "period", "at_risk_threshold"}
		}
		spec, err := toEvent(id, s, shopCurrency, created, now)
		if err != nil {
			return decision.Outcome{}, err
		}
		ev := &events.ObjectiveSpecificationSet{Envelope: events.Envelope{EventType: events.TypeObjectiveSpecificationSet, OccurredAt: now},
			Objective: spec, ChangedFields: changed}
		status := 200
		if !cur.Exists {
			status = 201
		}
		// The answer is read after the engine has stamped ev's envelope (shop, version).
		return decision.Outcome{Events: []events.Event{ev}, State: State{ObjectiveSpec: s, Objective: spec}, Status: status,
			Response: func(int64) any { return readmodel.FromEvent(ev) }}, nil
	}
}

// Remove removes the objective. Its state stays (removed) so its version goes on counting and a
// repeat is refused rather than recreating it.
func Remove(id string, reason *string, now time.Time) decision.Decide {
	return func(_ context.Context, _ pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		var st State
		if err := json.Unmarshal(cur.State, &st); err != nil {
			return decision.Outcome{}, fmt.Errorf("objective state: %w", err)
		}
		if st.Removed {
			return decision.Outcome{}, decision.Reject("objective %s is already removed", id)
		}
		st.Removed = true
		ev := &events.ObjectiveSpecificationRemoved{Envelope: events.Envelope{EventType: events.TypeObjectiveSpecificationRemoved, OccurredAt: now},
			ObjectiveID: id, Reason: reason}
		return decision.Outcome{Events: []events.Event{ev}, State: st,
			Response: func(version int64) any {
				o := readmodel.FromEvent(&events.ObjectiveSpecificationSet{Envelope: ev.Envelope, Objective: st.Objective})
				removed := ev.Envelope.OccurredAt.UTC()
				o.RemovedAt, o.RemovedReason = &removed, reason
				return o
			}}, nil
	}
}

func changedFields(a, b ObjectiveSpec) []string {
	var out []string
	eq := func(x, y any) bool {
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		return string(jx) == string(jy)
	}
	for _, f := range []struct {
		name string
		x, y any
	}{{"name", a.Name, b.Name}, {"description", a.Description, b.Description}, {"scope", a.Scope, b.Scope},
		{"metric", a.Metric, b.Metric}, {"comparison", a.Comparison, b.Comparison}, {"target", a.Target, b.Target},
		{"period", a.Period, b.Period}, {"at_risk_threshold", a.AtRiskThreshold, b.AtRiskThreshold}} {
		if !eq(f.x, f.y) {
			out = append(out, f.name)
		}
	}
	return out
}

func toEvent(id string, s ObjectiveSpec, shopCurrency string, created, now time.Time) (events.ObjectiveSpecification, error) {
	o := events.ObjectiveSpecification{ObjectiveID: id, Name: s.Name, Description: s.Description, Metric: s.Metric,
		Comparison: s.Comparison, AtRiskThreshold: s.AtRiskThreshold, CreatedAt: created, UpdatedAt: now}
	sc := events.MetricScope{ScopeType: s.Scope.Type, Title: s.Scope.Title}
	switch s.Scope.Type {
	case "product":
		n, _ := shopifyid.Parse(s.Scope.ProductID, "Product")
		gid := "gid://shopify/Product/" + strconv.FormatInt(n, 10)
		sc.ScopeID, sc.ProductID, sc.ProductGID = gid, &n, &gid
	case "tag":
		tag := strings.TrimSpace(s.Scope.Tag)
		sc.ScopeID, sc.Tag = tag, &tag
	case "collection":
		n, _ := shopifyid.Parse(s.Scope.CollectionID, "Collection")
		gid := "gid://shopify/Collection/" + strconv.FormatInt(n, 10)
		sc.ScopeID, sc.CollectionID, sc.CollectionGID = gid, &n, &gid
	}
	o.Scope = sc
	unit := metricUnits[s.Metric]
	o.Target = events.MetricValue{Unit: unit}
	if unit == "money" {
		amount, ok := new(big.Rat).SetString(*s.Target.Amount)
		if !ok {
			return o, fielderr.One("body.target.amount", "not a decimal", *s.Target.Amount)
		}
		cur := shopCurrency
		if s.Target.Currency != nil {
			cur = *s.Target.Currency
		}
		if cur == "" {
			return o, fielderr.One("body.target.currency", "the shop's currency is not known: give target.currency", nil)
		}
		o.Target.Money = &events.Money{Amount: amount, CurrencyCode: cur}
	} else {
		o.Target.Value = s.Target.Value
	}
	start, _ := optDate(s.Period.StartDate)
	end, _ := optDate(s.Period.EndDate)
	o.Period = events.ObjectivePeriod{Kind: s.Period.Kind, StartDate: start, EndDate: end, TimeZone: s.Period.TimeZone}
	return o, nil
}

func optDate(s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := time.Parse(time.DateOnly, *s)
	if err != nil {
		return nil, fmt.Errorf("not a date (YYYY-MM-DD)")
	}
	return &t, nil
}

// Metrics lists the metrics an objective may target, for documentation.
func Metrics() []string {
	out := make([]string, 0, len(metricUnits))
	for m := range metricUnits {
		out = append(out, m)
	}
	slices.Sort(out)
	return out
}
