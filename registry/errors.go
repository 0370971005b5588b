package registry

import (
	"errors"
	"fmt"
	"strings"

	"github.com/storeline/storeline/events"
)

// ErrNotFound is returned for an unknown schema id, subject, version or subject configuration;
// the more precise errors below match it with errors.Is.
var ErrNotFound = errors.New("not found")

// Not-found errors, each matching ErrNotFound with errors.Is. ErrSchemaNotFound also matches
// events.ErrSchemaNotFound, which the events codec looks for behind its Registry's SchemaByID.
var (
	ErrSubjectNotFound error = &notFoundError{what: "subject"}
	ErrVersionNotFound error = &notFoundError{what: "version"}
	ErrSchemaNotFound  error = &notFoundError{what: "schema", alias: events.ErrSchemaNotFound}
	// ErrConfigNotFound: the subject has no compatibility level of its own.
	ErrConfigNotFound error = &notFoundError{what: "subject-level compatibility"}
)

type notFoundError struct {
	what  string
	alias error
}

func (e *notFoundError) Error() string { return e.what + " not found" }

func (e *notFoundError) Is(target error) bool {
	return target == ErrNotFound || (e.alias != nil && target == e.alias)
}

// ErrIDCollision is returned when a schema's derived id is already held by a different schema.
// With 31-bit ids derived from SHA-256 this takes tens of thousands of schemas to become even
// remotely likely; the registry refuses the second schema instead of serving the wrong one.
var ErrIDCollision = errors.New("schema id already held by a different schema")

// ErrNotStarted is returned by a Store used before Start or after Close.
var ErrNotStarted = errors.New("schema registry store not running")

// InvalidSchemaError is a schema text that is not a valid Avro schema.
type InvalidSchemaError struct{ Reason string }

func (e *InvalidSchemaError) Error() string { return "invalid Avro schema: " + e.Reason }

// IncompatibleError is a schema refused by the subject's compatibility level.
type IncompatibleError struct {
	Subject  string
	Level    Level
	Messages []string // one per version it cannot be reconciled with, with hamba/avro's reason
}

func (e *IncompatibleError) Error() string {
	return fmt.Sprintf("Schema being registered is incompatible with an earlier schema for subject %q (compatibility %s), details: [%s]",
		e.Subject, e.Level, strings.Join(e.Messages, "; "))
}
