// Package fielderr carries field-level validation errors from a command's rules to the API, which
// answers them as a 400 problem listing each field (the same shape as the request schema's own
// validation errors).
package fielderr

import "strings"

// Field is one invalid field: where it is (body.scope.tag, query.limit), what is wrong, and the
// value given.
type Field struct {
	Location string `json:"location"`
	Message  string `json:"message"`
	Value    any    `json:"value,omitempty"`
}

// List collects field errors; its zero value is empty.
type List []Field

// Add records one invalid field.
func (l *List) Add(location, message string, value any) {
	*l = append(*l, Field{Location: location, Message: message, Value: value})
}

// Err returns the list as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return &Error{Fields: l}
}

// One returns an error about a single field.
func One(location, message string, value any) error {
	return &Error{Fields: List{{Location: location, Message: message, Value: value}}}
}

// Error is a request with invalid fields.
type Error struct{ Fields List }

func (e *Error) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Location + ": " + f.Message
	}
	return "invalid request: " + strings.Join(parts, "; ")
}
