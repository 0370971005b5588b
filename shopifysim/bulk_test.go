package shopifysim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const bulkProducts = `{ products%s { edges { node { id title handle status tags updatedAt
  variants { edges { node { id sku price inventoryQuantity updatedAt } } } } } } }`

const bulkOrders = `{ orders%s { edges { node { id name createdAt updatedAt displayFinancialStatus displayFulfillmentStatus cancelledAt test currencyCode
  totalPriceSet { shopMoney { amount currencyCode } } currentTotalPriceSet { shopMoney { amount currencyCode } } tags
  customer { id }
  lineItems { edges { node { id sku title quantity currentQuantity variant { id } originalUnitPriceSet { shopMoney { amount currencyCode } } } } } } } } }`

const bulkInventory = `{ inventoryItems%s { edges { node { id sku updatedAt
  inventoryLevels { edges { node { id location { id } quantities(names: ["available"]) { name quantity } updatedAt } } } } } } }`

const runBulk = `mutation Run($q: String!, $group: Boolean) { bulkOperationRunQuery(query: $q, groupObjects: $group) {
  bulkOperation { id status } userErrors { field message code } } }`

const bulkStatus = `query($id: ID!) { node(id: $id) { ... on BulkOperation { id status errorCode createdAt completedAt
  objectCount rootObjectCount fileSize url partialDataUrl query type } } }`

func startBulk(t *testing.T, base, version, q string, group bool) (string, []any) {
	t.Helper()
	r := post(t, base, version, DefaultAccessToken, runBulk, map[string]any{"q": q, "group": group})
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("bulkOperationRunQuery: %s", r.Raw)
	}
	errs, _ := dig(r.Data, "bulkOperationRunQuery", "userErrors").([]any)
	return str(r.Data, "bulkOperationRunQuery", "bulkOperation", "id"), errs
}

func bulkOp(t *testing.T, base, id string) map[string]any {
	t.Helper()
	op, _ := dig(query(t, base, bulkStatus, map[string]any{"id": id}), "node").(map[string]any)
	return op
}

// exportLines runs a bulk query to completion on the fake clock and returns its lines.
func exportLines(t *testing.T, base string, clk *FakeClock, q string, group bool) ([]map[string]any, map[string]any) {
	t.Helper()
	id, errs := startBulk(t, base, "2026-04", q, group)
	if len(errs) > 0 {
		t.Fatalf("user errors: %v", errs)
	}
	clk.Advance(time.Minute)
	op := bulkOp(t, base, id)
	if op["status"] != "COMPLETED" {
		t.Fatalf("operation %v", op)
	}
	if op["url"] == nil {
		return nil, op
	}
	return jsonl(t, op["url"].(string)), op
}

func TestBulkStatusMachine(t *testing.T) {
	s := Generate(1, Size{Products: 20, Orders: 30})
	rcv := newReceiver(t, nil)
	clk := NewFakeClock(simStart)
	_, srv, _ := admin(t, s, AdminOptions{Clock: clk, BulkFinishWebhook: true, Bulk: BulkOptions{StartAfter: time.Second, RunFor: 10 * time.Second}})
	w, _ := sender(t, s, rcv.srv.URL, SenderOptions{Clock: clk, Topics: []string{"bulk_operations/finish"}})
	stop := w.Follow(s)
	defer stop()

	id, _ := startBulk(t, srv.URL, "2026-04", fmt.Sprintf(bulkProducts, ""), true)
	op := bulkOp(t, srv.URL, id)
	if op["status"] != "CREATED" || op["objectCount"] != "0" || op["url"] != nil || op["type"] != "QUERY" {
		t.Fatalf("created: %v", op)
	}
	clk.Advance(6 * time.Second) // running, about half way
	op = bulkOp(t, srv.URL, id)
	if op["status"] != "RUNNING" || op["objectCount"] == "0" || op["completedAt"] != nil {
		t.Fatalf("running: %v", op)
	}
	clk.Advance(5 * time.Second)
	op = bulkOp(t, srv.URL, id)
	if op["status"] != "COMPLETED" || op["url"] == nil || op["completedAt"] == nil || op["fileSize"] == nil {
		t.Fatalf("completed: %v", op)
	}
	variants := 0
	for _, p := range s.Products() {
		variants += len(p.Variants)
	}
	if op["objectCount"] != fmt.Sprint(len(s.Products())+variants) || op["rootObjectCount"] != fmt.Sprint(len(s.Products())) {
		t.Errorf("counts %v/%v for %d products, %d variants", op["objectCount"], op["rootObjectCount"], len(s.Products()), variants)
	}
	// currentBulkOperation sees the same, and bulk_operations/finish went out.
	if cur := query(t, srv.URL, `{ currentBulkOperation { id status } }`, nil); str(cur, "currentBulkOperation", "id") != id {
		t.Errorf("currentBulkOperation: %v", cur)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	got := rcv.deliveries()
	if len(got) != 1 {
		t.Fatalf("%d finish webhooks", len(got))
	}
	var fin map[string]any
	_ = json.Unmarshal(got[0].Body, &fin)
	if fin["admin_graphql_api_id"] != id || fin["status"] != "completed" || fin["type"] != "query" || fin["error_code"] != nil || fin["url"] != nil {
		t.Errorf("bulk_operations/finish payload %v", fin)
	}

	// Cancel: CANCELING, then CANCELED, with its own finish webhook.
	id2, _ := startBulk(t, srv.URL, "2026-04", fmt.Sprintf(bulkOrders, ""), false)
	r := query(t, srv.URL, `mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }`, map[string]any{"id": id2})
	if str(r, "bulkOperationCancel", "bulkOperation", "status") != "CANCELING" {
		t.Fatalf("cancel: %v", r)
	}
	clk.Advance(2 * time.Second)
	if op := bulkOp(t, srv.URL, id2); op["status"] != "CANCELED" || op["url"] != nil {
		t.Fatalf("canceled: %v", op)
	}
	r = query(t, srv.URL, `mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }`, map[string]any{"id": id})
	if errs := dig(r, "bulkOperationCancel", "userErrors").([]any); len(errs) != 1 || !strings.Contains(str(errs[0], "message"), "completed") {
		t.Errorf("cancelling a completed operation: %v", r)
	}
	if err := w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rcv.deliveries(); len(got) != 2 || !strings.Contains(string(got[1].Body), `"status":"canceled"`) {
		t.Errorf("cancel finish webhook: %d", len(got))
	}
	// bulkOperation(id:) exists from 2026-01.
	if r := post(t, srv.URL, "2026-01", DefaultAccessToken, `query($id: ID!) { bulkOperation(id: $id) { status } }`, map[string]any{"id": id}); str(r.Data, "bulkOperation", "status") != "COMPLETED" {
		t.Errorf("bulkOperation(id:): %s", r.Raw)
	}
}

func TestBulkConcurrencyLimitByVersion(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	_, srv, _ := admin(t, s, AdminOptions{})
	q := fmt.Sprintf(bulkProducts, "")
	first, errs := startBulk(t, srv.URL, "2025-10", q, true)
	if first == "" || len(errs) > 0 {
		t.Fatalf("first: %v", errs)
	}
	id, errs := startBulk(t, srv.URL, "2025-10", q, true)
	if id != "" || len(errs) != 1 || str(errs[0], "code") != "OPERATION_IN_PROGRESS" ||
		str(errs[0], "message") != "A bulk query operation for this app and shop is already in progress: "+first+"." {
		t.Fatalf("second below 2026-01: %q %v", id, errs)
	}
	for i := 2; i <= 5; i++ {
		if id, errs := startBulk(t, srv.URL, "2026-01", q, true); id == "" || len(errs) > 0 {
			t.Fatalf("operation %d from 2026-01: %v", i, errs)
		}
	}
	if id, errs := startBulk(t, srv.URL, "2026-01", q, true); id != "" || len(errs) != 1 || str(errs[0], "code") != "LIMIT_REACHED" {
		t.Fatalf("sixth: %q %v", id, errs)
	}
}

func TestBulkQueryValidation(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	_, srv, _ := admin(t, s, AdminOptions{})
	for name, q := range map[string]string{
		"node at the top":      `{ node(id: "gid://shopify/Product/1") { id } }`,
		"no connection":        `{ shop { name } }`,
		"nested too deep":      `{ products { edges { node { id variants { edges { node { id inventoryItem { inventoryLevels { edges { node { id } } } } } } } } } } }`,
		"connection in a list": `{ orders { edges { node { id refunds { refundLineItems { edges { node { quantity } } } } } } } }`,
		"unknown field":        `{ products { edges { node { id colour } } } }`,
		"syntax":               `{ products { edges { node { id }`,
		"two top-level fields": `{ products { edges { node { id } } } orders { edges { node { id } } } }`,
		"more than five connections": `{ products { edges { node { id
			a: variants { edges { node { id } } } b: variants { edges { node { id } } } c: variants { edges { node { id } } }
			d: variants { edges { node { id } } } e: variants { edges { node { id } } } } } } }`,
	} {
		id, errs := startBulk(t, srv.URL, "2026-04", q, true)
		if id != "" || len(errs) != 1 || str(errs[0], "code") != "INVALID" || !strings.HasPrefix(str(errs[0], "message"), "Invalid bulk query: ") {
			t.Errorf("%s: %q %v", name, id, errs)
		}
	}
}

// TestBulkJSONL: lines parse, children name their parent, everything in the store is there
// once, and ungrouped results come shuffled.
func TestBulkJSONL(t *testing.T) {
	s := Generate(2, Size{Products: 30, Orders: 80, Mix: &Mix{RefundRate: 0.3, FulfillRate: 1, PendingRate: 0.2, PayLaterRate: 0.5}})
	_, srv, clk := admin(t, s, AdminOptions{})

	grouped, _ := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkOrders, ""), true)
	orders := s.Orders()
	byID := map[string]map[string]any{}
	lines := map[string][]map[string]any{}
	var parent string
	for _, l := range grouped {
		id := l["id"].(string)
		if p, child := l["__parentId"].(string); child {
			if p != parent {
				t.Fatalf("grouped child %s does not follow its parent %s", id, p)
			}
			lines[p] = append(lines[p], l)
			continue
		}
		parent = id
		byID[id] = l
	}
	if len(byID) != len(orders) {
		t.Fatalf("%d order lines, %d orders", len(byID), len(orders))
	}
	for _, o := range orders {
		l := byID[o.GID()]
		if l == nil {
			t.Fatalf("order %s missing", o.Name)
		}
		if str(l, "totalPriceSet", "shopMoney", "amount") != o.TotalPrice.String() || str(l, "currentTotalPriceSet", "shopMoney", "amount") != o.CurrentTotalPrice.String() ||
			str(l, "updatedAt") != o.UpdatedAt.Format(time.RFC3339) || str(l, "displayFinancialStatus") != strings.ToUpper(o.FinancialStatus) {
			t.Errorf("order %s line %v", o.Name, l)
		}
		if _, has := l["lineItems"]; has {
			t.Errorf("order line inlines its line items")
		}
		if len(lines[o.GID()]) != len(o.LineItems) {
			t.Fatalf("order %s: %d line item lines, want %d", o.Name, len(lines[o.GID()]), len(o.LineItems))
		}
		for i, li := range o.LineItems {
			got := lines[o.GID()][i]
			if got["id"] != li.GID() || got["quantity"].(json.Number).String() != fmt.Sprint(li.Quantity) ||
				got["currentQuantity"].(json.Number).String() != fmt.Sprint(li.CurrentQuantity) ||
				str(got, "variant", "id") != GID("ProductVariant", li.VariantID) || str(got, "originalUnitPriceSet", "shopMoney", "amount") != li.Price.String() {
				t.Errorf("line item %v, want %+v", got, li)
			}
		}
	}

	// Ungrouped: the same lines, in another order, children possibly before parents.
	shuffled, _ := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkOrders, ""), false)
	if len(shuffled) != len(grouped) {
		t.Fatalf("%d shuffled lines, %d grouped", len(shuffled), len(grouped))
	}
	key := func(ls []map[string]any) []string {
		var out []string
		for _, l := range ls {
			b, _ := json.Marshal(l)
			out = append(out, string(b))
		}
		return out
	}
	a, b := key(grouped), key(shuffled)
	if slices.Equal(a, b) {
		t.Error("ungrouped result in grouped order")
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Error("ungrouped result holds other lines")
	}
	seen, early := map[string]bool{}, 0
	for _, l := range shuffled {
		if p, ok := l["__parentId"].(string); ok && !seen[p] {
			early++
		}
		seen[l["id"].(string)] = true
	}
	if early == 0 {
		t.Error("no child came before its parent in a shuffled result")
	}
}

// TestBulkIncrementalExport: a filter on updated_at exports exactly the objects updated since.
func TestBulkIncrementalExport(t *testing.T) {
	s := Generate(3, Size{Products: 40, Orders: 120})
	_, srv, clk := admin(t, s, AdminOptions{})
	orders, products, items := s.Orders(), s.Products(), s.InventoryItems()
	since := orders[len(orders)/3].UpdatedAt
	filter := fmt.Sprintf(`(query: "updated_at:>='%s'")`, since.Format(time.RFC3339))
	check := func(name string, q string, want map[string]bool) {
		t.Helper()
		got, op := exportLines(t, srv.URL, clk, fmt.Sprintf(q, filter), true)
		roots := map[string]bool{}
		for _, l := range got {
			if _, child := l["__parentId"]; !child {
				roots[l["id"].(string)] = true
			}
		}
		if len(want) == 0 {
			t.Fatalf("%s: test needs some updated objects", name)
		}
		if len(roots) != len(want) || op["rootObjectCount"] != fmt.Sprint(len(want)) {
			t.Errorf("%s: %d exported, want %d", name, len(roots), len(want))
		}
		for id := range want {
			if !roots[id] {
				t.Errorf("%s: %s updated since %s but not exported", name, id, since)
			}
		}
	}
	want := map[string]bool{}
	for _, o := range orders {
		if !o.UpdatedAt.Before(since) {
			want[o.GID()] = true
		}
	}
	check("orders", bulkOrders, want)
	want = map[string]bool{}
	for _, p := range products {
		if !p.UpdatedAt.Before(since) {
			want[p.GID()] = true
		}
	}
	check("products", bulkProducts, want)
	want = map[string]bool{}
	for _, it := range items {
		if !it.UpdatedAt.Before(since) {
			want[it.GID()] = true
		}
	}
	check("inventory items", bulkInventory, want)

	// Nothing updated since: COMPLETED with objectCount 0 and no url, as on Shopify.
	_, op := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkOrders, `(query: "updated_at:>='2099-01-01T00:00:00Z'")`), true)
	if op["objectCount"] != "0" || op["url"] != nil {
		t.Errorf("empty export: %v", op)
	}
}

func TestBulkResultURLExpires(t *testing.T) {
	s := Generate(1, Size{Products: 5, Orders: 5})
	_, srv, clk := admin(t, s, AdminOptions{Bulk: BulkOptions{URLTTL: time.Hour}})
	lines, op := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkProducts, ""), true)
	if len(lines) == 0 {
		t.Fatal("no lines")
	}
	url := op["url"].(string)
	if !strings.Contains(url, "Expires=") || !strings.Contains(url, "Signature=") || strings.HasPrefix(url, srv.URL+"/admin") {
		t.Errorf("url %s", url)
	}
	tampered := strings.Replace(url, "Signature=", "Signature=0", 1)
	if resp, _ := http.Get(tampered); resp.StatusCode != http.StatusForbidden {
		t.Errorf("tampered signature: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", "bytes=0-9")
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != http.StatusPartialContent {
		t.Errorf("range request: %d", resp.StatusCode)
	}
	clk.Advance(2 * time.Hour)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "ExpiredToken") {
		t.Errorf("expired url: %d %s", resp.StatusCode, body)
	}
	if op := bulkOp(t, srv.URL, op["id"].(string)); op["status"] != "EXPIRED" || op["url"] != nil {
		t.Errorf("after expiry: %v", op)
	}
}

func TestBulkFailsWithPartialData(t *testing.T) {
	s := Generate(1, Size{Products: 20, Orders: 40})
	a, srv, clk := admin(t, s, AdminOptions{})
	full, _ := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkOrders, ""), true)
	a.FailNextBulkOperation(BulkFailure{ErrorCode: "INTERNAL_SERVER_ERROR", PartialFraction: 0.5})
	id, _ := startBulk(t, srv.URL, "2026-04", fmt.Sprintf(bulkOrders, ""), true)
	clk.Advance(time.Minute)
	op := bulkOp(t, srv.URL, id)
	if op["status"] != "FAILED" || op["errorCode"] != "INTERNAL_SERVER_ERROR" || op["url"] != nil || op["partialDataUrl"] == nil {
		t.Fatalf("failed operation: %v", op)
	}
	partial := jsonl(t, op["partialDataUrl"].(string))
	if len(partial) != len(full)/2 || op["objectCount"] != fmt.Sprint(len(partial)) {
		t.Errorf("partial data: %d lines (objectCount %v), full result %d", len(partial), op["objectCount"], len(full))
	}
	for i := range partial {
		a, _ := json.Marshal(partial[i])
		b, _ := json.Marshal(full[i])
		if string(a) != string(b) {
			t.Fatalf("partial line %d differs from the full result", i)
		}
	}
	// A failure without partial data.
	a.FailNextBulkOperation(BulkFailure{ErrorCode: "TIMEOUT"})
	id, _ = startBulk(t, srv.URL, "2026-04", fmt.Sprintf(bulkOrders, ""), true)
	clk.Advance(time.Minute)
	if op := bulkOp(t, srv.URL, id); op["status"] != "FAILED" || op["errorCode"] != "TIMEOUT" || op["partialDataUrl"] != nil {
		t.Errorf("timeout: %v", op)
	}
}

func TestBulkNestedLimitTruncatesSilently(t *testing.T) {
	s := Generate(1, Size{Products: 10, VariantsPerProduct: 5, Orders: 3})
	_, srv, clk := admin(t, s, AdminOptions{Bulk: BulkOptions{NestedLimit: 1}})
	lines, _ := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkProducts, ""), true)
	children := map[string]int{}
	for _, l := range lines {
		if p, ok := l["__parentId"].(string); ok {
			children[p]++
		}
	}
	for p, n := range children {
		if n != 1 {
			t.Errorf("%s has %d variant lines", p, n)
		}
	}
}
