package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/objectives"
	readmodel "github.com/storeline/storeline/projections/objectives"
)

// ObjectiveCommand is the body of create and update.
type ObjectiveCommand struct {
	ShopParam
	CommandParams
	Body objectives.ObjectiveSpec
}

type ObjectiveIDParam struct {
	ID string `path:"id" format:"uuid" doc:"Objective id."`
}

func (a *API) registerObjectiveCommands() {
	huma.Register(a.humaAPI, withStatus(op("create-objective", http.MethodPost, "/objectives", auth.RoleEditor, "objectives",
		"Create an objective: a target for one metric of a product, tag or collection over a period."), http.StatusCreated),
		func(ctx context.Context, in *ObjectiveCommand) (*CommandOutput[readmodel.Objective], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := objectives.Validate(in.Body); err != nil {
				return nil, a.commandError(ctx, err)
			}
			id := uuid.NewString()
			out, err := command[readmodel.Objective](a, ctx, "create-objective",
				decision.Command{AggregateType: objectives.AggregateType, AggregateID: id, Shop: shop.Domain, Create: true},
				in.CommandParams, in.Body, false, objectives.Set(id, shop.Domain, in.Body, shop.Currency, a.now()))
			if err != nil {
				return nil, err
			}
			out.Location = Prefix + "/objectives/" + out.Body.ID
			return out, nil
		})

	huma.Register(a.humaAPI, op("update-objective", http.MethodPut, "/objectives/{id}", auth.RoleEditor, "objectives",
		"Save a new version of an objective. If-Match is required."),
		func(ctx context.Context, in *struct {
			ObjectiveIDParam
			ObjectiveCommand
		}) (*CommandOutput[readmodel.Objective], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := objectives.Validate(in.Body); err != nil {
				return nil, a.commandError(ctx, err)
			}
			return command[readmodel.Objective](a, ctx, "update-objective",
				decision.Command{AggregateType: objectives.AggregateType, AggregateID: in.ID, Shop: shop.Domain},
				in.CommandParams, in.Body, true, objectives.Set(in.ID, shop.Domain, in.Body, shop.Currency, a.now()))
		})

	huma.Register(a.humaAPI, op("remove-objective", http.MethodDelete, "/objectives/{id}", auth.RoleEditor, "objectives",
		"Remove an objective: measurements are no longer classified against it. If-Match is required."),
		func(ctx context.Context, in *struct {
			ObjectiveIDParam
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
}

// withStatus sets an operation's success status.
func withStatus(o huma.Operation, status int) huma.Operation {
	o.DefaultStatus = status
	return o
}

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

type objectiveOutput struct {
	ETag string `header:"ETag" doc:"The objective's version; send it in If-Match to change it."`
	Body readmodel.Objective
}

func (a *API) registerObjectives() {
	a.registerObjectiveCommands()

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

	huma.Register(a.humaAPI, op("get-objective", http.MethodGet, "/objectives/{id}", auth.RoleViewer, "objectives",
		"An objective's newest version (a removed one's tombstone), with its version as ETag."),
		func(ctx context.Context, in *struct {
			ObjectiveIDParam
			ShopParam
			ConsistencyParam
		}) (*objectiveOutput, error) {
			o, err := a.objective(ctx, in.ShopParam, in.ConsistencyParam, in.ID)
			if err != nil {
				return nil, err
			}
			return &objectiveOutput{ETag: etag(o.Version), Body: *o}, nil
		})

	huma.Register(a.humaAPI, op("list-objective-versions", http.MethodGet, "/objectives/{id}/versions", auth.RoleViewer, "objectives",
		"Every version of an objective, oldest first: what each edit set and who made it."),
		func(ctx context.Context, in *struct {
			ObjectiveIDParam
			ShopParam
			ConsistencyParam
		}) (*struct{ Body objectiveVersions }, error) {
			if _, err := a.objective(ctx, in.ShopParam, in.ConsistencyParam, in.ID); err != nil {
				return nil, err
			}
			vs, err := a.d.Objectives.Versions(ctx, in.ID)
			if err != nil {
				return nil, a.internal(ctx, "objective versions", err)
			}
			return &struct{ Body objectiveVersions }{Body: objectiveVersions{Versions: vs}}, nil
		})
}

// objective reads one objective of the shop, after the consistency wait.
func (a *API) objective(ctx context.Context, sp ShopParam, cp ConsistencyParam, id string) (*readmodel.Objective, error) {
	if err := a.consistent(ctx, cp, objectivesProjection); err != nil {
		return nil, err
	}
	o, err := a.d.Objectives.Get(ctx, id)
	if errors.Is(err, readmodel.ErrNotFound) {
		return nil, notFound("objective " + id)
	}
	if err != nil {
		return nil, a.internal(ctx, "read objective", err)
	}
	if err := a.shopOf(sp, o.Shop); err != nil {
		return nil, err
	}
	return o, nil
}
