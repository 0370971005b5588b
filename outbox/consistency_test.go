package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/storeline/storeline/outbox"
	"github.com/storeline/storeline/testkit"
)

// TestWaiter: a token is passed only once every row it names is published and the projection's
// checkpoint is past each row's offset; rows on topics the projection does not read do not count.
func TestWaiter(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO outbox (id, topic, record_key, record_value, headers) VALUES
		(1, 'publication', 'a', '', '[]'), (2, 'publication', 'b', '', '[]'), (3, 'sync', 'c', '', '[]')`)
	w := outbox.NewWaiter(pool, map[string][]string{"objectives": {"publication"}})
	tok := outbox.Token{First: 1, Last: 3}
	wait := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return w.Wait(ctx, tok, "objectives")
	}
	if err := wait(100 * time.Millisecond); !errors.Is(err, outbox.ErrNotCaughtUp) {
		t.Fatalf("unpublished rows: %v, want ErrNotCaughtUp", err)
	}
	exec(`UPDATE outbox SET published_partition = id - 1, published_offset = 10, published_at = now() WHERE id IN (1, 2)`)
	exec(`INSERT INTO projection_checkpoints (projection, topic, partition, next_offset) VALUES ('objectives', 'publication', 0, 11), ('objectives', 'publication', 1, 10)`)
	if err := wait(100 * time.Millisecond); !errors.Is(err, outbox.ErrNotCaughtUp) {
		t.Fatalf("partition 1 not past offset 10: %v, want ErrNotCaughtUp", err)
	}
	// The projection catches up while a read waits: the read returns.
	done := make(chan error, 1)
	go func() { done <- wait(10 * time.Second) }()
	exec(`UPDATE projection_checkpoints SET next_offset = 11 WHERE partition = 1`)
	if err := <-done; err != nil {
		t.Fatalf("caught up: %v", err)
	}
	// A token beyond every row written is refused, not waited for.
	if err := w.Wait(ctx, outbox.Token{First: 4, Last: 9}, "objectives"); !errors.Is(err, outbox.ErrInvalidToken) {
		t.Fatalf("future token: %v, want ErrInvalidToken", err)
	}
}
