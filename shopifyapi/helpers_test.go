package shopifyapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock advances only when slept on, instantly, and records every wait.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func(d time.Duration) // optional hook, called after the clock advanced
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.sleeps = append(f.sleeps, d)
	hook := f.onSleep
	f.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// blockingClock never ends a sleep by itself: only ctx does. Each sleep that starts is
// announced on sleeping, if set.
type blockingClock struct{ sleeping chan struct{} }

func (blockingClock) Now() time.Time { return time.Unix(0, 0) }
func (b blockingClock) Sleep(ctx context.Context, _ time.Duration) error {
	if b.sleeping != nil {
		b.sleeping <- struct{}{}
	}
	<-ctx.Done()
	return ctx.Err()
}

// recordingJitter returns the top of the range it is given (the worst case), and records
// the ranges, so tests can check the backoff's ceilings.
type recordingJitter struct {
	mu     sync.Mutex
	ranges []time.Duration
}

func (j *recordingJitter) jitter(d time.Duration) time.Duration {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ranges = append(j.ranges, d)
	if d <= 0 {
		return 0
	}
	return d - time.Millisecond
}

func (j *recordingJitter) Ranges() []time.Duration {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]time.Duration(nil), j.ranges...)
}

// gqlReq is a decoded GraphQL request as a test server sees it.
type gqlReq struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

func decodeGQL(t testing.TB, r *http.Request) gqlReq {
	t.Helper()
	var g gqlReq
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("reading request: %v", err)
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Errorf("request body %q: %v", b, err)
	}
	return g
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// costExt is an extensions.cost block.
func costExt(requested, actual any, max, avail, rate float64) map[string]any {
	return map[string]any{"cost": map[string]any{
		"requestedQueryCost": requested, "actualQueryCost": actual,
		"throttleStatus": map[string]any{"maximumAvailable": max, "currentlyAvailable": avail, "restoreRate": rate},
	}}
}

// newTestClient starts srv's handler and returns a client of it with a fake clock and the
// recording jitter. edit may change the config before New.
func newTestClient(t testing.TB, h http.Handler, edit func(*Config)) (*Client, *fakeClock, *recordingJitter, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	jit := &recordingJitter{}
	cfg := Config{
		Shop: "northbound.myshopify.com", AccessToken: "shpat_test", BaseURL: srv.URL,
		Clock: clock, Jitter: jit.jitter, RetryBaseDelay: 100 * time.Millisecond, RetryMaxDelay: time.Second,
		Timeout: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, clock, jit, srv
}
