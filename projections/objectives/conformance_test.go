package objectives_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/objectives"
	"github.com/storeline/storeline/projections/projectiontest"
)

func TestConformance(t *testing.T) {
	projectiontest.Conformance(t, projectiontest.Suite{
		Projection: objectives.Projection{},
		History:    func() []events.Event { return objectivesHistory(rand.New(rand.NewPCG(51, 52))) },
		Snapshot: projectiontest.Tables(map[string]string{
			"objectives":         "t.objective_id",
			"objective_versions": "t.objective_id, t.version",
		}),
	})
}

// objectivesHistory is 10 objectives of two shops over a few days, as the objective command
// decides them: created (by staff, or from an accepted suggestion), saved again with some
// fields changed (changed_fields naming them), removed with or without a reason, and some set
// again after their removal.
func objectivesHistory(rng *rand.Rand) []events.Event {
	type objective struct {
		spec             events.ObjectiveSpecification
		shop             string
		version          int64
		exists, removed  bool
		createdBySuggest bool
	}
	var objs []*objective
	for i := range 10 {
		shop := testShop
		if i == 9 {
			shop = "other.myshopify.com"
		}
		objs = append(objs, &objective{shop: shop, spec: events.ObjectiveSpecification{
			ObjectiveID: events.DeterministicID("objectives-conformance", fmt.Sprint(i)),
		}})
	}
	clock := t0
	var log []events.Event
	envelope := func(eventType string, o *objective, actor events.Actor, source string) events.Envelope {
		clock = clock.Add(time.Duration(1+rng.IntN(3_600_000_000)) * time.Microsecond)
		o.version++
		v := o.version
		return events.Envelope{
			EventID:   events.DeterministicID("objectives-conformance", o.spec.ObjectiveID, fmt.Sprint(v)),
			EventType: eventType, OccurredAt: clock, RecordedAt: clock.Add(time.Duration(rng.IntN(1000)) * time.Millisecond),
			Shop: o.shop, AggregateType: "ObjectiveSpecification", AggregateID: o.spec.ObjectiveID, AggregateVersion: &v,
			Actor: actor, Source: source,
		}
	}
	staff := func() events.Actor {
		return events.Actor{Type: events.ActorUser, ID: fmt.Sprint("staff-", 1+rng.IntN(3))}
	}
	day := func(d int) *time.Time { t := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d); return &t }
	// Each field the merchant can change, and how it changes it.
	edits := map[string]func(s *events.ObjectiveSpecification){
		"name": func(s *events.ObjectiveSpecification) { s.Name = fmt.Sprintf("Objective %d", rng.IntN(1000)) },
		"description": func(s *events.ObjectiveSpecification) {
			s.Description = []*string{nil, ptr("for the spring range"), ptr("keep returns low")}[rng.IntN(3)]
		},
		"scope": func(s *events.ObjectiveSpecification) {
			switch rng.IntN(3) {
			case 0:
				id := int64(7000 + rng.IntN(5))
				gid := fmt.Sprintf("gid://shopify/Product/%d", id)
				s.Scope = events.MetricScope{ScopeType: "product", ScopeID: gid, ProductID: &id, ProductGID: &gid, Title: ptr(fmt.Sprint("Product ", id))}
			case 1:
				tag := []string{"linen", "summer", "sale"}[rng.IntN(3)]
				s.Scope = events.MetricScope{ScopeType: "tag", ScopeID: tag, Tag: &tag, Title: &tag,
					TagDefinitionID: []*string{nil, ptr(events.DeterministicID("tags", tag))}[rng.IntN(2)]}
			default:
				id := int64(300 + rng.IntN(3))
				gid := fmt.Sprintf("gid://shopify/Collection/%d", id)
				s.Scope = events.MetricScope{ScopeType: "collection", ScopeID: gid, CollectionID: &id, CollectionGID: &gid}
			}
		},
		"target": func(s *events.ObjectiveSpecification) {
			switch s.Metric {
			case "revenue", "average_order_value":
				amount := new(big.Rat).SetFrac64(int64(rng.IntN(5_000_000)), 100)
				s.Target = events.MetricValue{Unit: "money", Money: &events.Money{Amount: amount, CurrencyCode: "EUR"}}
			case "units_sold", "orders":
				s.Target = events.MetricValue{Unit: "count", Value: ptr(float64(10 + rng.IntN(500)))}
			case "days_of_inventory":
				s.Target = events.MetricValue{Unit: "days", Value: ptr(float64(5 + rng.IntN(60)))}
			default:
				s.Target = events.MetricValue{Unit: "ratio", Value: ptr(float64(rng.IntN(1000)) / 1000)}
			}
		},
		"period": func(s *events.ObjectiveSpecification) {
			switch rng.IntN(3) {
			case 0:
				s.Period = events.ObjectivePeriod{Kind: "monthly", StartDate: day(0), TimeZone: ptr("Europe/Berlin")}
			case 1:
				start := rng.IntN(30)
				s.Period = events.ObjectivePeriod{Kind: "date_range", StartDate: day(start), EndDate: day(start + 1 + rng.IntN(60))}
			default:
				s.Period = events.ObjectivePeriod{Kind: []string{"weekly", "quarterly"}[rng.IntN(2)]}
			}
		},
		"at_risk_threshold": func(s *events.ObjectiveSpecification) {
			s.AtRiskThreshold = []*float64{nil, ptr(0.8), ptr(0.9), ptr(1.1)}[rng.IntN(4)]
		},
	}
	fields := []string{"name", "description", "scope", "target", "period", "at_risk_threshold"}
	newMetric := func(s *events.ObjectiveSpecification) {
		s.Metric = []string{"revenue", "units_sold", "orders", "average_order_value", "conversion_rate", "refund_rate", "days_of_inventory"}[rng.IntN(7)]
		s.Comparison = "at_least"
		if s.Metric == "refund_rate" || s.Metric == "days_of_inventory" {
			s.Comparison = "at_most"
		}
		edits["target"](s)
	}
	set := func(o *objective, changed []string) {
		actor, source := staff(), events.SourceDashboard
		if !o.exists && rng.IntN(4) == 0 { // created by accepting an objective suggestion
			actor = events.Actor{Type: events.ActorSystem, ID: "suggestions"}
			o.spec.SourceSuggestionID = ptr(events.DeterministicID("objectives-conformance", "suggestion", o.spec.ObjectiveID))
		}
		env := envelope(events.TypeObjectiveSpecificationSet, o, actor, source)
		if !o.exists {
			o.exists, o.spec.CreatedAt = true, env.OccurredAt
		}
		o.removed = false
		o.spec.UpdatedAt = env.OccurredAt
		spec := o.spec
		log = append(log, &events.ObjectiveSpecificationSet{Envelope: env, Objective: spec, ChangedFields: append([]string{}, changed...)})
	}
	for range 90 {
		o := objs[rng.IntN(len(objs))]
		switch {
		case !o.exists:
			for _, f := range fields {
				edits[f](&o.spec)
			}
			newMetric(&o.spec)
			set(o, nil)
		case o.removed: // set again after its removal, as it stood or with a new target
			var changed []string
			if rng.IntN(2) == 0 {
				edits["target"](&o.spec)
				changed = []string{"target"}
			}
			set(o, changed)
		case rng.IntN(6) == 0:
			reason := []*string{nil, ptr("achieved"), ptr("obsolete"), ptr("replaced"), ptr("other")}[rng.IntN(5)]
			log = append(log, &events.ObjectiveSpecificationRemoved{
				Envelope:    envelope(events.TypeObjectiveSpecificationRemoved, o, staff(), events.SourceDashboard),
				ObjectiveID: o.spec.ObjectiveID, Reason: reason,
			})
			o.removed = true
		default:
			var changed []string
			for _, i := range rng.Perm(len(fields))[:1+rng.IntN(3)] {
				edits[fields[i]](&o.spec)
				changed = append(changed, fields[i])
			}
			if rng.IntN(5) == 0 {
				newMetric(&o.spec)
				changed = append(changed, "metric", "comparison", "target")
			}
			slices.Sort(changed)
			set(o, slices.Compact(changed))
		}
	}
	return log
}
