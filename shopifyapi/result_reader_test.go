package shopifyapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// productsJSONL is the protocol reference's example (§2.3), with a CRLF, a blank line and
// no newline after the last line, as a careless producer might write it.
const productsJSONL = `{"id":"gid://shopify/Product/7712345678901","title":"Linen Shirt","handle":"linen-shirt","status":"ACTIVE","tags":["summer","linen"],"updatedAt":"2026-03-02T10:11:12Z"}
{"id":"gid://shopify/ProductVariant/43011112222333","sku":"LS-S-WHT","price":"49.00","inventoryQuantity":12,"updatedAt":"2026-03-02T10:11:12Z","__parentId":"gid://shopify/Product/7712345678901"}` + "\r\n" +
	`{"id":"gid://shopify/ProductVariant/43011112222334","sku":"LS-M-WHT","price":"49.00","inventoryQuantity":0,"updatedAt":"2026-03-01T08:00:00Z","__parentId":"gid://shopify/Product/7712345678901"}

{"discountApplication":{"allocationMethod":"ACROSS"},"__parentId":"gid://shopify/Order/5847392847001"}
{"id":"gid://shopify/Product/7712345678902","title":"Canvas Tote","handle":"canvas-tote","status":"DRAFT","tags":[],"updatedAt":"2026-02-27T16:40:05Z"}`

// fileServer serves body like a storage bucket: Range requests (206, 416), and records
// what it was asked.
type fileServer struct {
	body     []byte
	etag     string
	mu       sync.Mutex
	ranges   []string
	tokens   []string
	requests int
	before   func(n int, w http.ResponseWriter, r *http.Request) bool // true: handled
}

func (f *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	n := f.requests
	f.ranges = append(f.ranges, r.Header.Get("Range"))
	f.tokens = append(f.tokens, r.Header.Get("X-Shopify-Access-Token"))
	f.mu.Unlock()
	if f.before != nil && f.before(n, w, r) {
		return
	}
	if f.etag != "" {
		w.Header().Set("ETag", f.etag)
	}
	w.Header().Set("Content-Type", "application/jsonl")
	http.ServeContent(w, r, "result.jsonl", time.Time{}, bytes.NewReader(f.body))
}

func (f *fileServer) Ranges() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ranges...)
}

// readAll reads every line, copying Raw.
func readAll(t testing.TB, r *ResultReader) []Line {
	t.Helper()
	var lines []Line
	for {
		l, err := r.Next()
		if err == io.EOF {
			return lines
		}
		if err != nil {
			t.Fatalf("Next after %d lines: %v", len(lines), err)
		}
		l.Raw = bytes.Clone(l.Raw)
		lines = append(lines, l)
	}
}

func TestResultReaderLines(t *testing.T) {
	fs := &fileServer{body: []byte(productsJSONL)}
	c, _, _, srv := newTestClient(t, fs, nil)
	r, err := c.OpenResult(context.Background(), srv.URL+"/result.jsonl?X-Goog-Signature=secret")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lines := readAll(t, r)

	type want struct {
		number         int64
		id, parent, ty string
	}
	wants := []want{
		{1, "gid://shopify/Product/7712345678901", "", "Product"},
		{2, "gid://shopify/ProductVariant/43011112222333", "gid://shopify/Product/7712345678901", "ProductVariant"},
		{3, "gid://shopify/ProductVariant/43011112222334", "gid://shopify/Product/7712345678901", "ProductVariant"},
		{5, "", "gid://shopify/Order/5847392847001", ""}, // line 4 is blank
		{6, "gid://shopify/Product/7712345678902", "", "Product"},
	}
	if len(lines) != len(wants) {
		t.Fatalf("%d lines, want %d", len(lines), len(wants))
	}
	physical := strings.SplitAfter(productsJSONL, "\n")
	for i, w := range wants {
		l := lines[i]
		if l.Number != w.number || l.ID != w.id || l.ParentID != w.parent || l.Type != w.ty {
			t.Errorf("line %d = {%d %q %q %q}, want %+v", i, l.Number, l.ID, l.ParentID, l.Type, w)
		}
		// Offset is just after the line: the length of everything up to and including it.
		if end := int64(len(strings.Join(physical[:w.number], ""))); l.Offset != end {
			t.Errorf("line %d offset %d, want %d", w.number, l.Offset, end)
		}
		if src := strings.TrimRight(physical[w.number-1], "\r\n"); string(l.Raw) != src {
			t.Errorf("line %d raw %q, want %q", w.number, l.Raw, src)
		}
	}
	if end := r.Position(); end.Offset != int64(len(productsJSONL)) || end.Line != 6 {
		t.Errorf("end position %+v", end)
	}
	if fs.tokens[0] != "" {
		t.Error("the access token was sent to the result's host")
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF again", err)
	}
}

func TestResultReaderChildrenBeforeParents(t *testing.T) {
	// groupObjects: false gives no order: children first, a parent last, an orphan whose
	// parent never comes (a truncated nested connection).
	body := strings.Join([]string{
		`{"id":"gid://shopify/LineItem/2","quantity":1,"__parentId":"gid://shopify/Order/1"}`,
		`{"id":"gid://shopify/RefundLineItem/9","__parentId":"gid://shopify/Refund/8"}`,
		`{"id":"gid://shopify/Refund/8","__parentId":"gid://shopify/Order/1"}`,
		`{"id":"gid://shopify/LineItem/3","quantity":2,"__parentId":"gid://shopify/Order/1"}`,
		`{"id":"gid://shopify/LineItem/77","quantity":2,"__parentId":"gid://shopify/Order/404"}`,
		`{"id":"gid://shopify/Order/1","name":"#1042"}`,
	}, "\n") + "\n"
	c, _, _, srv := newTestClient(t, &fileServer{body: []byte(body)}, nil)
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	children := map[string][]string{}
	seen := map[string]string{}
	for _, l := range readAll(t, r) {
		seen[l.ID] = l.Type
		if l.ParentID != "" {
			children[l.ParentID] = append(children[l.ParentID], l.ID)
		}
	}
	if got := children["gid://shopify/Order/1"]; len(got) != 3 {
		t.Errorf("order 1 children %v", got)
	}
	if seen["gid://shopify/Order/1"] != "Order" || seen["gid://shopify/RefundLineItem/9"] != "RefundLineItem" {
		t.Errorf("types %v", seen)
	}
	if _, ok := seen["gid://shopify/Order/404"]; ok || len(children["gid://shopify/Order/404"]) != 1 {
		t.Error("an orphan must still be yielded, with its parent id")
	}
}

// variantLine is one ~260-byte JSONL line, like a product variant of a bulk export.
func variantLine(i int) string {
	return fmt.Sprintf(`{"id":"gid://shopify/ProductVariant/%d","sku":"SKU-%08d","title":"Linen Shirt / Medium / White","price":"49.00","compareAtPrice":null,"inventoryQuantity":%d,"selectedOptions":[{"name":"Size","value":"M"}],"updatedAt":"2026-03-02T10:11:12Z","__parentId":"gid://shopify/Product/%d"}`+"\n",
		43011112222333+i, i, i%50, 7712345678901+i/8)
}

func TestResultReaderLargeBodyConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 55 MB")
	}
	const n = 200_000
	var written atomic.Int64
	// The server generates the body as it goes: neither side ever holds it.
	c, _, _, srv := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := bufio.NewWriterSize(w, 64<<10)
		for i := range n {
			k, _ := bw.WriteString(variantLine(i))
			written.Add(int64(k))
		}
		_ = bw.Flush()
	}), nil)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc

	r, err := c.OpenResult(context.Background(), srv.URL+"/big.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var count int64
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if l.Number != count || l.Type != "ProductVariant" {
			t.Fatalf("line %d: %+v", count, l)
		}
		if count%10_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if count != n || r.Position().Offset != written.Load() {
		t.Fatalf("read %d lines, %d bytes; server wrote %d lines, %d bytes", count, r.Position().Offset, n, written.Load())
	}
	// A sanity bound, not a measurement: the body is ~55 MB; the reader holds one buffer.
	growth := int64(peak) - int64(base)
	t.Logf("%d lines, %d MB streamed, heap grew by at most %.1f MB", count, written.Load()>>20, float64(growth)/(1<<20))
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MB while streaming %d MB: the reader is holding the body", growth>>20, written.Load()>>20)
	}
}

func TestResultReaderLongLines(t *testing.T) {
	long := `{"id":"gid://shopify/Product/1","descriptionHtml":"` + strings.Repeat("x", 5<<20) + `"}` + "\n"
	body := []byte(long + `{"id":"gid://shopify/Product/2"}` + "\n")

	c, _, _, srv := newTestClient(t, &fileServer{body: body}, nil)
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := readAll(t, r)
	if len(lines) != 2 || len(lines[0].Raw) != len(long)-1 || lines[1].ID != "gid://shopify/Product/2" {
		t.Fatalf("%d lines", len(lines))
	}

	c, _, _, srv = newTestClient(t, &fileServer{body: body}, func(c *Config) { c.MaxLineSize = 1 << 20 })
	r, err = c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err == nil || !strings.Contains(err.Error(), "line 1 is longer than 1048576 bytes") {
		t.Errorf("over-long line: %v", err)
	}
}

func TestResultReaderInvalidLine(t *testing.T) {
	body := `{"id":"gid://shopify/Product/1"}` + "\n" + `{"id":"gid://shopify/Product/2","title":"cut` + "\n"
	c, _, _, srv := newTestClient(t, &fileServer{body: []byte(body)}, nil)
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	if err == nil || !strings.Contains(err.Error(), "result line 2") {
		t.Fatalf("err = %v", err)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("errors are final: got %v then %v", err, again)
	}
}

// numbered is n lines of a few dozen bytes each.
func numbered(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `{"id":"gid://shopify/Customer/%d","n":%d}`+"\n", i, i)
	}
	return b.Bytes()
}

func checkNumbered(t *testing.T, lines []Line, from, to int) {
	t.Helper()
	if len(lines) != to-from+1 {
		t.Fatalf("%d lines, want %d (%d..%d)", len(lines), to-from+1, from, to)
	}
	for i, l := range lines {
		want := from + i
		if l.Number != int64(want) || l.ID != "gid://shopify/Customer/"+strconv.Itoa(want) {
			t.Fatalf("line %d = %d %s, want %d", i, l.Number, l.ID, want)
		}
	}
}

func TestResultReaderResumesAfterDisconnect(t *testing.T) {
	body := numbered(1000)
	cut := len(body)/2 + 7 // mid-line
	fs := &fileServer{body: body}
	fs.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		// Announce the whole file, send half, hang up.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:cut])
		return true
	}
	c, clock, _, srv := newTestClient(t, fs, nil)
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl?sig=1")
	if err != nil {
		t.Fatal(err)
	}
	checkNumbered(t, readAll(t, r), 1, 1000)
	if got := fs.Ranges(); len(got) != 2 || got[0] != "" || got[1] != fmt.Sprintf("bytes=%d-", cut) {
		t.Errorf("Range headers %q, want none then bytes=%d-", got, cut)
	}
	if r.Position().Offset != int64(len(body)) || len(clock.Sleeps()) != 1 {
		t.Errorf("end %+v, waits %v", r.Position(), clock.Sleeps())
	}
}

func TestResultReaderResumesAfterStall(t *testing.T) {
	body := numbered(500)
	release := make(chan struct{})
	fs := &fileServer{body: body}
	fs.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body[:1000])
		w.(http.Flusher).Flush()
		select { // go silent
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}
	c, _, _, srv := newTestClient(t, fs, func(c *Config) { c.Timeout = 250 * time.Millisecond })
	t.Cleanup(func() { close(release) })
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	checkNumbered(t, readAll(t, r), 1, 500)
	if got := fs.Ranges(); len(got) < 2 || got[1] != "bytes=1000-" {
		t.Errorf("Range headers %q", got)
	}
}

func TestOpenResultAtResumesWithRange(t *testing.T) {
	body := numbered(100)
	fs := &fileServer{body: body}
	c, _, _, srv := newTestClient(t, fs, nil)

	// A first reader handles 40 lines, records where it stood, and "crashes".
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var at Position
	for range 40 {
		l, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		at = l.Position()
	}
	r.Close()

	r, err = c.OpenResultAt(context.Background(), srv.URL+"/r.jsonl", at)
	if err != nil {
		t.Fatal(err)
	}
	checkNumbered(t, readAll(t, r), 41, 100)
	if got := fs.Ranges(); got[len(got)-1] != fmt.Sprintf("bytes=%d-", at.Offset) {
		t.Errorf("Range %q, want bytes=%d-", got[len(got)-1], at.Offset)
	}
	if r.Position().Offset != int64(len(body)) {
		t.Errorf("end %+v", r.Position())
	}
}

func TestOpenResultAtWhenRangeIgnored(t *testing.T) {
	body := numbered(100)
	fs := &fileServer{body: body}
	fs.before = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body) // 200 with the whole file, whatever was asked
		return true
	}
	c, _, _, srv := newTestClient(t, fs, nil)
	offset := int64(bytes.Index(body, []byte(`{"id":"gid://shopify/Customer/61",`)))
	r, err := c.OpenResultAt(context.Background(), srv.URL+"/r.jsonl", Position{Offset: offset, Line: 60})
	if err != nil {
		t.Fatal(err)
	}
	checkNumbered(t, readAll(t, r), 61, 100)
}

func TestOpenResultAtTheEnd(t *testing.T) {
	body := numbered(10)
	c, _, _, srv := newTestClient(t, &fileServer{body: body}, nil)
	r, err := c.OpenResultAt(context.Background(), srv.URL+"/r.jsonl", Position{Offset: int64(len(body)), Line: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("Next at the end = %v, want io.EOF", err)
	}
	if r.Position() != (Position{Offset: int64(len(body)), Line: 10}) {
		t.Errorf("position %+v", r.Position())
	}
	if _, err := c.OpenResultAt(context.Background(), srv.URL+"/r.jsonl", Position{Offset: int64(len(body)) + 5}); err == nil {
		t.Error("an offset past the end must be an error")
	}
}

func TestOpenResultRetriesServerErrors(t *testing.T) {
	fs := &fileServer{body: numbered(5)}
	fs.before = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n <= 2 {
			http.Error(w, "backend", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	c, clock, _, srv := newTestClient(t, fs, nil)
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	checkNumbered(t, readAll(t, r), 1, 5)
	if len(clock.Sleeps()) != 2 {
		t.Errorf("waits %v, want 2", clock.Sleeps())
	}

	fs.before = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "backend", http.StatusBadGateway)
		return true
	}
	fs.requests = 0
	c, _, _, srv = newTestClient(t, fs, func(c *Config) { c.MaxRetries = 2 })
	if _, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl?sig=topsecret"); err == nil ||
		!strings.Contains(err.Error(), "giving up") || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("err = %v", err)
	}
	if fs.requests != 3 {
		t.Errorf("%d requests, want 3", fs.requests)
	}
}

func TestOpenResultExpiredURLNotRetried(t *testing.T) {
	fs := &fileServer{}
	fs.before = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code></Error>`)
		return true
	}
	c, _, _, srv := newTestClient(t, fs, nil)
	_, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl?X-Goog-Signature=topsecret")
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 403 || !strings.Contains(err.Error(), "ExpiredToken") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "topsecret") {
		t.Errorf("the signature leaked into the error: %v", err)
	}
	if fs.requests != 1 {
		t.Errorf("%d requests, want 1", fs.requests)
	}
}

func TestResultReaderRefusesAChangedFile(t *testing.T) {
	body := numbered(200)
	fs := &fileServer{body: body, etag: `"v1"`}
	fs.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body[:100])
			return true
		}
		fs.etag = `"v2"`
		return false
	}
	c, _, _, srv := newTestClient(t, fs, nil)
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
	}
	if err == io.EOF || !strings.Contains(err.Error(), "changed while downloading") {
		t.Errorf("err = %v", err)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in                 string
		first, last, total int64
		ok                 bool
	}{
		{"bytes 0-99/200", 0, 99, 200, true},
		{"bytes 100-199/*", 100, 199, -1, true},
		{"bytes */200", -1, -1, 200, true},
		{"bytes 5-1/200", 0, 0, 0, false},
		{"items 0-1/2", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	}
	for _, tt := range tests {
		f, l, tot, ok := parseContentRange(tt.in)
		if ok != tt.ok || (ok && (f != tt.first || l != tt.last || tot != tt.total)) {
			t.Errorf("parseContentRange(%q) = %d %d %d %v", tt.in, f, l, tot, ok)
		}
	}
}

func BenchmarkResultReader(b *testing.B) {
	const n = 100_000
	var body bytes.Buffer
	for i := range n {
		body.WriteString(variantLine(i))
	}
	data := body.Bytes()
	c, _, _, srv := newTestClient(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		_, _ = w.Write(data)
	}), nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var lines int64
	for b.Loop() {
		r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			lines++
		}
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}

func TestLineKeys(t *testing.T) {
	tests := []struct {
		line, id, parent, err string
	}{
		{`{"id":"gid://shopify/Product/1"}`, "gid://shopify/Product/1", "", ""},
		{` { "__parentId" : "gid://shopify/Order/1" , "id" : "gid://shopify/LineItem/2" } `, "gid://shopify/LineItem/2", "gid://shopify/Order/1", ""},
		// Nested ids belong to nested objects; braces and quotes inside strings are text.
		{`{"variant":{"id":"gid://shopify/ProductVariant/9"},"title":"a \"}{\" b","tags":["[","{"],"id":"gid://shopify/LineItem/3"}`, "gid://shopify/LineItem/3", "", ""},
		{`{"variant":{"id":"gid://shopify/ProductVariant/9"},"n":-1.5e3,"ok":true,"x":null}`, "", "", ""},
		{`{"id":"gid:\/\/shopify\/Product\/4"}`, "gid://shopify/Product/4", "", ""},
		{`{"id":null,"__parentId":"gid://shopify/Order/1"}`, "", "gid://shopify/Order/1", ""},
		{`{"ID":"upper","Id":"mixed"}`, "", "", ""},
		{`{"id":"first","id":"last"}`, "last", "", ""},
		{`{}`, "", "", ""},
		{`{"id":12}`, "", "", "id:"},
		{`["gid://shopify/Product/1"]`, "", "", "not a JSON object"},
		{`{"id":"gid://shopify/Product/1"`, "", "", "unexpected end"},
		{`{"id":"gid://shopify/Product/1"} {}`, "", "", "invalid"},
	}
	for _, tt := range tests {
		id, parent, err := lineKeys([]byte(tt.line))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("lineKeys(%s) error = %v, want %q", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil || id != tt.id || parent != tt.parent {
			t.Errorf("lineKeys(%s) = %q, %q, %v; want %q, %q", tt.line, id, parent, err, tt.id, tt.parent)
		}
	}
}

func TestParseGID(t *testing.T) {
	tests := []struct {
		in  string
		gid GID
		ok  bool
		n   int64
	}{
		{"gid://shopify/ProductVariant/43011112222333", GID{"ProductVariant", "43011112222333"}, true, 43011112222333},
		{"gid://shopify/InventoryLevel/123?inventory_item_id=456", GID{"InventoryLevel", "123"}, true, 123},
		{"gid://shopify/Shop/abc", GID{"Shop", "abc"}, true, 0},
		{"gid://shopify/Product/", GID{}, false, 0},
		{"gid://shopify/Product", GID{}, false, 0},
		{"gid://other/Product/1", GID{}, false, 0},
		{"5801234567890", GID{}, false, 0},
	}
	for _, tt := range tests {
		g, ok := ParseGID(tt.in)
		if ok != tt.ok || g != tt.gid {
			t.Errorf("ParseGID(%q) = %+v, %v", tt.in, g, ok)
			continue
		}
		if n, isInt := g.Int64(); ok && (n != tt.n || isInt != (tt.n != 0)) {
			t.Errorf("%q Int64 = %d, %v", tt.in, n, isInt)
		}
	}
	if s := (GID{"Order", "1"}).String(); s != "gid://shopify/Order/1" {
		t.Errorf("String = %s", s)
	}
}

func TestResultReaderNeverYieldsACutLine(t *testing.T) {
	body := numbered(100)
	cut := bytes.Index(body, []byte(`{"id":"gid://shopify/Customer/51",`)) + 10
	fs := &fileServer{body: body}
	fs.before = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 1 {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body[:cut])
		} else {
			http.Error(w, "gone for good", http.StatusServiceUnavailable)
		}
		return true
	}
	c, _, _, srv := newTestClient(t, fs, func(c *Config) { c.MaxRetries = 1 })
	r, err := c.OpenResult(context.Background(), srv.URL+"/r.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var lines int
	for {
		l, err := r.Next()
		if err != nil {
			if err == io.EOF || !strings.Contains(err.Error(), "giving up at byte") {
				t.Fatalf("after %d lines: %v, want the download's error", lines, err)
			}
			break
		}
		if lines++; l.Number != int64(lines) {
			t.Fatalf("line %d numbered %d", lines, l.Number)
		}
	}
	if lines != 50 || r.Position().Offset != int64(cut-10) {
		t.Errorf("%d lines up to byte %d; want 50 whole lines up to byte %d", lines, r.Position().Offset, cut-10)
	}
}
