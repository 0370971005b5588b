package gateway

import (
	"encoding/json"
	"net/http"
)

// Problem types (RFC 9457 "type"), a stable vocabulary clients may switch on. Each is a path
// relative to the API's origin.
const (
	ProblemInvalidSignature = "/problems/invalid-signature"
	ProblemPayloadTooLarge  = "/problems/payload-too-large"
	ProblemMalformedPayload = "/problems/malformed-payload"
	ProblemMissingHeader    = "/problems/missing-header"
	ProblemUnsupportedTopic = "/problems/unsupported-webhook-topic"
	ProblemLogUnavailable   = "/problems/event-log-unavailable"
	ProblemNotFound         = "/problems/not-found"
	ProblemInvalidID        = "/problems/invalid-id"
	ProblemInternal         = "/problems/internal"
)

// problem is an application/problem+json body.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

var problemTitles = map[string]string{
	ProblemInvalidSignature: "Webhook signature does not verify",
	ProblemPayloadTooLarge:  "Payload too large",
	ProblemMalformedPayload: "Malformed payload",
	ProblemMissingHeader:    "Required header missing",
	ProblemUnsupportedTopic: "Webhook topic not supported",
	ProblemLogUnavailable:   "Event log unavailable",
	ProblemNotFound:         "Not found",
	ProblemInvalidID:        "Invalid id",
	ProblemInternal:         "Internal error",
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: typ, Title: problemTitles[typ], Status: status, Detail: detail, Instance: r.URL.Path})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
