package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Config describes the identity provider whose tokens a Verifier accepts.
type Config struct {
	// Issuer is the exact iss claim, e.g. "https://team.cloudflareaccess.com" or
	// "https://cloud.google.com/iap". Required.
	Issuer string
	// Audiences: the token's aud must contain at least one of them (Cloudflare Access: the
	// application's AUD tag; IAP: "/projects/N/global/backendServices/M"). Required.
	Audiences []string
	// JWKSURL is where the signing keys are published. Empty means discover it from
	// Issuer + "/.well-known/openid-configuration" on first use. Cloudflare Access publishes
	// at Issuer + "/cdn-cgi/access/certs", IAP at "https://www.gstatic.com/iap/verify/public_key-jwk".
	JWKSURL string
	// Algorithms is the allow-list of signature algorithms; default RS256 and ES256. "none" is
	// never accepted. HMAC algorithms (HS*) are accepted only if listed here, and then only with
	// a symmetric key from the JWKS, never an RSA/EC public key used as a secret.
	Algorithms []string
	// ClockSkew is the leeway for exp, nbf and iat; default 1 minute.
	ClockSkew time.Duration
	// Roles maps groups and emails to roles.
	Roles RoleMapping
	// GroupsClaim names the claim holding the user's groups; default "groups". A string or an
	// array of strings; a dotted name ("custom.groups") reaches into nested objects, which is
	// where Cloudflare Access puts claims passed through from the upstream IdP.
	GroupsClaim string

	// HTTPClient fetches discovery and JWKS documents; default a client with a 10 s timeout.
	HTTPClient *http.Client
	// MinRefreshInterval bounds how often an unknown kid may refetch the JWKS; default 1 minute.
	MinRefreshInterval time.Duration
	// MaxKeyAge is how long a fetched JWKS is trusted before the next verification refetches
	// it (so revoked keys disappear); default 1 hour.
	MaxKeyAge time.Duration
	// Now is the clock; default time.Now. Tests inject their own.
	Now func() time.Time
}

// Verifier checks identity-proxy JWTs. It is safe for concurrent use.
type Verifier struct {
	issuer      string
	audiences   []string
	algs        []jose.SignatureAlgorithm
	skew        time.Duration
	roles       RoleMapping
	groupsClaim string
	now         func() time.Time
	keys        *keySet
}

var (
	// ErrInvalidToken wraps every reason a token is refused; the reason is in the message
	// for logs, never sent to the caller.
	ErrInvalidToken = errors.New("auth: invalid token")
)

// NewVerifier validates cfg and returns a Verifier. It does no I/O; keys are fetched on first use.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("auth: Config.Issuer is required")
	}
	if len(cfg.Audiences) == 0 {
		return nil, errors.New("auth: Config.Audiences is required")
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = []string{string(jose.RS256), string(jose.ES256)}
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(names))
	for _, n := range names {
		a := jose.SignatureAlgorithm(n)
		if !supportedAlg(a) {
			return nil, fmt.Errorf("auth: algorithm %q is not allowed", n)
		}
		algs = append(algs, a)
	}
	v := &Verifier{
		issuer:      cfg.Issuer,
		audiences:   cfg.Audiences,
		algs:        algs,
		skew:        orDefault(cfg.ClockSkew, time.Minute),
		roles:       cfg.Roles,
		groupsClaim: cfg.GroupsClaim,
		now:         cfg.Now,
	}
	if v.groupsClaim == "" {
		v.groupsClaim = "groups"
	}
	if v.now == nil {
		v.now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	v.keys = &keySet{
		client:      client,
		issuer:      cfg.Issuer,
		url:         cfg.JWKSURL,
		now:         v.now,
		minInterval: orDefault(cfg.MinRefreshInterval, time.Minute),
		maxAge:      orDefault(cfg.MaxKeyAge, time.Hour),
	}
	return v, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func supportedAlg(a jose.SignatureAlgorithm) bool {
	switch a {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.HS256, jose.HS384, jose.HS512:
		return true
	}
	return false // includes "none"
}

// Verify checks token's signature against the issuer's JWKS, its alg against the allow-list,
// iss, aud, exp, nbf and iat, and returns the Principal it names with the Role the
// configuration grants (possibly RoleNone).
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	// The allow-list is enforced by the parser, before any key is chosen: a token whose header
	// says HS256 or none is refused here whatever keys the JWKS holds.
	tok, err := jwt.ParseSigned(token, v.algs)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if len(tok.Headers) != 1 {
		return Principal{}, fmt.Errorf("%w: %d signatures", ErrInvalidToken, len(tok.Headers))
	}
	hdr := tok.Headers[0]
	candidates, err := v.keys.lookup(ctx, hdr.KeyID)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: kid %q: %v", ErrInvalidToken, hdr.KeyID, err)
	}

	var std jwt.Claims
	var extra map[string]any
	verified := false
	for _, k := range candidates {
		// A key that declares its algorithm is used for that algorithm only.
		if k.Algorithm != "" && k.Algorithm != hdr.Algorithm {
			continue
		}
		if err := tok.Claims(k.Key, &std, &extra); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return Principal{}, fmt.Errorf("%w: signature does not verify (kid %q, alg %s)", ErrInvalidToken, hdr.KeyID, hdr.Algorithm)
	}

	if std.Expiry == nil {
		return Principal{}, fmt.Errorf("%w: no exp claim", ErrInvalidToken)
	}
	err = std.ValidateWithLeeway(jwt.Expected{
		Issuer:      v.issuer,
		AnyAudience: jwt.Audience(v.audiences),
		Time:        v.now(),
	}, v.skew)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}

	p := Principal{
		Subject: std.Subject,
		Email:   stringClaim(extra, "email"),
		Name:    stringClaim(extra, "name"),
		Groups:  stringsClaim(lookupClaim(extra, v.groupsClaim)),
	}
	// The subject is who events name as their actor (an email would put personal data in the
	// log for ever); every identity-aware proxy's token carries one.
	if p.Subject == "" {
		return Principal{}, fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	p.Role = v.roles.RoleFor(p.Email, p.Groups)
	return p, nil
}

func stringClaim(m map[string]any, name string) string {
	s, _ := m[name].(string)
	return s
}

func lookupClaim(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	parts := strings.Split(name, ".")
	var cur any = m
	for _, part := range parts {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = obj[part]
	}
	return cur
}

func stringsClaim(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
