package registry

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/twmb/franz-go/pkg/sr"
)

// Remote registers and fetches schemas in an external Confluent-compatible registry.
type Remote struct {
	cl   *sr.Client
	byID sync.Map // int → string: a schema id never changes meaning, so it is fetched once
}

// NewRemote returns a client of the registry at url.
//
// Credentials for a registry that needs them (Confluent Cloud, a Karapace behind auth, storeline's
// own registry with its write token) go in the URL's user info, https://user:password@host: they
// are sent as basic auth, not as part of the URL.
func NewRemote(rawURL string) (*Remote, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("schema registry URL: %w", err)
	}
	opts := []sr.ClientOpt{}
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, sr.BasicAuth(u.User.Username(), pass))
		u.User = nil
	}
	cl, err := sr.NewClient(append(opts, sr.URLs(u.String()))...)
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

// SchemaByID returns the text of the schema with id; an id the registry does not know is
// ErrSchemaNotFound.
func (r *Remote) SchemaByID(ctx context.Context, id int) (string, error) {
	if text, ok := r.byID.Load(id); ok {
		return text.(string), nil
	}
	s, err := r.cl.SchemaByID(ctx, id)
	if err != nil {
		var re *sr.ResponseError
		if errors.As(err, &re) && re.ErrorCode == sr.ErrSchemaNotFound.Code {
			return "", fmt.Errorf("%w: id %d: %v", ErrSchemaNotFound, id, err)
		}
		return "", fmt.Errorf("schema %d: %w", id, err)
	}
	r.byID.Store(id, s.Schema)
	return s.Schema, nil
}
