package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/objectives"
)

// objectiveCommand is the body of create and update.
type objectiveCommand struct {
	ShopParam
	CommandParams
	Body objectives.Spec
}

type objectiveIDParam struct {
	ID string `path:"id" format:"uuid" doc:"Objective id."`
}

func (a *API) registerObjectiveCommands() {
	huma.Register(a.humaAPI, withStatus(op("create-objective", http.MethodPost, "/objectives", auth.RoleEditor, "objectives",
		"Create an objective: a target for one metric of a product, tag or collection over a period."), http.StatusCreated),
		func(ctx context.Context, in *objectiveCommand) (*CommandOutput[objectives.Objective], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := objectives.Validate(in.Body); err != nil {
				return nil, a.commandError(ctx, err)
			}
			id := uuid.NewString()
			out, err := command[objectives.Objective](a, ctx, "create-objective",
				decision.Command{AggregateType: objectives.AggregateType, AggregateID: id, Shop: shop.Domain, Create: true},
				in.CommandParams, in.Body, false, objectives.Set(id, in.Body, shop.Currency, a.now()))
			if err != nil {
				return nil, err
			}
			out.Location = Prefix + "/objectives/" + out.Body.ID
			return out, nil
		})

	huma.Register(a.humaAPI, op("update-objective", http.MethodPut, "/objectives/{id}", auth.RoleEditor, "objectives",
		"Save a new version of an objective. If-Match is required."),
		func(ctx context.Context, in *struct {
			objectiveIDParam
			objectiveCommand
		}) (*CommandOutput[objectives.Objective], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := objectives.Validate(in.Body); err != nil {
				return nil, a.commandError(ctx, err)
			}
			return command[objectives.Objective](a, ctx, "update-objective",
				decision.Command{AggregateType: objectives.AggregateType, AggregateID: in.ID, Shop: shop.Domain},
				in.CommandParams, in.Body, true, objectives.Set(in.ID, in.Body, shop.Currency, a.now()))
		})

	huma.Register(a.humaAPI, op("remove-objective", http.MethodDelete, "/objectives/{id}", auth.RoleEditor, "objectives",
		"Remove an objective: measurements are no longer classified against it. If-Match is required."),
		func(ctx context.Context, in *struct {
			objectiveIDParam
			ShopParam
			CommandParams
			Reason string `query:"reason" maxLength:"500" doc:"Why it is removed (kept in the event)."`
		}) (*CommandOutput[objectives.Objective], error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			var reason *string
			if in.Reason != "" {
				reason = &in.Reason
			}
			return command[objectives.Objective](a, ctx, "remove-objective",
				decision.Command{AggregateType: objectives.AggregateType, AggregateID: in.ID, Shop: shop.Domain},
				in.CommandParams, map[string]any{"reason": reason}, true, objectives.Remove(in.ID, reason, a.now()))
		})
}

// withStatus sets an operation's success status.
func withStatus(o huma.Operation, status int) huma.Operation {
	o.DefaultStatus = status
	return o
}
