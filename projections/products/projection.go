// Package products is the products read model: products with their options and variants, and
// the tombstones of deleted products, folded from the commerce topic; and the queries the API
// reads them with.
//
// As for orders (projections/orders), the tables are a function of the set of events seen, not
// of their order: duplicates, late deliveries and any batch split give the same rows.
//
// # Which version of a product wins
//
// ProductCreated and ProductUpdated (webhooks, with the variants) and ProductSnapshotted (a bulk
// export, without them) each carry the product as it stood at product.updated_at, which Shopify
// moves on any change of the product or of one of its variants. The products row holds the
// greatest version seen, versions ordered by
//
//	(updated_at, snapshot above webhook, bulk operation id)
//
// So an older updated_at never wins, and at an equal one:
//   - another webhook (a duplicate, or products/create and products/update of one change) changes
//     nothing;
//   - a snapshot replaces a webhook: it describes the same version more fully (the variants' unit
//     cost, which products webhooks do not carry);
//   - of two bulk exports, the later one (the greater bulk operation id) wins.
//
// # Variants
//
// A product's variants are those of its winning version:
//
//   - a webhook's variants replace them when its version wins;
//   - a bulk export brings each variant as its own event (ProductVariantSnapshotted, keyed by the
//     product, tagged with the bulk operation B), before or after the product's row. They are kept
//     aside (product_variant_snapshots) and B's variants become the product's variants when B's
//     ProductSnapshotted wins the row; variants of B arriving after that join them.
//
// A variant's unit cost (what the merchant pays for one unit, the inventory item's cost) reaches
// storeline only through bulk exports, so a variant's unit_cost is always its row in the
// product's newest export (the greatest of the exports' versions, by the order above), whichever
// version won: a newer webhook does not wipe it, and it is NULL until an export has seen the
// variant. The variants of the newest export are therefore kept aside for good (until a newer
// export replaces them); those of older exports, which can neither win nor give a cost, are
// dropped.
//
// A variant's own updated_at is stored, but does not decide anything: the product's version does.
//
// # Deleted products
//
// ProductDeleted makes the product's row a tombstone: deleted_at is set (the earliest deletion
// seen) and the product has no variants from then on. A deletion is final: no event brings the
// product back, even one whose updated_at is newer than deleted_at. Shopify never reuses a
// product id (a product created again is a new product, with a new id and its own row), so such
// an event can only be one fired around the deletion itself or stamped by a skewed clock, and
// the dashboard must not show a product Shopify no longer has. The tombstone keeps the newest
// version's fields (title, handle, ...) for reports over old orders, by the same version rule as
// a live product, so it too does not depend on arrival order; a deletion that came before any
// version of its product leaves a tombstone with ids and deleted_at only.
//
// Readers: Product and ProductByGID return a tombstone with DeletedAt set and no variants (an
// API can answer 410 Gone with it); Count counts live products only.
package products

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
)

// Projection folds product events into the read model.
type Projection struct{}

// Name implements projections.Projection.
func (Projection) Name() string { return "products" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicCommerce} }

// Tables are the tables of its read model, for blue/green rebuilds (projections.Tabled).
func (Projection) Tables() []string {
	return []string{"products", "product_variants", "product_snapshots", "product_variant_snapshots"}
}

// Apply implements projections.Projection. The batch is reduced in memory to the winning version
// of each product (by the rule the statements apply against the stored rows), then written with
// a handful of set-based statements, whatever the batch size.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	f := newFold()
	for _, r := range batch {
		f.add(r.Event)
	}
	return f.write(ctx, tx)
}

// version is one version of a product: from a webhook (bulkOperationID nil) or a bulk export.
type version struct {
	env             *events.Envelope
	product         *events.Product
	bulkOperationID *int64
}

// beats reports whether v is a newer version than w: a newer updated_at; at an equal one, a
// snapshot against a webhook, or the later of two exports. The statements of fold.go apply the
// same order in SQL.
func (v *version) beats(w *version) bool {
	if !v.product.UpdatedAt.Equal(w.product.UpdatedAt) {
		return v.product.UpdatedAt.After(w.product.UpdatedAt)
	}
	if v.bulkOperationID == nil || w.bulkOperationID == nil {
		return v.bulkOperationID != nil && w.bulkOperationID == nil
	}
	return *v.bulkOperationID > *w.bulkOperationID
}

type snapshotKey struct{ productID, bulkOperationID int64 }

type stagedVariantKey struct {
	snapshotKey
	variantID int64
}

type tombstone struct {
	productID  int64
	productGID string
	shop       string
	deletedAt  time.Time
	eventID    string
}

// fold is a batch reduced to what it writes.
type fold struct {
	versions       map[int64]*version
	versionOrder   []int64
	snapshots      map[snapshotKey]time.Time
	snapOrder      []snapshotKey
	variants       map[stagedVariantKey]struct{}
	stagedVariants []variantRow
	stagedProducts map[int64]struct{}
	tombstones     map[int64]*tombstone
	tombOrder      []int64
}

func newFold() *fold {
	return &fold{
		versions: map[int64]*version{}, snapshots: map[snapshotKey]time.Time{},
		variants: map[stagedVariantKey]struct{}{}, stagedProducts: map[int64]struct{}{}, tombstones: map[int64]*tombstone{},
	}
}

func (f *fold) add(ev events.Event) {
	switch e := ev.(type) {
	case *events.ProductCreated:
		f.addVersion(&version{env: &e.Envelope, product: &e.Product})
	case *events.ProductUpdated:
		f.addVersion(&version{env: &e.Envelope, product: &e.Product})
	case *events.ProductSnapshotted:
		bulk := e.BulkOperationID
		f.addVersion(&version{env: &e.Envelope, product: &e.Product, bulkOperationID: &bulk})
		k := snapshotKey{e.Product.ProductID, bulk}
		if _, ok := f.snapshots[k]; !ok {
			f.snapshots[k] = e.Product.UpdatedAt
			f.snapOrder = append(f.snapOrder, k)
		}
		f.stagedProducts[e.Product.ProductID] = struct{}{}
	case *events.ProductVariantSnapshotted:
		k := stagedVariantKey{snapshotKey{e.ProductID, e.BulkOperationID}, e.Variant.VariantID}
		if _, ok := f.variants[k]; !ok {
			f.variants[k] = struct{}{}
			row := newVariantRow(e.ProductID, &e.Variant)
			bulk := e.BulkOperationID
			row.BulkOperationID = &bulk
			f.stagedVariants = append(f.stagedVariants, row)
		}
		f.stagedProducts[e.ProductID] = struct{}{}
	case *events.ProductDeleted:
		t, ok := f.tombstones[e.ProductID]
		if !ok {
			f.tombstones[e.ProductID] = &tombstone{e.ProductID, e.ProductGID, e.Envelope.Shop, e.DeletedAt, e.Envelope.EventID}
			f.tombOrder = append(f.tombOrder, e.ProductID)
		} else if e.DeletedAt.Before(t.deletedAt) {
			t.deletedAt, t.eventID = e.DeletedAt, e.Envelope.EventID
		}
	}
}

// addVersion keeps v if it beats the batch's version of its product so far; on a tie the first
// one stays, as it would against a stored row.
func (f *fold) addVersion(v *version) {
	id := v.product.ProductID
	cur, ok := f.versions[id]
	if !ok {
		f.versions[id] = v
		f.versionOrder = append(f.versionOrder, id)
		return
	}
	if v.beats(cur) {
		f.versions[id] = v
	}
}

func (f *fold) empty() bool {
	return len(f.versions) == 0 && len(f.snapshots) == 0 && len(f.stagedVariants) == 0 && len(f.tombstones) == 0
}
