package objectives_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/objectives"
	"github.com/storeline/storeline/projections/projectiontest"
)

const testShop = "demo.myshopify.com"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// id is a fixed uuid per name, so a test reads like its story.
func id(name string) string { return events.DeterministicID("objectives-test", name) }

func envelope(eventType, aggregateID, shop string, version int64) events.Envelope {
	at := t0.Add(time.Duration(version) * time.Hour)
	return events.Envelope{
		EventID:   events.DeterministicID("objectives-test", eventType, aggregateID, fmt.Sprint(version)),
		EventType: eventType, OccurredAt: at, RecordedAt: at, Shop: shop,
		AggregateType: "ObjectiveSpecification", AggregateID: aggregateID, AggregateVersion: &version,
		Actor: events.Actor{Type: events.ActorUser, ID: "staff-1"}, Source: events.SourceDashboard,
	}
}

func tagScope(tag string) events.MetricScope {
	return events.MetricScope{ScopeType: "tag", ScopeID: tag, Tag: &tag, Title: &tag}
}

func productScope(productID int64) events.MetricScope {
	gid := fmt.Sprintf("gid://shopify/Product/%d", productID)
	return events.MetricScope{ScopeType: "product", ScopeID: gid, ProductID: &productID, ProductGID: &gid}
}

// set is version version of objective name: revenue of scope at least target EUR a month from
// 2026-12-01; created (order) minutes after t0.
func set(name string, version int64, order int, scope events.MetricScope, target string, changed ...string) *events.ObjectiveSpecificationSet {
	return setIn(testShop, name, version, order, scope, target, changed...)
}

func setIn(shop, name string, version int64, order int, scope events.MetricScope, target string, changed ...string) *events.ObjectiveSpecificationSet {
	amount, _ := new(big.Rat).SetString(target)
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	created := t0.Add(time.Duration(order) * time.Minute)
	return &events.ObjectiveSpecificationSet{
		Envelope: envelope(events.TypeObjectiveSpecificationSet, id(name), shop, version),
		Objective: events.ObjectiveSpecification{
			ObjectiveID: id(name), Name: fmt.Sprintf("%s v%d", name, version), Scope: scope, Metric: "revenue",
			Comparison: "at_least", Target: events.MetricValue{Unit: "money", Money: &events.Money{Amount: amount, CurrencyCode: "EUR"}},
			Period:          events.ObjectivePeriod{Kind: "monthly", StartDate: &start, TimeZone: ptr("Europe/Berlin")},
			AtRiskThreshold: ptr(0.9), CreatedAt: created, UpdatedAt: t0.Add(time.Duration(version) * time.Hour),
		},
		ChangedFields: append([]string{}, changed...),
	}
}

func removed(name string, version int64, reason string) *events.ObjectiveSpecificationRemoved {
	return &events.ObjectiveSpecificationRemoved{
		Envelope:    envelope(events.TypeObjectiveSpecificationRemoved, id(name), testShop, version),
		ObjectiveID: id(name), Reason: &reason,
	}
}

// history is a log with duplicates and older versions replayed after newer ones.
func history() []events.Event {
	a1 := set("a", 1, 1, tagScope("linen"), "1000")
	a2 := set("a", 2, 1, tagScope("linen"), "1500.50", "target")
	b1 := set("b", 1, 2, productScope(7), "200")
	c1 := set("c", 1, 3, productScope(8), "300")
	return []events.Event{
		a1, a2, a2, a1,
		b1, removed("b", 2, "obsolete"), b1,
		c1, removed("c", 2, "other"), set("c", 3, 3, productScope(8), "350", "target"), c1,
		setIn("other.myshopify.com", "d", 1, 4, tagScope("linen"), "1"),
	}
}

func names(os []objectives.Objective) string {
	var out []string
	for _, o := range os {
		out = append(out, o.Name)
	}
	return strings.Join(out, ",")
}

func checkHistory(t *testing.T, r *objectives.Reader) {
	ctx := context.Background()
	for _, c := range []struct {
		q    objectives.ListQuery
		want string
	}{
		{objectives.ListQuery{Shop: testShop}, "a v2,c v3"},
		{objectives.ListQuery{Shop: testShop, IncludeRemoved: true}, "a v2,b v1,c v3"},
		{objectives.ListQuery{Shop: testShop, ScopeType: "tag"}, "a v2"},
		{objectives.ListQuery{Shop: testShop, ScopeType: "product", ScopeID: "gid://shopify/Product/7", IncludeRemoved: true}, "b v1"},
		{objectives.ListQuery{Shop: testShop, ScopeType: "product", ScopeID: "gid://shopify/Product/7"}, ""},
		{objectives.ListQuery{Shop: "other.myshopify.com"}, "d v1"},
	} {
		got, err := r.List(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if names(got) != c.want {
			t.Errorf("List(%+v) = %s, want %s", c.q, names(got), c.want)
		}
	}

	a, err := r.Get(ctx, id("a"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 2 || a.Target.Unit != "money" || *a.Target.Amount != "1500.5" || *a.Target.Currency != "EUR" ||
		a.Target.Value != nil || a.Scope.Type != "tag" || *a.Scope.Tag != "linen" || a.Scope.ProductID != nil ||
		a.Period.Kind != "monthly" || *a.Period.StartDate != "2026-12-01" || a.Period.EndDate != nil ||
		*a.Period.TimeZone != "Europe/Berlin" || *a.AtRiskThreshold != 0.9 || a.RemovedAt != nil ||
		!a.CreatedAt.Equal(t0.Add(time.Minute)) || !a.UpdatedAt.Equal(t0.Add(2*time.Hour)) || a.Shop != testShop {
		t.Errorf("a = %+v", a)
	}
	b, err := r.Get(ctx, id("b"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 2 || b.RemovedAt == nil || !b.RemovedAt.Equal(t0.Add(2*time.Hour)) || *b.RemovedReason != "obsolete" ||
		b.Name != "b v1" || *b.Scope.ProductID != "7" {
		t.Errorf("b = %+v, want the tombstone of v1 at version 2", b)
	}
	c, err := r.Get(ctx, id("c"))
	if err != nil || c.Version != 3 || c.RemovedAt != nil || c.RemovedReason != nil || *c.Target.Amount != "350" {
		t.Errorf("c = %+v, %v; want v3 live again", c, err)
	}

	versions := func(name string) string {
		vs, err := r.Versions(ctx, id(name))
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range vs {
			s := fmt.Sprintf("%d:%s", v.Version, v.Kind)
			if v.Objective != nil {
				s += fmt.Sprintf("(%s %s v%d)", v.Objective.Name, *v.Objective.Target.Amount, v.Objective.Version)
			}
			if len(v.ChangedFields) > 0 {
				s += "[" + strings.Join(v.ChangedFields, ",") + "]"
			}
			if v.RemovedReason != nil {
				s += " " + *v.RemovedReason
			}
			if v.Actor.ID != "staff-1" || !v.OccurredAt.Equal(t0.Add(time.Duration(v.Version)*time.Hour)) {
				s += " bad actor or time"
			}
			out = append(out, s)
		}
		return strings.Join(out, "; ")
	}
	for name, want := range map[string]string{
		"a": "1:set(a v1 1000 v1); 2:set(a v2 1500.5 v2)[target]",
		"b": "1:set(b v1 200 v1); 2:removed obsolete",
		"c": "1:set(c v1 300 v1); 2:removed other; 3:set(c v3 350 v3)[target]",
	} {
		if got := versions(name); got != want {
			t.Errorf("versions of %s = %s\nwant %s", name, got, want)
		}
	}

	for _, missing := range []string{id("nothing"), "not-a-uuid"} {
		if _, err := r.Get(ctx, missing); !errors.Is(err, objectives.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", missing, err)
		}
		if _, err := r.Versions(ctx, missing); !errors.Is(err, objectives.ErrNotFound) {
			t.Errorf("Versions(%s) = %v, want ErrNotFound", missing, err)
		}
	}
}

// TestHistory folds the history one event per transaction and in large batches: the same read
// model either way.
func TestHistory(t *testing.T) {
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"one event per batch", 1}, {"large batches", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			e := projectiontest.Setup(t, objectives.Projection{})
			e.Append(t, history()...)
			e.Start(t, mode.maxBatch, nil)
			e.WaitApplied(t, time.Minute)
			checkHistory(t, objectives.NewReader(e.Pool))
		})
	}
}
