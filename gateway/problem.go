package gateway

import (
	"encoding/json"
	"net/http"

	"github.com/storeline/storeline/gateway/problem"
)

// Problem types the webhook intake answers with (package problem holds the catalogue).
const (
	ProblemInvalidSignature = problem.InvalidSignature
	ProblemPayloadTooLarge  = problem.PayloadTooLarge
	ProblemMalformedPayload = problem.MalformedPayload
	ProblemMissingHeader    = problem.MissingHeader
	ProblemUnsupportedTopic = problem.UnsupportedTopic
	ProblemLogUnavailable   = problem.LogUnavailable
	ProblemNotFound         = problem.NotFound
	ProblemInternal         = problem.Internal
)

func writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, detail string) {
	problem.Write(w, r, status, typ, detail)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
