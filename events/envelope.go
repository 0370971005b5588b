// Package events defines storeline's domain events: their Go types, the envelope every event
// carries, the topics and keys they travel on, and their Avro encoding in the Confluent wire
// format. It does no I/O beyond registering schemas through the Registry it is given.
package events

import (
	"github.com/google/uuid"
)

// Sources of events, as recorded in Envelope.Source.
const (
	SourceWebhook   = "webhook"
	SourceBulkSync  = "bulk_sync"
	SourceDashboard = "dashboard"
	SourceWorkflow  = "workflow"
	SourcePartner   = "partner"
	SourceSystem    = "system"
	SourceOperator  = "operator"
)

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

// Event is implemented by every domain event type (the generated types of zz_types.go).
type Event interface {
	// Meta returns the event's envelope.
	Meta() *Envelope
}

// Key returns the Kafka record key of an event: its aggregate id, so that one aggregate's
// events stay in one partition, in order.
func Key(ev Event) string { return ev.Meta().AggregateID }

// Actor types, as recorded in Envelope.Actor.Type.
const (
	ActorShopify  = "shopify"
	ActorUser     = "user"
	ActorPartner  = "partner"
	ActorSystem   = "system"
	ActorOperator = "operator"
)
