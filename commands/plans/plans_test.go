package plans

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/events"
)

var now = time.Date(2026, 5, 4, 10, 30, 0, 123456789, time.UTC)

func ptr[T any](v T) *T { return &v }

// current is a plan as the engine hands it to a decision.
func current(t *testing.T, p Plan, version int64) decision.Current {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return decision.Current{Exists: true, Version: version, State: b}
}

func withItem(state string) Plan {
	return Plan{ID: "6f1c1e4e-8f4e-4b8e-9a53-2b1f0f3c7a10", Shop: "a.myshopify.com", Name: "Picnic", State: state,
		Items: []Item{{ProductID: "1", ProductGID: "gid://shopify/Product/1", Quantity: 1}}}
}

// TestStateMachine runs every move from every state: the allowed ones lead where the diagram
// says, the others are rejected (409) with a reason that says what to do.
func TestStateMachine(t *testing.T) {
	allowed := map[[2]string]string{
		{StateDraft, Approve}:     StateApproved,
		{StateApproved, Reopen}:   StateDraft,
		{StateApproved, Publish}:  StatePublished,
		{StateDraft, Archive}:     StateArchived,
		{StateApproved, Archive}:  StateArchived,
		{StatePublished, Archive}: StateArchived,
		{StateArchived, Restore}:  StateDraft,
	}
	for _, state := range States {
		for _, move := range Transitions {
			t.Run(state+"/"+move, func(t *testing.T) {
				p := withItem(state)
				out, err := Move(move, ptr("because"), now)(context.Background(), nil, current(t, p, 4))
				want, ok := allowed[[2]string{state, move}]
				if !ok {
					var rej *decision.Rejection
					if !errors.As(err, &rej) || rej.Reason == "" {
						t.Fatalf("want a rejection, got %v", err)
					}
					t.Logf("%s", rej.Reason)
					return
				}
				if err != nil {
					t.Fatalf("want %s, got %v", want, err)
				}
				ev := out.Events[0].(*events.ComboPlanStateChanged)
				if ev.FromState != state || ev.ToState != want || *ev.Reason != "because" || ev.PlanID != p.ID ||
					ev.Envelope.EventType != events.TypeComboPlanStateChanged {
					t.Errorf("event %+v", ev)
				}
				got := out.Response(5).(Plan)
				if got.State != want || got.Version != 5 || *got.StateReason != "because" || !got.StateChangedAt.Equal(stamp(now)) ||
					!got.UpdatedAt.Equal(stamp(now)) {
					t.Errorf("answer %+v", got)
				}
				if out.State.(Plan).State != want {
					t.Errorf("state %s", out.State.(Plan).State)
				}
			})
		}
	}
	if _, err := Next(withItem(StateDraft), "launch"); err == nil {
		t.Error("an unknown move was allowed")
	}
}

func TestRejectionReasons(t *testing.T) {
	for _, c := range []struct {
		state, move, want string
	}{
		{StateDraft, Publish, "a draft plan cannot be published: approve it first"},
		{StateArchived, Approve, "restore it first"},
		{StatePublished, Restore, "archive it first"},
	} {
		_, err := Next(withItem(c.state), c.move)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s from %s: %v, want %q", c.move, c.state, err, c.want)
		}
	}
	empty := withItem(StateDraft)
	empty.Items = nil
	if _, err := Next(empty, Approve); err == nil || !strings.Contains(err.Error(), "at least one item") {
		t.Errorf("approving a plan without items: %v", err)
	}
}

func TestUpdateOnlyInDraft(t *testing.T) {
	spec := Spec{Name: "Picnic, bigger", Items: []ItemSpec{{ProductID: "1", Quantity: 2}}}
	for _, c := range []struct{ state, want string }{
		{StateDraft, ""},
		{StateApproved, "reopen it first"},
		{StatePublished, "archive it"},
		{StateArchived, "restore it first"},
	} {
		out, err := Update("x", spec, "EUR", now)(context.Background(), nil, current(t, withItem(c.state), 2))
		if c.want == "" {
			if err != nil {
				t.Fatalf("%s: %v", c.state, err)
			}
			ev := out.Events[0].(*events.ComboPlanChanged)
			if !slices.Equal(ev.ChangedFields, []string{"name", "items"}) || ev.Plan.Items[0].Quantity != 2 || ev.Plan.State != StateDraft {
				t.Errorf("event %+v", ev)
			}
			continue
		}
		var rej *decision.Rejection
		if !errors.As(err, &rej) || !strings.Contains(rej.Reason, c.want) {
			t.Errorf("%s: %v, want a rejection saying %q", c.state, err, c.want)
		}
	}
}

func TestUpdateWithTheSameContentIsUnchanged(t *testing.T) {
	p := withItem(StateDraft)
	out, err := Update(p.ID, Spec{Name: " Picnic ", Items: []ItemSpec{{ProductID: "gid://shopify/Product/1", Quantity: 1}}}, "EUR", now)(
		context.Background(), nil, current(t, p, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Unchanged || len(out.Events) != 0 || out.Response(3).(Plan).Version != 3 {
		t.Errorf("outcome %+v", out)
	}
}

func TestCreate(t *testing.T) {
	spec := Spec{Name: "Picnic", Description: ptr("summer"),
		Items: []ItemSpec{
			{ProductID: "gid://shopify/Product/11", VariantID: ptr("22"), Title: ptr("Basket"), Quantity: 1,
				Discount: &DiscountSpec{Kind: "percentage", Percentage: ptr(15.0)}},
			{ProductID: "12", Quantity: 2, Discount: &DiscountSpec{Kind: "fixed_price", Amount: ptr("9.5000"), Currency: ptr("USD")}},
		},
		Discount: &DiscountSpec{Kind: "fixed_amount", Amount: ptr("5.00")},
		StartsOn: ptr("2026-06-01"), EndsOn: ptr("2026-08-31")}
	if err := Validate(spec); err != nil {
		t.Fatal(err)
	}
	id := "6f1c1e4e-8f4e-4b8e-9a53-2b1f0f3c7a10"
	out, err := Create(id, "a.myshopify.com", spec, "EUR", now)(context.Background(), nil, decision.Current{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != 201 {
		t.Errorf("status %d", out.Status)
	}
	ev := out.Events[0].(*events.ComboPlanCreated)
	if ev.Plan.State != StateDraft || ev.Plan.Items[0].ProductID != 11 || ev.Plan.Items[0].ProductGID != "gid://shopify/Product/11" ||
		*ev.Plan.Items[0].VariantID != 22 || *ev.Plan.Items[0].VariantGID != "gid://shopify/ProductVariant/22" ||
		ev.Plan.Items[1].Discount.Amount.CurrencyCode != "USD" || ev.Plan.Discount.Amount.CurrencyCode != "EUR" ||
		ev.Plan.Discount.Amount.Amount.FloatString(2) != "5.00" || ev.Plan.StartsOn.Format(time.DateOnly) != "2026-06-01" ||
		!ev.Plan.CreatedAt.Equal(stamp(now)) {
		t.Errorf("event %+v", ev.Plan)
	}
	got := out.Response(1).(Plan)
	if got.Items[1].Discount.Amount == nil || *got.Items[1].Discount.Amount != "9.5" || *got.Discount.Amount != "5" ||
		*got.Discount.Currency != "EUR" || got.Items[0].ProductID != "11" || *got.EndsOn != "2026-08-31" || got.Version != 1 {
		t.Errorf("answer %+v", got)
	}
	// Without a currency anywhere, money cannot be resolved.
	_, err = Create(id, "a.myshopify.com", spec, "", now)(context.Background(), nil, decision.Current{})
	var fe *fielderr.Error
	if !errors.As(err, &fe) || fe.Fields[0].Location != "body.discount.currency" {
		t.Errorf("no currency: %v", err)
	}
}

func TestValidate(t *testing.T) {
	item := func(f func(*ItemSpec)) Spec {
		it := ItemSpec{ProductID: "1", Quantity: 1}
		f(&it)
		return Spec{Name: "p", Items: []ItemSpec{it}}
	}
	for _, c := range []struct {
		name string
		spec Spec
		loc  string // "" valid
	}{
		{"minimal", Spec{Name: "p"}, ""},
		{"blank name", Spec{Name: "  "}, "body.name"},
		{"gid product", item(func(i *ItemSpec) { i.ProductID = "gid://shopify/Product/5" }), ""},
		{"float product", item(func(i *ItemSpec) { i.ProductID = "5.5" }), "body.items[0].product_id"},
		{"collection gid", item(func(i *ItemSpec) { i.ProductID = "gid://shopify/Collection/5" }), "body.items[0].product_id"},
		{"bad variant", item(func(i *ItemSpec) { i.VariantID = ptr("x") }), "body.items[0].variant_id"},
		{"zero quantity", item(func(i *ItemSpec) { i.Quantity = 0 }), "body.items[0].quantity"},
		{"percentage", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "percentage", Percentage: ptr(100.0)} }), ""},
		{"percentage over 100", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "percentage", Percentage: ptr(100.5)} }), "body.items[0].discount.percentage"},
		{"negative percentage", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "percentage", Percentage: ptr(-1.0)} }), "body.items[0].discount.percentage"},
		{"percentage without it", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "percentage"} }), "body.items[0].discount.percentage"},
		{"percentage with amount", item(func(i *ItemSpec) {
			i.Discount = &DiscountSpec{Kind: "percentage", Percentage: ptr(5.0), Amount: ptr("1")}
		}), "body.items[0].discount.amount"},
		{"fixed amount", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "fixed_amount", Amount: ptr("2.5")} }), ""},
		{"fixed amount zero", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "fixed_amount", Amount: ptr("0")} }), "body.items[0].discount.amount"},
		{"fixed price zero", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "fixed_price", Amount: ptr("0")} }), ""},
		{"fixed price without amount", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "fixed_price"} }), "body.items[0].discount.amount"},
		{"five decimals", item(func(i *ItemSpec) { i.Discount = &DiscountSpec{Kind: "fixed_price", Amount: ptr("1.00001")} }), "body.items[0].discount.amount"},
		{"unknown kind", Spec{Name: "p", Discount: &DiscountSpec{Kind: "bogo"}}, "body.discount.kind"},
		{"duplicate item", Spec{Name: "p", Items: []ItemSpec{{ProductID: "1", Quantity: 1}, {ProductID: "gid://shopify/Product/1", Quantity: 1}}}, "body.items[1]"},
		{"same product, other variants", Spec{Name: "p", Items: []ItemSpec{{ProductID: "1", VariantID: ptr("2"), Quantity: 1}, {ProductID: "1", VariantID: ptr("3"), Quantity: 1}}}, ""},
		{"bad objective", Spec{Name: "p", ObjectiveID: ptr("7")}, "body.objective_id"},
		{"bad date", Spec{Name: "p", StartsOn: ptr("2026-13-01")}, "body.starts_on"},
		{"ends before it starts", Spec{Name: "p", StartsOn: ptr("2026-06-02"), EndsOn: ptr("2026-06-01")}, "body.ends_on"},
	} {
		err := Validate(c.spec)
		if c.loc == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var fe *fielderr.Error
		if !errors.As(err, &fe) || !slices.ContainsFunc(fe.Fields, func(f fielderr.Field) bool { return f.Location == c.loc }) {
			t.Errorf("%s: %v, want an error at %s", c.name, err, c.loc)
		}
	}
}
