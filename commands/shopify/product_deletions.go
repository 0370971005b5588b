package shopify

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storeline/storeline/events"
)

// BulkResourceProductDeletions is the resource of the product deletions the bulk sync reads
// from Shopify's events, recorded in envelope.source_topic of the ProductDeleted it emits.
// Shopify's events cannot be bulk-exported: they are read with ProductDeletionsQuery, page by
// page.
const BulkResourceProductDeletions = "product_deletions"

// ProductDeletionsQuery is the paginated Admin GraphQL query that lists product deletions: the
// events(query:) connection, 250 a page, oldest first. Variables: $query
// (ProductDeletionsSearch) and $after (the previous page's pageInfo.endCursor, or null). Each
// node is a BasicEvent { id action subjectId subjectType createdAt }: what
// TranslateProductDeletion reads.
const ProductDeletionsQuery = `query ProductDeletions($query: String!, $after: String) {
  events(first: 250, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ... on BasicEvent { id action subjectId subjectType createdAt }
    }
  }
}`

// ProductDeletionsSearch is the events search of the products deleted at or after since (every
// recorded deletion when since is zero), to the second, rounded down.
func ProductDeletionsSearch(since time.Time) string {
	q := "subject_type:PRODUCT AND action:destroy"
	if !since.IsZero() {
		q += " AND created_at:>='" + since.UTC().Truncate(time.Second).Format(time.RFC3339) + "'"
	}
	return q
}

// ProductDeletionRow is one node of a ProductDeletionsQuery page, with where it came from.
type ProductDeletionRow struct {
	Shop          string // the shop's myshopify domain
	Node          []byte // the JSON object of the BasicEvent, as Shopify answered it
	APIVersion    string // Admin API version of the client that ran the query
	CorrelationID string // the sync run's id, recorded as envelope.correlation_id
	RecordedAt    time.Time
}

// TranslateProductDeletion turns a product deletion event of Shopify's events API into
// ProductDeleted, source bulk_sync: occurred_at and deleted_at are the event's createdAt, the
// event id is deterministic from (shop, the deletion event's GID), so reading the same deletion
// again records the same event. A node that is not a product's destroy event wraps
// ErrInvalidPayload; an empty shop ErrInvalidBulkRow.
func TranslateProductDeletion(r ProductDeletionRow) (*events.ProductDeleted, error) {
	if r.Shop == "" {
		return nil, fmt.Errorf("%w: no shop", ErrInvalidBulkRow)
	}
	if !utf8.Valid(r.Node) {
		return nil, fmt.Errorf("%w: the event is not UTF-8", ErrInvalidPayload)
	}
	var e struct {
		ID          string `json:"id"`
		Action      string `json:"action"`
		SubjectID   string `json:"subjectId"`
		SubjectType string `json:"subjectType"`
		CreatedAt   string `json:"createdAt"`
	}
	if err := decodeJSON(r.Node, &e); err != nil {
		return nil, err
	}
	if !strings.EqualFold(e.SubjectType, "PRODUCT") || e.Action != "destroy" {
		return nil, fmt.Errorf("%w: event %q is a %q of a %q, not a product's destroy", ErrInvalidPayload, truncateForError(e.ID), truncateForError(e.Action), truncateForError(e.SubjectType))
	}
	if _, ok := gidID(e.ID, "BasicEvent"); !ok {
		if _, ok := gidID(e.ID, "Event"); !ok {
			return nil, fmt.Errorf("%w: event id %q is not a gid://shopify/BasicEvent/<id>", ErrInvalidPayload, truncateForError(e.ID))
		}
	}
	var c converter
	id := c.gid(e.SubjectID, "Product", "subjectId")
	at := c.time(e.CreatedAt, "createdAt")
	if c.err != nil {
		return nil, c.err
	}
	recorded := r.RecordedAt
	if recorded.IsZero() {
		recorded = time.Now()
	}
	env := events.Envelope{
		EventID:       events.DeterministicID("shopify-event", r.Shop, e.ID),
		EventType:     events.TypeProductDeleted,
		OccurredAt:    at,
		RecordedAt:    recorded.UTC(),
		Shop:          r.Shop,
		AggregateType: "Product",
		AggregateID:   gid("Product", id),
		Actor:         events.Actor{Type: events.ActorShopify, ID: r.Shop},
		Source:        events.SourceBulkSync,
		SourceTopic:   ptr(BulkResourceProductDeletions),
	}
	if r.CorrelationID != "" {
		env.CorrelationID = ptr(r.CorrelationID)
	}
	if r.APIVersion != "" {
		env.APIVersion = ptr(r.APIVersion)
	}
	return &events.ProductDeleted{
		Envelope:    env,
		ProductID:   id,
		ProductGID:  gid("Product", id),
		DeletedAt:   at,
		PayloadJSON: string(r.Node),
	}, nil
}
