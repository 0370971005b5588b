package events

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/schemas"
)

// Kafka header names every event record carries.
const (
	HeaderEventType   = "event_type"
	HeaderEventID     = "event_id"
	HeaderTraceparent = "traceparent"
)

// Errors of Encode and Decode, to tell a bad event or record from a failing registry.
var (
	// ErrInvalidEvent: the event breaks its schema or the envelope's rules; nothing was encoded.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrUnknownSchema: the record names a schema id the registry does not have, or a record
	// this version of storeline has no event type for.
	ErrUnknownSchema = errors.New("unknown schema")
	// ErrIncompatibleSchema: the writer's schema cannot be read with this version's schema.
	ErrIncompatibleSchema = errors.New("incompatible schema")
	// ErrUndecodable: the bytes are not an Avro record in the Confluent wire format.
	ErrUndecodable = errors.New("undecodable record")
)

// Registry registers schemas and looks them up by id: a Confluent-compatible schema registry,
// or the embedded one.
type Registry interface {
	Register(ctx context.Context, subject, schema string) (int, error)
	SchemaByID(ctx context.Context, id int) (string, error)
}

// ErrSchemaNotFound is what a Registry's SchemaByID wraps for an id it does not have.
var ErrSchemaNotFound = errors.New("schema not found")

// Codec encodes events in the Confluent wire format (magic byte 0, 4-byte big-endian schema id,
// Avro body) and decodes records written with any registered version of an event's schema,
// resolving the writer's schema into this binary's (upcasting).
type Codec struct {
	cat    *Catalogue
	prefix string
	reg    Registry
	ids    map[string]uint32    // event type → id of this binary's schema
	checks map[string]validator // event type → its validator (nil: nothing to check)

	mu      sync.RWMutex
	readers map[uint32]reader             // schema id → how to decode it
	writers map[uint32]*avro.RecordSchema // schema id → the writer's schema, as registered
}

// reader is how records of one schema id decode: into kind's Go type, through schema (the
// writer's schema resolved into the kind's).
type reader struct {
	kind   *Kind
	schema avro.Schema
}

// NewCodec registers every schema of the catalogue and returns a codec for them. Records go
// to topicPrefix + the kind's topic (an empty prefix in production; tests and shared clusters
// use one to keep their topics apart).
func NewCodec(ctx context.Context, cat *Catalogue, reg Registry, topicPrefix string) (*Codec, error) {
	c := &Codec{cat: cat, prefix: topicPrefix, reg: reg, ids: map[string]uint32{}, checks: map[string]validator{}, readers: map[uint32]reader{}, writers: map[uint32]*avro.RecordSchema{}}
	for _, k := range cat.Kinds() {
		c.checks[k.Type] = compileValidator(reflect.TypeOf(k.New()).Elem(), k.Schema, k.Type)
		id, err := reg.Register(ctx, k.Subject(), k.JSON)
		if err != nil {
			return nil, fmt.Errorf("register schema of %s: %w", k.Type, err)
		}
		c.ids[k.Type] = uint32(id)
		c.readers[uint32(id)] = reader{kind: k, schema: k.Schema}
	}
	return c, nil
}

// Catalogue returns the codec's catalogue.
func (c *Codec) Catalogue() *Catalogue { return c.cat }

// SchemaID returns the registry id of an event type's schema.
func (c *Codec) SchemaID(eventType string) int { return int(c.ids[eventType]) }

// Topic returns the name of a topic with this codec's prefix.
func (c *Codec) Topic(topic string) string { return c.prefix + topic }

// Encode validates an event and returns its wire bytes. An event that breaks its schema or the
// envelope's rules is refused with ErrInvalidEvent: it never reaches a topic.
func (c *Codec) Encode(ev Event) ([]byte, error) {
	k, err := c.check(ev)
	if err != nil {
		return nil, err
	}
	if check := c.checks[k.Type]; check != nil {
		if err := check(reflect.ValueOf(ev).Elem()); err != nil {
			return nil, fmt.Errorf("%w: %s %s: %v", ErrInvalidEvent, k.Type, ev.Meta().EventID, err)
		}
	}
	body, err := marshal(k.Schema, ev)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", ErrInvalidEvent, k.Type, ev.Meta().EventID, err)
	}
	out := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(out[1:], c.ids[k.Type])
	return append(out, body...), nil
}

// marshal encodes v, turning a panic of the encoder on a value it cannot take into an error.
func marshal(s avro.Schema, v any) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("avro encoder: %v", p)
		}
	}()
	return avro.Marshal(s, v)
}

// check validates what the schema cannot: the envelope's rules and the Go type of the event.
func (c *Codec) check(ev Event) (*Kind, error) {
	m := ev.Meta()
	k, ok := c.cat.Kind(m.EventType)
	if !ok {
		return nil, fmt.Errorf("%w: event type %q is not in the catalogue", ErrInvalidEvent, m.EventType)
	}
	fail := func(format string, args ...any) (*Kind, error) {
		return nil, fmt.Errorf("%w: %s %s: %s", ErrInvalidEvent, k.Type, m.EventID, fmt.Sprintf(format, args...))
	}
	if got, want := reflect.TypeOf(ev), reflect.TypeOf(k.New()); got != want {
		return fail("Go type %s, want %s", got, want)
	}
	if _, err := uuid.Parse(m.EventID); err != nil {
		return fail("event_id is not a UUID")
	}
	switch {
	case m.OccurredAt.IsZero():
		return fail("occurred_at is not set")
	case m.RecordedAt.IsZero():
		return fail("recorded_at is not set")
	case m.Shop == "" && k.Type != TypeRecordDeadLettered:
		return fail("shop is not set")
	case m.AggregateType != k.Aggregate:
		return fail("aggregate_type is %q, want %q", m.AggregateType, k.Aggregate)
	case m.AggregateID == "":
		return fail("aggregate_id (the key) is not set")
	case !slices.Contains(sources, m.Source):
		return fail("source %q is not one of %v", m.Source, sources)
	case !slices.Contains(actorTypes, m.Actor.Type) || m.Actor.ID == "":
		return fail("actor %q/%q: type must be one of %v and id set", m.Actor.Type, m.Actor.ID, actorTypes)
	case m.CausationID != nil && uuid.Validate(*m.CausationID) != nil:
		return fail("causation_id is not a UUID")
	}
	return k, nil
}

var (
	sources    = []string{SourceWebhook, SourceBulkSync, SourceDashboard, SourceWorkflow, SourcePartner, SourceSystem, SourceOperator}
	actorTypes = []string{ActorShopify, ActorUser, ActorPartner, ActorSystem, ActorOperator}
)

// Decode reads wire bytes back into an event, whichever registered version of its schema wrote
// them. Errors wrap ErrUndecodable, ErrUnknownSchema or ErrIncompatibleSchema for a record that
// will never decode (dead-letter it); any other error is the registry failing (retry).
func (c *Codec) Decode(ctx context.Context, b []byte) (Event, error) {
	if len(b) < 5 || b[0] != 0 {
		return nil, fmt.Errorf("%w: not in the Confluent wire format (magic byte 0, schema id)", ErrUndecodable)
	}
	id := binary.BigEndian.Uint32(b[1:5])
	r, err := c.reader(ctx, id)
	if err != nil {
		return nil, err
	}
	ev := r.kind.New()
	if err := avro.Unmarshal(r.schema, b[5:], ev); err != nil {
		return nil, fmt.Errorf("%w: %s with schema %d: %v", ErrUndecodable, r.kind.Type, id, err)
	}
	return ev, nil
}

// reader returns how to decode records of schema id, fetching the writer's schema from the
// registry the first time an id that this binary did not register is met.
func (c *Codec) reader(ctx context.Context, id uint32) (reader, error) {
	c.mu.RLock()
	r, ok := c.readers[id]
	c.mu.RUnlock()
	if ok {
		return r, nil
	}
	text, err := c.reg.SchemaByID(ctx, int(id))
	if errors.Is(err, ErrSchemaNotFound) {
		return reader{}, fmt.Errorf("%w: id %d is not in the registry", ErrUnknownSchema, id)
	}
	if err != nil {
		return reader{}, fmt.Errorf("fetch schema %d: %w", id, err)
	}
	writer, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return reader{}, fmt.Errorf("%w: schema %d does not parse: %v", ErrUnknownSchema, id, err)
	}
	named, ok := writer.(avro.NamedSchema)
	if !ok {
		return reader{}, fmt.Errorf("%w: schema %d is a %s, not an event record", ErrUnknownSchema, id, writer.Type())
	}
	k, ok := c.cat.KindOfRecord(named.FullName())
	if !ok {
		return reader{}, fmt.Errorf("%w: schema %d is %s, an event this version does not know", ErrUnknownSchema, id, named.FullName())
	}
	if err := schemas.Compatible(k.Schema, writer); err != nil {
		return reader{}, fmt.Errorf("%w: schema %d of %s: %v", ErrIncompatibleSchema, id, k.Type, err)
	}
	resolved, err := avro.NewSchemaCompatibility().Resolve(k.Schema, writer)
	if err != nil {
		return reader{}, fmt.Errorf("%w: schema %d of %s: %v", ErrIncompatibleSchema, id, k.Type, err)
	}
	r = reader{kind: k, schema: resolved}
	c.mu.Lock()
	c.readers[id] = r
	c.mu.Unlock()
	return r, nil
}

// WriterSchema returns the schema a record was written with, as the registry holds it, and the
// id the record names: for readers that follow the writer rather than this binary (the Iceberg
// sink gives a new field of a newer producer its own column). Errors wrap ErrUndecodable or
// ErrUnknownSchema for a record that will never have one (also a schema that is not a record);
// any other error is the registry failing (retry).
func (c *Codec) WriterSchema(ctx context.Context, b []byte) (*avro.RecordSchema, uint32, error) {
	if len(b) < 5 || b[0] != 0 {
		return nil, 0, fmt.Errorf("%w: not in the Confluent wire format (magic byte 0, schema id)", ErrUndecodable)
	}
	id := binary.BigEndian.Uint32(b[1:5])
	c.mu.RLock()
	w, ok := c.writers[id]
	c.mu.RUnlock()
	if ok {
		return w, id, nil
	}
	text, err := c.reg.SchemaByID(ctx, int(id))
	if errors.Is(err, ErrSchemaNotFound) {
		return nil, id, fmt.Errorf("%w: id %d is not in the registry", ErrUnknownSchema, id)
	}
	if err != nil {
		return nil, id, fmt.Errorf("fetch schema %d: %w", id, err)
	}
	parsed, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, id, fmt.Errorf("%w: schema %d does not parse: %v", ErrUnknownSchema, id, err)
	}
	w, ok = parsed.(*avro.RecordSchema)
	if !ok {
		return nil, id, fmt.Errorf("%w: schema %d is a %s, not an event record", ErrUnknownSchema, id, parsed.Type())
	}
	c.mu.Lock()
	c.writers[id] = w
	c.mu.Unlock()
	return w, id, nil
}

// Record builds the Kafka record of an event: its topic, key, value and headers.
func (c *Codec) Record(ev Event, traceparent string) (*kgo.Record, error) {
	value, err := c.Encode(ev)
	if err != nil {
		return nil, err
	}
	m := ev.Meta()
	k, _ := c.cat.Kind(m.EventType)
	r := &kgo.Record{
		Topic: c.Topic(k.Topic),
		Key:   []byte(Key(ev)),
		Value: value,
		Headers: []kgo.RecordHeader{
			{Key: HeaderEventType, Value: []byte(m.EventType)},
			{Key: HeaderEventID, Value: []byte(m.EventID)},
		},
	}
	if traceparent != "" {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderTraceparent, Value: []byte(traceparent)})
	}
	return r, nil
}
