// Package bulksync is the bulk sync workflow: it reconciles storeline with Shopify by exporting
// products (with variants), orders (with line items) and inventory levels (an export of
// inventory items with their levels; an item row records nothing) through Shopify's bulk
// operations and emitting one commerce event per exported object, so what webhooks missed
// (dropped, late, never sent) is made right.
//
// Every step is an event on the sync topic — SyncRunRequested, SyncRunStarted, per resource
// BulkOperationSubmitted, BulkOperationCompleted (or Failed), RowsEmitted checkpoints and
// WatermarkAdvanced, then SyncRunCompleted (or Failed) — and the workflow keeps no other state:
// on start it folds the sync topic into the runs of its shop and resumes an unfinished run at
// its last recorded step. A crash after a bulk operation was submitted polls that operation
// instead of submitting another; a crash while streaming the result re-opens it at the last
// checkpoint's byte offset. Rows re-emitted after a crash carry the same event ids (they are
// derived from shop, bulk operation and row), so nothing duplicates downstream.
//
// The watermark of a resource (the bulk operation's creation time) advances only when its
// export completed, was read to the end and held as many lines as Shopify counted objects: a
// FAILED, CANCELED or EXPIRED operation, a partialDataUrl or a short file never moves it. An
// incremental run exports what changed since the watermark minus a lookback (Shopify's
// updated_at is not a perfect cursor); a full run exports everything.
//
// A resource without a bulk export (product_deletions: Shopify's events, the products deleted
// since the watermark minus the lookback, whose products/delete webhook may have been lost) is
// read page by page with ordinary GraphQL queries (PagedExports) and records no bulk operation
// steps: once every page's events (ProductDeleted, ids from shop and Shopify's event) are
// acknowledged, one RowsEmitted with complete = true and an empty bulk_operation_gid, then
// WatermarkAdvanced to the time the read began. A crash before that reads it again from the
// first page; its events carry the same ids.
//
// One run per shop executes at a time, across processes (a PostgreSQL advisory lock).
package bulksync
