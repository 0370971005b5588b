package products_test

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/products"
	"github.com/storeline/storeline/projections/projectiontest"
)

const testShop = "demo.myshopify.com"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func money(amount string) events.Money {
	r, ok := new(big.Rat).SetString(amount)
	if !ok {
		panic("bad amount " + amount)
	}
	return events.Money{Amount: r, CurrencyCode: "EUR"}
}

func optMoney(amount string) *events.Money { m := money(amount); return &m }

func ptr[T any](v T) *T { return &v }

func productGID(id int64) string { return fmt.Sprintf("gid://shopify/Product/%d", id) }

func envelope(eventType, aggregateID, source string, occurred time.Time, idParts ...string) events.Envelope {
	actor := events.Actor{Type: events.ActorShopify, ID: testShop}
	if source == events.SourceBulkSync {
		actor = events.Actor{Type: events.ActorSystem, ID: "workflows/bulk-sync"}
	}
	return events.Envelope{
		EventID:   events.DeterministicID(append([]string{"products-test", eventType}, idParts...)...),
		EventType: eventType, OccurredAt: occurred, RecordedAt: occurred.Add(time.Minute), Shop: testShop,
		AggregateType: "Product", AggregateID: aggregateID, Actor: actor, Source: source,
	}
}

// newProduct is a product at version updated with the given variants; its title names the
// version (minutes after t0) so that two versions differ.
func newProduct(id int64, updated time.Time, variants ...events.ProductVariant) events.Product {
	return events.Product{
		ProductID: id, ProductGID: productGID(id), Title: fmt.Sprintf("P%d v%d", id, int64(updated.Sub(t0).Minutes())),
		Handle: fmt.Sprintf("p-%d", id), Vendor: ptr("ACME"), Status: "active", Tags: []string{"linen"},
		CreatedAt: t0, UpdatedAt: updated,
		Options: []events.ProductOption{{OptionID: id, OptionGID: fmt.Sprintf("gid://shopify/ProductOption/%d", id),
			Name: "Size", Position: 1, Values: []string{"S", "M"}}},
		Variants: append([]events.ProductVariant{}, variants...),
	}
}

// newVariant is a variant with a unit cost, as a bulk export sees it (webhooks drop the cost).
func newVariant(id int64, price, cost string) events.ProductVariant {
	return events.ProductVariant{
		VariantID: id, VariantGID: fmt.Sprintf("gid://shopify/ProductVariant/%d", id), Title: fmt.Sprintf("V%d", id),
		SKU: ptr(fmt.Sprintf("SKU-%d", id)), Price: money(price), Position: int32(id % 10),
		InventoryItemID: id * 3, InventoryItemGID: fmt.Sprintf("gid://shopify/InventoryItem/%d", id*3),
		InventoryQuantity: ptr(int32(5)), InventoryPolicy: ptr("deny"), Taxable: true, Weight: ptr(0.25), WeightUnit: ptr("kg"),
		Option1: ptr("S"), CreatedAt: t0, UpdatedAt: t0, UnitCost: optMoney(cost),
	}
}

// webhook wraps p in a products/create or products/update event; a webhook carries no unit cost.
func webhook(eventType string, p events.Product, tag string) events.Event {
	p.Variants = append([]events.ProductVariant{}, p.Variants...)
	for i := range p.Variants {
		p.Variants[i].UnitCost = nil
	}
	env := envelope(eventType, p.ProductGID, events.SourceWebhook, p.UpdatedAt, fmt.Sprint(p.ProductID), p.UpdatedAt.String(), tag)
	switch eventType {
	case events.TypeProductCreated:
		return &events.ProductCreated{Envelope: env, Product: p, PayloadJSON: "{}"}
	case events.TypeProductUpdated:
		return &events.ProductUpdated{Envelope: env, Product: p, PayloadJSON: "{}"}
	}
	panic("not a product webhook: " + eventType)
}

// snapshot is the bulk export bulk's rows of product p: the product, then its variants.
func snapshot(p events.Product, bulk int64) []events.Event {
	head := p
	head.Variants = []events.ProductVariant{}
	out := []events.Event{&events.ProductSnapshotted{
		Envelope:        envelope(events.TypeProductSnapshotted, p.ProductGID, events.SourceBulkSync, p.UpdatedAt, fmt.Sprint(bulk), fmt.Sprint(p.ProductID)),
		BulkOperationID: bulk, BulkOperationGID: fmt.Sprintf("gid://shopify/BulkOperation/%d", bulk), Row: 1, Product: head, PayloadJSON: "{}",
	}}
	for i, v := range p.Variants {
		out = append(out, &events.ProductVariantSnapshotted{
			Envelope: envelope(events.TypeProductVariantSnapshotted, p.ProductGID, events.SourceBulkSync, v.UpdatedAt,
				fmt.Sprint(bulk), fmt.Sprint(p.ProductID), fmt.Sprint(v.VariantID)),
			BulkOperationID: bulk, BulkOperationGID: fmt.Sprintf("gid://shopify/BulkOperation/%d", bulk), Row: int64(i + 2),
			ProductID: p.ProductID, ProductGID: p.ProductGID, Variant: v, PayloadJSON: "{}",
		})
	}
	return out
}

func deleted(id int64, at time.Time) *events.ProductDeleted {
	return &events.ProductDeleted{
		Envelope:  envelope(events.TypeProductDeleted, productGID(id), events.SourceWebhook, at, fmt.Sprint(id), at.String()),
		ProductID: id, ProductGID: productGID(id), DeletedAt: at, PayloadJSON: fmt.Sprintf(`{"id":%d}`, id),
	}
}

// env is a fresh database and fresh topics on the shared Kafka, with a producer.
// env is the shared harness on the products projection.
type env struct{ *projectiontest.Env }

func setup(t testing.TB) *env { return &env{projectiontest.Setup(t, products.Projection{})} }

func (e *env) product(t testing.TB, id int64) *products.Product {
	t.Helper()
	p, err := products.NewReader(e.Pool).Product(context.Background(), id)
	if err != nil {
		t.Fatalf("product %d: %v", id, err)
	}
	return p
}

func (e *env) count(t testing.TB, sql string) int64 {
	t.Helper()
	var n int64
	if err := e.Pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// variants lists a product's variant ids with their unit costs, e.g. "11@2.5 12@-".
func variants(p *products.Product) string {
	var parts []string
	for _, v := range p.Variants {
		cost := "-"
		if v.UnitCost != nil {
			cost = *v.UnitCost
		}
		parts = append(parts, fmt.Sprintf("%s@%s", v.ID, cost))
	}
	return strings.Join(parts, " ")
}
