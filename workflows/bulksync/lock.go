package bulksync

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PGLock is a Locker on PostgreSQL session advisory locks: held by one connection, released
// when unlocked or when that connection (its process) dies.
type PGLock struct {
	Pool *pgxpool.Pool
	Poll time.Duration // how often a waiting Lock tries again; default 1s
}

// Lock waits until it holds key's lock or ctx ends.
func (l PGLock) Lock(ctx context.Context, key string) (func(), error) {
	conn, err := l.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	poll := l.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&got); err != nil {
			conn.Release()
			return nil, fmt.Errorf("lock %s: %w", key, err)
		}
		if got {
			return func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key); err != nil {
					conn.Conn().Close(ctx) // closing the session releases the lock
				}
				conn.Release()
			}, nil
		}
		if err := sleepCtx(ctx, poll); err != nil {
			conn.Release()
			return nil, fmt.Errorf("lock %s: %w", key, err)
		}
	}
}
