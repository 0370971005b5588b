// Package shopify turns what Shopify sends (webhook deliveries, later bulk-export rows) into
// storeline's domain events. It validates and translates; it does no I/O.
package shopify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/storeline/storeline/events"
)

// ErrInvalidPayload wraps every reason a delivery's body cannot become an event. The gateway
// answers it with 400.
var ErrInvalidPayload = errors.New("invalid payload")

// ErrUnsupportedTopic is returned for a webhook topic storeline does not translate (yet).
var ErrUnsupportedTopic = errors.New("unsupported webhook topic")

// Delivery is one webhook delivery as received: its headers and raw body.
type Delivery struct {
	Shop        string    // X-Shopify-Shop-Domain
	Topic       string    // X-Shopify-Topic, e.g. orders/create
	EventID     string    // X-Shopify-Event-Id: the same across redeliveries of one event
	WebhookID   string    // X-Shopify-Webhook-Id: one delivery attempt
	TriggeredAt time.Time // X-Shopify-Triggered-At (zero if absent)
	APIVersion  string    // X-Shopify-API-Version
	Body        []byte
	ReceivedAt  time.Time
}

// Sealer cuts a customer's personal data out of a Shopify payload and seals it under that
// customer's key, which is kept outside the log (package pii). clean is the rest of the payload
// as compact JSON; sealed is nil when the payload held no personal data. The event id is
// bound to the seal, so it cannot be moved to another event.
type Sealer interface {
	SealShopify(ctx context.Context, shop, topic, eventID string, payload []byte) (clean string, sealed *events.SealedPersonalData, err error)
}

// Translate turns a delivery into its domain event. Errors other than ErrInvalidPayload and
// ErrUnsupportedTopic are the sealer failing: the delivery is fine and may be retried.
func Translate(ctx context.Context, d Delivery, seal Sealer) (events.Event, error) {
	switch d.Topic {
	case "orders/create":
		return OrderCreated(ctx, d, seal)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedTopic, d.Topic)
	}
}

// eventID is deterministic from (shop, topic, X-Shopify-Event-Id), so every redelivery of one
// Shopify event becomes the same storeline event. Without an event id (very old API versions,
// hand-made requests) the body's hash stands in: the same body is the same event.
func (d Delivery) eventID() string {
	src := d.EventID
	if src == "" {
		sum := sha256.Sum256(d.Body)
		src = "sha256:" + hex.EncodeToString(sum[:])
	}
	return events.DeterministicID("shopify", d.Shop, d.Topic, src)
}

func (d Delivery) envelope(eventType, aggregateType, aggregateID string, occurredAt time.Time) events.Envelope {
	e := events.Envelope{
		EventID:       d.eventID(),
		EventType:     eventType,
		OccurredAt:    occurredAt.UTC(),
		RecordedAt:    d.ReceivedAt.UTC(),
		Shop:          d.Shop,
		AggregateType: aggregateType,
		AggregateID:   aggregateID,
		Actor:         events.Actor{Type: events.ActorShopify, ID: d.Shop},
		Source:        events.SourceWebhook,
		SourceTopic:   ptr(d.Topic),
	}
	if d.APIVersion != "" {
		e.APIVersion = ptr(d.APIVersion)
	}
	if d.EventID != "" {
		e.SourceEventID = ptr(d.EventID)
	}
	if d.WebhookID != "" {
		e.WebhookID = ptr(d.WebhookID)
	}
	if !d.TriggeredAt.IsZero() {
		t := d.TriggeredAt.UTC()
		e.TriggeredAt = &t
	}
	return e
}

// seal returns the delivery's payload without personal data, and that data sealed.
func (d Delivery) seal(ctx context.Context, s Sealer, eventID string) (string, *events.SealedPersonalData, error) {
	clean, sealed, err := s.SealShopify(ctx, d.Shop, d.Topic, eventID, d.Body)
	if err != nil {
		return "", nil, fmt.Errorf("seal personal data of %s %s: %w", d.Topic, eventID, err)
	}
	return clean, sealed, nil
}

func ptr[T any](v T) *T { return &v }

// decodeJSON parses a body into v, whose id fields are json.Number so that Shopify ids stay
// exact (they exceed float64's 2^53). Trailing data after the object is refused.
func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: malformed JSON: %v", ErrInvalidPayload, err)
	}
	return nil
}

// money is a Shopify amount: a decimal string ("19.99") or, in some payloads, a number.
type money string

func (m *money) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = money(s)
		return nil
	}
	*m = money(b)
	return nil
}

// converter turns Shopify's JSON values into event fields, keeping the first error, so a
// translation reads as a list of fields and checks once at the end.
type converter struct {
	currency string // shop currency of the payload's amounts
	err      error
}

func (c *converter) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: %s", ErrInvalidPayload, fmt.Sprintf(format, args...))
	}
}

// money returns an amount in the payload's shop currency.
func (c *converter) money(m money, field string) events.Money {
	if m == "" {
		return events.Money{Amount: new(big.Rat), CurrencyCode: c.currency}
	}
	r, ok := new(big.Rat).SetString(string(m))
	if !ok {
		c.fail("%s is not a decimal amount: %q", field, string(m))
		r = new(big.Rat)
	}
	return events.Money{Amount: r, CurrencyCode: c.currency}
}

// id returns a Shopify numeric id, exact.
func (c *converter) id(n json.Number, field string) int64 {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		c.fail("%s is not an integer id: %q", field, n.String())
	}
	return v
}

func (c *converter) optID(n *json.Number, field string) *int64 {
	if n == nil || *n == "" {
		return nil
	}
	v := c.id(*n, field)
	return &v
}

func (c *converter) time(s, field string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		c.fail("%s is not an RFC 3339 time: %q", field, s)
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (c *converter) optTime(s *string, field string) *time.Time {
	if s == nil || *s == "" {
		return nil
	}
	t := c.time(*s, field)
	return &t
}
