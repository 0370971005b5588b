package shopifysim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const productsQuery = `query Products($first: Int!, $after: String, $q: String) {
  products(first: $first, after: $after, query: $q) {
    edges { cursor node { id legacyResourceId title status tags updatedAt
      variants(first: 10) { nodes { id sku price inventoryQuantity } } } }
    pageInfo { hasNextPage endCursor }
  }
}`

func TestAdminAuthVersionAndErrors(t *testing.T) {
	s := Generate(1, Size{Products: 5, Orders: 5})
	_, srv, _ := admin(t, s, AdminOptions{})
	if r := post(t, srv.URL, "2026-04", "wrong", `{ shop { name } }`, nil); r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Raw), "Invalid API key or access token") {
		t.Errorf("bad token: %d %s", r.Status, r.Raw)
	}
	if r := post(t, srv.URL, "2026-05", DefaultAccessToken, `{ shop { name } }`, nil); r.Status != http.StatusNotFound {
		t.Errorf("bad version: %d", r.Status)
	}
	r := post(t, srv.URL, "2026-04", DefaultAccessToken, `{ shop { name currencyCode myshopifyDomain } }`, nil)
	if r.Status != 200 || str(r.Data, "shop", "currencyCode") != "USD" || r.Header.Get("X-Shopify-API-Version") != "2026-04" {
		t.Fatalf("shop: %d %s", r.Status, r.Raw)
	}
	for _, c := range []struct{ name, q, code string }{
		{"unknown field", `{ products(first: 1) { nodes { id colour } } }`, "undefinedField"},
		{"unknown root", `{ webhookSubscriptions(first: 1) { nodes { id } } }`, "undefinedField"},
		{"unknown argument", `{ products(first: 1, colour: "red") { nodes { id } } }`, "argumentNotAccepted"},
		{"no selection", `{ products(first: 1) { nodes { variants } } }`, "selectionMismatch"},
		{"unknown mutation", `mutation { productDelete(input: {id: "gid://shopify/Product/1"}) { deletedProductId } }`, "undefinedField"},
		{"user error has no code", `mutation { tagsAdd(id: "gid://shopify/Product/1", tags: ["x"]) { userErrors { field message code } } }`, "undefinedField"},
		{"bulkOperation before 2026-01", `{ bulkOperation(id: "gid://shopify/BulkOperation/1") { id } }`, "undefinedField"},
	} {
		version := "2026-04"
		if strings.Contains(c.name, "2026-01") {
			version = "2025-10"
		}
		r := post(t, srv.URL, version, DefaultAccessToken, c.q, nil)
		if r.Status != 200 || r.HasData || len(r.Errors) == 0 || dig(r.Errors[0], "extensions", "code") != c.code {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
		}
		if dig(r.Ext, "cost", "throttleStatus") == nil {
			t.Errorf("%s: no extensions.cost.throttleStatus", c.name)
		}
	}
	if r := post(t, srv.URL, "2026-04", DefaultAccessToken, `{ products(first: 1) { nodes { id }`, nil); len(r.Errors) == 0 || r.Errors[0]["locations"] == nil {
		t.Errorf("syntax error: %s", r.Raw)
	}
	if r := post(t, srv.URL, "2026-04", DefaultAccessToken, `{ products { nodes { id } } }`, nil); len(r.Errors) == 0 || !strings.Contains(r.Errors[0]["message"].(string), "first or last") {
		t.Errorf("connection without first: %s", r.Raw)
	}
}

func TestAdminQueriesPaginateAndFilter(t *testing.T) {
	s := Generate(4, Size{Products: 12, Orders: 40})
	_, srv, _ := admin(t, s, AdminOptions{})
	var ids []string
	var after any
	for page := 0; ; page++ {
		d := query(t, srv.URL, productsQuery, map[string]any{"first": 5, "after": after})
		for _, e := range dig(d, "products", "edges").([]any) {
			ids = append(ids, str(e, "node", "id"))
			if v := dig(e, "node", "variants", "nodes").([]any); len(v) == 0 || str(v[0], "price") == "" {
				t.Fatalf("product without variants: %v", e)
			}
		}
		if dig(d, "products", "pageInfo", "hasNextPage") != true {
			break
		}
		after = dig(d, "products", "pageInfo", "endCursor")
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	products := s.Products()
	if len(ids) != len(products) {
		t.Fatalf("paged %d products, store has %d", len(ids), len(products))
	}
	for i, p := range products {
		if ids[i] != p.GID() {
			t.Fatalf("product %d: %s, want %s", i, ids[i], p.GID())
		}
	}

	// updated_at filter on orders: exactly those updated since.
	orders := s.Orders()
	since := orders[len(orders)/2].UpdatedAt
	want := 0
	for _, o := range orders {
		if !o.UpdatedAt.Before(since) {
			want++
		}
	}
	d := query(t, srv.URL, `query($q: String) { orders(first: 250, query: $q, sortKey: UPDATED_AT) { nodes { id updatedAt displayFinancialStatus
		totalPriceSet { shopMoney { amount currencyCode } } } } }`, map[string]any{"q": fmt.Sprintf("updated_at:>='%s'", since.Format(time.RFC3339))})
	nodes := dig(d, "orders", "nodes").([]any)
	if len(nodes) != want {
		t.Fatalf("%d orders updated since %s, want %d", len(nodes), since, want)
	}
	prev := ""
	for _, n := range nodes {
		u := str(n, "updatedAt")
		if u < prev {
			t.Fatal("sortKey UPDATED_AT not honoured")
		}
		prev = u
		o, _ := s.Order(mustID(t, str(n, "id")))
		if str(n, "totalPriceSet", "shopMoney", "amount") != o.TotalPrice.String() || str(n, "totalPriceSet", "shopMoney", "currencyCode") != "USD" {
			t.Errorf("order %s amount %v", o.Name, dig(n, "totalPriceSet"))
		}
	}

	// node(id:) with a fragment, and a variant's inventory levels.
	p := products[0]
	d = query(t, srv.URL, `query($id: ID!) { node(id: $id) { id __typename ... on Product { title variants(first: 5) { nodes {
		inventoryItem { id inventoryLevels(first: 5) { nodes { id location { id } quantities(names: ["available"]) { name quantity } } } } } } } } }`,
		map[string]any{"id": p.GID()})
	if str(d, "node", "__typename") != "Product" || str(d, "node", "title") != p.Title {
		t.Fatalf("node: %v", d)
	}
	lvls := dig(dig(d, "node", "variants", "nodes").([]any)[0], "inventoryItem", "inventoryLevels", "nodes").([]any)
	if len(lvls) != len(s.Locations()) || dig(lvls[0], "quantities").([]any)[0].(map[string]any)["name"] != "available" {
		t.Errorf("inventory levels: %v", lvls)
	}
}

func mustID(t *testing.T, gid string) int64 {
	t.Helper()
	_, id, _, ok := parseGID(gid)
	if !ok {
		t.Fatalf("bad gid %q", gid)
	}
	return id
}

// TestAdminCostBucket: a query's cost leaves the bucket, the bucket refills on the clock, a
// query that does not fit is THROTTLED in Shopify's shape (HTTP 200 or 429), one above the
// single-query cap is refused.
func TestAdminCostBucket(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := Generate(1, Size{Products: 30, Orders: 5})
			a, srv, clk := admin(t, s, AdminOptions{MaximumAvailable: 200, RestoreRate: 10, ThrottledStatus: status})
			// products(first: 10) { variants(first: 10) }: 2 + 10 × (1 + 2 + 10) = 132 requested.
			q := `{ products(first: 10) { nodes { id variants(first: 10) { nodes { id } } } } }`
			r := post(t, srv.URL, "2026-04", DefaultAccessToken, q, nil)
			if r.Status != 200 || len(r.Errors) > 0 {
				t.Fatalf("first query: %s", r.Raw)
			}
			requested := dig(r.Ext, "cost", "requestedQueryCost").(float64)
			actual := dig(r.Ext, "cost", "actualQueryCost").(float64)
			avail := dig(r.Ext, "cost", "throttleStatus", "currentlyAvailable").(float64)
			if requested != 132 || actual > requested || actual < 20 || avail != 200-actual {
				t.Fatalf("cost: requested %v actual %v available %v", requested, actual, avail)
			}
			// Push the bucket below the request: a second query is throttled.
			for a.Throttle().CurrentlyAvailable >= 132 {
				post(t, srv.URL, "2026-04", DefaultAccessToken, q, nil)
			}
			r = post(t, srv.URL, "2026-04", DefaultAccessToken, q, nil)
			if r.Status != status || r.HasData || len(r.Errors) != 1 || dig(r.Errors[0], "extensions", "code") != "THROTTLED" ||
				r.Errors[0]["message"] != "Throttled" || dig(r.Errors[0], "extensions", "documentation") != "https://shopify.dev/api/usage/rate-limits" {
				t.Fatalf("throttled: %d %s", r.Status, r.Raw)
			}
			if c := dig(r.Ext, "cost").(map[string]any); c["actualQueryCost"] != nil || c["requestedQueryCost"].(float64) != 132 ||
				dig(c, "throttleStatus", "maximumAvailable").(float64) != 200 || dig(c, "throttleStatus", "restoreRate").(float64) != 10 {
				t.Errorf("throttled cost: %v", c)
			}
			if status == http.StatusTooManyRequests && r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			// 20 s at 10 points/s refill 200: the query passes again.
			clk.Advance(20 * time.Second)
			if got := a.Throttle().CurrentlyAvailable; got != 200 {
				t.Errorf("bucket after 20 s: %v", got)
			}
			if r := post(t, srv.URL, "2026-04", DefaultAccessToken, q, nil); r.Status != 200 || len(r.Errors) > 0 {
				t.Fatalf("after refill: %s", r.Raw)
			}
			big := `{ products(first: 250) { nodes { id variants(first: 100) { nodes { id } } } } }`
			if r := post(t, srv.URL, "2026-04", DefaultAccessToken, big, nil); len(r.Errors) == 0 || dig(r.Errors[0], "extensions", "code") != "MAX_COST_EXCEEDED" {
				t.Errorf("above the cap: %s", r.Raw)
			}
		})
	}
}

func TestAdminFailureInjection(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	a, srv, _ := admin(t, s, AdminOptions{})
	a.FailNextRequests(2, http.StatusServiceUnavailable)
	for range 2 {
		if r := post(t, srv.URL, "2026-04", DefaultAccessToken, `{ shop { name } }`, nil); r.Status != http.StatusServiceUnavailable {
			t.Fatalf("injected failure: %d", r.Status)
		}
	}
	if r := post(t, srv.URL, "2026-04", DefaultAccessToken, `{ shop { name } }`, nil); r.Status != 200 {
		t.Fatalf("after the failures: %d", r.Status)
	}
}

func TestGraphQLParser(t *testing.T) {
	doc, err := parseGraphQL(`
		# a comment
		query Q($a: [ID!]! = ["x"], $b: Int) @dir(x: 1) {
			alias: products(first: 2, query: "tag:'a b'") { ...F ... on ProductConnection { nodes { id } } }
			s: shop { name, myshopifyDomain }
		}
		fragment F on ProductConnection { edges { node { id } } }
		mutation M { bulkOperationRunQuery(query: """
			{ products { edges { node { id title } } } }
		""", groupObjects: false) { userErrors { message } } }`)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.ops) != 2 || doc.ops[0].name != "Q" || len(doc.ops[0].vars) != 2 || doc.frags["F"] == nil {
		t.Fatalf("parsed %+v", doc)
	}
	f := doc.ops[0].sel[0].field
	if f.alias != "alias" || f.name != "products" || f.args[1].value.raw != "tag:'a b'" {
		t.Errorf("field %+v", f)
	}
	bq := doc.ops[1].sel[0].field.args[0].value.raw
	if bq != "{ products { edges { node { id title } } } }" {
		t.Errorf("block string %q", bq)
	}
	for _, bad := range []string{`{`, `{ a(`, `query { a(x: "unterminated) }`, `{ }`, `{ a(x: $) }`} {
		if _, err := parseGraphQL(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// FuzzExecute: no query text makes the server fail other than with GraphQL errors.
func FuzzExecute(f *testing.F) {
	for _, seed := range []string{productsQuery, bulkStatus, runBulk, metafieldsSet, tagsAdd, `{ shop { name } }`, `{`, `query { node(id: "gid://shopify/X/1") { id } }`,
		`{ products(first: 1, query: "updated_at:>='2026-01-01' AND tag:x") { edges { cursor } pageInfo { endCursor } } }`} {
		f.Add(seed)
	}
	s := Generate(1, Size{Products: 3, Orders: 3})
	a := NewAdminServer(s, AdminOptions{Clock: NewFakeClock(simStart), MaximumAvailable: 1e9, RestoreRate: 1e9})
	defer a.Close()
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest(http.MethodPost, "/admin/api/2026-04/graphql.json", strings.NewReader(q))
		req.Header.Set("Content-Type", "application/graphql")
		req.Header.Set("X-Shopify-Access-Token", DefaultAccessToken)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); a.ServeHTTP(w, req) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%q: no answer in 5 s", q)
		}
		if w.Code != 200 || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%q: %d %s", q, w.Code, w.Body.Bytes())
		}
	})
}

// TestAdminRefusesHostileQueries: cycles, deep nesting and fragment fan-out are refused with
// GraphQL errors instead of exhausting the stack or the CPU.
func TestAdminRefusesHostileQueries(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	_, srv, _ := admin(t, s, AdminOptions{})
	bomb := "{ shop { ...F0 } }\n"
	for i := range 30 {
		bomb += fmt.Sprintf("fragment F%d on Shop { ...F%d ...F%d name }\n", i, i+1, i+1)
	}
	bomb += "fragment F30 on Shop { name }"
	for name, q := range map[string]string{
		"self-spreading fragment": `{ ...F } fragment F on QueryRoot { ...F }`,
		"fragment cycle":          `{ shop { ...A } } fragment A on Shop { ...B } fragment B on Shop { ...A }`,
		"deep nesting":            strings.Repeat("{a", 100000),
		"deep value":              `{ shop(x: ` + strings.Repeat("[", 100000) + `) { name } }`,
		"fragment fan-out":        bomb,
	} {
		r := post(t, srv.URL, "2026-04", DefaultAccessToken, q, nil)
		if r.Status != 200 || r.HasData || len(r.Errors) == 0 {
			t.Errorf("%s: %d %.200s", name, r.Status, r.Raw)
		}
	}
}
