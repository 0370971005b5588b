package products_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/products"
	"github.com/storeline/storeline/projections/recordset"
	"github.com/storeline/storeline/testkit"
)

// history is what the property tests deliver: random versions of random products, as webhooks
// (some dropped, some duplicated), bulk exports (complete, rows duplicated) and deletions,
// shuffled together.
type history struct {
	ids        []int64
	deliveries []events.Event
}

func randomHistory(rng *rand.Rand, firstID int64, n int) history {
	var h history
	dup := func() int {
		if rng.IntN(10) < 3 {
			return 1 + rng.IntN(2)
		}
		return 0
	}
	deliver := func(evs ...events.Event) {
		for _, ev := range evs {
			for range 1 + dup() {
				h.deliveries = append(h.deliveries, ev)
			}
		}
	}
	for i := range int64(n) {
		id := firstID + i
		h.ids = append(h.ids, id)
		at := t0.Add(time.Duration(rng.IntN(1_000_000)) * time.Microsecond)
		var versions []events.Product
		for range 1 + rng.IntN(4) {
			at = at.Add(time.Duration(1+rng.IntN(3_000_000)) * time.Microsecond)
			versions = append(versions, randomProduct(rng, id, at))
		}
		for k, p := range versions {
			if rng.IntN(10) < 2 {
				continue // dropped
			}
			deliver(webhook([]string{events.TypeProductCreated, events.TypeProductUpdated}[rng.IntN(2)], p, fmt.Sprint(k)))
		}
		if rng.IntN(10) < 7 {
			k := rng.IntN(len(versions))
			exports := []int{k}
			if rng.IntN(10) < 4 {
				exports = append(exports, k+rng.IntN(len(versions)-k)) // a second export, same or newer version
			}
			for j, k := range exports {
				p := versions[k]
				p.Variants = slices.Clone(p.Variants)
				for v := range p.Variants { // an export sees the unit costs of its day
					p.Variants[v].UnitCost = optMoney(fmt.Sprintf("%d.%02d", rng.IntN(50), rng.IntN(100)))
				}
				deliver(snapshot(p, 8_000_000+id*10+int64(j))...)
			}
		}
		if rng.IntN(4) == 0 { // deleted after a random version (versions after it must not matter)
			deliver(deleted(id, versions[rng.IntN(len(versions))].UpdatedAt.Add(time.Millisecond)))
		}
	}
	rng.Shuffle(len(h.deliveries), func(i, j int) { h.deliveries[i], h.deliveries[j] = h.deliveries[j], h.deliveries[i] })
	return h
}

func randomProduct(rng *rand.Rand, id int64, updated time.Time) events.Product {
	var vs []events.ProductVariant
	for v := range int64(5) {
		if rng.IntN(2) == 0 || v == 4 && len(vs) == 0 {
			variant := newVariant(id*10+v, fmt.Sprintf("%d.%04d", rng.IntN(1000), rng.IntN(10000)), "0")
			variant.Position = int32(len(vs) + 1)
			variant.InventoryQuantity = []*int32{nil, ptr(int32(rng.IntN(20) - 5))}[rng.IntN(2)]
			variant.CompareAtPrice = []*events.Money{nil, optMoney("999.99")}[rng.IntN(2)]
			variant.UpdatedAt = updated.Add(-time.Duration(rng.IntN(1000)) * time.Microsecond)
			vs = append(vs, variant)
		}
	}
	p := newProduct(id, updated, vs...)
	p.Title = fmt.Sprintf("P%d %d", id, rng.IntN(1000))
	p.Status = []string{"active", "draft", "archived"}[rng.IntN(3)]
	p.Tags = []string{"linen", fmt.Sprintf("t%d", rng.IntN(5))}[:rng.IntN(3)]
	if rng.IntN(2) == 0 {
		p.PublishedAt = ptr(updated)
	}
	return p
}

// expected folds the deliveries one by one with the rules of the package doc, the plain
// sequential way, into what the reader must return for each product.
func (h history) expected() map[int64]*products.Product {
	type export struct {
		bulk    int64
		updated time.Time
		header  bool
		rows    map[int64]events.ProductVariant
	}
	type state struct {
		product *events.Product
		bulk    *int64
		deleted *events.ProductDeleted
		exports map[int64]*export
	}
	states := map[int64]*state{}
	get := func(id int64) *state {
		if states[id] == nil {
			states[id] = &state{exports: map[int64]*export{}}
		}
		return states[id]
	}
	exp := func(s *state, bulk int64) *export {
		if s.exports[bulk] == nil {
			s.exports[bulk] = &export{bulk: bulk, rows: map[int64]events.ProductVariant{}}
		}
		return s.exports[bulk]
	}
	offer := func(p *events.Product, bulk *int64) {
		s := get(p.ProductID)
		newer := s.product == nil || p.UpdatedAt.After(s.product.UpdatedAt)
		if s.product != nil && p.UpdatedAt.Equal(s.product.UpdatedAt) {
			newer = bulk != nil && (s.bulk == nil || *bulk > *s.bulk)
		}
		if newer {
			s.product, s.bulk = p, bulk
		}
	}
	for _, ev := range h.deliveries {
		switch e := ev.(type) {
		case *events.ProductCreated:
			offer(&e.Product, nil)
		case *events.ProductUpdated:
			offer(&e.Product, nil)
		case *events.ProductSnapshotted:
			offer(&e.Product, &e.BulkOperationID)
			x := exp(get(e.Product.ProductID), e.BulkOperationID)
			x.updated, x.header = e.Product.UpdatedAt, true
		case *events.ProductVariantSnapshotted:
			exp(get(e.ProductID), e.BulkOperationID).rows[e.Variant.VariantID] = e.Variant
		case *events.ProductDeleted:
			if s := get(e.ProductID); s.deleted == nil || e.DeletedAt.Before(s.deleted.DeletedAt) {
				s.deleted = e
			}
		}
	}
	out := map[int64]*products.Product{}
	for id, s := range states {
		if s.product == nil && s.deleted == nil {
			continue
		}
		p := &products.Product{ID: fmt.Sprint(id), Tags: []string{}, Options: []products.Option{}, Variants: []products.Variant{}}
		if s.deleted != nil {
			p.GID, p.Shop, p.DeletedAt = s.deleted.ProductGID, s.deleted.Envelope.Shop, &s.deleted.DeletedAt
		}
		if s.product != nil {
			v := s.product
			p.GID, p.Shop, p.Title, p.Handle, p.Vendor, p.ProductType, p.Status = v.ProductGID, testShop, v.Title, v.Handle, v.Vendor, v.ProductType, v.Status
			p.Tags, p.FeaturedImageURL, p.CreatedAt, p.UpdatedAt, p.PublishedAt = recordset.NonNil(v.Tags), v.FeaturedImageURL, v.CreatedAt, v.UpdatedAt, v.PublishedAt
			for _, o := range v.Options {
				p.Options = append(p.Options, products.Option{ID: fmt.Sprint(o.OptionID), GID: o.OptionGID, Name: o.Name, Position: o.Position, Values: recordset.NonNil(o.Values)})
			}
			if s.bulk != nil {
				p.BulkOperationID = ptr(fmt.Sprint(*s.bulk))
			}
		}
		if s.deleted == nil {
			variants := s.product.Variants
			if s.bulk != nil {
				variants = nil
				for _, v := range s.exports[*s.bulk].rows {
					variants = append(variants, v)
				}
				slices.SortFunc(variants, func(a, b events.ProductVariant) int {
					return cmp.Or(cmp.Compare(a.Position, b.Position), cmp.Compare(a.VariantID, b.VariantID))
				})
			}
			var newest *export
			for _, x := range s.exports {
				if x.header && (newest == nil || x.updated.After(newest.updated) ||
					x.updated.Equal(newest.updated) && x.bulk > newest.bulk) {
					newest = x
				}
			}
			for _, v := range variants {
				var cost *events.Money
				if newest != nil {
					if row, ok := newest.rows[v.VariantID]; ok {
						cost = row.UnitCost
					}
				}
				p.Variants = append(p.Variants, expectVariant(v, cost))
			}
		}
		out[id] = p
	}
	return out
}

func expectVariant(v events.ProductVariant, cost *events.Money) products.Variant {
	return products.Variant{
		ID: fmt.Sprint(v.VariantID), GID: v.VariantGID, Title: v.Title, SKU: v.SKU, Barcode: v.Barcode, Position: v.Position,
		Currency: v.Price.CurrencyCode, Price: dec(v.Price), CompareAtPrice: optDec(v.CompareAtPrice), UnitCost: optDec(cost),
		InventoryItemID: fmt.Sprint(v.InventoryItemID), InventoryItemGID: v.InventoryItemGID, InventoryQuantity: v.InventoryQuantity,
		InventoryPolicy: v.InventoryPolicy, Taxable: v.Taxable, RequiresShipping: v.RequiresShipping, Weight: v.Weight,
		WeightUnit: v.WeightUnit, Option1: v.Option1, Option2: v.Option2, Option3: v.Option3, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
		// No inventory level in these histories (the inventory projection does not run).
		Inventory: products.Inventory{Levels: []products.InventoryLevel{}},
	}
}

func dec(m events.Money) string {
	s := new(big.Rat).Set(m.Amount).FloatString(4)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

func optDec(m *events.Money) *string {
	if m == nil {
		return nil
	}
	return ptr(dec(*m))
}

func checkEqual(t *testing.T, r *products.Reader, ids []int64, want map[int64]*products.Product) {
	t.Helper()
	bad := 0
	for _, id := range ids {
		got, err := r.Product(context.Background(), id)
		if want[id] == nil {
			if err != products.ErrNotFound {
				t.Errorf("product %d: %v, want not found", id, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("product %d: %v", id, err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want[id])
		if string(g) != string(w) {
			if bad++; bad <= 3 {
				t.Errorf("product %d:\n got  %s\n want %s", id, g, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d products differ from the sequential fold", bad, len(ids))
	}
}

// TestPropertyRandomBatches applies random histories in random batch splits straight to the
// projection (no Kafka, to try many) and checks every product equals the sequential fold.
func TestPropertyRandomBatches(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 43))
		h := randomHistory(rng, 1_000_000+int64(seed)*1000, 30)
		for rest := h.deliveries; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN([]int{1, 5, 40, 500}[seed%4]))
			recs := make([]projections.Record, n)
			for i, ev := range rest[:n] {
				recs[i] = projections.Record{Topic: events.TopicCommerce, Event: ev}
			}
			if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return products.Projection{}.Apply(ctx, tx, recs) }); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			rest = rest[n:]
		}
		checkEqual(t, products.NewReader(pool), h.ids, h.expected())
	}
	// Kept aside: only variants of a product's newest export, or of an export whose product
	// row has not arrived.
	var stale int64
	if err := pool.QueryRow(ctx, `
SELECT count(*) FROM product_variant_snapshots s JOIN product_snapshots h USING (product_id, bulk_operation_id)
WHERE EXISTS (SELECT 1 FROM product_snapshots n WHERE n.product_id = s.product_id
              AND (n.updated_at, n.bulk_operation_id) > (h.updated_at, h.bulk_operation_id))
   OR EXISTS (SELECT 1 FROM products p WHERE p.product_id = s.product_id AND p.deleted_at IS NOT NULL)`).Scan(&stale); err != nil {
		t.Fatal(err)
	}
	if stale != 0 {
		t.Errorf("%d kept-aside variants that can be of no use", stale)
	}
}

// TestPropertyThroughKafka delivers a random history through the log to the running projection
// in small batches and checks every product equals the sequential fold.
func TestPropertyThroughKafka(t *testing.T) {
	e := setup(t)
	h := randomHistory(rand.New(rand.NewPCG(8, 8)), 2_000_000, 40)
	e.AppendMany(t, h.deliveries)
	e.Start(t, 7, nil)
	e.WaitApplied(t, 60*time.Second)
	checkEqual(t, products.NewReader(e.Pool), h.ids, h.expected())
}
