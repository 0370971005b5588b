package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/gateway/problem"
)

// SyncRequester records a request for a bulk sync of a shop, which the workflows role carries
// out; an idempotency key (may be "") makes a repeated request the same run.
type SyncRequester interface {
	RequestSync(ctx context.Context, shop, mode, idempotencyKey, requestID string) (runID string, err error)
}

// ErrUnknownShop is what a SyncRequester returns for a shop it cannot sync.
var ErrUnknownShop = errors.New("unknown shop")

type syncRequest struct {
	Shop string `json:"shop" minLength:"1" maxLength:"255" doc:"Shop domain, x.myshopify.com."`
	Mode string `json:"mode,omitempty" enum:"incremental,full" default:"incremental" doc:"incremental: what changed since the last complete sync; full: everything."`
}

type syncAccepted struct {
	RunID  string `json:"run_id"`
	Shop   string `json:"shop"`
	Mode   string `json:"mode"`
	Status string `json:"status" enum:"requested"`
}

func (a *API) registerSync() {
	o := withStatus(op("request-sync", http.MethodPost, "/sync", auth.RoleAdmin, "operations",
		"Request a bulk sync of a shop from Shopify. Answers 202 once the request is on the log; the run is the workflows role's (its steps are events on sync)."),
		http.StatusAccepted)
	o.MaxBodyBytes = 4 << 10
	huma.Register(a.humaAPI, o, func(ctx context.Context, in *struct {
		IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"A repeat with the same key is the same run."`
		Body           syncRequest
	}) (*struct {
		Location string `header:"Location"`
		Body     syncAccepted
	}, error) {
		shop := strings.ToLower(strings.TrimSpace(in.Body.Shop))
		mode := in.Body.Mode
		if mode == "" {
			mode = "incremental"
		}
		runID, err := a.d.Syncs.RequestSync(ctx, shop, mode, in.IdempotencyKey, middleware.GetReqID(ctx))
		switch {
		case errors.Is(err, ErrUnknownShop):
			return nil, problem.New(http.StatusNotFound, problem.NotFound, err.Error())
		case err != nil:
			a.d.Log.WarnContext(ctx, "api: record sync request", "err", err)
			return nil, problem.New(http.StatusServiceUnavailable, problem.LogUnavailable, "the request could not be recorded; retry later").WithHeader("Retry-After", "5")
		}
		out := &struct {
			Location string `header:"Location"`
			Body     syncAccepted
		}{Location: Prefix + "/sync/" + runID, Body: syncAccepted{RunID: runID, Shop: shop, Mode: mode, Status: "requested"}}
		return out, nil
	})
}
