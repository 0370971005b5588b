package registry

import (
	"encoding/json"
	"fmt"
)

// The registry's log uses the record shapes of Confluent's _schemas topic, JSON keys and values:
//
//	{"keytype":"SCHEMA","subject":S,"version":N} → {"subject":S,"version":N,"id":ID,"schema":TEXT,"schemaType":"AVRO"}
//	{"keytype":"CONFIG","subject":S}             → {"compatibilityLevel":"BACKWARD"}  (S "" is global; tombstone: deleted)
//	{"keytype":"NOOP"}                           → {}  (a marker written to find the end of the log; see Store.catchUp)
//
// Keys are encoded from structs, so their field order is fixed and equal keys are equal bytes,
// which compaction relies on.
const (
	keyTypeSchema = "SCHEMA"
	keyTypeConfig = "CONFIG"
	keyTypeNoop   = "NOOP"

	schemaTypeAvro = "AVRO"
)

type schemaKey struct {
	KeyType string `json:"keytype"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

type configKey struct {
	KeyType string `json:"keytype"`
	Subject string `json:"subject"`
}

type noopKey struct {
	KeyType string `json:"keytype"`
}

// anyKey decodes any of the keys above.
type anyKey struct {
	KeyType string  `json:"keytype"`
	Subject *string `json:"subject"`
	Version int     `json:"version"`
}

// schemaValue is one version of a subject as the log records it. It is comparable: two records
// for one key agree exactly when their values are ==.
type schemaValue struct {
	Subject    string `json:"subject"`
	Version    int    `json:"version"`
	ID         int    `json:"id"`
	Schema     string `json:"schema"`
	SchemaType string `json:"schemaType"`
}

type configValue struct {
	CompatibilityLevel Level `json:"compatibilityLevel"`
}

func encodeSchemaRecord(v schemaValue) (key, value []byte) {
	key = mustJSON(schemaKey{KeyType: keyTypeSchema, Subject: v.Subject, Version: v.Version})
	value = mustJSON(v)
	return key, value
}

// encodeConfigRecord encodes a subject's compatibility level ("" subject: global); an empty level
// is a tombstone, deleting the configuration.
func encodeConfigRecord(subject string, level Level) (key, value []byte) {
	key = mustJSON(configKey{KeyType: keyTypeConfig, Subject: subject})
	if level != "" {
		value = mustJSON(configValue{CompatibilityLevel: level})
	}
	return key, value
}

func encodeNoopRecord() (key, value []byte) {
	return mustJSON(noopKey{KeyType: keyTypeNoop}), []byte("{}")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("registry: encode %T: %v", v, err)) // plain structs of strings and ints
	}
	return b
}
