// Package shopify turns what Shopify sends (webhook deliveries, later bulk-export rows) into
// storeline's domain events. It validates and translates; it does no I/O.
package shopify

import (
	"bytes"
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

// Translate turns a delivery into its domain event.
func Translate(d Delivery) (events.Event, error) {
	switch d.Topic {
	case "orders/create":
		return OrderCreated(d)
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
		Source:        events.SourceWebhook,
		SourceTopic:   ptr(d.Topic),
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

func ptr[T any](v T) *T { return &v }

// decodeJSON parses a body keeping numbers exact (Shopify ids exceed float64's 2^53).
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: malformed JSON: %v", ErrInvalidPayload, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidPayload)
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

func (m money) rat(field string) (*big.Rat, error) {
	if m == "" {
		return new(big.Rat), nil
	}
	r, ok := new(big.Rat).SetString(string(m))
	if !ok {
		return nil, fmt.Errorf("%w: %s is not a decimal amount: %q", ErrInvalidPayload, field, string(m))
	}
	return r, nil
}

// id is a Shopify numeric id, exact.
func id(n json.Number, field string) (int64, error) {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s is not an integer id: %q", ErrInvalidPayload, field, n.String())
	}
	return v, nil
}

func optID(n *json.Number, field string) (*int64, error) {
	if n == nil || *n == "" {
		return nil, nil
	}
	v, err := id(*n, field)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func timestamp(s, field string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s is not an RFC 3339 time: %q", ErrInvalidPayload, field, s)
	}
	return t.UTC().Truncate(time.Microsecond), nil
}
