package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/hamba/avro/v2"
)

// parsedSchema is a registered (or candidate) schema text with the forms the registry compares.
type parsedSchema struct {
	text   string      // exactly as registered: docs, defaults and formatting kept
	schema avro.Schema // for compatibility checks
	// identity is the schema in a normalized JSON form that keeps everything that can change how
	// data is read or documented (names, types, defaults, aliases, docs, order, logical types,
	// custom properties) and drops formatting and attribute order. Two texts with the same
	// identity are the same schema: the same id, the same version of a subject.
	identity string
}

// parseSchema parses an Avro schema text on its own: named types it references must be defined
// in it (schema references are not supported), and nothing leaks between parses, unlike
// avro.Parse's process-wide cache.
func parseSchema(text string) (*parsedSchema, error) {
	if text == "" {
		return nil, &InvalidSchemaError{Reason: "empty schema"}
	}
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, &InvalidSchemaError{Reason: err.Error()}
	}
	norm, err := json.Marshal(s)
	if err != nil {
		return nil, &InvalidSchemaError{Reason: fmt.Sprintf("normalize: %v", err)}
	}
	return &parsedSchema{text: text, schema: s, identity: string(norm)}, nil
}

// SchemaID is the id the registry gives a schema text: a positive int32 taken from the SHA-256 of
// the schema's normalized form, so every process derives the same id without coordination and
// the same schema registered under several subjects has one id, as in Confluent's registry.
//
// The normalized form is hamba/avro's JSON encoding of the parsed schema, not Avro's Parsing
// Canonical Form: the canonical form strips defaults, aliases and docs, so a new version that only
// adds a default (which changes how old data is read, and what FORWARD checks accept) would collapse
// into the previous one. Confluent's registry likewise tells such schemas apart.
//
// Two different schemas have the same id with probability about n²/2³² for n schemas; the store
// refuses to register the second one (ErrIDCollision) rather than serve the wrong schema for an id.
func SchemaID(schema string) (int, error) {
	p, err := parseSchema(schema)
	if err != nil {
		return 0, err
	}
	return p.id(), nil
}

func (p *parsedSchema) id() int {
	sum := sha256.Sum256([]byte(p.identity))
	id := int(binary.BigEndian.Uint32(sum[:4]) & 0x7fffffff)
	if id == 0 {
		id = 1
	}
	return id
}
