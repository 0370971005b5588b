package recordset

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// Querier is what the read helpers query: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// All runs a query and scans every row with scan. No rows is an empty slice, never nil (a JSON
// list, not null).
func All[T any](ctx context.Context, db Querier, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
	if err != nil {
		return nil, err
	}
	return NonNil(out), nil
}

// ByUUID scans with scan the one row sql (taking id as $1) returns. found is false when id is not
// a UUID (no row can have it) or no row has it.
func ByUUID[T any](ctx context.Context, db Querier, scan func(pgx.Row) (T, error), sql, id string) (v T, found bool, err error) {
	if !IsUUID(id) {
		return v, false, nil
	}
	v, err = scan(db.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return v, false, nil
	}
	return v, err == nil, err
}
