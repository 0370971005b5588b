package api_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/plans"
)

func planBody(name string, quantity int) map[string]any {
	return map[string]any{
		"name":        name,
		"description": "Basket, blanket and glasses",
		"items": []map[string]any{
			{"product_id": "gid://shopify/Product/101", "title": "Basket", "quantity": quantity,
				"discount": map[string]any{"kind": "percentage", "percentage": 12.5}},
			{"product_id": "102", "variant_id": "gid://shopify/ProductVariant/2002", "quantity": 1,
				"discount": map[string]any{"kind": "fixed_price", "amount": "19.90"}},
		},
		"discount":  map[string]any{"kind": "fixed_amount", "amount": "5", "currency": "USD"},
		"starts_on": "2026-06-01",
		"ends_on":   "2026-08-31",
	}
}

func createPlan(t *testing.T, h *harness, body map[string]any) (plans.Plan, response) {
	t.Helper()
	r := h.call(t, "editor", http.MethodPost, "/api/v1/combo-plans", body, nil)
	wantStatus(t, "create plan", r, http.StatusCreated)
	var p plans.Plan
	r.decode(t, &p)
	return p, r
}

// readPlan reads the plan once the read model has r's effect, and checks it is what r answered.
func readPlan(t *testing.T, h *harness, r response) plans.Plan {
	t.Helper()
	var answered plans.Plan
	r.decode(t, &answered)
	g := h.call(t, "viewer", http.MethodGet, "/api/v1/combo-plans/"+answered.ID, nil, withToken(r))
	wantStatus(t, "get plan", g, http.StatusOK)
	var read plans.Plan
	g.decode(t, &read)
	if !reflect.DeepEqual(read, answered) || g.Header.Get("ETag") != r.Header.Get("ETag") {
		t.Errorf("read %s (ETag %s), command answered %s (ETag %s)", g.Body, g.Header.Get("ETag"), r.Body, r.Header.Get("ETag"))
	}
	return read
}

func movePlan(t *testing.T, h *harness, id, move string, version int64, body any) response {
	t.Helper()
	return h.call(t, "editor", http.MethodPost, "/api/v1/combo-plans/"+id+"/"+move, body, ifMatch(version))
}

func TestComboPlanLifecycle(t *testing.T) {
	h := newHarness(t)
	p, r := createPlan(t, h, planBody("Picnic", 1))
	if p.State != plans.StateDraft || p.Version != 1 || r.Header.Get("Location") != "/api/v1/combo-plans/"+p.ID ||
		p.Items[0].ProductID != "101" || p.Items[1].VariantGID == nil || *p.Items[1].VariantGID != "gid://shopify/ProductVariant/2002" ||
		*p.Items[1].Discount.Amount != "19.9" || *p.Items[1].Discount.Currency != "EUR" || *p.Discount.Currency != "USD" {
		t.Fatalf("created %s", r.Body)
	}
	readPlan(t, h, r)

	// A draft is not published before it is approved; moves need If-Match.
	pub := movePlan(t, h, p.ID, "publish", 1, nil)
	if pub.Status != http.StatusConflict || !strings.Contains(string(pub.Body), "a draft plan cannot be published: approve it first") {
		t.Errorf("publish a draft: %d %s", pub.Status, pub.Body)
	}
	wantStatus(t, "approve without If-Match", h.call(t, "editor", http.MethodPost, "/api/v1/combo-plans/"+p.ID+"/approve", nil, nil), http.StatusPreconditionRequired)
	wantStatus(t, "approve as a viewer", h.call(t, "viewer", http.MethodPost, "/api/v1/combo-plans/"+p.ID+"/approve", nil, ifMatch(1)), http.StatusForbidden)
	ap := movePlan(t, h, p.ID, "approve", 1, map[string]any{"reason": "looks right"})
	wantStatus(t, "approve", ap, http.StatusOK)
	approved := readPlan(t, h, ap)
	if approved.State != plans.StateApproved || approved.Version != 2 || approved.StateReason == nil || *approved.StateReason != "looks right" {
		t.Errorf("approved %+v", approved)
	}

	// An approved plan is not edited: it is reopened first.
	edit := h.call(t, "editor", http.MethodPut, "/api/v1/combo-plans/"+p.ID, planBody("Picnic", 2), ifMatch(2))
	if edit.Status != http.StatusConflict || !strings.Contains(string(edit.Body), "reopen it first") {
		t.Errorf("edit an approved plan: %d %s", edit.Status, edit.Body)
	}
	wantStatus(t, "reopen", movePlan(t, h, p.ID, "reopen", 2, nil), http.StatusOK)
	wantStatus(t, "edit without If-Match", h.call(t, "editor", http.MethodPut, "/api/v1/combo-plans/"+p.ID, planBody("Picnic", 2), nil), http.StatusPreconditionRequired)
	wantStatus(t, "edit with a stale If-Match", h.call(t, "editor", http.MethodPut, "/api/v1/combo-plans/"+p.ID, planBody("Picnic", 2), ifMatch(2)), http.StatusPreconditionFailed)
	edit = h.call(t, "editor", http.MethodPut, "/api/v1/combo-plans/"+p.ID, planBody("Picnic for two", 2), ifMatch(3))
	wantStatus(t, "edit the draft", edit, http.StatusOK)
	edited := readPlan(t, h, edit)
	if edited.Version != 4 || edited.Name != "Picnic for two" || edited.Items[0].Quantity != 2 || edited.State != plans.StateDraft {
		t.Errorf("edited %+v", edited)
	}
	evs := publishedEvents(t, h, p.ID)
	if c, ok := evs[len(evs)-1].(*events.ComboPlanChanged); !ok || !slices.Equal(c.ChangedFields, []string{"name", "items"}) || c.Plan.State != plans.StateDraft {
		t.Errorf("change event %+v", evs[len(evs)-1])
	}

	// The same content again changes nothing: same version, no event, no token.
	same := h.call(t, "editor", http.MethodPut, "/api/v1/combo-plans/"+p.ID, planBody("Picnic for two", 2), ifMatch(4))
	if same.Status != http.StatusOK || same.Header.Get("ETag") != `"4"` || same.Header.Get("X-Consistency-Token") != "" {
		t.Errorf("unchanged edit: %d %s %v", same.Status, same.Body, same.Header)
	}
	if n := len(publishedEvents(t, h, p.ID)); n != 4 {
		t.Errorf("%d events after an unchanged edit, want 4", n)
	}

	// Approve, publish, archive, restore.
	version := int64(4)
	for _, m := range []struct{ move, state string }{
		{"approve", plans.StateApproved}, {"publish", plans.StatePublished}, {"archive", plans.StateArchived}, {"restore", plans.StateDraft},
	} {
		mr := movePlan(t, h, p.ID, m.move, version, map[string]any{"reason": m.move + " it"})
		wantStatus(t, m.move, mr, http.StatusOK)
		version++
		got := readPlan(t, h, mr)
		if got.State != m.state || got.Version != version || *got.StateReason != m.move+" it" {
			t.Errorf("after %s: %+v", m.move, got)
		}
		if m.move == "archive" {
			wantStatus(t, "edit an archived plan", h.call(t, "editor", http.MethodPut, "/api/v1/combo-plans/"+p.ID, planBody("x", 1), ifMatch(version)), http.StatusConflict)
			wantStatus(t, "archive twice", movePlan(t, h, p.ID, "archive", version, nil), http.StatusConflict)
		}
	}
	last := publishedEvents(t, h, p.ID)
	if m, ok := last[len(last)-1].(*events.ComboPlanStateChanged); !ok || m.FromState != plans.StateArchived || m.ToState != plans.StateDraft ||
		m.Envelope.AggregateType != "ComboPlan" || *m.Envelope.AggregateVersion != version {
		t.Errorf("last move %+v", last[len(last)-1])
	}

	wantStatus(t, "an unknown plan", h.call(t, "viewer", http.MethodGet, "/api/v1/combo-plans/00000000-0000-4000-8000-000000000000", nil, nil), http.StatusNotFound)
	wantStatus(t, "move an unknown plan", movePlan(t, h, "00000000-0000-4000-8000-000000000000", "approve", 1, nil), http.StatusNotFound)
	if r := movePlan(t, h, p.ID, "launch", version, nil); r.Status != http.StatusNotFound && r.Status != http.StatusMethodNotAllowed {
		t.Errorf("an unknown move: %d %s", r.Status, r.Body)
	}
}

func TestComboPlanListByState(t *testing.T) {
	h := newHarness(t)
	draft, _ := createPlan(t, h, planBody("Draft", 1))
	toApprove, _ := createPlan(t, h, planBody("Approved", 1))
	ap := movePlan(t, h, toApprove.ID, "approve", 1, nil)
	wantStatus(t, "approve", ap, http.StatusOK)

	list := func(query string) []string {
		t.Helper()
		r := h.call(t, "viewer", http.MethodGet, "/api/v1/combo-plans"+query, nil, withToken(ap))
		wantStatus(t, "list "+query, r, http.StatusOK)
		var body struct {
			ComboPlans []plans.Plan `json:"combo_plans"`
		}
		r.decode(t, &body)
		var ids []string
		for _, p := range body.ComboPlans {
			ids = append(ids, p.ID)
		}
		return ids
	}
	if got := list("?state=draft"); !slices.Equal(got, []string{draft.ID}) {
		t.Errorf("drafts %v", got)
	}
	if got := list("?state=approved,published"); !slices.Equal(got, []string{toApprove.ID}) {
		t.Errorf("approved or published %v", got)
	}
	if got := list(""); len(got) != 2 {
		t.Errorf("every plan %v", got)
	}
	wantStatus(t, "an unknown state", h.call(t, "viewer", http.MethodGet, "/api/v1/combo-plans?state=live", nil, nil), http.StatusBadRequest)
}

func TestComboPlanValidation(t *testing.T) {
	h := newHarness(t)
	item := func(f func(map[string]any)) map[string]any {
		b := planBody("p", 1)
		f(b["items"].([]map[string]any)[0])
		return b
	}
	for name, c := range map[string]struct {
		body     map[string]any
		location string
	}{
		"zero quantity":          {item(func(i map[string]any) { i["quantity"] = 0 }), "body.items[0].quantity"},
		"product id not numeric": {item(func(i map[string]any) { i["product_id"] = "abc" }), "body.items[0].product_id"},
		"percentage over 100":    {item(func(i map[string]any) { i["discount"] = map[string]any{"kind": "percentage", "percentage": 120} }), "body.items[0].discount.percentage"},
		"fixed amount without amount": {item(func(i map[string]any) { i["discount"] = map[string]any{"kind": "fixed_amount"} }),
			"body.items[0].discount.amount"},
		"unknown discount kind": {item(func(i map[string]any) { i["discount"] = map[string]any{"kind": "bogo"} }), "body.items[0].discount.kind"},
		"ends before it starts": {func() map[string]any { b := planBody("p", 1); b["ends_on"] = "2026-05-01"; return b }(), "body.ends_on"},
		"unknown objective": {func() map[string]any {
			b := planBody("p", 1)
			b["objective_id"] = "00000000-0000-4000-8000-000000000000"
			return b
		}(), "body.objective_id"},
	} {
		r := h.call(t, "editor", http.MethodPost, "/api/v1/combo-plans", c.body, nil)
		if r.Status != http.StatusBadRequest || !problemAt(t, r, c.location) {
			t.Errorf("%s: %d %s, want 400 at %s", name, r.Status, r.Body, c.location)
		}
	}

	// A plan without items is created (a draft in the making) but not approved.
	empty, _ := createPlan(t, h, map[string]any{"name": "Empty"})
	if r := movePlan(t, h, empty.ID, "approve", 1, nil); r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "at least one item") {
		t.Errorf("approve a plan without items: %d %s", r.Status, r.Body)
	}

	// A plan may name a live objective of the shop.
	o, _ := createObjective(t, h, "For the picnic plan")
	b := planBody("With objective", 1)
	b["objective_id"] = o.ID
	withObjective, _ := createPlan(t, h, b)
	if withObjective.ObjectiveID == nil || *withObjective.ObjectiveID != o.ID {
		t.Errorf("objective %v", withObjective.ObjectiveID)
	}
}

// TestEveryPlanAndTagRouteIsServed: each route the brief promised is in the OpenAPI document,
// with the role it needs.
func TestEveryPlanAndTagRouteIsServed(t *testing.T) {
	h := newHarness(t)
	doc := h.API.OpenAPI()
	for _, route := range []struct{ method, path string }{
		{"GET", "/tag-definitions"}, {"POST", "/tag-definitions"}, {"GET", "/tag-definitions/{id}"}, {"PUT", "/tag-definitions/{id}"}, {"DELETE", "/tag-definitions/{id}"},
		{"GET", "/tag-collections"}, {"POST", "/tag-collections"}, {"GET", "/tag-collections/{id}"}, {"PUT", "/tag-collections/{id}"}, {"DELETE", "/tag-collections/{id}"},
		{"GET", "/products/{id}/tags"}, {"POST", "/products/{id}/tags"}, {"GET", "/tag-analytics"},
		{"GET", "/combo-plans"}, {"POST", "/combo-plans"}, {"GET", "/combo-plans/{id}"}, {"PUT", "/combo-plans/{id}"},
		{"POST", "/combo-plans/{id}/approve"}, {"POST", "/combo-plans/{id}/reopen"}, {"POST", "/combo-plans/{id}/publish"},
		{"POST", "/combo-plans/{id}/archive"}, {"POST", "/combo-plans/{id}/restore"},
	} {
		item, ok := doc.Paths[route.path]
		if !ok {
			t.Errorf("%s %s is not documented", route.method, route.path)
			continue
		}
		op := map[string]any{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "DELETE": item.Delete}[route.method]
		if reflect.ValueOf(op).IsNil() {
			t.Errorf("%s %s is not documented", route.method, route.path)
		}
	}
}
