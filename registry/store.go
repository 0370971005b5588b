// Package registry holds storeline's schema registry: a Confluent-compatible one of its own,
// kept in Postgres and served over HTTP when no external registry is configured, and a client
// for an external one (Confluent, Redpanda, Apicurio, Karapace) when it is.
package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned for an unknown schema id, subject or version.
var ErrNotFound = errors.New("not found")

// Store is the embedded registry: schemas by subject and version, with global ids.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns the registry kept in pool's database (table schema_registry).
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Register returns the id of schema under subject, adding it as the subject's next version if it
// is new. Registering the same text again returns the same id, as Confluent's registry does.
func (s *Store) Register(ctx context.Context, subject, schema string) (int, error) {
	for range 3 {
		var id int
		err := s.pool.QueryRow(ctx,
			`SELECT id FROM schema_registry WHERE subject = $1 AND schema = $2`, subject, schema).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("look up schema of %s: %w", subject, err)
		}
		// A concurrent registration of the same subject makes this insert conflict; look again.
		err = s.pool.QueryRow(ctx, `
INSERT INTO schema_registry (subject, version, schema)
SELECT $1, COALESCE(MAX(version), 0) + 1, $2 FROM schema_registry WHERE subject = $1
ON CONFLICT DO NOTHING
RETURNING id`, subject, schema).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("register schema of %s: %w", subject, err)
		}
	}
	return 0, fmt.Errorf("register schema of %s: lost the race three times", subject)
}

// Schema returns the schema text of an id.
func (s *Store) Schema(ctx context.Context, id int) (string, error) {
	var text string
	err := s.pool.QueryRow(ctx, `SELECT schema FROM schema_registry WHERE id = $1`, id).Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("schema %d: %w", id, err)
	}
	return text, nil
}

// Subjects lists every subject.
func (s *Store) Subjects(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT subject FROM schema_registry ORDER BY subject`)
	if err != nil {
		return nil, fmt.Errorf("list subjects: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Versions lists the versions of a subject.
func (s *Store) Versions(ctx context.Context, subject string) ([]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT version FROM schema_registry WHERE subject = $1 ORDER BY version`, subject)
	if err != nil {
		return nil, fmt.Errorf("list versions of %s: %w", subject, err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, ErrNotFound
	}
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = int(v)
	}
	return out, nil
}

// Version returns one version of a subject (version -1 is the latest).
func (s *Store) Version(ctx context.Context, subject string, version int) (id, v int, schema string, err error) {
	err = s.pool.QueryRow(ctx, `
SELECT id, version, schema FROM schema_registry
WHERE subject = $1 AND (version = $2 OR $2 = -1)
ORDER BY version DESC LIMIT 1`, subject, version).Scan(&id, &v, &schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, "", ErrNotFound
	}
	if err != nil {
		return 0, 0, "", fmt.Errorf("version %d of %s: %w", version, subject, err)
	}
	return id, v, schema, nil
}
