package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/gateway"
	"github.com/storeline/storeline/gateway/api"
	"github.com/storeline/storeline/outbox"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/objectives"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/plans"
	"github.com/storeline/storeline/projections/products"
	"github.com/storeline/storeline/projections/tags"
	"github.com/storeline/storeline/testkit"
)

// testShop is the one shop the harness's API serves.
const testShop = "harness.myshopify.com"

const (
	testIssuer   = "https://issuer.storeline.test"
	testAudience = "storeline-dashboard"
)

// harness is the dashboard API on a fresh database and fresh topics of the test Kafka, with the
// relay and the read-model projections running, behind the real gateway and real JWT checks.
type harness struct {
	URL     string
	Pool    *pgxpool.Pool
	Brokers []string
	Prefix  string
	Codec   *events.Codec
	API     *api.API
	issuer  *testIssuerKeys
	Tokens  map[string]string // viewer, editor, admin, none (authenticated, no role)
	// doc checks every answer against the OpenAPI document the API serves.
	doc validator.Validator
}

// testIssuerKeys is an identity provider: an RSA key published as a JWKS.
type testIssuerKeys struct {
	key  *rsa.PrivateKey
	jwks *httptest.Server
}

func newIssuer(t testing.TB) *testIssuerKeys {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	i := &testIssuerKeys{key: k}
	i.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	}))
	t.Cleanup(i.jwks.Close)
	return i
}

// claims of a test token.
type claims struct {
	jwt.Claims
	Email  string   `json:"email,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

func (i *testIssuerKeys) token(t testing.TB, c claims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: i.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// validClaims are claims the API accepts, for a user in group.
func validClaims(subject, group string) claims {
	now := time.Now()
	c := claims{Claims: jwt.Claims{Issuer: testIssuer, Subject: subject, Audience: jwt.Audience{testAudience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)), Expiry: jwt.NewNumericDate(now.Add(time.Hour))},
		Email: subject + "@example.com"}
	if group != "" {
		c.Groups = []string{group}
	}
	return c
}

// forgedTokens are tokens the API must refuse, by name.
func (i *testIssuerKeys) forgedTokens(t testing.TB) map[string]string {
	expired := validClaims("late", "admins")
	expired.Expiry = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
	expired.IssuedAt = jwt.NewNumericDate(time.Now().Add(-3 * time.Hour))
	wrongAud := validClaims("elsewhere", "admins")
	wrongAud.Audience = jwt.Audience{"another-app"}

	payload, _ := json.Marshal(validClaims("nobody", "admins"))
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","typ":"JWT","kid":"k1"}`)) + "." + b64(payload) + "."

	// HS256 with the RSA public key (as PEM, the classic confusion attack) as the HMAC secret.
	der, err := x509.MarshalPKIXPublicKey(&i.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubPEM}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	confused, err := jwt.Signed(hs).Claims(validClaims("mallory", "admins")).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"expired":           i.token(t, expired),
		"wrong audience":    i.token(t, wrongAud),
		"alg none":          none,
		"HS256 with pubkey": confused,
	}
}

// newHarness starts everything; all of it stops when the test ends.
func newHarness(t *testing.T) *harness {
	t.Helper()
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	brokers := testkit.Brokers(t)
	var topicNames []string
	for _, tp := range events.Topics {
		topicNames = append(topicNames, tp, tp+deadletter.Suffix)
	}
	prefix := testkit.FreshTopicPrefix(t, 3, topicNames...) // the relay makes its checkpoint topic
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(context.Background(), cat, testkit.Registry(t, prefix), prefix)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	running := 0
	run := func(f func(context.Context) error) {
		running++
		go func() {
			if err := f(ctx); err != nil {
				t.Errorf("background role: %v", err)
			}
			done <- struct{}{}
		}()
	}
	run(outbox.NewRelay(outbox.RelayConfig{Brokers: brokers, TopicPrefix: prefix, Poll: 200 * time.Millisecond}, pool, nil, log).Run)
	projs := []projections.Projection{orders.Projection{}, products.Projection{}, objectives.Projection{}, plans.Projection{}, tags.Projection{}}
	topicsOf := map[string][]string{}
	for _, p := range projs {
		topicsOf[p.Name()] = p.Topics()
		run(projections.NewRunner(projections.Config{Brokers: brokers, TopicPrefix: prefix}, p, pool, codec, nil, log).Run)
	}
	t.Cleanup(func() {
		cancel()
		for range running {
			<-done
		}
	})

	issuer := newIssuer(t)
	verifier, err := auth.NewVerifier(auth.Config{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSURL: issuer.jwks.URL,
		Roles: auth.RoleMapping{Admins: []string{"admins"}, Editors: []string{"editors"}, Viewers: []string{"viewers"}}})
	if err != nil {
		t.Fatal(err)
	}
	dashboard, handler := api.New(api.Config{Shops: []api.Shop{{Domain: testShop, Currency: "EUR"}}, CursorKey: bytes.Repeat([]byte{7}, 32),
		ConsistencyTimeout: 10 * time.Second}, api.Deps{
		Authenticate: auth.Middleware(verifier, log),
		Decisions:    decision.NewStore(pool, codec, prefix),
		Waiter:       outbox.NewWaiter(pool, topicsOf),
		Orders:       orders.NewReader(pool),
		Products:     products.NewReader(pool),
		Tags:         tags.NewReader(pool),
		Objectives:   objectives.NewReader(pool),
		Plans:        plans.NewReader(pool),
		Health:       []api.Check{{Name: "postgres", Probe: func(ctx context.Context) (any, error) { return nil, pool.Ping(ctx) }}},
		Log:          log,
	})
	doc, err := libopenapi.NewDocument(openAPIJSON(t, dashboard))
	if err != nil {
		t.Fatal(err)
	}
	docValidator, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	srv := httptest.NewServer(gateway.New(gateway.Config{TopicPrefix: prefix}, gateway.Deps{API: handler, OpenAPI: dashboard.ServeOpenAPI, Log: log}))
	t.Cleanup(srv.Close)
	return &harness{URL: srv.URL, Pool: pool, doc: docValidator, Brokers: brokers, Prefix: prefix, Codec: codec, API: dashboard, issuer: issuer,
		Tokens: map[string]string{
			"viewer": issuer.token(t, validClaims("vera", "viewers")),
			"editor": issuer.token(t, validClaims("eddie", "editors")),
			"admin":  issuer.token(t, validClaims("ada", "admins")),
			"none":   issuer.token(t, validClaims("stranger", "")),
		}}
}

// response is an answer of the API.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode unmarshals the body into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// call sends a request as role (a key of Tokens, a raw token with "raw:", or "" for none).
func (h *harness) call(t testing.TB, role, method, path string, body any, headers map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = bytes.NewBufferString(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(method, h.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok, ok := h.Tokens[role]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if len(role) > 4 && role[:4] == "raw:" {
		req.Header.Set("Authorization", "Bearer "+role[4:])
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// Every answer the API gives must be one its document describes.
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		check := resp
		check.Body = io.NopCloser(bytes.NewReader(b))
		if ok, errs := h.doc.ValidateHttpResponse(req, check); !ok {
			for _, e := range errs {
				var why []string
				for _, se := range e.SchemaValidationErrors {
					why = append(why, se.FieldPath+": "+se.Reason)
				}
				t.Errorf("%s %s answered %d outside its OpenAPI document: %s %v (%.300s)", method, path, resp.StatusCode, e.Message, why, b)
			}
		}
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
