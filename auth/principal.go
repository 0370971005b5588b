// Package auth owns who is calling: it verifies the JWT that an identity-aware proxy
// (Cloudflare Access, Google IAP, oauth2-proxy) puts in front of every request, turns it into a
// Principal with a Role, and puts that Principal in the request context. It does not decide what
// a route needs beyond a minimum Role (RequireRole); that is the router's business.
//
// storeline never sees a password or a session: the proxy authenticates, storeline verifies the
// proxy's signed assertion against the issuer's published keys (JWKS).
package auth

import "context"

// Role is what a principal may do. Roles are ordered: viewer < editor < admin, and RoleNone
// (the zero value) allows nothing, so a principal the configuration does not mention is
// authenticated but may not use any route that asks for a role.
type Role int

const (
	RoleNone Role = iota
	RoleViewer
	RoleEditor
	RoleAdmin
)

// Allows reports whether r is at least min. RoleNone never allows anything, not even RoleNone,
// so a forgotten minimum fails closed.
func (r Role) Allows(min Role) bool {
	return r != RoleNone && r >= min
}

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleEditor:
		return "editor"
	case RoleAdmin:
		return "admin"
	default:
		return "none"
	}
}

// Principal is the authenticated caller.
type Principal struct {
	// Subject is the token's sub claim, the identity provider's stable id for the user.
	Subject string
	Email   string
	Name    string
	Groups  []string
	Role    Role
}

type principalKey struct{}

// WithPrincipal returns a context carrying p (and records p in the slot of WithSlot, if any).
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	if slot, ok := ctx.Value(slotKey{}).(*Principal); ok {
		*slot = p
	}
	return context.WithValue(ctx, principalKey{}, p)
}

type slotKey struct{}

// WithSlot returns a context in which authentication, done deeper in the handler chain, also
// records the principal where an outer handler can read it afterwards (the access log's
// subject), with the function that reads it.
func WithSlot(ctx context.Context) (context.Context, func() (Principal, bool)) {
	slot := &Principal{}
	return context.WithValue(ctx, slotKey{}, slot), func() (Principal, bool) { return *slot, slot.Subject != "" || slot.Email != "" }
}

// FromContext returns the principal Middleware (or DevMiddleware) put in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
