package shopifyapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIVersion is the Admin API version a Client speaks unless told otherwise.
const DefaultAPIVersion = "2025-10"

const (
	defaultTimeout          = 30 * time.Second
	defaultMaxRetries       = 4
	defaultMaxThrottleWaits = 50
	defaultRetryBaseDelay   = 500 * time.Millisecond
	defaultRetryMaxDelay    = 30 * time.Second
	maxResponseBytes        = 32 << 20
	errorBodyBytes          = 512
)

var errResponseTooLarge = fmt.Errorf("response larger than %d bytes", maxResponseBytes)

// Config configures a Client. Shop and AccessToken are required; every other field has a
// default.
type Config struct {
	// Shop is the shop's myshopify domain, e.g. "northbound.myshopify.com". A bare handle
	// ("northbound") gets ".myshopify.com" appended; a scheme or trailing slash is dropped.
	Shop string
	// AccessToken is the shop's Admin API access token, sent as X-Shopify-Access-Token. It is
	// never sent anywhere else (bulk result downloads are signed URLs and go without it).
	AccessToken string
	// APIVersion is the Admin API version, "YYYY-MM" or "unstable". Default DefaultAPIVersion.
	// It decides the bulk concurrency limit (BulkConcurrencyLimit) and which bulk queries and
	// arguments the client uses.
	APIVersion string
	// BaseURL overrides where requests go, for a simulator or a test server. An origin
	// ("http://127.0.0.1:8081") gets "/admin/api/<version>/graphql.json" appended; a URL whose
	// path ends in ".json" is used as it is. Default https://<shop>/admin/api/<version>/graphql.json.
	BaseURL string
	// HTTPClient sends the requests. Default a new http.Client. Its Timeout, if any, bounds
	// whole bulk downloads too, so prefer Config.Timeout. Redirects of GraphQL requests are
	// never followed, so the access token cannot leak to another host.
	HTTPClient *http.Client
	// Timeout bounds each GraphQL attempt; for a bulk download it bounds the wait for the
	// response headers and each silence in the body. 0: 30s; negative: no timeout.
	Timeout time.Duration
	// MaxRetries is how many times an attempt that failed with a 5xx, a network error or a
	// timeout is retried (with exponential backoff and full jitter). Waits for the cost bucket
	// are not failures and do not count. 0: 4; negative: never retry.
	MaxRetries int
	// MaxThrottleWaits bounds how many THROTTLED answers one call waits through before it
	// returns ErrThrottled. 0: 50.
	MaxThrottleWaits int
	// RetryBaseDelay and RetryMaxDelay shape the backoff: the n-th retry waits a uniformly
	// random time in [0, min(RetryMaxDelay, RetryBaseDelay·2^(n-1))). Defaults 500ms and 30s.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// MaxLineSize is the longest line a bulk result may have. 0: 64 MiB.
	MaxLineSize int
	// Log receives throttling waits (debug) and retries (warn). Default: discarded.
	Log *slog.Logger
	// Clock supplies time and waits. Default SystemClock.
	Clock Clock
	// Jitter returns a uniformly random duration in [0, d). Default math/rand/v2. Tests
	// inject a deterministic one.
	Jitter func(d time.Duration) time.Duration
}

// Client talks to one shop's Admin GraphQL API. It is safe for concurrent use; concurrent
// calls share the shop's cost bucket model, so they wait for each other's points instead of
// being throttled.
type Client struct {
	shop             string
	token            string
	version          string
	endpoint         string
	gql              *http.Client // never follows redirects
	dl               *http.Client
	timeout          time.Duration
	maxRetries       int
	maxThrottleWaits int
	retryBase        time.Duration
	retryMax         time.Duration
	maxLine          int
	log              *slog.Logger
	clock            Clock
	jitter           func(time.Duration) time.Duration
	bucket           bucket
}

// New checks cfg and returns a Client for its shop.
func New(cfg Config) (*Client, error) {
	shop, err := normalizeShop(cfg.Shop)
	if err != nil {
		return nil, err
	}
	if cfg.AccessToken == "" {
		return nil, fmt.Errorf("shopifyapi: shop %s: no access token", shop)
	}
	version := cfg.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	if !validAPIVersion(version) {
		return nil, fmt.Errorf("shopifyapi: API version %q is not YYYY-MM or unstable", version)
	}
	endpoint, err := endpointURL(cfg.BaseURL, shop, version)
	if err != nil {
		return nil, err
	}
	c := &Client{
		shop: shop, token: cfg.AccessToken, version: version, endpoint: endpoint,
		timeout: cfg.Timeout, maxRetries: cfg.MaxRetries, maxThrottleWaits: cfg.MaxThrottleWaits,
		retryBase: cfg.RetryBaseDelay, retryMax: cfg.RetryMaxDelay, maxLine: cfg.MaxLineSize,
		log: cfg.Log, clock: cfg.Clock, jitter: cfg.Jitter,
	}
	c.dl = cfg.HTTPClient
	if c.dl == nil {
		c.dl = &http.Client{}
	}
	gql := *c.dl
	gql.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.gql = &gql
	if c.timeout == 0 {
		c.timeout = defaultTimeout
	}
	if c.maxRetries == 0 {
		c.maxRetries = defaultMaxRetries
	} else if c.maxRetries < 0 {
		c.maxRetries = 0
	}
	if c.maxThrottleWaits <= 0 {
		c.maxThrottleWaits = defaultMaxThrottleWaits
	}
	if c.retryBase <= 0 {
		c.retryBase = defaultRetryBaseDelay
	}
	if c.retryMax <= 0 {
		c.retryMax = defaultRetryMaxDelay
	}
	if c.maxLine <= 0 {
		c.maxLine = defaultMaxLineSize
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("shop", shop)
	if c.clock == nil {
		c.clock = SystemClock{}
	}
	if c.jitter == nil {
		c.jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		}
	}
	return c, nil
}

// Shop is the client's myshopify domain.
func (c *Client) Shop() string { return c.shop }

// APIVersion is the Admin API version the client speaks.
func (c *Client) APIVersion() string { return c.version }

// Endpoint is the GraphQL URL the client posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// ThrottleStatus is the client's model of the shop's cost bucket, refilled to now; false
// until a response has reported it.
func (c *Client) ThrottleStatus() (ThrottleStatus, bool) {
	return c.bucket.status(c.clock.Now())
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     []GraphQLError  `json:"errors"`
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

func (r *gqlResponse) hasCode(code string) bool {
	for _, e := range r.Errors {
		if e.Code() == code {
			return true
		}
	}
	return false
}

func (r *gqlResponse) noData() bool {
	d := bytes.TrimSpace(r.Data)
	return len(d) == 0 || bytes.Equal(d, []byte("null"))
}

// Do posts query with variables and decodes the response's data into out (a pointer, or nil
// to discard it).
//
// Before sending, it waits until the shop's cost bucket holds what the query cost last time
// (the server's requestedQueryCost; a small default for a query not sent before). A THROTTLED
// answer, as HTTP 200 with errors[].extensions.code == "THROTTLED" or as HTTP 429, waits for
// the bucket to refill (or Retry-After, whichever is longer) plus jitter and tries again; it
// is not a failure. A 5xx, a network error, a timed-out attempt, or a 200 whose only content
// is an INTERNAL_SERVER_ERROR, is retried up to MaxRetries times with backoff. Any other
// status is returned at once as an *HTTPError (errors.Is ErrUnauthorized for 401,
// ErrForbidden for 403). Top-level GraphQL errors come back as a *QueryError, after whatever
// data arrived with them was decoded into out. Mutations' userErrors are in the data: see
// CheckUserErrors.
//
// Retried mutations may run twice if an answer was lost; the mutations storeline sends
// (tagsAdd, tagsRemove, metafieldsSet, bulkOperationRunQuery) are idempotent or refuse a
// second run.
func (c *Client) Do(ctx context.Context, query string, variables map[string]any, out any) error {
	body, err := json.Marshal(gqlRequest{Query: query, Variables: variables})
	if err != nil {
		return fmt.Errorf("shopifyapi: encoding request: %w", err)
	}
	var (
		failures, throttles int
		throttled           bool          // the last answer was THROTTLED
		minWait             time.Duration // backoff or Retry-After owed before the next attempt
	)
	for {
		wait := c.bucket.reserve(c.clock.Now(), c.bucket.estimate(query))
		wait = max(wait, minWait)
		if throttled {
			if wait == 0 { // the server said no, but gave us nothing to compute a wait from
				wait = c.backoff(throttles)
			} else {
				wait += c.jitter(wait/10 + 50*time.Millisecond)
			}
		}
		if wait > 0 {
			c.log.Debug("shopify: waiting before the request", "wait", wait, "throttled", throttled, "failures", failures)
			if err := c.clock.Sleep(ctx, wait); err != nil {
				return fmt.Errorf("shopifyapi: shop %s: %w", c.shop, err)
			}
		}
		throttled, minWait = false, 0

		status, header, raw, err := c.post(ctx, body)
		if errors.Is(err, errResponseTooLarge) { // retrying would fetch the same answer
			return fmt.Errorf("shopifyapi: shop %s: %w", c.shop, err)
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("shopifyapi: shop %s: %w", c.shop, ctx.Err())
			}
			if failures++; failures > c.maxRetries {
				return fmt.Errorf("shopifyapi: shop %s: giving up after %d attempts: %w", c.shop, failures, err)
			}
			minWait = c.backoff(failures)
			c.log.Warn("shopify: request failed, retrying", "err", err, "attempt", failures, "wait", minWait)
			continue
		}

		var resp gqlResponse
		parseErr := json.Unmarshal(raw, &resp)
		now := c.clock.Now()
		if cost := resp.Extensions.Cost; parseErr == nil && cost != nil {
			c.bucket.observe(now, cost.ThrottleStatus)
			c.bucket.remember(query, cost.RequestedQueryCost)
		}
		retryAfter := parseRetryAfter(header.Get("Retry-After"), now)
		ok := status >= 200 && status < 300

		switch {
		case status == http.StatusTooManyRequests || (ok && parseErr == nil && resp.hasCode("THROTTLED")):
			if throttles++; throttles > c.maxThrottleWaits {
				return fmt.Errorf("%w (shop %s, %d waits)", ErrThrottled, c.shop, c.maxThrottleWaits)
			}
			throttled, minWait = true, retryAfter
			continue
		case status >= 500 || (ok && parseErr == nil && resp.noData() && resp.hasCode("INTERNAL_SERVER_ERROR")):
			var last error = c.httpError(c.endpoint, status, raw, retryAfter)
			if ok {
				last = &QueryError{Shop: c.shop, Errors: resp.Errors}
			}
			if failures++; failures > c.maxRetries {
				return fmt.Errorf("shopifyapi: shop %s: giving up after %d attempts: %w", c.shop, failures, last)
			}
			minWait = max(c.backoff(failures), retryAfter)
			c.log.Warn("shopify: server error, retrying", "status", status, "attempt", failures, "wait", minWait)
			continue
		case !ok:
			return c.httpError(c.endpoint, status, raw, retryAfter)
		}

		if parseErr != nil {
			return fmt.Errorf("shopifyapi: shop %s: decoding response: %w", c.shop, parseErr)
		}
		if out != nil && !resp.noData() {
			if err := json.Unmarshal(resp.Data, out); err != nil {
				return fmt.Errorf("shopifyapi: shop %s: decoding data: %w", c.shop, err)
			}
		}
		if len(resp.Errors) > 0 {
			return &QueryError{Shop: c.shop, Errors: resp.Errors}
		}
		return nil
	}
}

// post sends one attempt. err is a transport error (including the attempt's timeout and a
// body cut short); any HTTP status is a result.
func (c *Client) post(ctx context.Context, body []byte) (int, http.Header, []byte, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if c.timeout > 0 {
		actx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "storeline-shopifyapi")
	req.Header.Set("X-Shopify-Access-Token", c.token)
	resp, err := c.gql.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, nil, nil, err
	}
	if len(raw) > maxResponseBytes {
		return resp.StatusCode, resp.Header, nil, errResponseTooLarge
	}
	return resp.StatusCode, resp.Header, raw, nil
}

// backoff is the wait before the n-th retry: full jitter over an exponential ceiling.
func (c *Client) backoff(n int) time.Duration {
	ceiling := c.retryMax
	if n < 30 {
		ceiling = min(c.retryMax, c.retryBase<<(n-1))
	}
	return c.jitter(ceiling)
}

func (c *Client) httpError(rawURL string, status int, body []byte, retryAfter time.Duration) *HTTPError {
	b := strings.TrimSpace(string(body))
	if len(b) > errorBodyBytes {
		b = b[:errorBodyBytes] + "…"
	}
	return &HTTPError{Shop: c.shop, URL: redactURL(rawURL), StatusCode: status, Body: b, RetryAfter: retryAfter}
}

// parseRetryAfter reads Retry-After as seconds (Shopify sends "2.0") or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return ceilMillis(s)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redactURL drops the query string: a bulk result's URL is signed there.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable url)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

func normalizeShop(s string) (string, error) {
	shop := strings.ToLower(strings.TrimSpace(s))
	shop = strings.TrimPrefix(strings.TrimPrefix(shop, "https://"), "http://")
	shop = strings.TrimSuffix(shop, "/")
	if shop == "" {
		return "", errors.New("shopifyapi: no shop given")
	}
	for _, r := range shop {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return "", fmt.Errorf("shopifyapi: shop %q is not a myshopify domain", s)
		}
	}
	if !strings.Contains(shop, ".") {
		shop += ".myshopify.com"
	}
	return shop, nil
}

func validAPIVersion(v string) bool {
	if v == "unstable" {
		return true
	}
	if len(v) != 7 || v[4] != '-' {
		return false
	}
	y, err1 := strconv.Atoi(v[:4])
	m, err2 := strconv.Atoi(v[5:])
	return err1 == nil && err2 == nil && y >= 2019 && m >= 1 && m <= 12
}

// versionAtLeast compares API versions; "unstable" is newer than every dated one.
func versionAtLeast(v, min string) bool {
	return v == "unstable" || v >= min
}

func endpointURL(base, shop, version string) (string, error) {
	path := "/admin/api/" + version + "/graphql.json"
	if base == "" {
		return "https://" + shop + path, nil
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("shopifyapi: BaseURL %q is not an absolute URL", base)
	}
	if !strings.HasSuffix(u.Path, ".json") {
		u.Path = strings.TrimSuffix(u.Path, "/") + path
	}
	return u.String(), nil
}
