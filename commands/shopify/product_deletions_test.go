package shopify

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
)

// TestProductDeletions: a product's destroy event of the events API becomes ProductDeleted,
// source bulk_sync, at the event's createdAt, with an id deterministic from shop and event;
// anything else is an invalid payload.
func TestProductDeletions(t *testing.T) {
	codec := eventstest.NewCodec(t, "")
	node := `{"id":"gid://shopify/BasicEvent/98765","action":"destroy","subjectId":"gid://shopify/Product/7712345678901","subjectType":"PRODUCT","createdAt":"2026-11-27T05:00:01Z"}`
	row := ProductDeletionRow{Shop: "northbound.myshopify.com", Node: []byte(node), APIVersion: "2026-01", CorrelationID: "run-1", RecordedAt: received}
	ev, err := TranslateProductDeletion(row)
	if err != nil {
		t.Fatal(err)
	}
	m := ev.Envelope
	if ev.ProductID != 7712345678901 || ev.ProductGID != "gid://shopify/Product/7712345678901" || !ev.DeletedAt.Equal(at("2026-11-27T05:00:01Z")) ||
		ev.PayloadJSON != node {
		t.Errorf("event %+v", ev)
	}
	if m.EventType != events.TypeProductDeleted || m.AggregateID != ev.ProductGID || !m.OccurredAt.Equal(ev.DeletedAt) || m.Source != events.SourceBulkSync ||
		*m.SourceTopic != BulkResourceProductDeletions || *m.CorrelationID != "run-1" || *m.APIVersion != "2026-01" || !m.RecordedAt.Equal(received) ||
		m.EventID != events.DeterministicID("shopify-event", "northbound.myshopify.com", "gid://shopify/BasicEvent/98765") {
		t.Errorf("envelope %+v", m)
	}
	if _, err := codec.Encode(ev); err != nil {
		t.Errorf("the real codec refuses it: %v", err)
	}
	row.RecordedAt = received.Add(time.Hour)
	if again, _ := TranslateProductDeletion(row); again.Envelope.EventID != m.EventID {
		t.Error("reading the deletion again changed the event id")
	}
	for _, bad := range []string{
		``, `{}`,
		`{"id":"gid://shopify/BasicEvent/1","action":"create","subjectId":"gid://shopify/Product/1","subjectType":"PRODUCT","createdAt":"2026-11-27T05:00:01Z"}`,
		`{"id":"gid://shopify/BasicEvent/1","action":"destroy","subjectId":"gid://shopify/Order/1","subjectType":"ORDER","createdAt":"2026-11-27T05:00:01Z"}`,
		`{"id":"gid://shopify/BasicEvent/1","action":"destroy","subjectId":"gid://shopify/Collection/1","subjectType":"PRODUCT","createdAt":"2026-11-27T05:00:01Z"}`,
		`{"id":"gid://shopify/Product/1","action":"destroy","subjectId":"gid://shopify/Product/1","subjectType":"PRODUCT","createdAt":"2026-11-27T05:00:01Z"}`,
		`{"id":"gid://shopify/BasicEvent/1","action":"destroy","subjectId":"gid://shopify/Product/1","subjectType":"PRODUCT","createdAt":"soon"}`,
	} {
		if _, err := TranslateProductDeletion(ProductDeletionRow{Shop: "s.myshopify.com", Node: []byte(bad)}); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%s: got %v, want ErrInvalidPayload", bad, err)
		}
	}
	if _, err := TranslateProductDeletion(ProductDeletionRow{Node: []byte(node)}); !errors.Is(err, ErrInvalidBulkRow) {
		t.Errorf("no shop: %v", err)
	}
	since := time.Date(2026, 3, 1, 12, 30, 15, 999_000_000, time.FixedZone("CET", 3600))
	if q := ProductDeletionsSearch(since); q != "subject_type:PRODUCT AND action:destroy AND created_at:>='2026-03-01T11:30:15Z'" {
		t.Errorf("search %q", q)
	}
	if q := ProductDeletionsSearch(time.Time{}); strings.Contains(q, "created_at") {
		t.Errorf("search without since %q", q)
	}
}
