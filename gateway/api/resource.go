package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
)

// resource is an aggregate the dashboard creates, reads, edits and perhaps removes by id (a
// UUID the server makes up): objectives, tag definitions and collections, combo plans. Its
// routes are the same but for the types and the rules, so they are declared once here.
type resource[Spec, View any] struct {
	name       string // in prose: "tag definition"
	path       string // collection path: "/tag-definitions"
	tag        string // OpenAPI tag
	aggregate  string // aggregate type
	projection string // the read model's checkpoint name, for consistency tokens
	validate   func(Spec) error
	get        func(ctx context.Context, id string) (*View, error)
	notFound   error // what get returns for an unknown id
	shopOf     func(*View) string
	versionOf  func(*View) int64
	idOf       func(*View) string
}

// ResourceIDParam is the id in a resource's path. Like every parameter struct it is exported:
// huma reads no parameters from an embedded unexported struct.
type ResourceIDParam struct {
	ID string `path:"id" format:"uuid" doc:"The resource's id."`
}

// withETag is a single resource with its version as ETag.
type withETag[View any] struct {
	ETag string `header:"ETag" doc:"The resource's version; send it in If-Match to change it."`
	Body View
}

// create declares POST <path>: a new aggregate with a new id, answered 201 with its Location.
func (r resource[Spec, View]) create(a *API, opID, summary string, decide func(id string, shop Shop, s Spec) decision.Decide) {
	huma.Register(a.humaAPI, withStatus(op(opID, http.MethodPost, r.path, auth.RoleEditor, r.tag, summary), http.StatusCreated),
		func(ctx context.Context, in *struct {
			ShopParam
			CommandParams
			Body Spec
		}) (*CommandOutput[View], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := r.validate(in.Body); err != nil {
				return nil, a.commandError(ctx, err)
			}
			id := uuid.NewString()
			out, err := command[View](a, ctx, opID, decision.Command{AggregateType: r.aggregate, AggregateID: id, Shop: shop.Domain, Create: true},
				in.CommandParams, in.Body, false, decide(id, shop, in.Body))
			if err != nil {
				return nil, err
			}
			out.Location = Prefix + r.path + "/" + r.idOf(&out.Body)
			return out, nil
		})
}

// read declares GET <path>/{id}: the newest version (or tombstone) with its ETag.
func (r resource[Spec, View]) read(a *API, opID, summary string) {
	huma.Register(a.humaAPI, op(opID, http.MethodGet, r.path+"/{id}", auth.RoleViewer, r.tag, summary),
		func(ctx context.Context, in *struct {
			ResourceIDParam
			ShopParam
			ConsistencyParam
		}) (*withETag[View], error) {
			v, err := r.load(a, ctx, in.ShopParam, in.ConsistencyParam, in.ID)
			if err != nil {
				return nil, err
			}
			return &withETag[View]{ETag: etag(r.versionOf(v)), Body: *v}, nil
		})
}

// load reads one resource of the shop, after the consistency wait.
func (r resource[Spec, View]) load(a *API, ctx context.Context, sp ShopParam, cp ConsistencyParam, id string) (*View, error) {
	if err := a.consistent(ctx, cp, r.projection); err != nil {
		return nil, err
	}
	v, err := r.get(ctx, id)
	if errors.Is(err, r.notFound) {
		return nil, notFound(r.name + " " + id)
	}
	if err != nil {
		return nil, a.internal(ctx, "read "+r.name, err)
	}
	if err := a.shopOf(sp, r.shopOf(v)); err != nil {
		return nil, err
	}
	return v, nil
}

// update declares PUT <path>/{id}: a new version, If-Match required.
func (r resource[Spec, View]) update(a *API, opID, summary string, decide func(id string, shop Shop, s Spec) decision.Decide) {
	huma.Register(a.humaAPI, op(opID, http.MethodPut, r.path+"/{id}", auth.RoleEditor, r.tag, summary+" If-Match is required."),
		func(ctx context.Context, in *struct {
			ResourceIDParam
			ShopParam
			CommandParams
			Body Spec
		}) (*CommandOutput[View], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := r.validate(in.Body); err != nil {
				return nil, a.commandError(ctx, err)
			}
			return command[View](a, ctx, opID, decision.Command{AggregateType: r.aggregate, AggregateID: in.ID, Shop: shop.Domain},
				in.CommandParams, in.Body, true, decide(in.ID, shop, in.Body))
		})
}

// remove declares DELETE <path>/{id}, If-Match required.
func (r resource[Spec, View]) remove(a *API, opID, summary string, decide func(id string, shop Shop) decision.Decide) {
	huma.Register(a.humaAPI, op(opID, http.MethodDelete, r.path+"/{id}", auth.RoleEditor, r.tag, summary+" If-Match is required."),
		func(ctx context.Context, in *struct {
			ResourceIDParam
			ShopParam
			CommandParams
		}) (*CommandOutput[View], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			return command[View](a, ctx, opID, decision.Command{AggregateType: r.aggregate, AggregateID: in.ID, Shop: shop.Domain},
				in.CommandParams, nil, true, decide(in.ID, shop))
		})
}

// withStatus sets an operation's success status.
func withStatus(o huma.Operation, status int) huma.Operation {
	o.DefaultStatus = status
	return o
}
