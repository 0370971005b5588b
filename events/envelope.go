// Package events defines storeline's domain events: their Go types, the envelope every event
// carries, the topics and keys they travel on, and their Avro encoding in the Confluent wire
// format. It does no I/O beyond registering schemas through the Registry it is given.
package events

import (
	"time"

	"github.com/google/uuid"
)

// Sources of events, as recorded in Envelope.Source.
const (
	SourceWebhook   = "webhook"
	SourceBulkSync  = "bulk_sync"
	SourceDashboard = "dashboard"
	SourceWorkflow  = "workflow"
	SourcePartner   = "partner"
)

// Envelope is the metadata every event carries (Avro record storeline.Envelope).
type Envelope struct {
	EventID       string     `avro:"event_id"`
	EventType     string     `avro:"event_type"`
	OccurredAt    time.Time  `avro:"occurred_at"`
	RecordedAt    time.Time  `avro:"recorded_at"`
	Shop          string     `avro:"shop"`
	AggregateType string     `avro:"aggregate_type"`
	AggregateID   string     `avro:"aggregate_id"`
	Source        string     `avro:"source"`
	SourceTopic   *string    `avro:"source_topic"`
	SourceEventID *string    `avro:"source_event_id"`
	WebhookID     *string    `avro:"webhook_id"`
	TriggeredAt   *time.Time `avro:"triggered_at"`
}

// eventIDSpace is the UUIDv5 namespace of storeline event ids. Changing it changes every
// deterministic id, so duplicates across the change would no longer be recognised: never change it.
var eventIDSpace = uuid.MustParse("6f1d9c2e-3b7a-5d42-9e0f-7c1a2b3c4d5e")

// DeterministicID derives an event id from the ids the source gave the fact, so that a redelivery
// or a re-run yields the same id. The parts are joined unambiguously (length-prefixed).
func DeterministicID(parts ...string) string {
	var b []byte
	for _, p := range parts {
		b = append(b, byte(len(p)>>24), byte(len(p)>>16), byte(len(p)>>8), byte(len(p)))
		b = append(b, p...)
	}
	return uuid.NewSHA1(eventIDSpace, b).String()
}

// Event is implemented by every domain event type.
type Event interface {
	// Meta returns the event's envelope.
	Meta() *Envelope
	// Key returns the Kafka record key: the aggregate that orders this event.
	Key() string
}
