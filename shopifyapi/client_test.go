package shopifyapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		endpoint string
		wantErr  string
	}{
		{"default endpoint", Config{Shop: "northbound.myshopify.com", AccessToken: "t"},
			"https://northbound.myshopify.com/admin/api/" + DefaultAPIVersion + "/graphql.json", ""},
		{"bare handle, scheme and slash dropped", Config{Shop: "https://Northbound/", AccessToken: "t", APIVersion: "2026-01"},
			"https://northbound.myshopify.com/admin/api/2026-01/graphql.json", ""},
		{"origin override gets the path", Config{Shop: "x", AccessToken: "t", BaseURL: "http://127.0.0.1:9/", APIVersion: "unstable"},
			"http://127.0.0.1:9/admin/api/unstable/graphql.json", ""},
		{"full override kept", Config{Shop: "x", AccessToken: "t", BaseURL: "http://sim/shops/x/graphql.json"},
			"http://sim/shops/x/graphql.json", ""},
		{"no shop", Config{AccessToken: "t"}, "", "no shop"},
		{"bad shop", Config{Shop: "a shop", AccessToken: "t"}, "", "not a myshopify domain"},
		{"no token", Config{Shop: "x"}, "", "no access token"},
		{"bad version", Config{Shop: "x", AccessToken: "t", APIVersion: "2025-13"}, "", "not YYYY-MM"},
		{"relative base", Config{Shop: "x", AccessToken: "t", BaseURL: "/graphql"}, "", "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint() != tt.endpoint {
				t.Errorf("endpoint = %s, want %s", c.Endpoint(), tt.endpoint)
			}
		})
	}
}

func TestDoSendsQueryTokenAndDecodesData(t *testing.T) {
	var got gqlReq
	var header http.Header
	var path string
	c, _, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, header, got = r.URL.Path, r.Header.Clone(), decodeGQL(t, r)
		writeJSON(w, 200, map[string]any{
			"data":       map[string]any{"shop": map[string]any{"name": "Northbound Outfitters"}},
			"extensions": costExt(1, 1, 1000, 999, 50),
		})
	}), func(c *Config) { c.APIVersion = "2026-01" })

	var out struct{ Shop struct{ Name string } }
	err := c.Do(context.Background(), `query($n: Int!) { shop { name } }`, map[string]any{"n": 3}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if out.Shop.Name != "Northbound Outfitters" {
		t.Errorf("decoded %+v", out)
	}
	if path != "/admin/api/2026-01/graphql.json" {
		t.Errorf("path %s", path)
	}
	if header.Get("X-Shopify-Access-Token") != "shpat_test" || header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", header)
	}
	if got.Query != `query($n: Int!) { shop { name } }` || got.Variables["n"] != float64(3) {
		t.Errorf("request %+v", got)
	}
	ts, ok := c.ThrottleStatus()
	if !ok || ts.MaximumAvailable != 1000 || ts.CurrentlyAvailable != 999 || ts.RestoreRate != 50 {
		t.Errorf("ThrottleStatus = %+v, %v", ts, ok)
	}
}

// bucketServer models Shopify's leaky bucket on the test's fake clock, and counts the
// requests it had to refuse.
type bucketServer struct {
	mu                  sync.Mutex
	clock               *fakeClock
	max, avail, rate    float64
	at                  time.Time
	cost                float64
	requests, throttled int
}

func (s *bucketServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.avail = min(s.max, s.avail+now.Sub(s.at).Seconds()*s.rate)
	s.at = now
	s.requests++
	if s.cost > s.avail {
		s.throttled++
		writeJSON(w, 200, map[string]any{
			"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}},
			"extensions": costExt(s.cost, nil, s.max, s.avail, s.rate),
		})
		return
	}
	s.avail -= s.cost
	writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}, "extensions": costExt(s.cost, s.cost, s.max, s.avail, s.rate)})
}

func TestThrottleWaitsForTheBucketInsteadOfHammering(t *testing.T) {
	clock := newFakeClock()
	srv := &bucketServer{clock: clock, max: 100, avail: 100, rate: 10, at: clock.Now(), cost: 40}
	c, _, _, _ := newTestClient(t, srv, func(c *Config) { c.Clock = clock })

	for i := range 6 {
		if err := c.Do(context.Background(), `{ products(first: 38) { nodes { id } } }`, nil, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	// 100 → 60 → 20 with no wait; then each 40-point query waits (40 − available)/10 points/s.
	want := []time.Duration{2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second}
	if got := clock.Sleeps(); !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
	if srv.throttled != 0 || srv.requests != 6 {
		t.Errorf("server saw %d requests, throttled %d; want 6 and 0", srv.requests, srv.throttled)
	}
}

func TestThrottledAs200WaitsForRestoreAndRetries(t *testing.T) {
	var calls atomic.Int32
	c, clock, jit, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 { // the exact shape Shopify sends (protocol reference §2.4)
			writeJSON(w, 200, map[string]any{
				"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
				"extensions": costExt(70, nil, 1000, 66, 50),
			})
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}, "extensions": costExt(70, 12, 1000, 58, 50)})
	}), func(c *Config) { c.MaxRetries = -1 }) // a throttle is not a failure: no retry budget needed

	var out struct{ OK bool }
	if err := c.Do(context.Background(), `{ orders { nodes { id } } }`, nil, &out); err != nil || !out.OK {
		t.Fatalf("Do = %v, %+v", err, out)
	}
	// (70 − 66) / 50 = 80ms, plus jitter drawn from [0, 80ms/10 + 50ms).
	if got := clock.Sleeps(); len(got) != 1 || got[0] != 80*time.Millisecond+57*time.Millisecond {
		t.Errorf("waits = %v, want [137ms]", got)
	}
	if r := jit.Ranges(); len(r) != 1 || r[0] != 58*time.Millisecond {
		t.Errorf("jitter ranges = %v", r)
	}
	if calls.Load() != 2 {
		t.Errorf("%d requests, want 2", calls.Load())
	}
}

func TestThrottledAs429HonoursRetryAfter(t *testing.T) {
	var calls atomic.Int32
	c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "2.0")
			http.Error(w, "Too Many Requests", http.StatusTooManyRequests)
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), func(c *Config) { c.MaxRetries = -1 })

	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	got := clock.Sleeps()
	if len(got) != 1 || got[0] < 2*time.Second || got[0] > 2*time.Second+250*time.Millisecond {
		t.Errorf("waits = %v, want one of 2s plus at most 250ms jitter", got)
	}
}

func TestThrottledAs429WithBucketInBody(t *testing.T) {
	var calls atomic.Int32
	c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			writeJSON(w, 429, map[string]any{
				"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}},
				"extensions": costExt(500, nil, 1000, 100, 100),
			})
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), nil)
	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	// (500 − 100) / 100 = 4s, plus jitter below 4s/10 + 50ms.
	if got := clock.Sleeps(); len(got) != 1 || got[0] != 4*time.Second+449*time.Millisecond {
		t.Errorf("waits = %v, want [4.449s]", got)
	}
}

func TestThrottledWithoutBucketBacksOff(t *testing.T) {
	var calls atomic.Int32
	c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			writeJSON(w, 200, map[string]any{"errors": []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}}})
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), nil)
	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := clock.Sleeps(), []time.Duration{99 * time.Millisecond, 199 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestThrottledForeverGivesUp(t *testing.T) {
	var calls atomic.Int32
	c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1) // a server that disagrees with its own throttleStatus, forever
		writeJSON(w, 200, map[string]any{
			"errors":     []any{map[string]any{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED"}}},
			"extensions": costExt(50, nil, 100, 0, 50),
		})
	}), func(c *Config) { c.MaxThrottleWaits = 3 })
	err := c.Do(context.Background(), `{ shop { id } }`, nil, nil)
	if !errors.Is(err, ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if calls.Load() != 4 || len(clock.Sleeps()) != 3 {
		t.Errorf("%d requests, waits %v; want 4 requests, 3 waits", calls.Load(), clock.Sleeps())
	}
}

func TestServerErrorsRetriedWithJitteredBackoff(t *testing.T) {
	var calls atomic.Int32
	c, clock, jit, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 3 {
			http.Error(w, "upstream", http.StatusBadGateway)
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), nil)
	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	// Full jitter: each wait is drawn from [0, 100ms·2^(n−1)); the recording jitter returns the top.
	if got, want := jit.Ranges(), []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("jitter ranges = %v, want %v", got, want)
	}
	if got, want := clock.Sleeps(), []time.Duration{99 * time.Millisecond, 199 * time.Millisecond, 399 * time.Millisecond}; !equalDurations(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestServerErrorsBounded(t *testing.T) {
	var calls atomic.Int32
	c, _, jit, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}), func(c *Config) { c.MaxRetries = 6 })
	err := c.Do(context.Background(), `{ shop { id } }`, nil, nil)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 500 || !strings.Contains(err.Error(), "giving up after 7 attempts") {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 7 {
		t.Errorf("%d requests, want 7", calls.Load())
	}
	// The ceiling doubles up to RetryMaxDelay (1s).
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if got := jit.Ranges(); !equalDurations(got, want) {
		t.Errorf("jitter ranges = %v, want %v", got, want)
	}
}

func TestServerErrorHonoursRetryAfter(t *testing.T) {
	var calls atomic.Int32
	c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "3")
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), nil)
	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := clock.Sleeps(); len(got) != 1 || got[0] != 3*time.Second {
		t.Errorf("waits = %v, want [3s]", got)
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	var calls atomic.Int32
	c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 { // drop the connection without an answer
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), nil)
	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || len(clock.Sleeps()) != 2 {
		t.Errorf("%d requests, waits %v; want 3 requests, 2 waits", calls.Load(), clock.Sleeps())
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	c, _, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			// Hang until the client gives up on this attempt (the server notices the closed
			// connection once the body is read) or the test ends.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), func(c *Config) { c.Timeout = 250 * time.Millisecond })
	t.Cleanup(func() { close(release) })
	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() < 2 { // more only if a loaded machine made a healthy attempt time out too
		t.Errorf("%d requests, want 2", calls.Load())
	}
}

func TestClientErrorsNotRetried(t *testing.T) {
	tests := []struct {
		status int
		is     error
		text   string
	}{
		{401, ErrUnauthorized, "invalid or revoked"},
		{403, ErrForbidden, "lacks a scope"},
		{404, nil, "HTTP 404"},
		{402, nil, "HTTP 402"},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			var calls atomic.Int32
			c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Error(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, tt.status)
			}), nil)
			err := c.Do(context.Background(), `{ shop { id } }`, nil, nil)
			var he *HTTPError
			if !errors.As(err, &he) || he.StatusCode != tt.status {
				t.Fatalf("err = %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if !strings.Contains(err.Error(), "northbound.myshopify.com") || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q should name the shop and say %q", err, tt.text)
			}
			if calls.Load() != 1 || len(clock.Sleeps()) != 0 {
				t.Errorf("%d requests, waits %v: a %d must not be retried", calls.Load(), clock.Sleeps(), tt.status)
			}
		})
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	c, _, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
	}), nil)
	err := c.Do(context.Background(), `{ shop { id } }`, nil, nil)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("err = %v", err)
	}
	if elsewhere.Load() != 0 {
		t.Error("the request (and its access token) followed the redirect")
	}
}

func TestGraphQLErrorsAreTyped(t *testing.T) {
	c, _, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"data": map[string]any{"shop": map[string]any{"name": "N"}, "secret": nil},
			"errors": []any{map[string]any{
				"message": "Access denied for secret field.", "path": []any{"secret"},
				"extensions": map[string]any{"code": "ACCESS_DENIED"},
			}},
		})
	}), nil)
	var out struct{ Shop struct{ Name string } }
	err := c.Do(context.Background(), `{ shop { name } secret }`, nil, &out)
	var qe *QueryError
	if !errors.As(err, &qe) || !qe.HasCode("ACCESS_DENIED") || qe.HasCode("THROTTLED") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "Access denied for secret field. [ACCESS_DENIED]") {
		t.Errorf("message %q", err)
	}
	if out.Shop.Name != "N" {
		t.Errorf("partial data not decoded: %+v", out)
	}
}

func TestInternalErrorIn200Retried(t *testing.T) {
	var calls atomic.Int32
	c, _, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			writeJSON(w, 200, map[string]any{"errors": []any{map[string]any{
				"message": "Internal error. Looks like something went wrong on our end.", "extensions": map[string]any{"code": "INTERNAL_SERVER_ERROR"},
			}}})
			return
		}
		writeJSON(w, 200, map[string]any{"data": map[string]any{"ok": true}})
	}), nil)
	if err := c.Do(context.Background(), `{ shop { id } }`, nil, nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d requests, want 2", calls.Load())
	}
}

func TestContextCanceledDuringBackoff(t *testing.T) {
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, clock, _, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}), nil)
	clock.onSleep = func(time.Duration) { cancel() }
	err := c.Do(ctx, `{ shop { id } }`, nil, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d requests after cancel, want 1", calls.Load())
	}
}

func TestCheckUserErrors(t *testing.T) {
	if err := CheckUserErrors("tagsAdd", nil); err != nil {
		t.Errorf("no user errors: %v", err)
	}
	idx := 0
	err := CheckUserErrors("metafieldsSet", []UserError{{Field: []string{"metafields", "0", "value"}, Message: "Value is invalid", Code: "INVALID_VALUE", ElementIndex: &idx}})
	var me *MutationError
	if !errors.As(err, &me) || !me.HasCode("INVALID_VALUE") {
		t.Fatalf("err = %v", err)
	}
	if want := "shopifyapi: metafieldsSet: metafields.0.value: Value is invalid [INVALID_VALUE]"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"": 0, "2.0": 2 * time.Second, "1": time.Second, "0.25": 250 * time.Millisecond, "-1": 0, "soon": 0,
		now.Add(5 * time.Second).Format(http.TimeFormat): 5 * time.Second,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
