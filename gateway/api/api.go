// Package api is the dashboard's REST API under /api/v1: read models over GET, decisions as
// commands (POST/PUT/DELETE) with optimistic concurrency (If-Match), Idempotency-Key and
// consistency tokens. It is declared with huma, which generates the OpenAPI 3.1 document served
// at /api/openapi.json from the same declarations the router uses and validates every request
// against it, so the document cannot drift from the routes.
//
// Every operation names the least role it needs (viewer reads, editor decides, admin operates);
// an operation without one is refused, so a forgotten role fails closed.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/cursor"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/gateway/problem"
	"github.com/storeline/storeline/outbox"
	"github.com/storeline/storeline/traceparent"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1"

// MaxBody bounds a command's body.
const MaxBody = 64 << 10

// Shop is a shop the dashboard works on.
type Shop struct {
	Domain   string
	Currency string // ISO 4217; "" when not configured (money targets must then name theirs)
}

// Config configures the API.
type Config struct {
	// Shops the API serves. With exactly one, the shop parameter may be left out.
	Shops []Shop
	// ConsistencyTimeout bounds a read's wait for its consistency token; default 5 s.
	ConsistencyTimeout time.Duration
	// CursorKey signs pagination cursors (every replica needs the same one).
	CursorKey []byte
	Version   string
}

// Waiter waits for projections to pass a consistency token (outbox.Waiter).
type Waiter interface {
	Wait(ctx context.Context, t outbox.Token, projections ...string) error
}

// Deps are what the API serves from. A nil reader leaves its routes out.
type Deps struct {
	// Authenticate puts an auth.Principal in every request's context or refuses it (auth.Middleware,
	// or auth.DevMiddleware for the embedded defaults).
	Authenticate func(http.Handler) http.Handler
	Decisions    *decision.Store
	Waiter       Waiter
	Orders       OrderReader
	Products     ProductReader
	Tags         TagReader
	Objectives   ObjectiveReader
	Plans        PlanReader
	Syncs        SyncRequester // records bulk sync requests; nil leaves POST /sync out
	Health       []Check
	Log          *slog.Logger
}

// API is the mounted API.
type API struct {
	cfg     Config
	d       Deps
	humaAPI huma.API
	cursors *cursor.Codec
	now     func() time.Time
}

func init() {
	// huma's own errors (schema validation, body too large, ...) in storeline's vocabulary. Schema
	// validation is a 400 with field details, as every other invalid request: 422 is kept for
	// an Idempotency-Key reused with another request.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		if status == http.StatusUnprocessableEntity {
			status = http.StatusBadRequest
		}
		d := problem.New(status, problem.ForStatus(status), msg)
		for _, e := range errs {
			var detail *huma.ErrorDetail
			if errors.As(e, &detail) {
				d.Errors = append(d.Errors, fielderr.Field{Location: detail.Location, Message: detail.Message, Value: detail.Value})
			} else if e != nil {
				d.Errors = append(d.Errors, fielderr.Field{Message: e.Error()})
			}
		}
		return d
	}
}

// New builds the API. Mount Handler at /api.
func New(cfg Config, d Deps) (*API, http.Handler) {
	if cfg.ConsistencyTimeout <= 0 {
		cfg.ConsistencyTimeout = 5 * time.Second
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	a := &API{cfg: cfg, d: d, cursors: cursor.New(cfg.CursorKey), now: time.Now}

	r := chi.NewRouter()
	if d.Authenticate != nil {
		r.Use(d.Authenticate)
	}
	hc := huma.DefaultConfig("storeline dashboard API", cfg.Version)
	hc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaNamer())
	hc.RejectUnknownQueryParameters = true
	hc.OpenAPIPath, hc.DocsPath, hc.SchemasPath = "", "", ""
	hc.CreateHooks = nil // no $schema links in bodies
	hc.Info.Description = "The merchant dashboard's API: read models of orders, products, tags, objectives and combo plans, and the commands that change them. " +
		"Errors are application/problem+json (RFC 9457) with stable types under /problems/. " +
		"Commands answer with an ETag (the aggregate's version; send it back in If-Match) and an X-Consistency-Token; a read given that token " +
		"(header X-Consistency-Token or query consistency) answers only once it shows the command's effect."
	hc.Servers = []*huma.Server{{URL: Prefix}}
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":   {Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: "The identity-aware proxy's JWT (Google IAP, oauth2-proxy)."},
		"cfAccess": {Type: "apiKey", In: "header", Name: auth.HeaderCfAccessJWT, Description: "Cloudflare Access's JWT assertion."},
	}
	hc.Security = []map[string][]string{{"bearer": {}}, {"cfAccess": {}}}
	a.humaAPI = humachi.New(r, hc)
	a.humaAPI.UseMiddleware(a.authorize)

	a.registerHealth()
	if d.Orders != nil {
		a.registerOrders()
	}
	if d.Products != nil {
		a.registerProducts()
	}
	if d.Tags != nil {
		a.registerTags()
	}
	if d.Objectives != nil {
		a.registerObjectives()
	}
	if d.Plans != nil {
		a.registerPlans()
	}
	if d.Syncs != nil {
		a.registerSync()
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, http.StatusNotFound, problem.NotFound, "no route "+r.Method+" "+r.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, http.StatusMethodNotAllowed, problem.MethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path)
	})
	return a, r
}

// schemaNamer names the document's schemas after their Go types; a request body type from a
// commands package gets "Input" (it is what a client writes, beside the read model's type of the
// same name), and a name two packages share gets its package's name in front, so that no schema
// silently stands for two types.
func schemaNamer() func(t reflect.Type, hint string) string {
	taken := map[string]string{} // name → package path
	return func(t reflect.Type, hint string) string {
		name := huma.DefaultSchemaNamer(t, hint)
		base := t
		for base.Kind() == reflect.Pointer || base.Kind() == reflect.Slice {
			base = base.Elem()
		}
		pkg := base.PkgPath()
		if strings.Contains(pkg, "/commands/") && !strings.HasSuffix(pkg, "/fielderr") {
			name += "Input"
		}
		if other, ok := taken[name]; ok && other != pkg && pkg != "" {
			name = strings.ToUpper(path.Base(pkg)[:1]) + path.Base(pkg)[1:] + name
		}
		if _, ok := taken[name]; !ok {
			taken[name] = pkg
		}
		return name
	}
}

// OpenAPI returns the OpenAPI 3.1 document.
func (a *API) OpenAPI() *huma.OpenAPI { return a.humaAPI.OpenAPI() }

// ServeOpenAPI serves the document as JSON (GET /api/openapi.json, no authentication: it holds
// no data).
func (a *API) ServeOpenAPI(w http.ResponseWriter, _ *http.Request) {
	b, err := json.Marshal(a.humaAPI.OpenAPI())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.1")
	_, _ = w.Write(b)
}

// roleKey is the operation metadata naming the least role an operation needs.
const roleKey = "storeline-role"

// RoleOf is the least role an operation needs (RoleNone if it declares none: refused to all).
func RoleOf(o *huma.Operation) auth.Role {
	r, _ := o.Metadata[roleKey].(auth.Role)
	return r
}

// authorize lets an operation run only for a principal with its role.
func (a *API) authorize(ctx huma.Context, next func(huma.Context)) {
	min, ok := ctx.Operation().Metadata[roleKey].(auth.Role)
	if !ok || min == auth.RoleNone {
		_ = huma.WriteErr(a.humaAPI, ctx, http.StatusForbidden, "operation "+ctx.Operation().OperationID+" declares no role")
		return
	}
	p, ok := auth.FromContext(ctx.Context())
	if !ok {
		_ = huma.WriteErr(a.humaAPI, ctx, http.StatusUnauthorized, "no identity")
		return
	}
	if !p.Role.Allows(min) {
		_ = huma.WriteErr(a.humaAPI, ctx, http.StatusForbidden, "this needs the "+min.String()+" role")
		return
	}
	next(ctx)
}

// op declares an operation.
func op(id, method, path string, role auth.Role, tag, summary string) huma.Operation {
	return huma.Operation{
		OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{tag},
		Metadata:     map[string]any{roleKey: role},
		MaxBodyBytes: MaxBody,
		Description:  summary + " Needs the " + role.String() + " role.",
	}
}

// ShopParam selects the shop; optional when the deployment serves one shop.
type ShopParam struct {
	Shop string `query:"shop" maxLength:"255" doc:"Shop domain (x.myshopify.com); optional when the deployment serves one shop."`
}

func (a *API) shop(p ShopParam) (Shop, error) {
	want := strings.ToLower(strings.TrimSpace(p.Shop))
	if want == "" {
		if len(a.cfg.Shops) == 1 {
			return a.cfg.Shops[0], nil
		}
		return Shop{}, invalid("query.shop", "name the shop (x.myshopify.com): this deployment serves several", nil)
	}
	for _, s := range a.cfg.Shops {
		if s.Domain == want {
			return s, nil
		}
	}
	if len(a.cfg.Shops) == 0 {
		// No shop configured by name: every shop signing with the app's secret is served.
		if !shopDomain.MatchString(want) {
			return Shop{}, invalid("query.shop", "a shop is named by its myshopify domain, e.g. example.myshopify.com", p.Shop)
		}
		return Shop{Domain: want}, nil
	}
	return Shop{}, problem.New(http.StatusNotFound, problem.NotFound, "no shop "+want+" here")
}

// shopDomain is a shop's permanent myshopify domain (Shopify's X-Shopify-Shop-Domain).
var shopDomain = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com$`)

// shopOf checks a single resource's shop against the shop parameter: a resource of another
// shop is as good as absent. Without the parameter any shop's resource is served (the id names it).
func (a *API) shopOf(p ShopParam, resourceShop string) error {
	if strings.TrimSpace(p.Shop) == "" {
		return nil
	}
	s, err := a.shop(p)
	if err != nil {
		return err
	}
	if s.Domain != resourceShop {
		return notFound("such resource in shop " + s.Domain)
	}
	return nil
}

// ConsistencyParam carries a consistency token to a read.
type ConsistencyParam struct {
	TokenHeader string `header:"X-Consistency-Token" maxLength:"200" doc:"Consistency token of a command: the read answers once it shows the command's effect (or 504 after a few seconds)."`
	TokenQuery  string `query:"consistency" maxLength:"200" doc:"The same as the X-Consistency-Token header, for links."`
}

// consistent waits for the token, if any, to be applied by the projections.
func (a *API) consistent(ctx context.Context, p ConsistencyParam, projections ...string) error {
	raw := p.TokenHeader
	if raw == "" {
		raw = p.TokenQuery
	}
	if raw == "" {
		return nil
	}
	t, err := outbox.ParseToken(raw)
	if err != nil {
		return problem.New(http.StatusBadRequest, problem.InvalidToken, err.Error())
	}
	if a.d.Waiter == nil {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, a.cfg.ConsistencyTimeout)
	defer cancel()
	switch err := a.d.Waiter.Wait(wctx, t, projections...); {
	case err == nil:
		return nil
	case errors.Is(err, outbox.ErrInvalidToken):
		return problem.New(http.StatusBadRequest, problem.InvalidToken, err.Error())
	case errors.Is(err, outbox.ErrNotCaughtUp):
		return problem.New(http.StatusGatewayTimeout, problem.ConsistencyTimeout,
			"the read model has not caught up with the token within "+a.cfg.ConsistencyTimeout.String()+"; retry").WithHeader("Retry-After", "1")
	default:
		return a.internal(ctx, "consistency wait", err)
	}
}

// CommandParams are the headers of every command.
type CommandParams struct {
	IfMatch        string `header:"If-Match" maxLength:"64" doc:"The ETag of the version the change is based on; 412 if the resource has changed since."`
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Makes a retry safe: a repeat with the same key and body gets the first answer; the same key with another body gets 422. Kept 24 hours."`
}

// CommandOutput is the answer to a command.
type CommandOutput[T any] struct {
	ETag     string `header:"ETag" doc:"The resource's new version."`
	Token    string `header:"X-Consistency-Token" doc:"Give it to a read to see this command's effect."`
	Location string `header:"Location"`
	Replayed string `header:"Idempotent-Replayed" doc:"true when this is the recorded answer to an earlier request with the same Idempotency-Key."`
	Status   int
	Body     T
}

// etag renders an aggregate version as an ETag.
func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// parseIfMatch reads If-Match: a strong ETag of a version. required: absence is 428.
func parseIfMatch(h string, required bool) (*int64, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		if required {
			return nil, problem.New(http.StatusPreconditionRequired, problem.PreconditionRequired,
				"send If-Match with the ETag of the version you changed, so a concurrent change is not overwritten")
		}
		return nil, nil
	}
	if h == "*" {
		return nil, nil
	}
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v < 0 || strings.HasPrefix(h, "W/") {
		return nil, invalid("header.If-Match", `want a strong ETag such as "3"`, h)
	}
	return &v, nil
}

// command runs a decision for the request in ctx and fills out.
func command[T any](a *API, ctx context.Context, opID string, cmd decision.Command, params CommandParams, body any, ifMatchRequired bool, decide decision.Decide) (*CommandOutput[T], error) {
	ifMatch, err := parseIfMatch(params.IfMatch, ifMatchRequired)
	if err != nil {
		return nil, err
	}
	p, _ := auth.FromContext(ctx)
	req, err := json.Marshal(struct {
		Op   string `json:"op"`
		ID   string `json:"id"`
		Body any    `json:"body"`
	}{opID, idOf(cmd), body})
	if err != nil {
		return nil, a.internal(ctx, "encode request", err)
	}
	cmd.IfMatch = ifMatch
	cmd.IdempotencyKey = params.IdempotencyKey
	// A key belongs to its caller, shop and operation: nobody else's request can replay it.
	cmd.Scope = p.Subject + " " + cmd.Shop + " " + opID
	cmd.Request = req
	cmd.Actor = events.Actor{Type: events.ActorUser, ID: p.Subject}
	cmd.CorrelationID = middleware.GetReqID(ctx)
	cmd.Traceparent = traceparent.From(ctx)
	res, err := a.d.Decisions.Run(ctx, cmd, decide)
	if err != nil {
		return nil, a.commandError(ctx, err)
	}
	out := &CommandOutput[T]{ETag: etag(res.Version), Status: res.Status}
	if res.Token != (outbox.Token{}) { // a command that changed nothing has nothing to wait for
		out.Token = res.Token.String()
	}
	if res.Replayed {
		out.Replayed = "true"
	}
	if err := json.Unmarshal(res.Body, &out.Body); err != nil {
		return nil, a.internal(ctx, "decode recorded answer", err)
	}
	return out, nil
}

// idOf is the aggregate id as part of the request: none for a create, whose id the server makes
// up (a retry of the same create must hash the same).
func idOf(cmd decision.Command) string {
	if cmd.Create {
		return ""
	}
	return cmd.AggregateID
}

// commandError maps a command's error to its problem.
func (a *API) commandError(ctx context.Context, err error) error {
	var rej *decision.Rejection
	var fe *fielderr.Error
	var pd *problem.Details
	switch {
	case errors.As(err, &pd):
		return pd
	case errors.As(err, &fe):
		d := problem.New(http.StatusBadRequest, problem.InvalidRequest, fe.Error())
		d.Errors = fe.Fields
		return d
	case errors.As(err, &rej):
		return problem.New(http.StatusConflict, problem.Conflict, rej.Reason)
	case errors.Is(err, decision.ErrVersionMismatch):
		return problem.New(http.StatusPreconditionFailed, problem.PreconditionFailed, err.Error()+"; read it again and reapply your change")
	case errors.Is(err, decision.ErrNotFound):
		return problem.New(http.StatusNotFound, problem.NotFound, "no such resource")
	case errors.Is(err, decision.ErrExists):
		return problem.New(http.StatusConflict, problem.Conflict, "a resource with this id exists")
	case errors.Is(err, decision.ErrNameTaken):
		return problem.New(http.StatusConflict, problem.Conflict, err.Error())
	case errors.Is(err, decision.ErrKeyReused):
		return problem.New(http.StatusUnprocessableEntity, problem.IdempotencyKeyReused, "this Idempotency-Key was used with a different request")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return problem.New(http.StatusServiceUnavailable, problem.Unavailable, "the command did not complete in time; retry with the same Idempotency-Key").WithHeader("Retry-After", "1")
	default:
		return a.internal(ctx, "command", err)
	}
}

// internal logs err and returns an opaque 500.
func (a *API) internal(ctx context.Context, what string, err error) error {
	a.d.Log.ErrorContext(ctx, "api: "+what, "err", err, "request_id", middleware.GetReqID(ctx))
	return problem.New(http.StatusInternalServerError, problem.Internal, "see the server log, request id "+middleware.GetReqID(ctx))
}

// invalid is a 400 about one field.
func invalid(location, message string, value any) error {
	d := problem.New(http.StatusBadRequest, problem.InvalidRequest, location+": "+message)
	d.Errors = fielderr.List{{Location: location, Message: message, Value: value}}
	return d
}

// notFound is a 404.
func notFound(what string) error {
	return problem.New(http.StatusNotFound, problem.NotFound, fmt.Sprintf("no %s", what))
}
