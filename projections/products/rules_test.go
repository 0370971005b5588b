package products_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/products"
)

// ruleScenario is a sequence of events (in log order) about products of its own, and what the
// read model must show once they are all applied.
type ruleScenario struct {
	name   string
	events []events.Event
	check  func(t *testing.T, e *env)
}

func ruleScenarios() []ruleScenario {
	v1, v2, v3 := t0.Add(time.Hour), t0.Add(2*time.Hour), t0.Add(3*time.Hour)
	v15 := t0.Add(90 * time.Minute)
	var sc []ruleScenario
	expect := func(t *testing.T, p *products.Product, title, vars string, deleted *time.Time) {
		t.Helper()
		if p.Title != title || variants(p) != vars || (deleted == nil) != (p.DeletedAt == nil) ||
			deleted != nil && !p.DeletedAt.Equal(*deleted) {
			t.Errorf("product %s = title %q variants %q deleted %v, want %q %q %v", p.ID, p.Title, variants(p), p.DeletedAt, title, vars, deleted)
		}
	}

	{
		created := webhook(events.TypeProductCreated, newProduct(201, v2, newVariant(11, "10", "1"), newVariant(12, "12", "1")), "c")
		sc = append(sc, ruleScenario{"duplicates and older versions change nothing",
			[]events.Event{created, created, webhook(events.TypeProductUpdated, newProduct(201, v1, newVariant(13, "1", "1")), "u"), created},
			func(t *testing.T, e *env) { expect(t, e.product(t, 201), "P201 v120", "11@- 12@-", nil) }})
	}
	{
		sc = append(sc, ruleScenario{"variants are replaced by the winning version",
			[]events.Event{
				webhook(events.TypeProductCreated, newProduct(202, v1, newVariant(21, "10", "1"), newVariant(22, "12", "1")), "c"),
				webhook(events.TypeProductUpdated, newProduct(202, v2, newVariant(21, "11", "1")), "u"),
			},
			func(t *testing.T, e *env) {
				p := e.product(t, 202)
				expect(t, p, "P202 v120", "21@-", nil)
				if p.Variants[0].Price != "11" || *p.Variants[0].Weight != 0.25 {
					t.Errorf("variant %+v", p.Variants[0])
				}
			}})
	}
	{
		sc = append(sc, ruleScenario{"a delete wins over an older update arriving after it",
			[]events.Event{
				webhook(events.TypeProductCreated, newProduct(203, v1, newVariant(31, "10", "1")), "c"),
				deleted(203, v2),
				webhook(events.TypeProductUpdated, newProduct(203, v15, newVariant(31, "9", "1")), "u"),
			},
			func(t *testing.T, e *env) { expect(t, e.product(t, 203), "P203 v90", "", &v2) }})
	}
	{
		sc = append(sc, ruleScenario{"a delete before any version leaves a tombstone the version only fills in",
			[]events.Event{deleted(204, v2), webhook(events.TypeProductCreated, newProduct(204, v1, newVariant(41, "10", "1")), "c")},
			func(t *testing.T, e *env) { expect(t, e.product(t, 204), "P204 v60", "", &v2) }})
	}
	{
		sc = append(sc, ruleScenario{"an update newer than the delete does not bring the product back",
			[]events.Event{
				webhook(events.TypeProductCreated, newProduct(205, v1, newVariant(51, "10", "1")), "c"),
				deleted(205, v2), deleted(205, v2),
				webhook(events.TypeProductUpdated, newProduct(205, v3, newVariant(51, "10", "1")), "u"),
			},
			func(t *testing.T, e *env) { expect(t, e.product(t, 205), "P205 v180", "", &v2) }})
	}
	{
		rows := snapshot(newProduct(206, v2, newVariant(61, "10", "2.5"), newVariant(62, "10", "3")), 900)
		sc = append(sc, ruleScenario{"a snapshot fills in a dropped webhook, variants before and after its product",
			[]events.Event{webhook(events.TypeProductCreated, newProduct(206, v1, newVariant(61, "10", "1")), "c"), rows[1], rows[0], rows[2]},
			func(t *testing.T, e *env) {
				p := e.product(t, 206)
				expect(t, p, "P206 v120", "61@2.5 62@3", nil)
				if p.BulkOperationID == nil || *p.BulkOperationID != "900" {
					t.Errorf("bulk operation %v, want 900", p.BulkOperationID)
				}
			}})
	}
	{
		sc = append(sc, ruleScenario{"a newer webhook wins over a snapshot and keeps the export's unit costs",
			append(snapshot(newProduct(207, v1, newVariant(71, "10", "2.5"), newVariant(72, "10", "3")), 900),
				webhook(events.TypeProductUpdated, newProduct(207, v2, newVariant(71, "11", "9"), newVariant(73, "10", "9")), "u")),
			func(t *testing.T, e *env) {
				p := e.product(t, 207)
				expect(t, p, "P207 v120", "71@2.5 73@-", nil)
				if p.BulkOperationID != nil || p.Variants[0].Price != "11" {
					t.Errorf("product 207 = bulk %v variant %+v, want the webhook's", p.BulkOperationID, p.Variants[0])
				}
			}})
	}
	{
		p208, p209 := newProduct(208, v1, newVariant(81, "10", "4")), newProduct(209, v1, newVariant(91, "10", "4"))
		sc = append(sc, ruleScenario{"at an equal version a snapshot beats a webhook",
			append(append([]events.Event{webhook(events.TypeProductCreated, p208, "c")}, snapshot(p208, 900)...),
				append(snapshot(p209, 900), webhook(events.TypeProductCreated, p209, "c"))...),
			func(t *testing.T, e *env) {
				for _, id := range []int64{208, 209} {
					if p := e.product(t, id); p.BulkOperationID == nil || p.Variants[0].UnitCost == nil {
						t.Errorf("product %d = bulk %v variants %q, want the snapshot's", id, p.BulkOperationID, variants(p))
					}
				}
			}})
	}
	{
		b1 := snapshot(newProduct(210, v1, newVariant(101, "10", "1"), newVariant(102, "10", "1")), 901)
		b2 := snapshot(newProduct(210, v2, newVariant(101, "10", "2")), 902)
		sc = append(sc, ruleScenario{"the newer of two bulk exports wins, the older one's variants go",
			[]events.Event{b2[1], b1[0], b1[1], b2[0], b1[2]},
			func(t *testing.T, e *env) {
				expect(t, e.product(t, 210), "P210 v120", "101@2", nil)
				if n := e.count(t, `SELECT count(*) FROM product_variant_snapshots WHERE product_id = 210 AND bulk_operation_id = 901`); n != 0 {
					t.Errorf("%d variants of the older export kept", n)
				}
			}})
	}
	{
		sc = append(sc, ruleScenario{"an export older than the winning webhook still gives the unit cost",
			append([]events.Event{webhook(events.TypeProductUpdated, newProduct(211, v2, newVariant(111, "10", "9")), "u")},
				snapshot(newProduct(211, v1, newVariant(111, "10", "2.5")), 900)...),
			func(t *testing.T, e *env) { expect(t, e.product(t, 211), "P211 v120", "111@2.5", nil) }})
	}
	{
		sc = append(sc, ruleScenario{"a deleted product's exported variants are forgotten",
			append(snapshot(newProduct(212, v1, newVariant(121, "10", "1")), 900), deleted(212, v2)),
			func(t *testing.T, e *env) {
				expect(t, e.product(t, 212), "P212 v60", "", &v2)
				if n := e.count(t, `SELECT count(*) FROM product_variant_snapshots WHERE product_id = 212`); n != 0 {
					t.Errorf("%d exported variants of a deleted product kept", n)
				}
			}})
	}
	{
		// products/delete dropped: the bulk sync's ProductDeleted (from Shopify's events API,
		// source bulk_sync) tombstones the product, and a snapshot read before the deletion
		// arriving after it does not bring it back.
		fromEvents := deleted(230, v2)
		fromEvents.Envelope = envelope(events.TypeProductDeleted, productGID(230), events.SourceBulkSync, v2, "events-api", "230")
		fromEvents.Envelope.SourceTopic = ptr("product_deletions")
		fromEvents.PayloadJSON = `{"id":"gid://shopify/BasicEvent/1","action":"destroy","subjectId":"gid://shopify/Product/230","subjectType":"PRODUCT","createdAt":"x"}`
		sc = append(sc, ruleScenario{"the bulk sync's deletion tombstones a product whose webhook was lost",
			append([]events.Event{webhook(events.TypeProductCreated, newProduct(230, v1, newVariant(2301, "10", "1")), "c"), fromEvents},
				snapshot(newProduct(230, v15, newVariant(2301, "9", "1")), 931)...),
			func(t *testing.T, e *env) { expect(t, e.product(t, 230), "P230 v90", "", &v2) }})
	}
	return sc
}

// TestWinningRules applies every scenario twice: one event per transaction (each event against
// the stored rows) and in large batches (events against each other in memory first).
func TestWinningRules(t *testing.T) {
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"one event per batch", 1}, {"large batches", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			e := setup(t)
			scenarios := ruleScenarios()
			for _, s := range scenarios {
				e.Append(t, s.events...)
			}
			e.Start(t, mode.maxBatch, nil)
			e.WaitApplied(t, 60*time.Second)
			for _, s := range scenarios {
				t.Run(s.name, func(t *testing.T) { s.check(t, e) })
			}
			// Live: 201, 202, 206, 207, 208, 209, 210, 211.
			if n, err := products.NewReader(e.Pool).Count(context.Background()); err != nil || n != 8 {
				t.Errorf("Count = %d, %v; want the 8 live products", n, err)
			}
		})
	}
}

func TestReaderByGIDAndNotFound(t *testing.T) {
	e := setup(t)
	e.Append(t, webhook(events.TypeProductCreated, newProduct(301, t0, newVariant(3011, "1", "1")), "c"))
	e.Start(t, 0, nil)
	e.WaitApplied(t, 30*time.Second)
	r := products.NewReader(e.Pool)
	byGID, err := r.ProductByGID(context.Background(), productGID(301))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byGID, e.product(t, 301)) {
		t.Errorf("by GID %+v differs from by id", byGID)
	}
	if _, err := r.Product(context.Background(), 302); err != products.ErrNotFound {
		t.Errorf("unknown product: %v, want ErrNotFound", err)
	}
	if _, err := r.ProductByGID(context.Background(), productGID(302)); err != products.ErrNotFound {
		t.Errorf("unknown GID: %v, want ErrNotFound", err)
	}
}
