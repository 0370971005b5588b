package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/plans"
	readmodel "github.com/storeline/storeline/projections/plans"
)

// PlanReader reads the combo plans read model (projections/plans).
type PlanReader interface {
	List(ctx context.Context, q readmodel.ListQuery) ([]readmodel.Plan, error)
	Get(ctx context.Context, id string) (*readmodel.Plan, error)
}

// plansProjection is the projection the plan reads wait on.
const plansProjection = "plans"

// moveBody is the optional body of a move.
type moveBody struct {
	Reason *string `json:"reason,omitempty" maxLength:"500" doc:"Why, as a short business note (kept in the event and shown with the plan)."`
}

// moveDocs describes each move for the OpenAPI document.
var moveDocs = map[string]string{
	plans.Approve: "Approve a draft plan (it needs at least one item); an approved plan is no longer edited unless reopened.",
	plans.Reopen:  "Reopen an approved plan as a draft, to edit it.",
	plans.Publish: "Publish an approved plan: the combo is to be promoted.",
	plans.Archive: "Archive a plan in any other state.",
	plans.Restore: "Restore an archived plan as a draft.",
}

func (a *API) registerPlans() {
	huma.Register(a.humaAPI, op("list-combo-plans", http.MethodGet, "/combo-plans", auth.RoleViewer, "combo plans",
		"List the shop's combo plans, newest first, optionally in some states only."),
		func(ctx context.Context, in *struct {
			ShopParam
			ConsistencyParam
			State []string `query:"state" maxItems:"4" enum:"draft,approved,published,archived" doc:"Only plans in one of these states (comma-separated); every state when absent."`
		}) (*struct {
			Body struct {
				ComboPlans []readmodel.Plan `json:"combo_plans"`
			}
		}, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := a.consistent(ctx, in.ConsistencyParam, plansProjection); err != nil {
				return nil, err
			}
			list, err := a.d.Plans.List(ctx, readmodel.ListQuery{Shop: shop.Domain, States: in.State})
			if err != nil {
				return nil, a.internal(ctx, "list combo plans", err)
			}
			out := &struct {
				Body struct {
					ComboPlans []readmodel.Plan `json:"combo_plans"`
				}
			}{}
			out.Body.ComboPlans = list
			return out, nil
		})

	r := a.planResource()
	r.create(a, "create-combo-plan", "Create a combo plan, as a draft: products to promote together, with optional discounts.",
		func(id string, shop Shop, s plans.Spec) decision.Decide {
			return plans.Create(id, shop.Domain, s, shop.Currency, a.now())
		})
	r.read(a, "get-combo-plan", "A combo plan's newest version, with its version as ETag.")
	r.update(a, "update-combo-plan", "Save new content of a draft plan (an approved one is reopened first). Content equal to the plan's changes nothing and answers without a consistency token.",
		func(id string, shop Shop, s plans.Spec) decision.Decide {
			return plans.Update(id, s, shop.Currency, a.now())
		})

	for _, move := range plans.Transitions {
		opID := move + "-combo-plan"
		huma.Register(a.humaAPI, op(opID, http.MethodPost, "/combo-plans/{id}/"+move, auth.RoleEditor, "combo plans",
			moveDocs[move]+" A move the plan's state does not allow is 409 with the reason. If-Match is required."),
			func(ctx context.Context, in *struct {
				ResourceIDParam
				ShopParam
				CommandParams
				Body *moveBody
			}) (*CommandOutput[readmodel.Plan], error) {
				shop, err := a.shop(in.ShopParam)
				if err != nil {
					return nil, err
				}
				var reason *string
				if in.Body != nil && in.Body.Reason != nil && *in.Body.Reason != "" {
					reason = in.Body.Reason
				}
				return command[readmodel.Plan](a, ctx, opID,
					decision.Command{AggregateType: plans.AggregateType, AggregateID: in.ID, Shop: shop.Domain},
					in.CommandParams, in.Body, true, plans.Move(move, reason, a.now()))
			})
	}
}

func (a *API) planResource() resource[plans.Spec, readmodel.Plan] {
	return resource[plans.Spec, readmodel.Plan]{
		name: "combo plan", path: "/combo-plans", tag: "combo plans", aggregate: plans.AggregateType, projection: plansProjection,
		validate: plans.Validate, get: a.d.Plans.Get, notFound: readmodel.ErrNotFound,
		shopOf:    func(p *readmodel.Plan) string { return p.Shop },
		versionOf: func(p *readmodel.Plan) int64 { return p.Version },
		idOf:      func(p *readmodel.Plan) string { return p.ID },
	}
}
