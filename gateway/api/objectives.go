package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/objectives"
	readmodel "github.com/storeline/storeline/projections/objectives"
)

// ObjectiveReader reads the objectives read model (projections/objectives).
type ObjectiveReader interface {
	List(ctx context.Context, q readmodel.ListQuery) ([]readmodel.Objective, error)
	Get(ctx context.Context, id string) (*readmodel.Objective, error)
	Versions(ctx context.Context, id string) ([]readmodel.Version, error)
}

// objectivesProjection is the projection the objective reads wait on.
const objectivesProjection = "objectives"

type objectiveList struct {
	Objectives []readmodel.Objective `json:"objectives"`
}

type objectiveVersions struct {
	Versions []readmodel.Version `json:"versions"`
}

func (a *API) registerObjectives() {
	r := resource[objectives.ObjectiveSpec, readmodel.Objective]{
		name: "objective", path: "/objectives", tag: "objectives", aggregate: objectives.AggregateType, projection: objectivesProjection,
		validate: objectives.Validate, get: a.d.Objectives.Get, notFound: readmodel.ErrNotFound,
		shopOf:    func(o *readmodel.Objective) string { return o.Shop },
		versionOf: func(o *readmodel.Objective) int64 { return o.Version },
		idOf:      func(o *readmodel.Objective) string { return o.ID },
	}
	set := func(id string, shop Shop, s objectives.ObjectiveSpec) decision.Decide {
		return objectives.Set(id, shop.Domain, s, shop.Currency, a.now())
	}
	r.create(a, "create-objective", "Create an objective: a target for one metric of a product, tag or collection over a period.", set)
	r.read(a, "get-objective", "An objective's newest version (a removed one's tombstone), with its version as ETag.")
	r.update(a, "update-objective", "Save a new version of an objective. Saving it unchanged makes no version and answers without a consistency token.", set)

	huma.Register(a.humaAPI, op("remove-objective", http.MethodDelete, "/objectives/{id}", auth.RoleEditor, "objectives",
		"Remove an objective: measurements are no longer classified against it. If-Match is required."),
		func(ctx context.Context, in *struct {
			ResourceIDParam
			ShopParam
			CommandParams
			Reason string `query:"reason" maxLength:"500" doc:"Why it is removed (kept in the event)."`
		}) (*CommandOutput[readmodel.Objective], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			var reason *string
			if in.Reason != "" {
				reason = &in.Reason
			}
			return command[readmodel.Objective](a, ctx, "remove-objective",
				decision.Command{AggregateType: objectives.AggregateType, AggregateID: in.ID, Shop: shop.Domain},
				in.CommandParams, map[string]any{"reason": reason}, true, objectives.Remove(in.ID, reason, a.now()))
		})

	huma.Register(a.humaAPI, op("list-objectives", http.MethodGet, "/objectives", auth.RoleViewer, "objectives",
		"List the shop's objectives, oldest first."),
		func(ctx context.Context, in *struct {
			ShopParam
			ConsistencyParam
			ScopeType      string `query:"scope_type" enum:"product,tag,collection" doc:"Only objectives of this scope kind."`
			ScopeID        string `query:"scope_id" maxLength:"255" doc:"Only objectives of this scope (product or collection GID, or the tag)."`
			IncludeRemoved bool   `query:"include_removed" doc:"Add removed objectives (their tombstones)."`
		}) (*struct{ Body objectiveList }, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := a.consistent(ctx, in.ConsistencyParam, objectivesProjection); err != nil {
				return nil, err
			}
			list, err := a.d.Objectives.List(ctx, readmodel.ListQuery{Shop: shop.Domain, ScopeType: in.ScopeType, ScopeID: in.ScopeID, IncludeRemoved: in.IncludeRemoved})
			if err != nil {
				return nil, a.internal(ctx, "list objectives", err)
			}
			return &struct{ Body objectiveList }{Body: objectiveList{Objectives: list}}, nil
		})

	huma.Register(a.humaAPI, op("list-objective-versions", http.MethodGet, "/objectives/{id}/versions", auth.RoleViewer, "objectives",
		"Every version of an objective, oldest first: what each edit set and who made it."),
		func(ctx context.Context, in *struct {
			ResourceIDParam
			ShopParam
			ConsistencyParam
		}) (*struct{ Body objectiveVersions }, error) {
			if _, err := r.load(a, ctx, in.ShopParam, in.ConsistencyParam, in.ID); err != nil {
				return nil, err
			}
			vs, err := a.d.Objectives.Versions(ctx, in.ID)
			if err != nil {
				return nil, a.internal(ctx, "objective versions", err)
			}
			return &struct{ Body objectiveVersions }{Body: objectiveVersions{Versions: vs}}, nil
		})
}
