package plans_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/plans"
	"github.com/storeline/storeline/projections/projectiontest"
)

const testShop = "demo.myshopify.com"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// id is a fixed uuid per name, so a test reads like its story.
func id(name string) string { return events.DeterministicID("plans-test", name) }

// at is when version version of a plan was decided.
func at(version int64) time.Time { return t0.Add(time.Duration(version) * time.Hour) }

func envelope(eventType, planID, shop string, version int64) events.Envelope {
	return events.Envelope{
		EventID:   events.DeterministicID("plans-test", eventType, planID, fmt.Sprint(version)),
		EventType: eventType, OccurredAt: at(version), RecordedAt: at(version), Shop: shop,
		AggregateType: "ComboPlan", AggregateID: planID, AggregateVersion: &version,
		Actor: events.Actor{Type: events.ActorUser, ID: "staff-1"}, Source: events.SourceDashboard,
	}
}

func eur(amount string) *events.Money {
	r, _ := new(big.Rat).SetString(amount)
	return &events.Money{Amount: r, CurrencyCode: "EUR"}
}

// plan is plan name as version version has it, in state, created order minutes after t0, with
// one item per product id.
func plan(name string, version int64, order int, state string, products ...int64) events.ComboPlan {
	p := events.ComboPlan{
		PlanID: id(name), Name: fmt.Sprintf("%s v%d", name, version), State: state,
		CreatedAt: t0.Add(time.Duration(order) * time.Minute), UpdatedAt: at(version), Items: []events.ComboPlanItem{},
	}
	for _, pid := range products {
		p.Items = append(p.Items, events.ComboPlanItem{
			ProductID: pid, ProductGID: fmt.Sprintf("gid://shopify/Product/%d", pid), Quantity: 1,
		})
	}
	return p
}

func created(shop string, p events.ComboPlan) *events.ComboPlanCreated {
	return &events.ComboPlanCreated{Envelope: envelope(events.TypeComboPlanCreated, p.PlanID, shop, 1), Plan: p}
}

func changed(version int64, p events.ComboPlan, fields ...string) *events.ComboPlanChanged {
	return &events.ComboPlanChanged{Envelope: envelope(events.TypeComboPlanChanged, p.PlanID, testShop, version), Plan: p, ChangedFields: fields}
}

func moved(name string, version int64, from, to string, reason *string) *events.ComboPlanStateChanged {
	return &events.ComboPlanStateChanged{
		Envelope: envelope(events.TypeComboPlanStateChanged, id(name), testShop, version),
		PlanID:   id(name), FromState: from, ToState: to, Reason: reason,
	}
}

// history is a log with duplicates and older versions replayed after newer ones.
func history() []events.Event {
	a1 := plan("a", 1, 1, plans.StateDraft, 11, 12)
	a1.Description = ptr("picnic")
	a1.Discount = &events.ComboDiscount{Kind: "fixed_amount", Amount: eur("5.50")}
	a1.StartsOn, a1.EndsOn = ptr(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)), ptr(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	a2 := a1
	a2.Name, a2.UpdatedAt = "a v2", at(2)
	a2.Items = []events.ComboPlanItem{
		{ProductID: 11, ProductGID: "gid://shopify/Product/11", VariantID: ptr(int64(111)), VariantGID: ptr("gid://shopify/ProductVariant/111"),
			Title: ptr("Blanket - Red"), Quantity: 2, Discount: &events.ComboDiscount{Kind: "percentage", Percentage: ptr(15.0)}},
		{ProductID: 13, ProductGID: "gid://shopify/Product/13", Quantity: 1},
	}
	ca1, ca3 := created(testShop, a1), moved("a", 3, plans.StateDraft, plans.StateApproved, ptr("ok"))

	b3 := plan("b", 3, 2, plans.StateApproved, 21)
	b2 := moved("b", 2, plans.StateDraft, plans.StateApproved, ptr("looks good"))
	return []events.Event{
		ca1, changed(2, a2, "items", "name"), ca3, moved("a", 4, plans.StateApproved, plans.StatePublished, ptr("launch")),
		ca1, ca3,
		// b: moved, then edited; the move's reason outlives the edit.
		created(testShop, plan("b", 1, 2, plans.StateDraft, 21)), b2, changed(3, b3, "name"), b2,
		created(testShop, plan("c", 1, 3, plans.StateDraft)), moved("c", 2, plans.StateDraft, plans.StateArchived, nil),
		created("other.myshopify.com", plan("d", 1, 4, plans.StateDraft, 41)),
		// a move of a plan never created changes nothing.
		moved("ghost", 2, plans.StateDraft, plans.StateApproved, nil),
	}
}

func names(ps []plans.Plan) string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s/%s/v%d", p.Name, p.State, p.Version))
	}
	return strings.Join(out, ",")
}

func checkHistory(t *testing.T, r *plans.Reader) {
	ctx := context.Background()
	for _, c := range []struct {
		q    plans.ListQuery
		want string
	}{
		{plans.ListQuery{Shop: testShop}, "c v1/archived/v2,b v3/approved/v3,a v2/published/v4"},
		{plans.ListQuery{Shop: testShop, States: []string{plans.StatePublished, plans.StateArchived}}, "c v1/archived/v2,a v2/published/v4"},
		{plans.ListQuery{Shop: testShop, States: []string{plans.StateDraft}}, ""},
		{plans.ListQuery{Shop: "other.myshopify.com"}, "d v1/draft/v1"},
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
	wantItems := []plans.Item{
		{ProductID: "11", ProductGID: "gid://shopify/Product/11", VariantID: ptr("111"), VariantGID: ptr("gid://shopify/ProductVariant/111"),
			Title: ptr("Blanket - Red"), Quantity: 2, Discount: &plans.Discount{Kind: "percentage", Percentage: ptr(15.0)}},
		{ProductID: "13", ProductGID: "gid://shopify/Product/13", Quantity: 1},
	}
	if !reflect.DeepEqual(a.Items, wantItems) {
		t.Errorf("a items = %+v", a.Items)
	}
	if a.Version != 4 || a.State != plans.StatePublished || *a.StateReason != "launch" || !a.StateChangedAt.Equal(at(4)) ||
		!a.UpdatedAt.Equal(at(4)) || !a.CreatedAt.Equal(t0.Add(time.Minute)) || *a.Description != "picnic" ||
		*a.StartsOn != "2026-12-01" || *a.EndsOn != "2026-12-31" || a.Shop != testShop ||
		!reflect.DeepEqual(a.Discount, &plans.Discount{Kind: "fixed_amount", Amount: ptr("5.5"), Currency: ptr("EUR")}) {
		t.Errorf("a = %+v", a)
	}
	b, err := r.Get(ctx, id("b"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != 3 || b.State != plans.StateApproved || b.Name != "b v3" || b.StateReason == nil ||
		*b.StateReason != "looks good" || !b.StateChangedAt.Equal(at(2)) || !b.UpdatedAt.Equal(at(3)) ||
		b.Discount != nil || b.StartsOn != nil {
		t.Errorf("b = %+v", b)
	}
	c, err := r.Get(ctx, id("c"))
	if err != nil || c.State != plans.StateArchived || c.StateReason != nil || c.Items == nil || len(c.Items) != 0 {
		t.Errorf("c = %+v, %v", c, err)
	}
	for _, missing := range []string{id("ghost"), "not-a-uuid"} {
		if _, err := r.Get(ctx, missing); !errors.Is(err, plans.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", missing, err)
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
			e := projectiontest.Setup(t, plans.Projection{})
			e.Append(t, history()...)
			e.Start(t, mode.maxBatch, nil)
			e.WaitApplied(t, time.Minute)
			checkHistory(t, plans.NewReader(e.Pool))
		})
	}
}
