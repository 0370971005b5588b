package shopifysim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var simStart = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// admin starts an AdminServer on a fake clock.
func admin(t *testing.T, s *Store, opts AdminOptions) (*AdminServer, *httptest.Server, *FakeClock) {
	t.Helper()
	clk, _ := opts.Clock.(*FakeClock)
	if clk == nil {
		clk = NewFakeClock(simStart)
		opts.Clock = clk
	}
	a := NewAdminServer(s, opts)
	srv := httptest.NewServer(a)
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return a, srv, clk
}

type gqlResponse struct {
	Status  int
	Header  http.Header
	Data    map[string]any
	Errors  []map[string]any
	Ext     map[string]any
	Raw     []byte
	HasData bool
}

func post(t *testing.T, base, version, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/admin/api/"+version+"/graphql.json", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Shopify-Access-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := gqlResponse{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("response is not JSON: %s", raw)
	}
	if d, ok := m["data"]; ok {
		out.HasData = true
		_ = json.Unmarshal(d, &out.Data)
	}
	if e, ok := m["errors"]; ok {
		_ = json.Unmarshal(e, &out.Errors)
	}
	if e, ok := m["extensions"]; ok {
		_ = json.Unmarshal(e, &out.Ext)
	}
	return out
}

// query posts with the default token and version 2026-04, failing on GraphQL errors.
func query(t *testing.T, base, q string, vars map[string]any) map[string]any {
	t.Helper()
	r := post(t, base, "2026-04", DefaultAccessToken, q, vars)
	if r.Status != 200 || len(r.Errors) > 0 {
		t.Fatalf("query failed: %d %s", r.Status, r.Raw)
	}
	return r.Data
}

// dig walks nested maps: dig(m, "a", "b").
func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := dig(v, path...).(string)
	return s
}

// received is one webhook request a receiver got.
type received struct {
	Header http.Header
	Body   []byte
}

// receiver records webhook deliveries and answers with status(n) for the n-th request
// (0-based); nil answers 200.
type receiver struct {
	mu     sync.Mutex
	got    []received
	status func(n int) int
	srv    *httptest.Server
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, received{req.Header.Clone(), body})
		r.mu.Unlock()
		code := 200
		if r.status != nil {
			code = r.status(n)
		}
		if code >= 300 && code < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// jsonl downloads a result file and parses its lines.
func jsonl(t *testing.T, url string) []map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET result: %d %s", resp.StatusCode, b)
	}
	var out []map[string]any
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(sc.Text()))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}
