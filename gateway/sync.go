package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"
)

// SyncRequester records a request for a bulk sync of a shop, which the workflows role carries
// out; an idempotency key (may be "") makes a repeated request the same run.
type SyncRequester interface {
	RequestSync(ctx context.Context, shop, mode, idempotencyKey, requestID string) (runID string, err error)
}

// ErrUnknownShop is what a SyncRequester returns for a shop it cannot sync.
var ErrUnknownShop = errors.New("unknown shop")

// maxSyncBody bounds a sync request's body.
const maxSyncBody = 4 << 10

// postSync is POST /api/v1/sync: {"shop": "x.myshopify.com", "mode": "incremental"|"full"}.
// It answers 202 with the run id once the request is on the log; the run itself is the
// workflows role's (its steps are events on sync).
func postSync(s SyncRequester) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s == nil {
			writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "bulk sync is not configured here")
			return
		}
		var req struct {
			Shop string `json:"shop"`
			Mode string `json:"mode"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSyncBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeProblem(w, r, http.StatusBadRequest, ProblemMalformedPayload, "want {\"shop\": \"x.myshopify.com\", \"mode\": \"incremental\"|\"full\"}: "+err.Error())
			return
		}
		req.Shop = strings.ToLower(strings.TrimSpace(req.Shop))
		if req.Mode == "" {
			req.Mode = "incremental"
		}
		if req.Shop == "" || (req.Mode != "incremental" && req.Mode != "full") {
			writeProblem(w, r, http.StatusBadRequest, ProblemMalformedPayload, "shop is required and mode is incremental or full")
			return
		}
		runID, err := s.RequestSync(r.Context(), req.Shop, req.Mode, r.Header.Get("Idempotency-Key"), middleware.GetReqID(r.Context()))
		switch {
		case errors.Is(err, ErrUnknownShop):
			writeProblem(w, r, http.StatusNotFound, ProblemNotFound, err.Error())
			return
		case err != nil:
			w.Header().Set("Retry-After", "5")
			writeProblem(w, r, http.StatusServiceUnavailable, ProblemLogUnavailable, "the request could not be recorded; retry later")
			return
		}
		w.Header().Set("Location", "/api/v1/sync/"+runID)
		writeJSON(w, http.StatusAccepted, map[string]string{"run_id": runID, "shop": req.Shop, "mode": req.Mode, "status": "requested"})
	}
}
