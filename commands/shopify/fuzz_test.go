package shopify

import (
	"context"
	"errors"
	"testing"

	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/pii/piitest"
)

// FuzzTranslate feeds every topic's translator arbitrary bodies, through the real personal-data
// sealer (package pii, in-memory keys). A body may be refused only as ErrInvalidPayload (or
// ErrNoEvent for bulk_operations/finish, ErrUnsupportedTopic for a topic storeline does not
// take); a body that translates must encode with the real
// codec, or the gateway would store neither the event nor a dead letter. No panics.
//
//	go test -fuzz=FuzzTranslate -fuzztime=20s ./commands/shopify/
func FuzzTranslate(f *testing.F) {
	topics := Topics()
	for i, s := range samples.Webhooks {
		f.Add(uint8(i), s.Body)
	}
	f.Add(uint8(0), samples.OrdersCreate)
	for _, seed := range []string{``, `null`, `[]`, `{}`, `{"id":1}`, `{"id":"1"}`, `{"id":1e3}`, `{"id":-1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z"}`,
		`{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","total_price":"9999999999999999.9999"}`,
		`{"id":1,"currency":"EUR","created_at":"0001-01-01T00:00:00Z","line_items":[{"id":2,"tax_lines":[{"price":"9999999999999999"},{"price":"1"}]}]}`,
		`{"shop_id":1,"customer":{"id":2,"email":"a@b"},"data_request":{"id":3}}`} {
		for i := range topics {
			f.Add(uint8(i), []byte(seed))
		}
	}
	sealer, _ := piitest.NewSealer()
	seal := PersonalData{Sealer: sealer}
	c := eventstest.NewCodec(f, "")
	f.Fuzz(func(t *testing.T, topic uint8, body []byte) {
		d := delivery(topics[int(topic)%len(topics)], body)
		if topic >= 240 { // a topic storeline does not take
			d.Topic = "fuzz/" + d.Topic
		}
		ev, err := Translate(context.Background(), d, seal)
		if topic >= 240 {
			if !errors.Is(err, ErrUnsupportedTopic) {
				t.Fatalf("%s: got %v, want ErrUnsupportedTopic", d.Topic, err)
			}
			return
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) && !errors.Is(err, ErrNoEvent) {
				t.Fatalf("%s: error %v is neither ErrInvalidPayload nor ErrNoEvent", d.Topic, err)
			}
			if ev != nil {
				t.Fatalf("%s: an event with an error", d.Topic)
			}
			if errors.Is(err, ErrInvalidPayload) {
				if _, kerr := Keep(context.Background(), d, seal); kerr != nil {
					t.Fatalf("%s: a body that does not translate cannot be kept: %v", d.Topic, kerr)
				}
			}
			return
		}
		if _, err := c.Encode(ev); err != nil {
			t.Fatalf("%s: translated, but the codec refuses the event: %v", d.Topic, err)
		}
	})
}

// FuzzTranslateBulkRow does the same for bulk-export rows.
//
//	go test -fuzz=FuzzTranslateBulkRow -fuzztime=20s ./commands/shopify/
func FuzzTranslateBulkRow(f *testing.F) {
	for _, l := range append(append(samples.BulkProducts(), samples.BulkOrders()...), samples.BulkInventory()...) {
		f.Add(l)
	}
	for _, seed := range []string{``, `{}`, `{"id":"gid://shopify/Product/1"}`, `{"id":"gid://shopify/LineItem/1","__parentId":"gid://shopify/Order/2","customAttributes":[{"key":"a","value":"b"}]}`,
		`{"id":"gid://shopify/Order/1","currencyCode":"EUR","updatedAt":"2026-01-01T00:00:00Z","customer":{"id":"gid://shopify/Customer/2","email":"x"}}`} {
		f.Add([]byte(seed))
	}
	sealer, _ := piitest.NewSealer()
	seal := PersonalData{Sealer: sealer}
	c := eventstest.NewCodec(f, "")
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := TranslateBulkRow(context.Background(), bulkRow(line, 1), seal)
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error %v is not ErrInvalidPayload", err)
			}
			return
		}
		if ev == nil { // an InventoryItem row: no event
			return
		}
		if _, err := c.Encode(ev); err != nil {
			t.Fatalf("translated, but the codec refuses the event: %v", err)
		}
	})
}
