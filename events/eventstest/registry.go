package eventstest

import (
	"context"
	"fmt"
	"sync"

	"github.com/storeline/storeline/events"
)

// Registry is an in-process schema registry for unit tests: ids from 7 up in registration
// order, the same id for the same subject and text.
type Registry struct {
	mu      sync.Mutex
	ids     map[string]int
	schemas map[int]string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{ids: map[string]int{}, schemas: map[int]string{}}
}

// Register implements events.Registry.
func (r *Registry) Register(_ context.Context, subject, schema string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.ids[subject+"\x00"+schema]; ok {
		return id, nil
	}
	id := len(r.ids) + 7
	r.ids[subject+"\x00"+schema], r.schemas[id] = id, schema
	return id, nil
}

// SchemaByID implements events.Registry.
func (r *Registry) SchemaByID(_ context.Context, id int) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.schemas[id]
	if !ok {
		return "", fmt.Errorf("id %d: %w", id, events.ErrSchemaNotFound)
	}
	return s, nil
}

// NewCodec returns a codec over a fresh in-process registry.
func NewCodec(t interface {
	Helper()
	Fatal(...any)
}, topicPrefix string) *events.Codec {
	t.Helper()
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(context.Background(), cat, NewRegistry(), topicPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return codec
}
