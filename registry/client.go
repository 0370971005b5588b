package registry

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/sr"
)

// Remote registers schemas in an external Confluent-compatible registry.
type Remote struct {
	cl *sr.Client
}

// NewRemote returns a client of the registry at url.
func NewRemote(url string) (*Remote, error) {
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	return &Remote{cl: cl}, nil
}

// Register implements events.Registry.
func (r *Remote) Register(ctx context.Context, subject, schema string) (int, error) {
	ss, err := r.cl.CreateSchema(ctx, subject, sr.Schema{Schema: schema, Type: sr.TypeAvro})
	if err != nil {
		return 0, fmt.Errorf("register %s: %w", subject, err)
	}
	return ss.ID, nil
}
