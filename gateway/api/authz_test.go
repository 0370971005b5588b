package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/gateway/api"
)

// TestAuthorizationMatrix calls every documented operation with every kind of credential and
// checks who gets in: forged, expired and foreign tokens get 401, an authenticated user without
// a role or with too small a role 403, and everyone with the role gets past authorization (the
// answer then depends on the request: 200, 400, 404, 428...).
func TestAuthorizationMatrix(t *testing.T) {
	h := newHarness(t)
	forged := h.issuer.forgedTokens(t)
	creds := []struct {
		name, role string
		has        auth.Role // the role the credential carries; -1: not authenticated
	}{
		{"no token", "", -1},
		{"expired", "raw:" + forged["expired"], -1},
		{"wrong audience", "raw:" + forged["wrong audience"], -1},
		{"alg none", "raw:" + forged["alg none"], -1},
		{"HS256 signed with the public key", "raw:" + forged["HS256 with pubkey"], -1},
		{"no role", "none", auth.RoleNone},
		{"viewer", "viewer", auth.RoleViewer},
		{"editor", "editor", auth.RoleEditor},
		{"admin", "admin", auth.RoleAdmin},
	}
	ops := operations(h.API)
	if len(ops) < 30 {
		t.Fatalf("only %d operations", len(ops))
	}
	for _, o := range ops {
		need := api.RoleOf(o)
		if need == auth.RoleNone {
			t.Errorf("%s %s declares no role", o.Method, o.Path)
			continue
		}
		path := "/api/v1" + fillPath(o.Path)
		for _, c := range creds {
			var body any
			if o.Method == http.MethodPost || o.Method == http.MethodPut {
				body = "{}"
			}
			r := h.call(t, c.role, o.Method, path, body, nil)
			switch {
			case c.has < 0:
				if r.Status != http.StatusUnauthorized {
					t.Errorf("%s %s with %s: %d, want 401", o.Method, o.Path, c.name, r.Status)
				}
			case !c.has.Allows(need):
				if r.Status != http.StatusForbidden {
					t.Errorf("%s %s as %s (needs %s): %d, want 403", o.Method, o.Path, c.name, need, r.Status)
				}
			default:
				if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden || r.Status >= 500 {
					t.Errorf("%s %s as %s (needs %s): %d %s, want past authorization", o.Method, o.Path, c.name, need, r.Status, r.Body)
				}
			}
			if r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden {
				if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
					t.Errorf("%s %s with %s: content type %q", o.Method, o.Path, c.name, ct)
				}
			}
		}
	}
}

// fillPath puts plausible values in a path's parameters.
func fillPath(p string) string {
	id := uuid.NewString()
	if strings.HasPrefix(p, "/orders") || strings.HasPrefix(p, "/products") {
		id = "1"
	}
	return strings.NewReplacer("{id}", id, "{name}", "1001").Replace(p)
}
