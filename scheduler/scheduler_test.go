package scheduler

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

func TestNewRefusesABadSpec(t *testing.T) {
	if _, err := New([]Job{{Name: "x", Spec: "every day at six", Fire: func(context.Context, time.Time) error { return nil }}}, slog.Default()); err == nil {
		t.Fatal("a bad spec was accepted")
	}
}

// The daily bulk sync fires at 06:00 UTC, at nothing else.
func TestDailyBulkSyncIsSixUTC(t *testing.T) {
	s, err := New([]Job{{Name: "bulk-sync", Spec: DailyBulkSync, Fire: func(context.Context, time.Time) error { return nil }}}, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	_ = s
	next := mustNext(t, DailyBulkSync, time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("after 06:00 the next firing is %s, want %s", next, want)
	}
	if next := mustNext(t, DailyBulkSync, time.Date(2026, 11, 27, 5, 59, 0, 0, time.UTC)); !next.Equal(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("before 06:00 the next firing is %s", next)
	}
}

// A failing firing is retried until it succeeds.
func TestFireRetriesUntilItSucceeds(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	j := Job{Name: "j", Spec: "* * * * *", Fire: func(context.Context, time.Time) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls < 3 {
			return errors.New("kafka down")
		}
		return nil
	}}
	s, err := New([]Job{j}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return at }
	var slept []time.Duration
	s.sleep = func(_ context.Context, d time.Duration) bool { slept = append(slept, d); return true }
	s.fire(context.Background(), j, at, at.Add(24*time.Hour))
	if calls != 3 || len(slept) != 2 || slept[1] != 2*slept[0] {
		t.Errorf("fired %d times after sleeping %v, want 3 with a doubling backoff", calls, slept)
	}
}

func mustNext(t *testing.T, spec string, after time.Time) time.Time {
	t.Helper()
	s, err := cronParse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s.Next(after)
}
