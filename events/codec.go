package events

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
)

// Kafka header names every event record carries.
const (
	HeaderEventType   = "event_type"
	HeaderEventID     = "event_id"
	HeaderTraceparent = "traceparent"
)

// ErrUnknownSchema is returned by Decode for a record whose schema id this codec does not know
// (an event version newer than this binary, or bytes that are not ours).
var ErrUnknownSchema = errors.New("unknown schema id")

// Registry registers a schema under a subject and returns its id (a Confluent-compatible
// schema registry, or the embedded one).
type Registry interface {
	Register(ctx context.Context, subject, schema string) (int, error)
}

// Codec encodes events in the Confluent wire format (magic byte, 4-byte schema id, Avro body)
// and decodes them back.
type Codec struct {
	cat    *Catalogue
	prefix string
	serde  *sr.Serde
	ids    map[string]int // event type → schema id
}

// NewCodec registers every schema of the catalogue and returns a codec for them. Records go
// to topicPrefix + the kind's topic (an empty prefix in production; tests and shared clusters
// use one to keep their topics apart).
func NewCodec(ctx context.Context, cat *Catalogue, reg Registry, topicPrefix string) (*Codec, error) {
	c := &Codec{cat: cat, prefix: topicPrefix, serde: sr.NewSerde(), ids: map[string]int{}}
	for _, k := range cat.Kinds() {
		id, err := reg.Register(ctx, k.Subject(), k.Schema.String())
		if err != nil {
			return nil, fmt.Errorf("register schema of %s: %w", k.Type, err)
		}
		c.ids[k.Type] = id
		schema, newFn := k.Schema, k.New
		c.serde.Register(id, newFn(),
			sr.EncodeFn(func(v any) ([]byte, error) { return avro.Marshal(schema, v) }),
			sr.DecodeFn(func(b []byte, v any) error { return avro.Unmarshal(schema, b, v) }),
			sr.GenerateFn(func() any { return newFn() }),
		)
	}
	return c, nil
}

// SchemaID returns the registry id of an event type's schema.
func (c *Codec) SchemaID(eventType string) int { return c.ids[eventType] }

// Topic returns the name of a topic with this codec's prefix.
func (c *Codec) Topic(topic string) string { return c.prefix + topic }

// Encode returns the wire bytes of an event.
func (c *Codec) Encode(ev Event) ([]byte, error) {
	b, err := c.serde.Encode(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.Meta().EventType, err)
	}
	return b, nil
}

// Decode reads wire bytes back into an event.
func (c *Codec) Decode(b []byte) (Event, error) {
	v, err := c.serde.DecodeNew(b)
	if err != nil {
		if errors.Is(err, sr.ErrNotRegistered) {
			id, _, _ := c.serde.DecodeID(b)
			return nil, fmt.Errorf("%w %d", ErrUnknownSchema, id)
		}
		return nil, fmt.Errorf("decode event: %w", err)
	}
	ev, ok := v.(Event)
	if !ok {
		return nil, fmt.Errorf("decode event: %s is not an Event", reflect.TypeOf(v))
	}
	return ev, nil
}

// Record builds the Kafka record of an event: its topic, key, value and headers.
func (c *Codec) Record(ev Event, traceparent string) (*kgo.Record, error) {
	m := ev.Meta()
	k, ok := c.cat.Kind(m.EventType)
	if !ok {
		return nil, fmt.Errorf("event type %q is not in the catalogue", m.EventType)
	}
	value, err := c.Encode(ev)
	if err != nil {
		return nil, err
	}
	r := &kgo.Record{
		Topic: c.Topic(k.Topic),
		Key:   []byte(ev.Key()),
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
