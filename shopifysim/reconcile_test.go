package shopifysim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fold is a miniature read model: what storeline's projections do, newest updated_at wins,
// deletes win over older updates.
type fold struct {
	mu       sync.Mutex
	orders   map[int64]foldOrder
	products map[int64]foldProduct
	levels   map[[2]int64]foldLevel
	deleted  map[int64]bool
}

type foldOrder struct {
	updated          time.Time
	total, current   string
	financial        string
	currentQuantites string
}

type foldProduct struct {
	updated time.Time
	title   string
	tags    string
	prices  string
}

type foldLevel struct {
	updated   time.Time
	available int64
}

func newFold() *fold {
	return &fold{orders: map[int64]foldOrder{}, products: map[int64]foldProduct{}, levels: map[[2]int64]foldLevel{}, deleted: map[int64]bool{}}
}

func (f *fold) putOrder(id int64, o foldOrder) {
	if old, ok := f.orders[id]; !ok || o.updated.After(old.updated) {
		f.orders[id] = o
	}
}

func (f *fold) putProduct(id int64, p foldProduct) {
	if f.deleted[id] {
		return
	}
	if old, ok := f.products[id]; !ok || p.updated.After(old.updated) {
		f.products[id] = p
	}
}

func (f *fold) putLevel(k [2]int64, l foldLevel) {
	if old, ok := f.levels[k]; !ok || l.updated.After(old.updated) {
		f.levels[k] = l
	}
}

func (f *fold) deleteProduct(id int64, items []int64) {
	f.deleted[id] = true
	delete(f.products, id)
	for k := range f.levels {
		if slices.Contains(items, k[0]) {
			delete(f.levels, k)
		}
	}
}

// webhook folds one REST payload.
func (f *fold) webhook(t *testing.T, topic string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Errorf("%s: time %q", topic, s)
		}
		return v
	}
	switch {
	case strings.HasPrefix(topic, "orders/"):
		var o struct {
			ID                int64  `json:"id"`
			UpdatedAt         string `json:"updated_at"`
			TotalPrice        string `json:"total_price"`
			CurrentTotalPrice string `json:"current_total_price"`
			FinancialStatus   string `json:"financial_status"`
			LineItems         []struct {
				CurrentQuantity int `json:"current_quantity"`
			} `json:"line_items"`
		}
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatal(err)
		}
		q := ""
		for _, li := range o.LineItems {
			q += strconv.Itoa(li.CurrentQuantity) + ","
		}
		f.putOrder(o.ID, foldOrder{ts(o.UpdatedAt), o.TotalPrice, o.CurrentTotalPrice, o.FinancialStatus, q})
	case topic == "products/create" || topic == "products/update":
		var p struct {
			ID        int64  `json:"id"`
			UpdatedAt string `json:"updated_at"`
			Title     string `json:"title"`
			Tags      string `json:"tags"`
			Variants  []struct {
				Price string `json:"price"`
			} `json:"variants"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		prices := ""
		for _, v := range p.Variants {
			prices += v.Price + ","
		}
		f.putProduct(p.ID, foldProduct{ts(p.UpdatedAt), p.Title, p.Tags, prices})
	case topic == "products/delete":
		var p struct {
			ID int64 `json:"id"`
		}
		_ = json.Unmarshal(body, &p)
		f.deleteProduct(p.ID, nil) // the webhook does not say which items; they vanish below
	case topic == "inventory_levels/update":
		var l struct {
			InventoryItemID int64  `json:"inventory_item_id"`
			LocationID      int64  `json:"location_id"`
			Available       int64  `json:"available"`
			UpdatedAt       string `json:"updated_at"`
		}
		_ = json.Unmarshal(body, &l)
		f.putLevel([2]int64{l.InventoryItemID, l.LocationID}, foldLevel{ts(l.UpdatedAt), l.Available})
	}
}

// TestWebhooksWithFaultsPlusIncrementalBulkSyncEqualFinalState is the acceptance scenario in
// small: half the history delivered cleanly and a full sync, then the rest with 10 %
// duplicates, 10 % out of order and 5 % dropped, then one incremental bulk sync (updated_at
// since the first sync, plus deletion events). The fold must then equal the store exactly.
func TestWebhooksWithFaultsPlusIncrementalBulkSyncEqualFinalState(t *testing.T) {
	s := Generate(42, Size{Products: 60, Orders: 300})
	_, srv, clk := admin(t, s, AdminOptions{})
	f := newFold()
	rcv := newReceiver(t, nil)
	history := s.History()
	half := len(history) / 2

	clean, _ := sender(t, s, rcv.srv.URL, SenderOptions{Clock: clk})
	send(t, clean, history[:half])
	faulty, _ := sender(t, s, rcv.srv.URL, SenderOptions{Clock: clk, Seed: 9, Concurrency: 3,
		Faults: Faults{Duplicate: 0.1, OutOfOrder: 0.1, Drop: 0.05}})
	rep := send(t, faulty, history[half:])
	if len(rep.Dropped) == 0 || len(rep.Duplicated) == 0 || len(rep.Reordered) == 0 {
		t.Fatalf("faults did not happen: %d dropped, %d duplicated, %d reordered", len(rep.Dropped), len(rep.Duplicated), len(rep.Reordered))
	}
	for _, d := range rcv.deliveries() {
		f.webhook(t, d.Header.Get("X-Shopify-Topic"), d.Body)
	}
	// The watermark: the time of the last change the clean phase delivered (a real sync would
	// take its own start time, minus a lookback).
	watermark := history[half-1].TriggeredAt
	filter := fmt.Sprintf(`(query: "updated_at:>='%s'")`, watermark.Format(time.RFC3339))

	// Deletions the webhooks may have lost come from the Events API.
	d := query(t, srv.URL, `query($q: String) { events(first: 250, query: $q) { nodes { ... on BasicEvent { subjectId action createdAt } } } }`,
		map[string]any{"q": fmt.Sprintf("subject_type:PRODUCT AND action:destroy AND created_at:>='%s'", watermark.Format(time.RFC3339))})
	for _, e := range dig(d, "events", "nodes").([]any) {
		f.deleteProduct(mustID(t, str(e, "subjectId")), nil)
	}

	orders, _ := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkOrders, filter), false)
	lineQty := map[string][]string{}
	var orderRows []map[string]any
	for _, l := range orders {
		if p, child := l["__parentId"].(string); child {
			lineQty[p] = append(lineQty[p], l["id"].(string)+"="+l["currentQuantity"].(json.Number).String())
			continue
		}
		orderRows = append(orderRows, l)
	}
	for _, o := range orderRows {
		gid := o["id"].(string)
		id := mustID(t, gid)
		// Children arrive in any order: put them back in the order's line order.
		st, _ := s.Order(id)
		q := ""
		for _, li := range st.LineItems {
			for _, kv := range lineQty[gid] {
				if strings.HasPrefix(kv, li.GID()+"=") {
					q += strings.TrimPrefix(kv, li.GID()+"=") + ","
				}
			}
		}
		at, _ := time.Parse(time.RFC3339, str(o, "updatedAt"))
		f.putOrder(id, foldOrder{at, str(o, "totalPriceSet", "shopMoney", "amount"), str(o, "currentTotalPriceSet", "shopMoney", "amount"),
			strings.ToLower(str(o, "displayFinancialStatus")), q})
	}

	products, _ := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkProducts, filter), true)
	var cur int64
	var row foldProduct
	flush := func() {
		if cur != 0 {
			f.putProduct(cur, row)
		}
	}
	for _, l := range products {
		if _, child := l["__parentId"]; child {
			row.prices += str(l, "price") + ","
			continue
		}
		flush()
		cur = mustID(t, str(l, "id"))
		at, _ := time.Parse(time.RFC3339, str(l, "updatedAt"))
		var tags []string
		for _, tg := range l["tags"].([]any) {
			tags = append(tags, tg.(string))
		}
		row = foldProduct{updated: at, title: str(l, "title"), tags: strings.Join(tags, ", ")}
	}
	flush()

	inventory, _ := exportLines(t, srv.URL, clk, fmt.Sprintf(bulkInventory, filter), false)
	for _, l := range inventory {
		p, child := l["__parentId"].(string)
		if !child {
			continue
		}
		at, _ := time.Parse(time.RFC3339, str(l, "updatedAt"))
		q := dig(l, "quantities").([]any)[0].(map[string]any)["quantity"].(json.Number)
		n, _ := q.Int64()
		f.putLevel([2]int64{mustID(t, p), mustID(t, str(l, "location", "id"))}, foldLevel{at, n})
	}

	// Levels of deleted products: the read model drops the items it no longer sees in the
	// catalogue (here: levels whose item belongs to no product in the fold).
	live := map[int64]bool{}
	for _, it := range s.InventoryItems() {
		if _, ok := f.products[it.ProductID]; ok {
			live[it.ID] = true
		}
	}
	for k := range f.levels {
		if !live[k[0]] {
			delete(f.levels, k)
		}
	}

	// Compare with the store, every row.
	wantOrders := s.Orders()
	if len(f.orders) != len(wantOrders) {
		t.Errorf("%d orders folded, store has %d", len(f.orders), len(wantOrders))
	}
	for _, o := range wantOrders {
		q := ""
		for _, li := range o.LineItems {
			q += strconv.Itoa(li.CurrentQuantity) + ","
		}
		want := foldOrder{o.UpdatedAt, o.TotalPrice.String(), o.CurrentTotalPrice.String(), o.FinancialStatus, q}
		if got := f.orders[o.ID]; !got.updated.Equal(want.updated) || got.total != want.total || got.current != want.current ||
			got.financial != want.financial || got.currentQuantites != want.currentQuantites {
			t.Errorf("order %s: folded %+v, store %+v", o.Name, got, want)
		}
	}
	wantProducts := s.Products()
	if len(f.products) != len(wantProducts) {
		t.Errorf("%d products folded, store has %d", len(f.products), len(wantProducts))
	}
	for _, p := range wantProducts {
		prices := ""
		for _, v := range p.Variants {
			prices += v.Price.String() + ","
		}
		got := f.products[p.ID]
		if !got.updated.Equal(p.UpdatedAt) || got.title != p.Title || got.tags != strings.Join(p.Tags, ", ") || got.prices != prices {
			t.Errorf("product %d: folded %+v, store %s %q %v %s", p.ID, got, p.UpdatedAt, p.Title, p.Tags, prices)
		}
	}
	wantLevels := s.InventoryLevels()
	if len(f.levels) != len(wantLevels) {
		t.Errorf("%d levels folded, store has %d", len(f.levels), len(wantLevels))
	}
	for _, l := range wantLevels {
		if got := f.levels[[2]int64{l.InventoryItemID, l.LocationID}]; got.available != int64(l.Available) || !got.updated.Equal(l.UpdatedAt) {
			t.Errorf("level %d@%d: folded %+v, store %d at %s", l.InventoryItemID, l.LocationID, got, l.Available, l.UpdatedAt)
		}
	}
}
