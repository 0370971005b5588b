package auth

import (
	"encoding/json"
	"net/http"
)

// Problem types (RFC 9457 "type") this package answers with. They match the gateway's
// vocabulary; the writer is local so that auth does not depend on the gateway.
const (
	ProblemUnauthenticated = "/problems/unauthenticated"
	ProblemForbidden       = "/problems/forbidden"
)

type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, typ, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: typ, Title: title, Status: status, Detail: detail, Instance: r.URL.Path})
}
