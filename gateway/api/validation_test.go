package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/gateway/problem"
)

// TestBadInputIsRefusedWithFieldDetails: invalid bodies and parameters are 400 problems naming
// each field, before any command or query runs (the readers here would panic if called).
func TestBadInputIsRefusedWithFieldDetails(t *testing.T) {
	_, h := fullAPI(t, auth.RoleAdmin)
	valid := `{"name":"n","scope":{"type":"tag","tag":"linen"},"metric":"revenue","comparison":"at_least","target":{"amount":"10"},"period":{"kind":"monthly"}}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		typ, location            string
	}{
		{"unknown body field", "POST", "/objectives", strings.Replace(valid, `"name":"n"`, `"name":"n","owner":"me"`, 1), 400, problem.InvalidRequest, "body"},
		{"wrong type", "POST", "/objectives", strings.Replace(valid, `"name":"n"`, `"name":7`, 1), 400, problem.InvalidRequest, "body.name"},
		{"enum", "POST", "/objectives", strings.Replace(valid, `"revenue"`, `"vibes"`, 1), 400, problem.InvalidRequest, "body.metric"},
		{"missing field", "POST", "/objectives", strings.Replace(valid, `"comparison":"at_least",`, ``, 1), 400, problem.InvalidRequest, "body"},
		{"cross-field rule", "POST", "/objectives", strings.Replace(valid, `{"amount":"10"}`, `{"value":3}`, 1), 400, problem.InvalidRequest, "body.target.amount"},
		{"bad date", "POST", "/objectives", strings.Replace(valid, `{"kind":"monthly"}`, `{"kind":"date_range","start_date":"2026-13-01","end_date":"2026-01-01"}`, 1), 400, problem.InvalidRequest, "body.period.start_date"},
		{"not json", "POST", "/objectives", `name=n`, 400, problem.InvalidRequest, ""},
		{"too large", "POST", "/objectives", `{"name":"` + strings.Repeat("x", 70<<10) + `"}`, 413, problem.PayloadTooLarge, ""},
		{"unknown query parameter", "GET", "/orders?colour=red", ``, 400, problem.InvalidRequest, "query.colour"},
		{"sort not allowed", "GET", "/orders?sort=name%3BDROP%20TABLE%20orders", ``, 400, problem.InvalidRequest, "query.sort"},
		{"limit out of range", "GET", "/orders?limit=5000", ``, 400, problem.InvalidRequest, "query.limit"},
		{"forged cursor", "GET", "/orders?cursor=eyJ2IjoiMSIsImlkIjoxfQ.AAAA", ``, 400, problem.InvalidCursor, ""},
		{"bad order id", "GET", "/orders/abc", ``, 400, problem.InvalidID, ""},
		{"bad objective id", "GET", "/objectives/not-a-uuid", ``, 400, problem.InvalidRequest, "path.id"},
		{"weak If-Match", "PUT", "/objectives/8b0c3f5e-4c1a-4d1e-9a55-2a0d7c7e9b10", valid, 400, problem.InvalidRequest, "header.If-Match"},
		{"bad consistency token", "GET", "/objectives?consistency=xyz", ``, 400, problem.InvalidToken, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.name == "weak If-Match" {
				req.Header.Set("If-Match", `W/"1"`)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			var p problem.Details
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != tc.typ || p.Status != tc.status || p.Title == "" {
				t.Errorf("problem %+v, want type %s", p, tc.typ)
			}
			if tc.location != "" {
				found := false
				for _, f := range p.Errors {
					found = found || strings.HasPrefix(f.Location, tc.location)
				}
				if !found {
					t.Errorf("no error at %s: %s", tc.location, w.Body)
				}
			}
		})
	}
}
