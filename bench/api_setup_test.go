package bench

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/gateway/api"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/products"
)

const (
	benchIssuer   = "https://issuer.storeline.bench"
	benchAudience = "storeline-dashboard"
)

// benchIssuerKeys is an identity provider for the API benchmarks: an RSA key published as a JWKS
// by a server of its own, so every request's token is checked as in production (RS256 signature,
// issuer, audience, expiry) against keys fetched over HTTP and cached by the verifier.
type benchIssuerKeys struct {
	key  *rsa.PrivateKey
	jwks *httptest.Server
}

func newBenchIssuer(b *testing.B) *benchIssuerKeys {
	b.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	i := &benchIssuerKeys{key: k}
	i.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	}))
	b.Cleanup(i.jwks.Close)
	return i
}

// viewerToken is a token of a dashboard viewer, valid for longer than any benchmark runs.
func (i *benchIssuerKeys) viewerToken(b *testing.B) string {
	b.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: i.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	c := struct {
		jwt.Claims
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}{Claims: jwt.Claims{Issuer: benchIssuer, Subject: "bench", Audience: jwt.Audience{benchAudience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), Expiry: jwt.NewNumericDate(now.Add(6 * time.Hour))},
		Email: "bench@example.com", Groups: []string{"viewers"}}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// newOrdersAPI is the dashboard API of shop's orders and products on pool, behind real JWT
// verification against issuer, and the OpenAPI document handler, for gateway.Deps.
func newOrdersAPI(b *testing.B, pool *pgxpool.Pool, shop string, issuer *benchIssuerKeys, log *slog.Logger) (http.Handler, http.HandlerFunc) {
	b.Helper()
	verifier, err := auth.NewVerifier(auth.Config{Issuer: benchIssuer, Audiences: []string{benchAudience}, JWKSURL: issuer.jwks.URL,
		Algorithms: []string{"RS256"}, Roles: auth.RoleMapping{Viewers: []string{"viewers"}}})
	if err != nil {
		b.Fatal(err)
	}
	a, handler := api.New(api.Config{Shops: []api.Shop{{Domain: shop, Currency: "EUR"}}, CursorKey: bytes.Repeat([]byte{7}, 32)}, api.Deps{
		Authenticate: auth.Middleware(verifier, log),
		Orders:       orders.NewReader(pool),
		Products:     products.NewReader(pool),
		Log:          log,
	})
	return handler, a.ServeOpenAPI
}

// apiClient sends authenticated GETs to the dashboard API.
type apiClient struct {
	base   string // the server's URL + /api/v1
	token  string
	client *http.Client
}

// newAPIClient keeps up to idleConns keep-alive connections: at least the requests in flight, or
// connections are redialled and the dialling is measured too.
func newAPIClient(b *testing.B, serverURL, token string, idleConns int) *apiClient {
	c := &apiClient{base: serverURL + "/api/v1", token: token,
		client: &http.Client{Transport: &http.Transport{MaxIdleConns: idleConns, MaxIdleConnsPerHost: idleConns}}}
	b.Cleanup(c.client.CloseIdleConnections)
	return c
}

// get sends GET base+path and answers the status; the body is read to its end (and kept only if
// into is not nil) so the connection goes back to the pool.
func (c *apiClient) get(path string, into *[]byte) (int, error) {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if into != nil {
		*into, err = io.ReadAll(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, err
}

// getOK is get that takes any answer but 200 for an error.
func (c *apiClient) getOK(path string) error {
	status, err := c.get(path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", path, status)
	}
	return nil
}
