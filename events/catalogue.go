package events

import (
	"fmt"
	"io/fs"

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

// Kind describes one event type: where it travels and how it is encoded.
type Kind struct {
	Type       string       // event type, also the Kafka header event_type
	Topic      string       // topic it is produced to
	SchemaFile string       // path in schemas.FS
	New        func() Event // a zero value to decode into
	Schema     avro.Schema  // parsed SchemaFile
}

// Subject is the schema-registry subject of the kind (TopicRecordNameStrategy, since a topic
// carries several event types).
func (k *Kind) Subject() string {
	return k.Topic + "-" + k.Schema.(avro.NamedSchema).FullName()
}

// Catalogue maps every event type to its Kind.
type Catalogue struct {
	byType map[string]*Kind
	kinds  []*Kind
}

// kinds is the list every event type is declared in; keep it in step with schemas/.
func kinds() []*Kind {
	return []*Kind{
		{Type: TypeOrderCreated, Topic: TopicCommerce, SchemaFile: "commerce/order_created.avsc", New: func() Event { return new(OrderCreated) }},
	}
}

// LoadCatalogue parses every schema of the catalogue.
func LoadCatalogue() (*Catalogue, error) {
	c := &Catalogue{byType: map[string]*Kind{}}
	for _, k := range kinds() {
		text, err := fs.ReadFile(schemas.FS, k.SchemaFile)
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", k.SchemaFile, err)
		}
		k.Schema, err = avro.Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", k.SchemaFile, err)
		}
		c.byType[k.Type] = k
		c.kinds = append(c.kinds, k)
	}
	return c, nil
}

// Kinds returns every kind in declaration order.
func (c *Catalogue) Kinds() []*Kind { return c.kinds }

// Kind returns the kind of an event type.
func (c *Catalogue) Kind(eventType string) (*Kind, bool) {
	k, ok := c.byType[eventType]
	return k, ok
}
