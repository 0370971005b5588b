package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/orders/orderstest"
	"github.com/storeline/storeline/projections/tags"
)

// ifMatch is the If-Match header for a version.
func ifMatch(version int64) map[string]string {
	return map[string]string{"If-Match": `"` + strconv.FormatInt(version, 10) + `"`}
}

// withToken is the header carrying a command's consistency token to a read.
func withToken(r response) map[string]string {
	return map[string]string{"X-Consistency-Token": r.Header.Get("X-Consistency-Token")}
}

// wantStatus fails the test unless r has status.
func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

// problemAt reports whether a problem answer lists an invalid field at location.
func problemAt(t *testing.T, r response, location string) bool {
	t.Helper()
	var p struct {
		Errors []struct{ Location string }
	}
	r.decode(t, &p)
	for _, e := range p.Errors {
		if e.Location == location {
			return true
		}
	}
	return false
}

// publishedEvents decodes the events the commands wrote to the outbox for one aggregate (by its
// key), in order.
func publishedEvents(t *testing.T, h *harness, key string) []events.Event {
	t.Helper()
	rows, err := h.Pool.Query(t.Context(), `SELECT record_value FROM outbox WHERE record_key = $1 ORDER BY id`, []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []events.Event
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		ev, err := h.Codec.Decode(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func createDefinition(t *testing.T, h *harness, name string) (tags.Definition, response) {
	t.Helper()
	r := h.call(t, "editor", http.MethodPost, "/api/v1/tag-definitions", map[string]any{"name": name, "color": "#336699"}, nil)
	wantStatus(t, "create tag definition "+name, r, http.StatusCreated)
	var d tags.Definition
	r.decode(t, &d)
	return d, r
}

func TestTagDefinitionLifecycle(t *testing.T) {
	h := newHarness(t)
	d, r := createDefinition(t, h, " Linen ")
	if d.Name != "Linen" || d.Version != 1 || d.Shop != testShop || r.Header.Get("ETag") != `"1"` ||
		r.Header.Get("Location") != "/api/v1/tag-definitions/"+d.ID {
		t.Fatalf("created %s, headers %v", r.Body, r.Header)
	}

	// Names are unique in the shop case-insensitively.
	dup := h.call(t, "editor", http.MethodPost, "/api/v1/tag-definitions", map[string]any{"name": "LINEN"}, nil)
	wantStatus(t, "create a definition with a taken name", dup, http.StatusConflict)
	wantStatus(t, "a viewer creating", h.call(t, "viewer", http.MethodPost, "/api/v1/tag-definitions", map[string]any{"name": "wool"}, nil), http.StatusForbidden)
	if bad := h.call(t, "editor", http.MethodPost, "/api/v1/tag-definitions", map[string]any{"name": "a,b"}, nil); bad.Status != http.StatusBadRequest || !problemAt(t, bad, "body.name") {
		t.Errorf("a name with a comma: %d %s", bad.Status, bad.Body)
	}

	// The read model, once it has the command's event, shows what the command answered.
	g := h.call(t, "viewer", http.MethodGet, "/api/v1/tag-definitions/"+d.ID, nil, withToken(r))
	wantStatus(t, "get", g, http.StatusOK)
	var got tags.Definition
	g.decode(t, &got)
	if !reflect.DeepEqual(got, d) || g.Header.Get("ETag") != `"1"` {
		t.Errorf("read %+v, command answered %+v", got, d)
	}

	// Rename: If-Match required, a stale one refused; the old name is free again.
	wantStatus(t, "update without If-Match", h.call(t, "editor", http.MethodPut, "/api/v1/tag-definitions/"+d.ID, map[string]any{"name": "Flax"}, nil), http.StatusPreconditionRequired)
	wantStatus(t, "update with a stale If-Match", h.call(t, "editor", http.MethodPut, "/api/v1/tag-definitions/"+d.ID, map[string]any{"name": "Flax"}, ifMatch(7)), http.StatusPreconditionFailed)
	u := h.call(t, "editor", http.MethodPut, "/api/v1/tag-definitions/"+d.ID, map[string]any{"name": "Flax", "description": "natural fibre"}, ifMatch(1))
	wantStatus(t, "rename", u, http.StatusOK)
	if u.Header.Get("ETag") != `"2"` {
		t.Errorf("rename ETag %s", u.Header.Get("ETag"))
	}
	evs := publishedEvents(t, h, d.ID)
	if set, ok := evs[len(evs)-1].(*events.TagDefinitionSet); !ok || set.PreviousName == nil || *set.PreviousName != "Linen" || set.TagDefinition.Name != "Flax" {
		t.Errorf("rename event %+v", evs[len(evs)-1])
	}
	again, _ := createDefinition(t, h, "linen")

	// Remove: the name is free, the tombstone is read, the definition is not edited again.
	wantStatus(t, "remove without If-Match", h.call(t, "editor", http.MethodDelete, "/api/v1/tag-definitions/"+again.ID, nil, nil), http.StatusPreconditionRequired)
	rm := h.call(t, "editor", http.MethodDelete, "/api/v1/tag-definitions/"+again.ID, nil, ifMatch(1))
	wantStatus(t, "remove", rm, http.StatusOK)
	wantStatus(t, "remove twice", h.call(t, "editor", http.MethodDelete, "/api/v1/tag-definitions/"+again.ID, nil, ifMatch(2)), http.StatusConflict)
	wantStatus(t, "edit a removed definition", h.call(t, "editor", http.MethodPut, "/api/v1/tag-definitions/"+again.ID, map[string]any{"name": "linen"}, ifMatch(2)), http.StatusConflict)
	createDefinition(t, h, "Linen")

	var tomb tags.Definition
	h.call(t, "viewer", http.MethodGet, "/api/v1/tag-definitions/"+again.ID, nil, withToken(rm)).decode(t, &tomb)
	if tomb.RemovedAt == nil || tomb.Version != 2 {
		t.Errorf("tombstone %+v", tomb)
	}
	l := h.call(t, "viewer", http.MethodGet, "/api/v1/tag-definitions", nil, withToken(rm))
	var list struct {
		TagDefinitions []tags.Definition `json:"tag_definitions"`
	}
	l.decode(t, &list)
	var names []string
	for _, d := range list.TagDefinitions {
		names = append(names, d.Name)
	}
	// The last create's event was written after rm's, so it may or may not be read yet: only
	// the definitions rm's token covers are certain.
	if len(names) < 1 || names[0] != "Flax" || strings.Contains(strings.Join(names, ","), "linen") {
		t.Errorf("list %v", names)
	}

	wantStatus(t, "an unknown definition", h.call(t, "viewer", http.MethodGet, "/api/v1/tag-definitions/00000000-0000-4000-8000-000000000000", nil, nil), http.StatusNotFound)
	wantStatus(t, "a definition id that is no UUID", h.call(t, "viewer", http.MethodGet, "/api/v1/tag-definitions/7", nil, nil), http.StatusBadRequest)
}

func TestTagCollectionsFollowTheirDefinitions(t *testing.T) {
	h := newHarness(t)
	linen, _ := createDefinition(t, h, "linen")
	wool, _ := createDefinition(t, h, "wool")

	both := h.call(t, "editor", http.MethodPost, "/api/v1/tag-collections",
		map[string]any{"name": "Materials", "tag_definition_ids": []string{strings.ToUpper(linen.ID), wool.ID}}, nil)
	wantStatus(t, "create collection", both, http.StatusCreated)
	var materials tags.Collection
	both.decode(t, &materials)
	if materials.TagDefinitionIDs[0] != linen.ID || materials.Version != 1 {
		t.Fatalf("collection %s", both.Body)
	}
	woolOnly := h.call(t, "editor", http.MethodPost, "/api/v1/tag-collections", map[string]any{"name": "Warm", "tag_definition_ids": []string{wool.ID}}, nil)
	wantStatus(t, "create second collection", woolOnly, http.StatusCreated)
	var warm tags.Collection
	woolOnly.decode(t, &warm)

	unknown := h.call(t, "editor", http.MethodPost, "/api/v1/tag-collections",
		map[string]any{"name": "X", "tag_definition_ids": []string{wool.ID, "00000000-0000-4000-8000-000000000000"}}, nil)
	if unknown.Status != http.StatusBadRequest || !problemAt(t, unknown, "body.tag_definition_ids[1]") {
		t.Errorf("an unknown definition: %d %s", unknown.Status, unknown.Body)
	}
	twice := h.call(t, "editor", http.MethodPost, "/api/v1/tag-collections", map[string]any{"name": "X", "tag_definition_ids": []string{wool.ID, wool.ID}}, nil)
	if twice.Status != http.StatusBadRequest || !problemAt(t, twice, "body.tag_definition_ids[1]") {
		t.Errorf("a definition twice: %d %s", twice.Status, twice.Body)
	}

	// Removing linen takes it out of Materials (a new version), and Warm is left alone.
	rm := h.call(t, "editor", http.MethodDelete, "/api/v1/tag-definitions/"+linen.ID, nil, ifMatch(1))
	wantStatus(t, "remove linen", rm, http.StatusOK)
	g := h.call(t, "viewer", http.MethodGet, "/api/v1/tag-collections/"+materials.ID, nil, withToken(rm))
	var after tags.Collection
	g.decode(t, &after)
	if after.Version != 2 || len(after.TagDefinitionIDs) != 1 || after.TagDefinitionIDs[0] != wool.ID || g.Header.Get("ETag") != `"2"` {
		t.Errorf("Materials after linen's removal: %s", g.Body)
	}
	var still tags.Collection
	h.call(t, "viewer", http.MethodGet, "/api/v1/tag-collections/"+warm.ID, nil, withToken(rm)).decode(t, &still)
	if still.Version != 1 {
		t.Errorf("Warm changed: %+v", still)
	}
	if evs := publishedEvents(t, h, materials.ID); len(evs) != 2 {
		t.Errorf("%d events for Materials, want 2", len(evs))
	}

	// A removed definition cannot be put into a collection.
	put := h.call(t, "editor", http.MethodPut, "/api/v1/tag-collections/"+materials.ID,
		map[string]any{"name": "Materials", "tag_definition_ids": []string{wool.ID, linen.ID}}, ifMatch(2))
	if put.Status != http.StatusConflict || !strings.Contains(string(put.Body), "removed") {
		t.Errorf("a removed definition in a collection: %d %s", put.Status, put.Body)
	}
	wantStatus(t, "update with the version before the removal", h.call(t, "editor", http.MethodPut, "/api/v1/tag-collections/"+materials.ID,
		map[string]any{"name": "Fabrics", "tag_definition_ids": []string{wool.ID}}, ifMatch(1)), http.StatusPreconditionFailed)
	rename := h.call(t, "editor", http.MethodPut, "/api/v1/tag-collections/"+materials.ID, map[string]any{"name": "Fabrics", "tag_definition_ids": []string{wool.ID}}, ifMatch(2))
	wantStatus(t, "rename collection", rename, http.StatusOK)

	rmc := h.call(t, "editor", http.MethodDelete, "/api/v1/tag-collections/"+warm.ID, nil, ifMatch(1))
	wantStatus(t, "remove collection", rmc, http.StatusOK)
	var list struct {
		TagCollections []tags.Collection `json:"tag_collections"`
	}
	h.call(t, "viewer", http.MethodGet, "/api/v1/tag-collections", nil, withToken(rmc)).decode(t, &list)
	if len(list.TagCollections) != 1 || list.TagCollections[0].Name != "Fabrics" {
		t.Errorf("collections %+v", list.TagCollections)
	}
}

func TestProductTags(t *testing.T) {
	h := newHarness(t)
	linen, _ := createDefinition(t, h, "Linen")
	const product = "/api/v1/products/8123/tags"

	empty := h.call(t, "viewer", http.MethodGet, product, nil, nil)
	if empty.Status != http.StatusOK || empty.Header.Get("ETag") != `"0"` {
		t.Fatalf("a product never tagged: %d %s %v", empty.Status, empty.Body, empty.Header)
	}

	add := h.call(t, "editor", http.MethodPost, product, map[string]any{"add": []string{"linen", "summer", "Summer"}}, nil)
	wantStatus(t, "add", add, http.StatusOK)
	var pt tags.ProductTags
	add.decode(t, &pt)
	if pt.Version != 2 || len(pt.Tags) != 2 || pt.Tags[0].Tag != "linen" || pt.Tags[0].TagDefinitionID == nil ||
		*pt.Tags[0].TagDefinitionID != linen.ID || pt.Tags[1].TagDefinitionID != nil || pt.Tags[1].Origin != "dashboard" ||
		add.Header.Get("ETag") != `"2"` {
		t.Fatalf("added %s", add.Body)
	}
	g := h.call(t, "viewer", http.MethodGet, "/api/v1/products/gid%3A%2F%2Fshopify%2FProduct%2F8123/tags", nil, withToken(add))
	var read tags.ProductTags
	g.decode(t, &read)
	if !reflect.DeepEqual(read, pt) || g.Header.Get("ETag") != `"2"` {
		t.Errorf("read %s, command answered %s", g.Body, add.Body)
	}

	// Tags it has already, in any case, and tags it has not to remove: nothing changes, no
	// event, no token, the same version.
	same := h.call(t, "editor", http.MethodPost, product, map[string]any{"add": []string{"LINEN"}, "remove": []string{"wool"}}, map[string]string{"Idempotency-Key": "k1"})
	wantStatus(t, "unchanged", same, http.StatusOK)
	if same.Header.Get("ETag") != `"2"` || same.Header.Get("X-Consistency-Token") != "" {
		t.Errorf("unchanged headers %v", same.Header)
	}
	replay := h.call(t, "editor", http.MethodPost, product, map[string]any{"add": []string{"LINEN"}, "remove": []string{"wool"}}, map[string]string{"Idempotency-Key": "k1"})
	if replay.Status != http.StatusOK || replay.Header.Get("Idempotent-Replayed") != "true" || string(replay.Body) != string(same.Body) {
		t.Errorf("replayed unchanged: %d %s %v", replay.Status, replay.Body, replay.Header)
	}

	wantStatus(t, "stale If-Match", h.call(t, "editor", http.MethodPost, product, map[string]any{"remove": []string{"summer"}}, ifMatch(1)), http.StatusPreconditionFailed)
	swap := h.call(t, "editor", http.MethodPost, product, map[string]any{"remove": []string{"SUMMER"}, "add": []string{"winter"}}, ifMatch(2))
	wantStatus(t, "remove and add", swap, http.StatusOK)
	swap.decode(t, &pt)
	if pt.Version != 4 || len(pt.Tags) != 2 || pt.Tags[0].Tag != "linen" || pt.Tags[1].Tag != "winter" || pt.Tags[1].Version != 4 {
		t.Errorf("after the swap %s", swap.Body)
	}
	g = h.call(t, "viewer", http.MethodGet, product, nil, withToken(swap))
	g.decode(t, &read)
	if !reflect.DeepEqual(read, pt) {
		t.Errorf("read %s, command answered %s", g.Body, swap.Body)
	}
	evs := publishedEvents(t, h, "gid://shopify/Product/8123")
	if len(evs) != 4 {
		t.Fatalf("%d events for the product, want 4", len(evs))
	}
	if u, ok := evs[2].(*events.ProductUntagged); !ok || u.Tag != "summer" || u.ProductID != 8123 || u.Envelope.AggregateType != "ProductTags" {
		t.Errorf("untag event %+v", evs[2])
	}

	if bad := h.call(t, "editor", http.MethodPost, product, map[string]any{"add": []string{"x"}, "remove": []string{"X"}}, nil); bad.Status != http.StatusBadRequest || !problemAt(t, bad, "body.remove[0]") {
		t.Errorf("add and remove the same tag: %d %s", bad.Status, bad.Body)
	}
	wantStatus(t, "nothing to do", h.call(t, "editor", http.MethodPost, product, map[string]any{}, nil), http.StatusBadRequest)
	wantStatus(t, "not a product id", h.call(t, "editor", http.MethodPost, "/api/v1/products/abc/tags", map[string]any{"add": []string{"x"}}, nil), http.StatusBadRequest)
	wantStatus(t, "a viewer tagging", h.call(t, "viewer", http.MethodPost, product, map[string]any{"add": []string{"x"}}, nil), http.StatusForbidden)
}

// TestTagAnalytics tags a product of loaded orders through the API and reads its analytics,
// checked against the orders' lines summed directly.
func TestTagAnalytics(t *testing.T) {
	h := newHarness(t)
	if err := orderstest.LoadOrders(t.Context(), h.Pool, 300, testShop, 1); err != nil {
		t.Fatal(err)
	}
	product := orderstest.ProductID(0) // the most popular
	tag := h.call(t, "editor", http.MethodPost, "/api/v1/products/"+strconv.FormatInt(product, 10)+"/tags", map[string]any{"add": []string{"Bestseller"}}, nil)
	wantStatus(t, "tag", tag, http.StatusOK)

	from, to := orderstest.End.AddDate(-1, 0, 0), orderstest.End
	var want tags.TagStats
	if err := h.Pool.QueryRow(t.Context(), `
		SELECT count(DISTINCT o.order_id), sum(li.quantity), trim_scale(sum(li.price * li.quantity - li.total_discount))::text, min(li.currency)
		FROM orders o JOIN order_line_items li ON li.order_id = o.order_id
		WHERE o.shop = $1 AND li.product_id = $2 AND o.created_at >= $3 AND o.created_at < $4 AND o.cancelled_at IS NULL AND NOT o.test`,
		testShop, product, from, to).Scan(&want.Orders, &want.Units, &want.Revenue, &want.Currency); err != nil {
		t.Fatal(err)
	}
	if want.Orders == 0 {
		t.Fatal("no orders bought the product: the test checks nothing")
	}
	want.Tag = "Bestseller"

	q := "/api/v1/tag-analytics?from=" + from.Format(time.RFC3339) + "&to=" + to.Format(time.DateOnly) + "&tag=bestseller,other"
	r := h.call(t, "viewer", http.MethodGet, q, nil, withToken(tag))
	wantStatus(t, "analytics", r, http.StatusOK)
	var got struct {
		From, To time.Time
		Tags     []tags.TagStats
	}
	r.decode(t, &got)
	if len(got.Tags) != 1 || got.Tags[0] != want || !got.From.Equal(from) || !got.To.Equal(to) {
		b, _ := json.Marshal(want)
		t.Errorf("analytics %s, want one tag %s", r.Body, b)
	}

	for name, q := range map[string]string{
		"to before from":     "from=2026-02-01&to=2026-01-01",
		"empty window":       "from=2026-01-01&to=2026-01-01",
		"over two years":     "from=2024-01-01&to=2026-01-02",
		"not a time":         "from=yesterday&to=2026-01-01",
		"no from":            "to=2026-01-01",
		"no to":              "from=2026-01-01",
		"to without a shape": "from=2026-01-01&to=2026-1-2",
	} {
		if r := h.call(t, "viewer", http.MethodGet, "/api/v1/tag-analytics?"+q, nil, nil); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	wantStatus(t, "exactly two years", h.call(t, "viewer", http.MethodGet, "/api/v1/tag-analytics?from=2024-01-01&to=2026-01-01", nil, nil), http.StatusOK)
	wantStatus(t, "without a role", h.call(t, "none", http.MethodGet, "/api/v1/tag-analytics?from=2024-01-01&to=2026-01-01", nil, nil), http.StatusForbidden)
}

// TestNoCollectionKeepsARemovedDefinition races the removal of definitions against collections
// taking them in: whichever commits first, no live collection is left holding a removed
// definition (the collection is refused, or the removal takes the definition out of it).
func TestNoCollectionKeepsARemovedDefinition(t *testing.T) {
	h := newHarness(t)
	for round := range 15 {
		d, _ := createDefinition(t, h, "race "+strconv.Itoa(round))
		var wg sync.WaitGroup
		var removed, collected response
		wg.Go(func() {
			removed = h.call(t, "editor", http.MethodDelete, "/api/v1/tag-definitions/"+d.ID, nil, ifMatch(1))
		})
		wg.Go(func() {
			collected = h.call(t, "editor", http.MethodPost, "/api/v1/tag-collections", map[string]any{"name": "c", "tag_definition_ids": []string{d.ID}}, nil)
		})
		wg.Wait()
		wantStatus(t, "remove", removed, http.StatusOK)
		if collected.Status != http.StatusCreated && collected.Status != http.StatusConflict {
			t.Fatalf("round %d: collection %d %s", round, collected.Status, collected.Body)
		}
	}
	var bad int
	if err := h.Pool.QueryRow(t.Context(), `
		SELECT count(*) FROM aggregates c
		JOIN aggregates d ON d.aggregate_type = 'TagDefinition' AND c.state->'spec'->'tag_definition_ids' ? d.aggregate_id
		WHERE c.aggregate_type = 'TagCollection' AND c.state->>'removed_at' IS NULL AND d.state->>'removed_at' IS NOT NULL`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d live collections hold a removed definition", bad)
	}
}
