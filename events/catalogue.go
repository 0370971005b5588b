package events

import (
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/schemas"
)

// Topics of the event log. Their records are kept forever: projections and the lake are
// rebuilt by replaying them.
const (
	TopicCommerce    = "commerce"
	TopicPublication = "publication"
	TopicSync        = "sync"
)

// Topics lists every event topic.
var Topics = []string{TopicCommerce, TopicPublication, TopicSync}

// Kind describes one event type: where it travels, how it is keyed and encoded.
type Kind struct {
	Type         string       // event type, <topic>.<RecordName>; also the Kafka header event_type
	Topic        string       // topic it is produced to (without the deployment's prefix)
	File         string       // its schema's path in schemas.FS
	Aggregate    string       // aggregate type named by the envelope
	KeyDoc       string       // how the key (envelope.aggregate_id) is formed
	PersonalData string       // what personal data the event holds, and how
	New          func() Event // a zero value of its Go type
	Schema       avro.Schema  // the parsed schema, the reader schema of this binary
	JSON         string       // the self-contained schema text registered in the registry
}

// Subject is the schema-registry subject of the kind: TopicRecordNameStrategy,
// <topic>-<record full name>, since a topic carries several event types (schemas/README.md).
func (k *Kind) Subject() string {
	return k.Topic + "-" + k.Schema.(avro.NamedSchema).FullName()
}

// Catalogue maps every event type to its Kind: the one registry of event type → topic, key
// and schema.
type Catalogue struct {
	kinds    []*Kind
	byType   map[string]*Kind
	byRecord map[string]*Kind // record full name → kind
}

// LoadCatalogue parses every schema of schemas/ and joins it with its generated Go type.
func LoadCatalogue() (*Catalogue, error) {
	evs, err := schemas.Load(schemas.FS)
	if err != nil {
		return nil, err
	}
	goTypes := map[string]func() Event{}
	for _, g := range generated {
		goTypes[g.eventType] = g.newEvent
	}
	c := &Catalogue{byType: map[string]*Kind{}, byRecord: map[string]*Kind{}}
	for _, e := range evs {
		newEvent, ok := goTypes[e.Type()]
		if !ok {
			return nil, fmt.Errorf("event %s (%s) has no Go type: run go generate ./events", e.Type(), e.File)
		}
		text, err := e.JSON()
		if err != nil {
			return nil, err
		}
		k := &Kind{
			Type: e.Type(), Topic: e.Topic, File: e.File,
			Aggregate:    e.Prop(schemas.PropAggregate),
			KeyDoc:       e.Prop(schemas.PropKey),
			PersonalData: e.Prop(schemas.PropPersonalData),
			New:          newEvent, Schema: e.Schema, JSON: text,
		}
		c.kinds = append(c.kinds, k)
		c.byType[k.Type] = k
		c.byRecord[e.Schema.FullName()] = k
	}
	if len(c.kinds) != len(generated) {
		return nil, fmt.Errorf("%d Go event types for %d schemas: run go generate ./events", len(generated), len(c.kinds))
	}
	return c, nil
}

// Kinds returns every kind, by topic and file name.
func (c *Catalogue) Kinds() []*Kind { return c.kinds }

// Kind returns the kind of an event type.
func (c *Catalogue) Kind(eventType string) (*Kind, bool) {
	k, ok := c.byType[eventType]
	return k, ok
}

// KindOfRecord returns the kind whose schema is the record of that full name
// (e.g. storeline.commerce.OrderCreated).
func (c *Catalogue) KindOfRecord(fullName string) (*Kind, bool) {
	k, ok := c.byRecord[fullName]
	return k, ok
}
