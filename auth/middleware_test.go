package auth

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// whoami answers the principal's email and role, so tests see what the middleware put in the context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	p, ok := FromContext(r.Context())
	if !ok {
		http.Error(w, "no principal", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(p.Email + " " + p.Role.String()))
})

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)) }

func assertProblem(t *testing.T, w *httptest.ResponseRecorder, status int, typ string) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status = %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var p problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != typ || p.Status != status {
		t.Fatalf("problem = %+v, want type %s status %d", p, typ, status)
	}
}

func TestMiddleware(t *testing.T) {
	i := newIDP(t)
	rk := rsaKey(t, "k1")
	i.publish(rk)
	v := newTestVerifier(t, i, &fakeClock{now: t0})
	h := Middleware(v, quietLog())(whoami)
	valid := sign(t, rk, claims(i.srv.URL))

	cases := []struct {
		name   string
		header http.Header
		status int
		body   string
	}{
		{"Cf-Access-Jwt-Assertion", http.Header{"Cf-Access-Jwt-Assertion": {valid}}, 200, "ada@example.com editor"},
		{"Authorization Bearer", http.Header{"Authorization": {"Bearer " + valid}}, 200, "ada@example.com editor"},
		{"lowercase bearer", http.Header{"Authorization": {"bearer " + valid}}, 200, "ada@example.com editor"},
		{"missing", http.Header{}, 401, ""},
		{"basic auth is not a token", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401, ""},
		{"invalid", http.Header{"Cf-Access-Jwt-Assertion": {valid + "x"}}, 401, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/v1/orders", nil)
			r.Header = tc.header
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tc.status != 200 {
				assertProblem(t, w, tc.status, ProblemUnauthenticated)
				return
			}
			if w.Code != 200 || w.Body.String() != tc.body {
				t.Fatalf("got %d %q, want 200 %q", w.Code, w.Body, tc.body)
			}
		})
	}
}

func TestRequireRole(t *testing.T) {
	cases := []struct {
		role   Role
		min    Role
		status int
	}{
		{RoleViewer, RoleEditor, 403},
		{RoleNone, RoleViewer, 403},
		{RoleEditor, RoleEditor, 200},
		{RoleAdmin, RoleEditor, 200},
	}
	for _, tc := range cases {
		t.Run(tc.role.String()+">="+tc.min.String(), func(t *testing.T) {
			h := RequireRole(tc.min)(whoami)
			r := httptest.NewRequest(http.MethodPost, "/api/v1/sync", nil)
			r = r.WithContext(WithPrincipal(r.Context(), Principal{Email: "ada@example.com", Role: tc.role}))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if tc.status == 403 {
				assertProblem(t, w, 403, ProblemForbidden)
			} else if w.Code != 200 {
				t.Fatalf("status = %d, want 200", w.Code)
			}
		})
	}
	t.Run("no principal", func(t *testing.T) {
		w := httptest.NewRecorder()
		RequireRole(RoleViewer)(whoami).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		assertProblem(t, w, 401, ProblemUnauthenticated)
	})
}

func TestDevMode(t *testing.T) {
	p := Principal{Subject: "dev", Email: "dev@localhost", Role: RoleAdmin}

	if _, err := NewDev(true, p, quietLog()); err != ErrDevInProduction {
		t.Fatalf("NewDev(production) err = %v, want ErrDevInProduction", err)
	}

	var logs bytes.Buffer
	mw, err := NewDev(false, p, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") ||
		!strings.Contains(out, "authentication disabled: every request is dev@localhost (admin)") {
		t.Fatalf("dev mode not loudly logged: %q", out)
	}
	w := httptest.NewRecorder()
	mw(whoami).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != 200 || w.Body.String() != "dev@localhost admin" {
		t.Fatalf("got %d %q", w.Code, w.Body)
	}
}
