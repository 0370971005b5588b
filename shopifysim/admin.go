package shopifysim

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// AdminOptions configure an AdminServer.
type AdminOptions struct {
	// AccessToken is the X-Shopify-Access-Token every GraphQL request must carry; default
	// DefaultAccessToken.
	AccessToken string
	// Clock drives the cost bucket's restore, bulk operations' status machine and the expiry of
	// result URLs; default RealClock. It also becomes the store's clock if it has none.
	Clock Clock

	// The cost bucket (per app and shop): MaximumAvailable points (default 1000), restored at
	// RestoreRate per second (default 50), a single query allowed MaxQueryCost (default 1000).
	MaximumAvailable float64
	RestoreRate      float64
	MaxQueryCost     int
	// ThrottledStatus is the HTTP status of a THROTTLED answer: 200 (default) or 429. Shopify's
	// own answer is disputed; a client must handle both.
	ThrottledStatus int

	Bulk BulkOptions
	// BulkFinishWebhook records a bulk_operations/finish change in the store when an operation
	// completes, fails or is canceled, so a WebhookSender following the store delivers it.
	BulkFinishWebhook bool

	// ResultsBaseURL is where result files are served ("http://127.0.0.1:8081"); default: the
	// scheme and host of the GraphQL request that asks for the URL.
	ResultsBaseURL string
	// ResultDir keeps result files; default a temporary directory removed by Close.
	ResultDir string
	// Seed decides shuffled line order and the URL signing key.
	Seed int64
}

// BulkOptions time bulk operations (on the server's clock) and shape their results.
type BulkOptions struct {
	StartAfter  time.Duration // CREATED → RUNNING; default 1 s
	RunFor      time.Duration // RUNNING → COMPLETED; default 2 s
	CancelAfter time.Duration // CANCELING → CANCELED; default 1 s
	// MaxRunTime is Shopify's limit (10 days): an operation that would run longer fails with
	// errorCode TIMEOUT and partial data.
	MaxRunTime time.Duration
	// URLTTL is how long url and partialDataUrl work after completion (Shopify: 7 days); then a
	// completed operation becomes EXPIRED.
	URLTTL time.Duration
	// NestedLimit, when above 0, silently truncates every nested connection to that many
	// children per parent, as Shopify truncates some.
	NestedLimit int
	// ShuffleWindow is how many lines an ungrouped result shuffles among (default 512): lines
	// come out in no useful order, children may precede their parent.
	ShuffleWindow int
}

// BulkFailure makes the next bulk operation(s) fail instead of completing.
type BulkFailure struct {
	ErrorCode string // TIMEOUT, INTERNAL_SERVER_ERROR or ACCESS_DENIED
	// PartialFraction of the result's lines is served at partialDataUrl (a file cut at a line
	// boundary); 0 gives no partial data.
	PartialFraction float64
}

// DefaultAccessToken is the access token an AdminServer accepts by default.
const DefaultAccessToken = "shpat_storeline_simulator"

// AdminServer is the shop's Admin API: POST /admin/api/{version}/graphql.json (see the package
// documentation for the supported operations) and the result files of bulk operations under
// /bulk-operation-outputs/. It is an http.Handler; run it with httptest.NewServer or any server.
type AdminServer struct {
	store *Store
	opts  AdminOptions
	clock Clock
	key   []byte

	mu          sync.Mutex
	rng         *rand.Rand
	bucket      costBucket
	failures    []int // statuses of the next requests to fail
	bulkFail    []BulkFailure
	ops         map[int64]*BulkOperation
	opOrder     []int64
	dir         string
	ownDir      bool
	closed      bool
	generations sync.WaitGroup
}

type costBucket struct {
	max, rate, avail float64
	at               time.Time
}

func (b *costBucket) refill(now time.Time) {
	if !b.at.IsZero() && now.After(b.at) {
		b.avail = math.Min(b.max, b.avail+now.Sub(b.at).Seconds()*b.rate)
	}
	if now.After(b.at) || b.at.IsZero() {
		b.at = now
	}
}

// ThrottleStatus is the bucket as extensions.cost.throttleStatus shows it.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// NewAdminServer serves a store's Admin API.
func NewAdminServer(store *Store, opts AdminOptions) *AdminServer {
	if opts.AccessToken == "" {
		opts.AccessToken = DefaultAccessToken
	}
	if opts.Clock == nil {
		opts.Clock = RealClock{}
	}
	if opts.MaximumAvailable <= 0 {
		opts.MaximumAvailable = 1000
	}
	if opts.RestoreRate <= 0 {
		opts.RestoreRate = 50
	}
	if opts.MaxQueryCost <= 0 {
		opts.MaxQueryCost = 1000
	}
	if opts.ThrottledStatus == 0 {
		opts.ThrottledStatus = http.StatusOK
	}
	b := &opts.Bulk
	if b.StartAfter <= 0 {
		b.StartAfter = time.Second
	}
	if b.RunFor <= 0 {
		b.RunFor = 2 * time.Second
	}
	if b.CancelAfter <= 0 {
		b.CancelAfter = time.Second
	}
	if b.MaxRunTime <= 0 {
		b.MaxRunTime = 10 * 24 * time.Hour
	}
	if b.URLTTL <= 0 {
		b.URLTTL = 7 * 24 * time.Hour
	}
	if b.ShuffleWindow <= 0 {
		b.ShuffleWindow = 512
	}
	store.mu.Lock()
	if store.clock == nil {
		store.clock = opts.Clock
	}
	store.mu.Unlock()
	a := &AdminServer{store: store, opts: opts, clock: opts.Clock, rng: rand.New(rand.NewPCG(uint64(opts.Seed), 0xad1a)),
		ops: map[int64]*BulkOperation{}, dir: opts.ResultDir}
	a.key = []byte(uuidFrom(a.rng) + uuidFrom(a.rng))
	a.bucket = costBucket{max: opts.MaximumAvailable, rate: opts.RestoreRate, avail: opts.MaximumAvailable}
	return a
}

// Close stops pending bulk operations' timers from doing anything and removes the result
// directory the server made.
func (a *AdminServer) Close() error {
	a.mu.Lock()
	a.closed = true
	for _, op := range a.ops {
		for _, stop := range op.timers {
			stop()
		}
	}
	dir, own := a.dir, a.ownDir
	a.mu.Unlock()
	a.generations.Wait()
	if own && dir != "" {
		return os.RemoveAll(dir)
	}
	return nil
}

// FailNextRequests makes the next n GraphQL requests answer status (a 5xx) before doing
// anything: no cost, no effect.
func (a *AdminServer) FailNextRequests(n, status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		a.failures = append(a.failures, status)
	}
}

// FailNextBulkOperation makes the next bulk operation to finish fail as f says.
func (a *AdminServer) FailNextBulkOperation(f BulkFailure) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bulkFail = append(a.bulkFail, f)
}

// Throttle returns the cost bucket now.
func (a *AdminServer) Throttle() ThrottleStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bucket.refill(a.clock.Now())
	return a.throttleStatus()
}

func (a *AdminServer) throttleStatus() ThrottleStatus {
	return ThrottleStatus{MaximumAvailable: a.bucket.max, CurrentlyAvailable: math.Floor(a.bucket.avail*10) / 10, RestoreRate: a.bucket.rate}
}

var (
	graphqlPath = regexp.MustCompile(`^/admin/api/([^/]+)/graphql\.json$`)
	apiVersion  = regexp.MustCompile(`^(20\d\d-(01|04|07|10)|unstable)$`)
)

// ServeHTTP routes the Admin API and the result files.
func (a *AdminServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, resultsPrefix) {
		a.serveResult(w, r)
		return
	}
	m := graphqlPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	version := m[1]
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": "Method Not Allowed"})
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != a.opts.AccessToken {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	if !apiVersion.MatchString(version) {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "Not Found"})
		return
	}
	w.Header().Set("X-Shopify-API-Version", version)
	a.mu.Lock()
	if len(a.failures) > 0 {
		status := a.failures[0]
		a.failures = a.failures[1:]
		a.mu.Unlock()
		writeJSON(w, status, map[string]any{"errors": http.StatusText(status)})
		return
	}
	a.mu.Unlock()

	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Bad Request"})
		return
	}
	var req struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/graphql") {
		req.Query = string(body)
	} else {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.UseNumber()
		if err := dec.Decode(&req); err != nil || strings.TrimSpace(req.Query) == "" {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": map[string]any{"query": "Required parameter missing or invalid"}})
			return
		}
	}
	status, resp, retryAfter := a.execute(r, version, req.Query, normalizeVars(req.Variables), req.OperationName)
	if retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprintf("%.1f", retryAfter))
	}
	writeJSON(w, status, resp)
}

// normalizeVars turns json.Number variables into int64 or float64, as GraphQL coerces them.
func normalizeVars(v map[string]any) map[string]any {
	var norm func(any) any
	norm = func(v any) any {
		switch t := v.(type) {
		case json.Number:
			if i, err := t.Int64(); err == nil {
				return i
			}
			f, _ := t.Float64()
			return f
		case []any:
			for i := range t {
				t[i] = norm(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = norm(t[k])
			}
		}
		return v
	}
	if v == nil {
		return map[string]any{}
	}
	for k := range v {
		v[k] = norm(v[k])
	}
	return v
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalNoEscape(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// execute runs one GraphQL request: parse, pick the operation, validate and cost it, charge the
// bucket, execute under the store's lock, refund the difference. It returns the HTTP status,
// the body and, for a 429, the seconds to wait.
func (a *AdminServer) execute(r *http.Request, version, query string, vars map[string]any, opName string) (int, *jsonObj, float64) {
	now := a.clock.Now()
	resp := &jsonObj{}
	costExt := func(requested int, actual any) *jsonObj {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.bucket.refill(now)
		c := &jsonObj{}
		c.set("requestedQueryCost", requested)
		c.set("actualQueryCost", actual)
		c.set("throttleStatus", a.throttleStatus())
		ext := &jsonObj{}
		ext.set("cost", c)
		return ext
	}
	fail := func(errs []gqlError, requested int) (int, *jsonObj, float64) {
		resp.set("errors", errs)
		resp.set("extensions", costExt(requested, nil))
		return http.StatusOK, resp, 0
	}
	doc, err := parseGraphQL(query)
	if err != nil {
		e := gqlError{Message: err.Error()}
		if se, ok := err.(*gqlSyntaxError); ok && se.line > 0 {
			e.Locations = []gqlLocation{{se.line, se.col}}
		}
		return fail([]gqlError{e}, 0)
	}
	op, err := pickOperation(doc, opName)
	if err != nil {
		return fail([]gqlError{{Message: err.Error()}}, 0)
	}
	if op.kind == "subscription" {
		return fail([]gqlError{{Message: "Subscriptions are not supported"}}, 0)
	}
	for _, vd := range op.vars {
		if _, ok := vars[vd.name]; !ok && vd.def.kind != vNull {
			vars[vd.name] = (&execCtx{}).valueOf(vd.def)
		}
	}
	x := &execCtx{srv: a, store: a.store, schema: schema, doc: doc, vars: vars, version: version, baseURL: a.opts.ResultsBaseURL, now: now}
	if x.baseURL == "" {
		x.baseURL = requestBase(r)
	}
	root := schema["QueryRoot"]
	if op.kind == "mutation" {
		root = schema["Mutation"]
	}
	requested := x.check(root, op.sel)
	if len(x.errors) > 0 {
		return fail(x.errors, 0)
	}
	if requested > a.opts.MaxQueryCost {
		return fail([]gqlError{{Message: fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n", requested, a.opts.MaxQueryCost),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": a.opts.MaxQueryCost, "documentation": "https://shopify.dev/api/usage/rate-limits"}}}, requested)
	}

	a.mu.Lock()
	a.bucket.refill(now)
	if a.bucket.avail < float64(requested) {
		wait := (float64(requested) - a.bucket.avail) / a.bucket.rate
		a.mu.Unlock()
		resp.set("errors", []gqlError{{Message: "Throttled", Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}})
		resp.set("extensions", costExt(requested, nil))
		if a.opts.ThrottledStatus == http.StatusTooManyRequests {
			return http.StatusTooManyRequests, resp, math.Ceil(wait*10) / 10
		}
		return http.StatusOK, resp, 0
	}
	a.bucket.avail -= float64(requested)
	a.mu.Unlock()

	var data *jsonObj
	actual := 0
	if op.kind == "mutation" {
		a.store.mu.Lock()
		data = x.selectObject(root, nil, op.sel, nil)
		a.store.unlockAndNotify()
		actual = requested
	} else {
		a.store.mu.RLock()
		data = x.selectObject(root, nil, op.sel, nil)
		a.store.mu.RUnlock()
		actual = min(x.cost-1, requested) // the root object itself is free
	}
	a.mu.Lock()
	a.bucket.avail = math.Min(a.bucket.max, a.bucket.avail+float64(requested-actual))
	a.mu.Unlock()
	resp.set("data", data)
	if len(x.errors) > 0 {
		resp.set("errors", x.errors)
	}
	resp.set("extensions", costExt(requested, actual))
	return http.StatusOK, resp, 0
}

func pickOperation(doc *gqlDoc, name string) (*gqlOp, error) {
	if name == "" {
		if len(doc.ops) > 1 {
			return nil, fmt.Errorf("An operation name is required")
		}
		return doc.ops[0], nil
	}
	for _, op := range doc.ops {
		if op.name == name {
			return op, nil
		}
	}
	return nil, fmt.Errorf("No operation named %q", name)
}
