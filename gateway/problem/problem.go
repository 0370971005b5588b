// Package problem is the HTTP API's error vocabulary: application/problem+json bodies (RFC 9457)
// with a stable catalogue of types that clients may switch on. Each type is a path relative to
// the API's origin; the catalogue (Types) is also published in the OpenAPI document.
package problem

import (
	"encoding/json"
	"net/http"

	"github.com/storeline/storeline/commands/fielderr"
)

// The catalogue. Never rename one: clients match on them.
const (
	InvalidRequest       = "/problems/invalid-request"
	InvalidID            = "/problems/invalid-id"
	InvalidCursor        = "/problems/invalid-cursor"
	InvalidToken         = "/problems/invalid-consistency-token"
	Unauthenticated      = "/problems/unauthenticated"
	Forbidden            = "/problems/forbidden"
	NotFound             = "/problems/not-found"
	MethodNotAllowed     = "/problems/method-not-allowed"
	NotAcceptable        = "/problems/not-acceptable"
	Conflict             = "/problems/conflict"
	PreconditionFailed   = "/problems/precondition-failed"
	PreconditionRequired = "/problems/precondition-required"
	PayloadTooLarge      = "/problems/payload-too-large"
	UnsupportedMediaType = "/problems/unsupported-media-type"
	IdempotencyKeyReused = "/problems/idempotency-key-reused"
	ConsistencyTimeout   = "/problems/consistency-timeout"
	RequestTimeout       = "/problems/request-timeout"
	Internal             = "/problems/internal"
	Unavailable          = "/problems/unavailable"
	InvalidSignature     = "/problems/invalid-signature"
	MalformedPayload     = "/problems/malformed-payload"
	MissingHeader        = "/problems/missing-header"
	UnsupportedTopic     = "/problems/unsupported-webhook-topic"
	LogUnavailable       = "/problems/event-log-unavailable"
)

// Types maps every type to its title (stable, like the type).
var Types = map[string]string{
	InvalidRequest:       "The request is not valid",
	InvalidID:            "Invalid id",
	InvalidCursor:        "Invalid pagination cursor",
	InvalidToken:         "Invalid consistency token",
	Unauthenticated:      "Authentication required",
	Forbidden:            "Forbidden",
	NotFound:             "Not found",
	MethodNotAllowed:     "Method not allowed",
	NotAcceptable:        "Not acceptable",
	Conflict:             "Conflict",
	PreconditionFailed:   "Precondition failed",
	PreconditionRequired: "Precondition required",
	PayloadTooLarge:      "Payload too large",
	UnsupportedMediaType: "Unsupported media type",
	IdempotencyKeyReused: "Idempotency-Key reused with a different request",
	ConsistencyTimeout:   "The read model has not caught up yet",
	RequestTimeout:       "The request took too long",
	Internal:             "Internal error",
	Unavailable:          "Service unavailable",
	InvalidSignature:     "Webhook signature does not verify",
	MalformedPayload:     "Malformed payload",
	MissingHeader:        "Required header missing",
	UnsupportedTopic:     "Webhook topic not supported",
	LogUnavailable:       "Event log unavailable",
}

// ForStatus is the type used for a status when nothing more specific is known.
func ForStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return InvalidRequest
	case http.StatusUnauthorized:
		return Unauthenticated
	case http.StatusForbidden:
		return Forbidden
	case http.StatusNotFound:
		return NotFound
	case http.StatusMethodNotAllowed:
		return MethodNotAllowed
	case http.StatusNotAcceptable:
		return NotAcceptable
	case http.StatusConflict:
		return Conflict
	case http.StatusPreconditionFailed:
		return PreconditionFailed
	case http.StatusPreconditionRequired:
		return PreconditionRequired
	case http.StatusRequestEntityTooLarge:
		return PayloadTooLarge
	case http.StatusUnsupportedMediaType:
		return UnsupportedMediaType
	case http.StatusGatewayTimeout:
		return ConsistencyTimeout
	case http.StatusServiceUnavailable:
		return Unavailable
	case http.StatusRequestTimeout:
		return RequestTimeout
	default:
		return Internal
	}
}

// Details is an application/problem+json body.
type Details struct {
	Type     string        `json:"type" doc:"Problem type, from storeline's stable catalogue (/problems/...)."`
	Title    string        `json:"title" doc:"Short summary of the type; the same for every occurrence."`
	Status   int           `json:"status" doc:"HTTP status code."`
	Detail   string        `json:"detail,omitempty" doc:"What went wrong this time."`
	Instance string        `json:"instance,omitempty" doc:"The request path."`
	Errors   fielderr.List `json:"errors,omitempty" doc:"Invalid fields, for invalid-request problems."`
	headers  map[string]string
}

// New returns a problem of type typ.
func New(status int, typ, detail string) *Details {
	return &Details{Type: typ, Title: Types[typ], Status: status, Detail: detail}
}

// WithHeader adds a response header (Retry-After, say).
func (d *Details) WithHeader(k, v string) *Details {
	if d.headers == nil {
		d.headers = map[string]string{}
	}
	d.headers[k] = v
	return d
}

func (d *Details) Error() string { return d.Type + ": " + d.Detail }

// GetStatus makes Details a huma.StatusError.
func (d *Details) GetStatus() int { return d.Status }

// ContentType makes huma answer application/problem+json.
func (d *Details) ContentType(string) string { return "application/problem+json" }

// GetHeaders makes huma send the problem's headers.
func (d *Details) GetHeaders() http.Header {
	h := http.Header{}
	for k, v := range d.headers {
		h.Set(k, v)
	}
	h.Set("Cache-Control", "no-store")
	return h
}

// Write writes a problem outside huma.
func Write(w http.ResponseWriter, r *http.Request, status int, typ, detail string) {
	WriteDetails(w, r, New(status, typ, detail))
}

// WriteDetails writes d.
func WriteDetails(w http.ResponseWriter, r *http.Request, d *Details) {
	for k, v := range d.GetHeaders() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if d.Instance == "" && r != nil {
		d.Instance = r.URL.Path
	}
	w.WriteHeader(d.Status)
	_ = json.NewEncoder(w).Encode(d)
}
