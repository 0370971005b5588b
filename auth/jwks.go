package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrUnknownKey means the token names a key the issuer's JWKS does not hold, even after a
// refresh (or while refreshes are rate-limited).
var ErrUnknownKey = errors.New("auth: signing key not in the issuer's JWKS")

const maxJWKSBytes = 1 << 20

// keySet caches the issuer's JWKS. A known kid is answered from memory; an unknown kid (the
// issuer rotated its keys) triggers a refetch, at most one per minInterval, so a flood of tokens
// with made-up kids costs the identity provider one request per interval, not one per token.
type keySet struct {
	client      *http.Client
	issuer      string
	now         func() time.Time
	minInterval time.Duration
	maxAge      time.Duration

	fetchMu sync.Mutex // serialises fetches; never held with mu across I/O

	mu          sync.Mutex
	url         string // empty until discovered
	keys        []jose.JSONWebKey
	fetchedAt   time.Time // last successful fetch
	attemptedAt time.Time // last fetch attempt, successful or not
}

// lookup returns the candidate verification keys for kid (every key when kid is empty).
func (s *keySet) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if ks, fresh := s.cached(kid); fresh && len(ks) > 0 {
		return ks, nil
	}

	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()

	// Another request may have refreshed while this one waited.
	ks, fresh := s.cached(kid)
	if fresh && len(ks) > 0 {
		return ks, nil
	}
	s.mu.Lock()
	now := s.now()
	limited := !s.attemptedAt.IsZero() && now.Sub(s.attemptedAt) < s.minInterval
	if !limited {
		s.attemptedAt = now
	}
	s.mu.Unlock()

	if !limited {
		if err := s.refresh(ctx); err != nil {
			// A stale key set still verifies: an IdP outage should not log everyone out.
			if len(ks) > 0 {
				return ks, nil
			}
			return nil, err
		}
		ks, _ = s.cached(kid)
	}
	if len(ks) == 0 {
		return nil, ErrUnknownKey
	}
	return ks, nil
}

// cached returns the keys matching kid and whether the set is younger than maxAge.
func (s *keySet) cached(kid string) ([]jose.JSONWebKey, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := !s.fetchedAt.IsZero() && s.now().Sub(s.fetchedAt) < s.maxAge
	var out []jose.JSONWebKey
	for _, k := range s.keys {
		if kid == "" || k.KeyID == kid {
			out = append(out, k)
		}
	}
	return out, fresh
}

func (s *keySet) refresh(ctx context.Context) error {
	s.mu.Lock()
	url := s.url
	s.mu.Unlock()
	if url == "" {
		var err error
		if url, err = s.discover(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		s.url = url
		s.mu.Unlock()
	}

	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := s.getJSON(ctx, url, &raw); err != nil {
		return fmt.Errorf("auth: fetch JWKS: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		// One key of a type we do not know must not make the whole set unusable.
		if err := k.UnmarshalJSON(r); err != nil {
			continue
		}
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		if !k.IsPublic() {
			k = k.Public()
		}
		if !k.Valid() {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return errors.New("auth: JWKS holds no usable signing key")
	}
	s.mu.Lock()
	s.keys, s.fetchedAt = keys, s.now()
	s.mu.Unlock()
	return nil
}

// discover reads jwks_uri from the issuer's OpenID configuration.
func (s *keySet) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	u := strings.TrimSuffix(s.issuer, "/") + "/.well-known/openid-configuration"
	if err := s.getJSON(ctx, u, &doc); err != nil {
		return "", fmt.Errorf("auth: OpenID discovery: %w", err)
	}
	// OpenID Connect Discovery §4.3: the document must name the issuer we asked.
	if strings.TrimSuffix(doc.Issuer, "/") != strings.TrimSuffix(s.issuer, "/") {
		return "", fmt.Errorf("auth: OpenID discovery: issuer %q, want %q", doc.Issuer, s.issuer)
	}
	if doc.JWKSURI == "" {
		return "", errors.New("auth: OpenID discovery: no jwks_uri")
	}
	return doc.JWKSURI, nil
}

func (s *keySet) getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}
