package outbox

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Token is a consistency token: the outbox ids a command wrote (one command's rows are
// contiguous, the write lock sees to it). A read that carries it waits until its projections
// have read those rows' records from the log.
type Token struct {
	First, Last int64
}

// maxTokenRows bounds the rows one token may name: more than any command writes (a product's
// tags, a definition's collections), so a made-up token cannot make reads scan the outbox.
const maxTokenRows = 10_000

// ErrInvalidToken is returned for a token that does not parse or names rows never written.
var ErrInvalidToken = errors.New("invalid consistency token")

// ErrNotCaughtUp is returned when the projections have not passed the token in time.
var ErrNotCaughtUp = errors.New("projection has not caught up with the consistency token")

// String renders the token in its opaque wire form.
func (t Token) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte("o:" + strconv.FormatInt(t.First, 10) + ":" + strconv.FormatInt(t.Last, 10)))
}

// ParseToken parses String's form.
func ParseToken(s string) (Token, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return Token{}, fmt.Errorf("%w: not base64url", ErrInvalidToken)
	}
	parts := strings.Split(string(raw), ":")
	if len(parts) != 3 || parts[0] != "o" {
		return Token{}, fmt.Errorf("%w: unknown form", ErrInvalidToken)
	}
	first, err1 := strconv.ParseInt(parts[1], 10, 64)
	last, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || first < 1 || last < first || last-first >= maxTokenRows {
		return Token{}, fmt.Errorf("%w: bad range", ErrInvalidToken)
	}
	return Token{First: first, Last: last}, nil
}

// Waiter waits for projections to pass consistency tokens. It reads the outbox (where the relay
// wrote each row's partition and offset) and the projections' checkpoints, which a projection
// writes in the transaction that applies the records: past the checkpoint, the read model shows them.
type Waiter struct {
	pool *pgxpool.Pool
	// topics maps a projection's checkpoint name to the topics it reads: rows on other topics
	// cannot change it, so they are not waited for.
	topics map[string][]string
}

// NewWaiter returns a waiter over the given projections (checkpoint name → topics).
func NewWaiter(pool *pgxpool.Pool, projections map[string][]string) *Waiter {
	return &Waiter{pool: pool, topics: projections}
}

// Wait returns nil once every named projection has applied the token's records, ErrNotCaughtUp
// when ctx ends first, or ErrInvalidToken for a token naming rows that were never written.
func (w *Waiter) Wait(ctx context.Context, t Token, projections ...string) error {
	var maxID int64
	if err := w.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM outbox`).Scan(&maxID); err != nil {
		return fmt.Errorf("consistency: %w", err)
	}
	if t.Last > maxID {
		return fmt.Errorf("%w: no such command", ErrInvalidToken)
	}
	delay := 2 * time.Millisecond
	for {
		done := true
		for _, name := range projections {
			topics, ok := w.topics[name]
			if !ok {
				return fmt.Errorf("consistency: unknown projection %q", name)
			}
			var waiting int64
			err := w.pool.QueryRow(ctx, `
				SELECT count(*) FROM outbox o
				LEFT JOIN projection_checkpoints c
				       ON c.projection = coalesce((SELECT checkpoint FROM projection_versions v WHERE v.projection = $3 AND v.state = 'live'), $3)
				      AND c.topic = o.topic AND c.partition = o.published_partition
				WHERE o.id BETWEEN $1 AND $2 AND o.topic = ANY($4)
				  AND (o.published_at IS NULL OR coalesce(c.next_offset, 0) <= o.published_offset)`,
				t.First, t.Last, name, topics).Scan(&waiting)
			if err != nil {
				if ctx.Err() != nil {
					return ErrNotCaughtUp
				}
				return fmt.Errorf("consistency: %w", err)
			}
			if waiting > 0 {
				done = false
				break
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ErrNotCaughtUp
		case <-time.After(delay):
		}
		delay = min(delay*3/2, 25*time.Millisecond)
	}
}
