// Package tags is the tags read model: the tag definitions and tag collections merchants keep
// in storeline, and the tags storeline put on products, folded from the publication topic; the
// queries the API reads them with; and tag analytics (orders, units and revenue per tag) over
// the commerce read models.
//
// # Versions
//
// Definitions, collections and a product's storeline-managed tags are aggregates storeline
// decides: each event carries the aggregate's version after it (1 on creation, one more per
// later event). A row keeps the version that wrote it and an event writes only where its
// version is greater, so a duplicate, or an older event replayed after a newer one, changes
// nothing, and the tables do not depend on how the log is cut into batches.
//
// A removal (TagDefinitionRemoved, TagCollectionRemoved) makes the row a tombstone: removed_at
// is set and the other fields keep the last version's values. Lists leave tombstones out;
// Definition and Collection return them (RemovedAt set) so the API can answer 410 Gone and so
// objectives and product tags naming a removed definition still resolve. A later Set (a newer
// version) brings the row back. A removal of a definition or collection the read model never saw
// set changes nothing: its events share a partition, in order, so its Set always comes first.
//
// # Product tags
//
// ProductTagged and ProductUntagged are versioned per product (the aggregate is the product's
// storeline-managed tags). Each (product, tag) row is written by the newest event about that
// tag, tags compared case-insensitively as Shopify does; an untagged tag stays as a tombstone
// so that an older ProductTagged cannot put it back and the product's version (the greatest of
// its rows) is right. Tags added or removed in Shopify's admin are not here (they arrive as
// product updates into products.tags); tag analytics reads both.
//
// An event without aggregate_version (a breach of the contract) counts as version 0: it may
// create a row but never overwrites one.
package tags

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/recordset"
)

// Projection folds tag events into the read model.
type Projection struct{}

// Name implements projections.Projection.
func (Projection) Name() string { return "tags" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicPublication} }

// Tables are the tables of its read model, for blue/green rebuilds (projections.Tabled).
func (Projection) Tables() []string {
	return []string{"tag_definitions", "tag_collections", "product_tags"}
}

// Apply implements projections.Projection: the batch's rows go in one statement per kind, sent
// as one round trip, each statement keeping the newest version per key (DISTINCT ON) and writing
// it only over an older stored one. Upserts run before removals, so a batch holding both a Set
// and the Removed after it ends with the tombstone (and a Set after a Removed, with the row).
func (Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	var (
		defs                      []definitionRow
		colls                     []collectionRow
		defRemovals, collRemovals []removalRow
		productTags               []productTagRow
	)
	for _, r := range batch {
		switch e := r.Event.(type) {
		case *events.TagDefinitionSet:
			defs = append(defs, newDefinitionRow(e))
		case *events.TagDefinitionRemoved:
			defRemovals = append(defRemovals, newRemovalRow(&e.Envelope, e.TagDefinitionID))
		case *events.TagCollectionSet:
			colls = append(colls, newCollectionRow(e))
		case *events.TagCollectionRemoved:
			collRemovals = append(collRemovals, newRemovalRow(&e.Envelope, e.TagCollectionID))
		case *events.ProductTagged:
			productTags = append(productTags, newTaggedRow(e))
		case *events.ProductUntagged:
			productTags = append(productTags, newUntaggedRow(e))
		}
	}
	b := &pgx.Batch{}
	err := errors.Join(
		recordset.Queue(b, upsertDefinitions, defs), recordset.Queue(b, removeDefinitions, defRemovals),
		recordset.Queue(b, upsertCollections, colls), recordset.Queue(b, removeCollections, collRemovals),
		recordset.Queue(b, upsertProductTags, productTags))
	if err != nil {
		return fmt.Errorf("fold tags: %w", err)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("fold tags: %w", err)
	}
	return nil
}
