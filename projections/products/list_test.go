package products_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/products"
)

// listed is what the reference list knows of a product it generated.
type listed struct {
	id                      int64
	title, status, vendor   string
	ptype                   string
	tags                    []string
	created, updated, delAt *time.Time
}

func (l listed) key(sort string) string {
	at := func(t *time.Time) string {
		if t == nil {
			t = l.delAt
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	switch sort {
	case "title":
		return l.title
	case "created_at":
		return at(l.created)
	}
	return at(l.updated)
}

// listFixture projects 40 products of varied status, vendor, type and tags (some sharing an
// updated_at), deletes three of them and records a deletion of a product never seen; the test
// shop's products are mixed with another shop's.
func listFixture(t *testing.T) (*env, []listed) {
	e := setup(t)
	var evs []events.Event
	var all []listed
	statuses := []string{"active", "active", "draft", "archived"}
	for i := range 40 {
		id := int64(500 + i)
		updated := t0.Add(time.Duration(i/2) * time.Hour) // pairs share a version time
		p := newProduct(id, updated, newVariant(id*10+1, "10", "4"), newVariant(id*10+2, "12.5", "5"))
		p.Title = fmt.Sprintf("Linen shirt %03d", (i*7)%40) // titles out of id order
		if i%5 == 0 {
			p.Title = "Linen shirt 100%_cotton" // equal titles, and LIKE's wildcards in a title
		}
		p.Status = statuses[i%4]
		p.Vendor = ptr([]string{"ACME", "Globex"}[i%2])
		p.ProductType = ptr([]string{"Shirt", "Dress", "Hat"}[i%3])
		p.Tags = []string{[]string{"linen", "summer", "sale"}[i%3]}
		if i%4 == 1 {
			p.Tags = append(p.Tags, "bestseller")
		}
		p.CreatedAt = t0.Add(-time.Duration(i%6) * 24 * time.Hour)
		evs = append(evs, webhook(events.TypeProductCreated, p, "c"))
		all = append(all, listed{id: id, title: p.Title, status: p.Status, vendor: *p.Vendor, ptype: *p.ProductType,
			tags: p.Tags, created: ptr(p.CreatedAt), updated: ptr(updated)})
	}
	for _, i := range []int{3, 17, 30} {
		at := t0.Add(time.Duration(100+i) * time.Hour)
		evs = append(evs, deleted(all[i].id, at))
		all[i].delAt = &at
	}
	never := t0.Add(-time.Hour)
	evs = append(evs, deleted(999, never))
	all = append(all, listed{id: 999, delAt: &never})
	other := newProduct(600, t0, newVariant(6001, "1", "1"))
	otherEv := webhook(events.TypeProductCreated, other, "other").(*events.ProductCreated)
	otherEv.Envelope.Shop = "other.myshopify.com"
	otherEv.Envelope.EventID = events.DeterministicID("products-test", "other-shop")
	evs = append(evs, otherEv)
	e.AppendMany(t, evs)
	e.Start(t, 0, nil)
	e.WaitApplied(t, 60*time.Second)
	return e, all
}

func referenceList(all []listed, q products.ListQuery) []int64 {
	var hits []listed
	for _, l := range all {
		if (!q.IncludeDeleted && l.delAt != nil) || (len(q.Status) > 0 && !slices.Contains(q.Status, l.status)) ||
			(q.Vendor != "" && l.vendor != q.Vendor) || (q.ProductType != "" && l.ptype != q.ProductType) ||
			(q.Tag != "" && !slices.Contains(l.tags, q.Tag)) || !strings.Contains(strings.ToLower(l.title), strings.ToLower(q.Q)) ||
			(q.UpdatedFrom != nil && (l.updated == nil || l.updated.Before(*q.UpdatedFrom))) ||
			(q.UpdatedTo != nil && (l.updated == nil || !l.updated.Before(*q.UpdatedTo))) {
			continue
		}
		hits = append(hits, l)
	}
	sort, desc := strings.CutPrefix(cmp.Or(q.Sort, products.DefaultSort), "-")
	slices.SortFunc(hits, func(a, b listed) int {
		// Titles here are ASCII, whose order is the same in every collation the tests run with;
		// RFC 3339 times in UTC with the same precision compare as strings.
		c := cmp.Or(cmp.Compare(a.key(sort), b.key(sort)), cmp.Compare(a.id, b.id))
		if desc {
			return -c
		}
		return c
	})
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	return ids
}

func TestListProducts(t *testing.T) {
	e, all := listFixture(t)
	ctx := context.Background()
	r := products.NewReader(e.Pool)
	from, to := t0.Add(5*time.Hour), t0.Add(12*time.Hour)
	for _, tc := range []struct {
		name string
		q    products.ListQuery
	}{
		{"default", products.ListQuery{}},
		{"with deleted, by updated ascending", products.ListQuery{IncludeDeleted: true, Sort: "updated_at"}},
		{"with deleted, by created", products.ListQuery{IncludeDeleted: true, Sort: "-created_at"}},
		{"by title", products.ListQuery{Sort: "title"}},
		{"with deleted, by title descending", products.ListQuery{IncludeDeleted: true, Sort: "-title"}},
		{"status", products.ListQuery{Status: []string{"draft", "archived"}, Sort: "created_at"}},
		{"vendor and type", products.ListQuery{Vendor: "Globex", ProductType: "Hat"}},
		{"tag", products.ListQuery{Tag: "bestseller", Sort: "title"}},
		{"title substring", products.ListQuery{Q: "SHIRT 0"}},
		{"LIKE wildcards are literal", products.ListQuery{Q: "100%_c"}},
		{"LIKE wildcards match nothing else", products.ListQuery{Q: "shirt _0"}},
		{"updated range", products.ListQuery{UpdatedFrom: &from, UpdatedTo: &to, IncludeDeleted: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := referenceList(all, tc.q)
			for _, limit := range []int{1, 3, 7, products.MaxLimit} {
				q := tc.q
				q.Shop, q.Limit = testShop, limit
				var got []int64
				for pages := 0; ; pages++ {
					if pages > len(want)+1 {
						t.Fatalf("limit %d: more than %d pages", limit, pages)
					}
					page, err := r.List(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Products) > limit || (page.Next != nil && len(page.Products) != limit) {
						t.Fatalf("limit %d: page of %d, next %v", limit, len(page.Products), page.Next)
					}
					for _, p := range page.Products {
						var id int64
						fmt.Sscan(p.ID, &id)
						got = append(got, id)
					}
					if page.Next == nil {
						break
					}
					q.After = page.Next
				}
				if !slices.Equal(got, want) {
					t.Fatalf("limit %d: got %v\nwant %v", limit, got, want)
				}
			}
		})
	}
	if n := len(referenceList(all, products.ListQuery{Q: "100%_c"})); n == 0 {
		t.Error("the fixture has no title with LIKE wildcards")
	}
}

// TestInventory: each variant shows its levels from the inventory read model and their sum; a
// product reads the same in a list and on its own.
func TestInventory(t *testing.T) {
	e, _ := listFixture(t)
	ctx := context.Background()
	// Variant 5001 (inventory item 15003): two tracked locations and an untracked one. Variant
	// 5002: untracked everywhere. Other variants: no level at all.
	for _, l := range []struct {
		item, location int64
		available      *int32
	}{{15003, 1, ptr(int32(7))}, {15003, 2, ptr(int32(-2))}, {15003, 3, nil}, {15006, 1, nil}} {
		if _, err := e.Pool.Exec(ctx, `
INSERT INTO inventory_levels (inventory_item_id, location_id, inventory_item_gid, location_gid, shop, available, updated_at, last_event_id)
VALUES ($1::bigint, $2::bigint, 'gid://shopify/InventoryItem/' || $1, 'gid://shopify/Location/' || $2, $3, $4, $5, gen_random_uuid())`,
			l.item, l.location, testShop, l.available, t0); err != nil {
			t.Fatal(err)
		}
	}
	r := products.NewReader(e.Pool)
	p := e.product(t, 500)
	if len(p.Variants) != 2 {
		t.Fatalf("product 500 has %d variants", len(p.Variants))
	}
	inv, _ := json.Marshal(p.Variants[0].Inventory)
	want := `{"available":5,"levels":[` +
		`{"location_id":"1","location_gid":"gid://shopify/Location/1","available":7,"updated_at":"2026-11-20T10:00:00Z"},` +
		`{"location_id":"2","location_gid":"gid://shopify/Location/2","available":-2,"updated_at":"2026-11-20T10:00:00Z"},` +
		`{"location_id":"3","location_gid":"gid://shopify/Location/3","available":null,"updated_at":"2026-11-20T10:00:00Z"}]}`
	if string(inv) != want {
		t.Errorf("variant 5001 inventory\n got  %s\n want %s", inv, want)
	}
	if inv := p.Variants[1].Inventory; inv.Available != nil || len(inv.Levels) != 1 {
		t.Errorf("variant 5002 inventory %+v, want one untracked level and no total", inv)
	}
	if inv := e.product(t, 501).Variants[0].Inventory; inv.Available != nil || inv.Levels == nil || len(inv.Levels) != 0 {
		t.Errorf("variant 5011 inventory %+v, want none", inv)
	}
	page, err := r.List(ctx, products.ListQuery{Shop: testShop, IncludeDeleted: true, Limit: products.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Products) != 41 {
		t.Fatalf("%d products listed, want 41", len(page.Products))
	}
	for _, lp := range page.Products {
		var id int64
		fmt.Sscan(lp.ID, &id)
		fromList, _ := json.Marshal(lp)
		single, _ := json.Marshal(e.product(t, id))
		if string(fromList) != string(single) {
			t.Errorf("product %d listed as\n %s\nread alone as\n %s", id, fromList, single)
		}
	}
}

func TestListRefuses(t *testing.T) {
	r := products.NewReader(nil) // never reaches the pool
	for _, tc := range []struct {
		q    products.ListQuery
		want error
	}{
		{products.ListQuery{Shop: "s", Sort: "vendor"}, products.ErrInvalidSort},
		{products.ListQuery{Shop: "s", Sort: "title DESC, (SELECT 1)"}, products.ErrInvalidSort},
		{products.ListQuery{Shop: "s", Limit: products.MaxLimit + 1}, products.ErrInvalidLimit},
		{products.ListQuery{Shop: "s", Limit: -5}, products.ErrInvalidLimit},
		{products.ListQuery{}, products.ErrMissingShop},
		{products.ListQuery{Shop: "s", After: &products.ListPosition{Value: "Linen", ID: 1}}, products.ErrInvalidPosition},
	} {
		if _, err := r.List(context.Background(), tc.q); !errors.Is(err, tc.want) || !errors.Is(err, products.ErrInvalidQuery) {
			t.Errorf("List(%+v) = %v, want %v", tc.q, err, tc.want)
		}
	}
}
