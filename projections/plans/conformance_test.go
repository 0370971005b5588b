package plans_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/plans"
	"github.com/storeline/storeline/projections/projectiontest"
)

func TestConformance(t *testing.T) {
	projectiontest.Conformance(t, projectiontest.Suite{
		Projection: plans.Projection{},
		History:    func() []events.Event { return plansHistory(rand.New(rand.NewPCG(61, 62))) },
		Snapshot: projectiontest.Tables(map[string]string{
			"combo_plans": "t.plan_id",
		}),
		// A plan's events share a partition, in order, and the fold relies on it: a move before
		// the plan's ComboPlanCreated changes nothing, and a move raises the row's version, so a
		// whole plan of an older version delivered after it would be ignored.
		OrderedPerKey: true,
	})
}

// plansHistory is 10 combo plans of two shops over a few days, as the combo plan command
// decides them: created as drafts (in the dashboard, by a combo CSV import, or by accepting a
// combo suggestion), some without items at first; edited while drafts (name, description,
// items added, removed, re-quantified, re-discounted, pinned to a variant; the combo's
// discount; the objective; the schedule), changed_fields naming what changed and an edit
// changing nothing emitting nothing; and moved only as the command allows: approved (with at
// least one item), reopened, published, archived (by staff, or by the scheduler past ends_on)
// and restored, then edited and approved again.
func plansHistory(rng *rand.Rand) []events.Event {
	type combo struct {
		plan    events.ComboPlan
		shop    string
		version int64
		exists  bool
	}
	currency := map[string]string{testShop: "EUR", "other.myshopify.com": "USD"}
	var combos []*combo
	for i := range 10 {
		shop := testShop
		if i >= 7 {
			shop = "other.myshopify.com"
		}
		combos = append(combos, &combo{shop: shop, plan: events.ComboPlan{
			PlanID: events.DeterministicID("plans-conformance", fmt.Sprint(i)),
		}})
	}
	clock := t0
	var log []events.Event
	env := func(eventType string, c *combo, actor events.Actor, source string) events.Envelope {
		clock = clock.Add(time.Duration(1+rng.IntN(3_600_000_000)) * time.Microsecond)
		c.version++
		v := c.version
		return events.Envelope{
			EventID:   events.DeterministicID("plans-conformance", c.plan.PlanID, fmt.Sprint(v)),
			EventType: eventType, OccurredAt: clock, RecordedAt: clock.Add(time.Duration(rng.IntN(1000)) * time.Millisecond),
			Shop: c.shop, AggregateType: "ComboPlan", AggregateID: c.plan.PlanID, AggregateVersion: &v,
			Actor: actor, Source: source,
		}
	}
	staff := func() events.Actor {
		return events.Actor{Type: events.ActorUser, ID: fmt.Sprint("staff-", 1+rng.IntN(3))}
	}
	day := func(d int) *time.Time { t := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d); return &t }
	money := func(c *combo, cents int) *events.Money {
		return &events.Money{Amount: new(big.Rat).SetFrac64(int64(cents), 100), CurrencyCode: currency[c.shop]}
	}
	discount := func(c *combo) *events.ComboDiscount {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return &events.ComboDiscount{Kind: "percentage", Percentage: ptr([]float64{5, 10, 12.5, 15, 20}[rng.IntN(5)])}
		case 2:
			return &events.ComboDiscount{Kind: "fixed_amount", Amount: money(c, 50+rng.IntN(1500))}
		default:
			return &events.ComboDiscount{Kind: "fixed_price", Amount: money(c, 1000+rng.IntN(9000))}
		}
	}
	// item is a product of the shop (the other shop's products are other ids), any variant or
	// one of its variants.
	item := func(c *combo) events.ComboPlanItem {
		base := int64(7000)
		if c.shop != testShop {
			base = 8000
		}
		p := base + int64(rng.IntN(8))
		it := events.ComboPlanItem{ProductID: p, ProductGID: fmt.Sprintf("gid://shopify/Product/%d", p), Quantity: int32(1 + rng.IntN(3))}
		if rng.IntN(3) == 0 {
			v := p*10 + int64(rng.IntN(3))
			it.VariantID, it.VariantGID = &v, ptr(fmt.Sprintf("gid://shopify/ProductVariant/%d", v))
			it.Title = ptr(fmt.Sprintf("Product %d - %s", p, []string{"Red", "Blue", "Large"}[v%3]))
		} else if rng.IntN(2) == 0 {
			it.Title = ptr(fmt.Sprint("Product ", p))
		}
		if rng.IntN(3) == 0 {
			it.Discount = discount(c)
		}
		return it
	}
	// addItem adds an item unless the combo holds that product and variant already (the
	// command refuses a duplicate: raise its quantity instead).
	addItem := func(c *combo) {
		it := item(c)
		for _, have := range c.plan.Items {
			if have.ProductID == it.ProductID && (have.VariantID == nil) == (it.VariantID == nil) &&
				(have.VariantID == nil || *have.VariantID == *it.VariantID) {
				return
			}
		}
		c.plan.Items = append(c.plan.Items, it)
	}
	// Each field the merchant can edit, and how it edits it.
	edits := map[string]func(c *combo){
		"name": func(c *combo) {
			c.plan.Name = []string{"Summer picnic set", "Winter warmers", "Gift box", "Starter kit", "Bundle"}[rng.IntN(5)] +
				fmt.Sprint(" ", 1+rng.IntN(9))
		},
		"description": func(c *combo) {
			c.plan.Description = []*string{nil, ptr("for the spring range"), ptr("clear the old stock"), ptr("with the newsletter")}[rng.IntN(4)]
		},
		"items": func(c *combo) {
			items := slices.Clone(c.plan.Items)
			switch {
			case len(items) == 0 || rng.IntN(3) == 0:
				c.plan.Items = items
				addItem(c)
				return
			case rng.IntN(3) == 0: // removed
				i := rng.IntN(len(items))
				items = slices.Delete(items, i, i+1)
			case rng.IntN(2) == 0: // re-quantified
				items[rng.IntN(len(items))].Quantity = int32(1 + rng.IntN(4))
			default: // re-discounted
				items[rng.IntN(len(items))].Discount = discount(c)
			}
			if rng.IntN(4) == 0 && len(items) > 1 { // reordered
				items[0], items[len(items)-1] = items[len(items)-1], items[0]
			}
			c.plan.Items = items
		},
		"discount": func(c *combo) { c.plan.Discount = discount(c) },
		"objective_id": func(c *combo) {
			c.plan.ObjectiveID = []*string{nil, ptr(events.DeterministicID("objectives", c.shop, fmt.Sprint(rng.IntN(3))))}[rng.IntN(2)]
		},
		"schedule": func(c *combo) {
			switch rng.IntN(3) {
			case 0:
				c.plan.StartsOn, c.plan.EndsOn = nil, nil
			case 1:
				c.plan.StartsOn, c.plan.EndsOn = day(rng.IntN(30)), nil
			default:
				start := rng.IntN(30)
				c.plan.StartsOn, c.plan.EndsOn = day(start), day(start+rng.IntN(45))
			}
		},
	}
	editable := []string{"name", "description", "items", "discount", "objective_id", "schedule"}
	create := func(c *combo) {
		actor, source := staff(), events.SourceDashboard
		var causation *string
		c.plan.Name, c.plan.State = "", plans.StateDraft
		for _, f := range editable {
			if f != "name" && rng.IntN(2) == 0 {
				edits[f](c)
			}
		}
		edits["name"](c)
		if rng.IntN(4) == 0 { // written in the dashboard without items yet
			c.plan.Items = []events.ComboPlanItem{}
		} else {
			c.plan.Items = []events.ComboPlanItem{}
			for range 1 + rng.IntN(3) {
				addItem(c)
			}
		}
		switch rng.IntN(4) {
		case 0: // accepting a combo suggestion
			sid := events.DeterministicID("plans-conformance", "suggestion", c.plan.PlanID)
			c.plan.SourceSuggestionID = &sid
			causation = ptr(events.DeterministicID("plans-conformance", "suggestion-accepted", sid))
		case 1: // a combo CSV import
			actor, source = events.Actor{Type: events.ActorSystem, ID: "combo-csv-import"}, events.SourceWorkflow
		}
		e := env(events.TypeComboPlanCreated, c, actor, source)
		e.CausationID = causation
		c.exists, c.plan.CreatedAt, c.plan.UpdatedAt = true, e.OccurredAt, e.OccurredAt
		p := c.plan
		p.Items = slices.Clone(c.plan.Items)
		log = append(log, &events.ComboPlanCreated{Envelope: e, Plan: p})
	}
	// render is each content field of a plan as JSON, to compare.
	render := func(p events.ComboPlan) map[string]string {
		out := map[string]string{}
		for f, v := range map[string]any{"name": p.Name, "description": p.Description, "items": p.Items, "discount": p.Discount,
			"objective_id": p.ObjectiveID, "starts_on": p.StartsOn, "ends_on": p.EndsOn} {
			j, err := json.Marshal(v)
			if err != nil {
				panic(err)
			}
			out[f] = string(j)
		}
		return out
	}
	// edit is an edit of a draft: the whole plan, naming the fields that differ, or nothing when
	// none does.
	edit := func(c *combo) {
		before := render(c.plan)
		for _, i := range rng.Perm(len(editable))[:1+rng.IntN(3)] {
			edits[editable[i]](c)
		}
		after := render(c.plan)
		var changed []string
		for _, f := range []string{"name", "description", "items", "discount", "objective_id", "starts_on", "ends_on"} {
			if before[f] != after[f] {
				changed = append(changed, f)
			}
		}
		if len(changed) == 0 {
			return
		}
		e := env(events.TypeComboPlanChanged, c, staff(), events.SourceDashboard)
		c.plan.UpdatedAt = e.OccurredAt
		p := c.plan
		p.Items = slices.Clone(c.plan.Items)
		log = append(log, &events.ComboPlanChanged{Envelope: e, Plan: p, ChangedFields: changed})
	}
	move := func(c *combo, to string, reason *string, actor events.Actor, source string) {
		e := env(events.TypeComboPlanStateChanged, c, actor, source)
		log = append(log, &events.ComboPlanStateChanged{Envelope: e, PlanID: c.plan.PlanID, FromState: c.plan.State, ToState: to, Reason: reason})
		c.plan.State, c.plan.UpdatedAt = to, e.OccurredAt
	}
	note := func(notes ...string) *string {
		if i := rng.IntN(len(notes) + 1); i < len(notes) {
			return &notes[i]
		}
		return nil
	}
	for range 150 {
		c := combos[rng.IntN(len(combos))]
		if !c.exists {
			create(c)
			continue
		}
		switch c.plan.State {
		case plans.StateDraft:
			switch r := rng.IntN(10); {
			case r < 6:
				edit(c)
			case r < 9 && len(c.plan.Items) > 0: // approving needs an item
				move(c, plans.StateApproved, note("looks good", "margins checked"), staff(), events.SourceDashboard)
			case r < 9:
				edit(c)
			default:
				move(c, plans.StateArchived, note("not this season"), staff(), events.SourceDashboard)
			}
		case plans.StateApproved:
			switch r := rng.IntN(10); {
			case r < 5:
				move(c, plans.StatePublished, note("launch", "newsletter out"), staff(), events.SourceDashboard)
			case r < 9: // reopened to be edited
				move(c, plans.StateDraft, note("prices changed"), staff(), events.SourceDashboard)
			default:
				move(c, plans.StateArchived, nil, staff(), events.SourceDashboard)
			}
		case plans.StatePublished:
			if rng.IntN(3) > 0 {
				continue // promoted for a while yet
			}
			if c.plan.EndsOn != nil && rng.IntN(2) == 0 { // the scheduler, past ends_on
				move(c, plans.StateArchived, ptr("ended"), events.Actor{Type: events.ActorSystem, ID: "scheduler"}, events.SourceSystem)
			} else {
				move(c, plans.StateArchived, note("sold out", "replaced"), staff(), events.SourceDashboard)
			}
		case plans.StateArchived:
			if rng.IntN(3) == 0 { // restored as a draft
				move(c, plans.StateDraft, note("again next year"), staff(), events.SourceDashboard)
			}
		}
	}
	return log
}
