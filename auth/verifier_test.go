package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

const (
	testAud = "storeline-aud-tag"
)

// idp is an in-test identity provider: a JWKS endpoint (and OpenID discovery) whose key set the
// test can rotate, counting fetches.
type idp struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey // public
	fetches atomic.Int64
}

func newIDP(t *testing.T) *idp {
	i := &idp{t: t}
	mux := http.NewServeMux()
	// Discovery is answered under any path and always names the server's root as issuer, so a
	// verifier configured with a longer issuer meets a mismatching document.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": i.srv.URL, "jwks_uri": i.srv.URL + "/certs"})
	})
	mux.HandleFunc("/certs", func(w http.ResponseWriter, r *http.Request) {
		i.fetches.Add(1)
		i.mu.Lock()
		defer i.mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: i.keys})
	})
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	return i
}

func (i *idp) publish(keys ...signingKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = nil
	for _, k := range keys {
		i.keys = append(i.keys, jose.JSONWebKey{Key: k.public, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
}

type signingKey struct {
	kid     string
	alg     jose.SignatureAlgorithm
	private crypto.Signer
	public  crypto.PublicKey
}

func rsaKey(t *testing.T, kid string) signingKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.RS256, private: k, public: &k.PublicKey}
}

func ecKey(t *testing.T, kid string) signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.ES256, private: k, public: &k.PublicKey}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// claims returns valid claims for issuer iss at t0.
func claims(iss string) map[string]any {
	return map[string]any{
		"iss":    iss,
		"aud":    []string{testAud},
		"sub":    "user-1",
		"email":  "ada@example.com",
		"name":   "Ada Lovelace",
		"groups": []string{"storeline-editors"},
		"iat":    t0.Unix(),
		"nbf":    t0.Unix(),
		"exp":    t0.Add(5 * time.Minute).Unix(),
	}
}

func sign(t *testing.T, k signingKey, c map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), k.kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.private}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newTestVerifier(t *testing.T, i *idp, clock *fakeClock, mutate ...func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		Issuer:    i.srv.URL,
		Audiences: []string{"other-app", testAud},
		Roles: RoleMapping{
			Admins:  []string{"root@example.com"},
			Editors: []string{"storeline-editors"},
			Viewers: []string{"@example.com"},
		},
		HTTPClient: i.srv.Client(),
		Now:        clock.Now,
	}
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyValidTokens(t *testing.T) {
	i := newIDP(t)
	rk, ek := rsaKey(t, "rsa-1"), ecKey(t, "ec-1")
	i.publish(rk, ek)
	v := newTestVerifier(t, i, &fakeClock{now: t0})

	for _, k := range []signingKey{rk, ek} {
		t.Run(string(k.alg), func(t *testing.T) {
			p, err := v.Verify(context.Background(), sign(t, k, claims(i.srv.URL)))
			if err != nil {
				t.Fatal(err)
			}
			want := Principal{Subject: "user-1", Email: "ada@example.com", Name: "Ada Lovelace", Groups: []string{"storeline-editors"}, Role: RoleEditor}
			if p.Subject != want.Subject || p.Email != want.Email || p.Name != want.Name || len(p.Groups) != 1 || p.Groups[0] != want.Groups[0] || p.Role != want.Role {
				t.Fatalf("principal = %+v, want %+v", p, want)
			}
		})
	}
	// Discovery plus one JWKS fetch served both tokens.
	if n := i.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
}

func TestVerifyWithGivenJWKSURL(t *testing.T) {
	i := newIDP(t)
	ek := ecKey(t, "ec-1")
	i.publish(ek)
	// An issuer with no discovery document, like a Cloudflare Access team domain configured
	// with its /cdn-cgi/access/certs URL.
	v := newTestVerifier(t, i, &fakeClock{now: t0}, func(c *Config) {
		c.Issuer = "https://team.cloudflareaccess.com"
		c.JWKSURL = i.srv.URL + "/certs"
	})
	if _, err := v.Verify(context.Background(), sign(t, ek, claims("https://team.cloudflareaccess.com"))); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	i := newIDP(t)
	rk := rsaKey(t, "rsa-1")
	i.publish(rk)

	with := func(edit func(map[string]any)) map[string]any {
		c := claims(i.srv.URL)
		edit(c)
		return c
	}
	pubDER, err := x509.MarshalPKIXPublicKey(rk.public)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	cases := []struct {
		name  string
		token string
		now   time.Time
	}{
		{"expired", sign(t, rk, claims(i.srv.URL)), t0.Add(10 * time.Minute)},
		{"not yet valid", sign(t, rk, claims(i.srv.URL)), t0.Add(-10 * time.Minute)},
		{"no exp", sign(t, rk, with(func(c map[string]any) { delete(c, "exp") })), t0},
		{"wrong issuer", sign(t, rk, with(func(c map[string]any) { c["iss"] = "https://evil.example" })), t0},
		{"wrong audience", sign(t, rk, with(func(c map[string]any) { c["aud"] = []string{"someone-else"} })), t0},
		{"ES256 key not published", sign(t, ecKey(t, "rsa-1"), claims(i.srv.URL)), t0},
		{"HS256 with the public key as secret (PEM)", hmacToken(t, "rsa-1", pubPEM, claims(i.srv.URL)), t0},
		{"HS256 with the public key as secret (DER)", hmacToken(t, "rsa-1", pubDER, claims(i.srv.URL)), t0},
		{"alg none", noneToken("rsa-1", claims(i.srv.URL)), t0},
		{"tampered payload", tamper(t, sign(t, rk, claims(i.srv.URL)), i.srv.URL), t0},
		{"garbage", "not.a.jwt", t0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier(t, i, &fakeClock{now: tc.now})
			_, err := v.Verify(context.Background(), tc.token)
			t.Log(err)
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestVerifyHS256RefusedEvenWhenAllowedWithAsymmetricKey(t *testing.T) {
	i := newIDP(t)
	rk := rsaKey(t, "rsa-1")
	i.publish(rk)
	pubDER, _ := x509.MarshalPKIXPublicKey(rk.public)
	v := newTestVerifier(t, i, &fakeClock{now: t0}, func(c *Config) { c.Algorithms = []string{"RS256", "HS256"} })
	if _, err := v.Verify(context.Background(), hmacToken(t, "rsa-1", pubDER, claims(i.srv.URL))); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrInvalidToken", err)
	}
}

func TestNewVerifierRejectsNone(t *testing.T) {
	for _, algs := range [][]string{{"none"}, {"RS256", "none"}, {"XX999"}} {
		if _, err := NewVerifier(Config{Issuer: "https://i", Audiences: []string{"a"}, Algorithms: algs}); err == nil {
			t.Errorf("NewVerifier(%v) accepted", algs)
		}
	}
}

func TestUnknownKidRefreshesAfterRotation(t *testing.T) {
	i := newIDP(t)
	old, next := rsaKey(t, "k1"), ecKey(t, "k2")
	i.publish(old)
	clock := &fakeClock{now: t0}
	v := newTestVerifier(t, i, clock)

	if _, err := v.Verify(context.Background(), sign(t, old, claims(i.srv.URL))); err != nil {
		t.Fatal(err)
	}
	// The IdP rotates; past the refresh interval the first token with the new kid refetches.
	i.publish(old, next)
	clock.Advance(2 * time.Minute)
	c := claims(i.srv.URL)
	c["iat"], c["nbf"], c["exp"] = clock.Now().Unix(), clock.Now().Unix(), clock.Now().Add(5*time.Minute).Unix()
	if _, err := v.Verify(context.Background(), sign(t, next, c)); err != nil {
		t.Fatalf("token with rotated key: %v", err)
	}
	if n := i.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (initial + one refresh)", n)
	}
	// Known kids are served from the cache.
	if _, err := v.Verify(context.Background(), sign(t, next, c)); err != nil {
		t.Fatal(err)
	}
	if n := i.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times after a cached kid, want 2", n)
	}
}

func TestUnknownKidImmediatelyAfterFirstFetchIsRateLimited(t *testing.T) {
	// The first fetch and a rotation in the same interval: the new kid is refused until the
	// interval passes, then accepted with exactly one more fetch.
	i := newIDP(t)
	old, next := rsaKey(t, "k1"), rsaKey(t, "k2")
	i.publish(old)
	clock := &fakeClock{now: t0}
	v := newTestVerifier(t, i, clock, func(c *Config) { c.ClockSkew = 5 * time.Minute })
	if _, err := v.Verify(context.Background(), sign(t, old, claims(i.srv.URL))); err != nil {
		t.Fatal(err)
	}
	i.publish(old, next)
	if _, err := v.Verify(context.Background(), sign(t, next, claims(i.srv.URL))); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want refused while rate-limited", err)
	}
	clock.Advance(time.Minute)
	if _, err := v.Verify(context.Background(), sign(t, next, claims(i.srv.URL))); err != nil {
		t.Fatalf("after the interval: %v", err)
	}
	if n := i.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

func TestUnknownKidFloodIsRateLimited(t *testing.T) {
	i := newIDP(t)
	rk := rsaKey(t, "k1")
	i.publish(rk)
	clock := &fakeClock{now: t0}
	v := newTestVerifier(t, i, clock, func(c *Config) { c.ClockSkew = time.Hour })

	bogus := rsaKey(t, "")
	flood := func() {
		var wg sync.WaitGroup
		for n := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := bogus
				k.kid = fmt.Sprintf("bogus-%d", n)
				if _, err := v.Verify(context.Background(), sign(t, k, claims(i.srv.URL))); err == nil {
					t.Error("token with unknown kid accepted")
				}
			}()
		}
		wg.Wait()
	}
	flood()
	if n := i.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times for a flood of unknown kids, want 1", n)
	}
	clock.Advance(30 * time.Second)
	flood()
	if n := i.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times within the interval, want 1", n)
	}
	clock.Advance(31 * time.Second)
	flood()
	if n := i.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times after the interval, want 2", n)
	}
	// Legitimate tokens keep working throughout.
	if _, err := v.Verify(context.Background(), sign(t, rk, claims(i.srv.URL))); err != nil {
		t.Fatal(err)
	}
}

func TestGroupsClaimConfigurableAndNested(t *testing.T) {
	i := newIDP(t)
	rk := rsaKey(t, "k1")
	i.publish(rk)
	v := newTestVerifier(t, i, &fakeClock{now: t0}, func(c *Config) {
		c.GroupsClaim = "custom.groups"
		c.Roles = RoleMapping{Admins: []string{"ops"}}
	})
	c := claims(i.srv.URL)
	delete(c, "groups")
	c["custom"] = map[string]any{"groups": []string{"ops"}}
	p, err := v.Verify(context.Background(), sign(t, rk, c))
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != RoleAdmin || len(p.Groups) != 1 || p.Groups[0] != "ops" {
		t.Fatalf("principal = %+v, want admin via custom.groups", p)
	}
}

func TestRoleMapping(t *testing.T) {
	m := RoleMapping{
		Admins:  []string{"root@example.com", "admins"},
		Editors: []string{"editors", "@staff.example.com"},
		Viewers: []string{"@example.com"},
	}
	cases := []struct {
		email  string
		groups []string
		want   Role
	}{
		{"root@example.com", nil, RoleAdmin},
		{"ROOT@Example.com", nil, RoleAdmin},
		{"ada@example.com", nil, RoleViewer},
		{"ada@example.com", []string{"editors"}, RoleEditor},
		{"ada@example.com", []string{"editors", "admins"}, RoleAdmin},
		{"bob@staff.example.com", nil, RoleEditor},
		{"eve@evilexample.com", nil, RoleNone},
		{"eve@other.org", []string{"Admins"}, RoleNone},
		{"", nil, RoleNone},
	}
	for _, tc := range cases {
		if got := m.RoleFor(tc.email, tc.groups); got != tc.want {
			t.Errorf("RoleFor(%q, %v) = %v, want %v", tc.email, tc.groups, got, tc.want)
		}
	}
}

func TestRoleAllows(t *testing.T) {
	cases := []struct {
		r, min Role
		want   bool
	}{
		{RoleAdmin, RoleEditor, true}, {RoleEditor, RoleEditor, true}, {RoleViewer, RoleEditor, false},
		{RoleViewer, RoleViewer, true}, {RoleNone, RoleViewer, false}, {RoleNone, RoleNone, false},
	}
	for _, tc := range cases {
		if got := tc.r.Allows(tc.min); got != tc.want {
			t.Errorf("%v.Allows(%v) = %v, want %v", tc.r, tc.min, got, tc.want)
		}
	}
}

func hmacToken(t *testing.T, kid string, secret []byte, c map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func noneToken(kid string, c map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	p, _ := json.Marshal(c)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(p) + "."
}

// tamper swaps the payload for one that claims to be root, keeping the original signature.
func tamper(t *testing.T, tok, iss string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	c := claims(iss)
	c["email"] = "root@example.com"
	p, _ := json.Marshal(c)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}

func TestRevokedKeyDisappearsAfterMaxKeyAge(t *testing.T) {
	i := newIDP(t)
	old, next := rsaKey(t, "k1"), rsaKey(t, "k2")
	i.publish(old)
	clock := &fakeClock{now: t0}
	v := newTestVerifier(t, i, clock, func(c *Config) { c.ClockSkew = 2 * time.Hour })
	tok := sign(t, old, claims(i.srv.URL))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	i.publish(next) // k1 revoked
	clock.Advance(30 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("within MaxKeyAge the cached key still verifies: %v", err)
	}
	clock.Advance(31 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want the revoked key refused after MaxKeyAge", err)
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	i := newIDP(t)
	rk := rsaKey(t, "k1")
	i.publish(rk)
	// The discovery document names i.srv.URL; a verifier configured for another issuer at the
	// same address must not trust its keys.
	v := newTestVerifier(t, i, &fakeClock{now: t0}, func(c *Config) { c.Issuer = i.srv.URL + "/other" })
	c := claims(i.srv.URL + "/other")
	_, err := v.Verify(context.Background(), sign(t, rk, c))
	if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "OpenID discovery: issuer") {
		t.Fatalf("err = %v, want refused for the discovery issuer mismatch", err)
	}
	if n := i.fetches.Load(); n != 0 {
		t.Fatalf("JWKS fetched %d times, want 0", n)
	}
}
