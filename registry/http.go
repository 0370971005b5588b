package registry

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

const contentType = "application/vnd.schemaregistry.v1+json"

// maxBody bounds a request body (a schema and a few fields).
const maxBody = 4 << 20

// Handler serves Confluent's schema registry REST API over the Store, for any Kafka client's Avro
// serializer and deserializer and for tools:
//
//	GET  /schemas/ids/{id}[?subject=]   GET /schemas/ids/{id}/schema   GET /schemas/ids/{id}/versions
//	GET  /schemas/ids/{id}/subjects     GET /schemas/types
//	GET  /subjects                      GET /subjects/{s}/versions     POST /subjects/{s}/versions
//	GET  /subjects/{s}/versions/{v|latest|-1}[/schema]                 POST /subjects/{s} (look up)
//	POST /compatibility/subjects/{s}/versions[/{v|latest}][?verbose=true]
//	GET/PUT/DELETE /config              GET/PUT/DELETE /config/{s}[?defaultToGlobal=true]
//	GET  /mode
//
// Only Avro is supported, without schema references. Errors are Confluent's
// {"error_code":...,"message":...}. Routes are relative: the app mounts the handler under
// /registry.
//
// Reads are public: any Kafka client's deserializer needs them. Changes (a new schema version,
// compatibility config) need the write token (WithWriteToken) as a bearer token or as the
// password of basic auth (what Confluent clients send with basic.auth.user.info); without a
// token configured the HTTP API changes nothing, and storeline registers its own schemas through
// the Store. Registering a schema the subject already has changes nothing and needs no token,
// and an incompatible one is refused with 409 before the token is asked for.
func Handler(s *Store, opts ...HandlerOption) http.Handler {
	h := &handler{s: s, log: s.log}
	for _, o := range opts {
		o(h)
	}
	r := chi.NewRouter()
	r.Get("/schemas/types", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, []string{schemaTypeAvro}) })
	r.Get("/schemas/ids/{id}", h.schemaByID)
	r.Get("/schemas/ids/{id}/schema", h.schemaTextByID)
	r.Get("/schemas/ids/{id}/versions", h.versionsByID)
	r.Get("/schemas/ids/{id}/subjects", h.subjectsByID)
	r.Get("/subjects", h.subjects)
	r.Post("/subjects/{subject}", h.lookup)
	r.Get("/subjects/{subject}/versions", h.versions)
	r.Post("/subjects/{subject}/versions", h.register)
	r.Get("/subjects/{subject}/versions/{version}", h.version)
	r.Get("/subjects/{subject}/versions/{version}/schema", h.versionSchema)
	r.Post("/compatibility/subjects/{subject}/versions", h.compatibility)
	r.Post("/compatibility/subjects/{subject}/versions/{version}", h.compatibility)
	r.Get("/config", h.getConfig)
	r.Put("/config", h.writer(h.putConfig))
	r.Delete("/config", h.writer(h.deleteConfig))
	r.Get("/config/{subject}", h.getConfig)
	r.Put("/config/{subject}", h.writer(h.putConfig))
	r.Delete("/config/{subject}", h.writer(h.deleteConfig))
	r.Get("/mode", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"mode": "READWRITE"})
	})
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusNotFound, 404, "HTTP 404 Not Found")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeErr(w, http.StatusMethodNotAllowed, 405, "HTTP 405 Method Not Allowed")
	})
	return r
}

type handler struct {
	s          *Store
	log        *slog.Logger
	writeToken string // "" : the HTTP API changes nothing
}

// schemaRequest is the body of a registration, look-up or compatibility check.
type schemaRequest struct {
	Schema     string            `json:"schema"`
	SchemaType string            `json:"schemaType"`
	References []json.RawMessage `json:"references"`
	ID         int               `json:"id"`
	Version    int               `json:"version"`
}

type subjectSchema struct {
	Subject    string `json:"subject"`
	Version    int    `json:"version"`
	ID         int    `json:"id"`
	SchemaType string `json:"schemaType"`
	Schema     string `json:"schema"`
}

func toJSON(v SchemaVersion) subjectSchema {
	return subjectSchema{Subject: v.Subject, Version: v.Version, ID: v.ID, SchemaType: schemaTypeAvro, Schema: v.Schema}
}

func (h *handler) schemaByID(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(w, r)
	if !ok {
		return
	}
	text, err := h.s.SchemaByID(r.Context(), id)
	if err != nil {
		h.storeErr(w, err)
		return
	}
	// With ?subject, the text registered under that subject, when it holds the id: the same schema
	// may have been registered with different formatting or docs elsewhere.
	if subject := r.URL.Query().Get("subject"); subject != "" {
		if vs, err := h.s.VersionsByID(r.Context(), id); err == nil {
			for _, v := range vs {
				if v.Subject == subject {
					text = v.Schema
					break
				}
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"schema": text, "schemaType": schemaTypeAvro})
}

func (h *handler) schemaTextByID(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(w, r)
	if !ok {
		return
	}
	text, err := h.s.SchemaByID(r.Context(), id)
	if err != nil {
		h.storeErr(w, err)
		return
	}
	writeRaw(w, text)
}

func (h *handler) versionsByID(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(w, r)
	if !ok {
		return
	}
	vs, err := h.s.VersionsByID(r.Context(), id)
	if err != nil {
		h.storeErr(w, err)
		return
	}
	type subjectVersion struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	out := make([]subjectVersion, len(vs))
	for i, v := range vs {
		out[i] = subjectVersion{v.Subject, v.Version}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) subjectsByID(w http.ResponseWriter, r *http.Request) {
	id, ok := idParam(w, r)
	if !ok {
		return
	}
	vs, err := h.s.VersionsByID(r.Context(), id)
	if err != nil {
		h.storeErr(w, err)
		return
	}
	out := []string{}
	for _, v := range vs {
		if len(out) == 0 || out[len(out)-1] != v.Subject {
			out = append(out, v.Subject)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) subjects(w http.ResponseWriter, r *http.Request) {
	names, err := h.s.Subjects(r.Context())
	if err != nil {
		h.storeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, append([]string{}, names...))
}

func (h *handler) versions(w http.ResponseWriter, r *http.Request) {
	vs, err := h.s.Versions(r.Context(), pathParam(r, "subject"))
	if err != nil {
		h.storeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	v, ok := h.subjectVersion(w, r)
	if ok {
		writeJSON(w, http.StatusOK, toJSON(v))
	}
}

func (h *handler) versionSchema(w http.ResponseWriter, r *http.Request) {
	v, ok := h.subjectVersion(w, r)
	if ok {
		writeRaw(w, v.Schema)
	}
}

func (h *handler) subjectVersion(w http.ResponseWriter, r *http.Request) (SchemaVersion, bool) {
	n, ok := versionParam(w, r)
	if !ok {
		return SchemaVersion{}, false
	}
	v, err := h.s.Version(r.Context(), pathParam(r, "subject"), n)
	if err != nil {
		h.storeErr(w, err)
		return SchemaVersion{}, false
	}
	return v, true
}

func (h *handler) register(w http.ResponseWriter, r *http.Request) {
	req, ok := readSchemaRequest(w, r)
	if !ok {
		return
	}
	if req.ID > 0 || req.Version > 0 {
		writeErr(w, http.StatusUnprocessableEntity, 42205, "Registering with a given id or version is not supported; the registry assigns both")
		return
	}
	subject := pathParam(r, "subject")
	if !h.authorized(r) {
		// Without the token: what is registered already is answered, an incompatible schema
		// gets its reasons, anything else would change the registry and is refused.
		if v, err := h.s.Lookup(r.Context(), subject, req.Schema); err == nil {
			writeJSON(w, http.StatusOK, map[string]int{"id": v.ID, "version": v.Version})
			return
		}
		msgs, err := h.s.CheckCompatibility(r.Context(), subject, AllVersions, req.Schema)
		if err != nil && !errors.Is(err, ErrSubjectNotFound) {
			h.storeErr(w, err)
			return
		}
		if len(msgs) > 0 {
			level, _ := h.s.EffectiveCompatibility(r.Context(), subject)
			h.storeErr(w, &IncompatibleError{Subject: subject, Level: level, Messages: msgs})
			return
		}
		h.forbidden(w)
		return
	}
	v, err := h.s.RegisterVersion(r.Context(), subject, req.Schema)
	if err != nil {
		h.storeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"id": v.ID, "version": v.Version})
}

func (h *handler) lookup(w http.ResponseWriter, r *http.Request) {
	req, ok := readSchemaRequest(w, r)
	if !ok {
		return
	}
	v, err := h.s.Lookup(r.Context(), pathParam(r, "subject"), req.Schema)
	if err != nil {
		h.storeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(v))
}

func (h *handler) compatibility(w http.ResponseWriter, r *http.Request) {
	version := AllVersions
	if chi.URLParam(r, "version") != "" {
		var ok bool
		if version, ok = versionParam(w, r); !ok {
			return
		}
	}
	req, ok := readSchemaRequest(w, r)
	if !ok {
		return
	}
	msgs, err := h.s.CheckCompatibility(r.Context(), pathParam(r, "subject"), version, req.Schema)
	if err != nil {
		h.storeErr(w, err)
		return
	}
	out := map[string]any{"is_compatible": len(msgs) == 0}
	if verbose, _ := strconv.ParseBool(r.URL.Query().Get("verbose")); verbose {
		out["messages"] = append([]string{}, msgs...)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) getConfig(w http.ResponseWriter, r *http.Request) {
	subject := pathParam(r, "subject")
	var level Level
	var err error
	if defaultToGlobal, _ := strconv.ParseBool(r.URL.Query().Get("defaultToGlobal")); defaultToGlobal && subject != "" {
		level, err = h.s.EffectiveCompatibility(r.Context(), subject)
	} else {
		level, err = h.s.Compatibility(r.Context(), subject)
	}
	if err != nil {
		h.storeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]Level{"compatibilityLevel": level})
}

func (h *handler) putConfig(w http.ResponseWriter, r *http.Request) {
	if !acceptedBody(w, r) {
		return
	}
	var req struct {
		Compatibility      string `json:"compatibility"`
		CompatibilityLevel string `json:"compatibilityLevel"` // accepted too, as some tools send it
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		writeErr(w, http.StatusBadRequest, 400, "Invalid JSON body: "+err.Error())
		return
	}
	name := req.Compatibility
	if name == "" {
		name = req.CompatibilityLevel
	}
	level, err := ParseLevel(name)
	if err != nil {
		writeErr(w, http.StatusUnprocessableEntity, 42203, "Invalid compatibility level. Valid values are NONE, BACKWARD, FORWARD, FULL, BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE, and FULL_TRANSITIVE")
		return
	}
	if err := h.s.SetCompatibility(r.Context(), pathParam(r, "subject"), level); err != nil {
		h.storeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]Level{"compatibility": level})
}

func (h *handler) deleteConfig(w http.ResponseWriter, r *http.Request) {
	prev, err := h.s.DeleteCompatibility(r.Context(), pathParam(r, "subject"))
	if err != nil {
		h.storeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]Level{"compatibilityLevel": prev})
}

// HandlerOption configures Handler.
type HandlerOption func(*handler)

// WithWriteToken lets requests carrying token change the registry through the HTTP API.
func WithWriteToken(token string) HandlerOption {
	return func(h *handler) { h.writeToken = token }
}

// authorized reports whether r carries the write token: "Authorization: Bearer <token>", or
// basic auth with the token as password.
func (h *handler) authorized(r *http.Request) bool {
	if h.writeToken == "" {
		return false
	}
	given := ""
	if _, pass, ok := r.BasicAuth(); ok {
		given = pass
	} else if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		given = bearer
	}
	return subtle.ConstantTimeCompare([]byte(given), []byte(h.writeToken)) == 1
}

// writer guards a route that changes the registry.
func (h *handler) writer(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.authorized(r) {
			h.forbidden(w)
			return
		}
		next(w, r)
	}
}

func (h *handler) forbidden(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="storeline schema registry"`)
	writeErr(w, http.StatusForbidden, 40301, "Changing the registry needs its write token (STORELINE_REGISTRY_TOKEN); reads are open")
}

// readSchemaRequest decodes a schema body, answering the error itself when it is not acceptable.
func readSchemaRequest(w http.ResponseWriter, r *http.Request) (schemaRequest, bool) {
	var req schemaRequest
	if !acceptedBody(w, r) {
		return req, false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		writeErr(w, http.StatusBadRequest, 400, "Invalid JSON body: "+err.Error())
		return req, false
	}
	switch {
	case req.SchemaType != "" && req.SchemaType != schemaTypeAvro:
		writeErr(w, http.StatusUnprocessableEntity, 42201, fmt.Sprintf("Invalid schema: schemaType %s is not supported, only AVRO", req.SchemaType))
	case len(req.References) > 0:
		writeErr(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: schema references are not supported")
	case req.Schema == "":
		writeErr(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: empty schema")
	default:
		return req, true
	}
	return req, false
}

// acceptedBody refuses request bodies of a content type Confluent's registry would not take.
func acceptedBody(w http.ResponseWriter, r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		switch mt {
		case contentType, "application/vnd.schemaregistry+json", "application/json", "application/octet-stream":
			return true
		}
	}
	writeErr(w, http.StatusUnsupportedMediaType, 415, "HTTP 415 Unsupported Media Type: "+ct)
	return false
}

// pathParam returns a path parameter, unescaped: chi matches on the escaped path when the request
// has one (a subject holding a "/" arrives as %2F).
func pathParam(r *http.Request, name string) string {
	v := chi.URLParam(r, name)
	if r.URL.RawPath != "" {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
	}
	return v
}

func idParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	id, err := strconv.Atoi(chi.URLParam(r, "id"))
	if err != nil || id < 1 || id > math.MaxInt32 {
		writeErr(w, http.StatusNotFound, 40403, "Schema not found")
		return 0, false
	}
	return id, true
}

func versionParam(w http.ResponseWriter, r *http.Request) (int, bool) {
	s := chi.URLParam(r, "version")
	if s == "latest" || s == "-1" {
		return Latest, true
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > math.MaxInt32 {
		writeErr(w, http.StatusUnprocessableEntity, 42202,
			fmt.Sprintf("The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", s))
		return 0, false
	}
	return v, true
}

// storeErr answers a Store error with Confluent's status and error code for it.
func (h *handler) storeErr(w http.ResponseWriter, err error) {
	var invalid *InvalidSchemaError
	var incompatible *IncompatibleError
	switch {
	case errors.Is(err, ErrSubjectNotFound):
		writeErr(w, http.StatusNotFound, 40401, "Subject not found. "+err.Error())
	case errors.Is(err, ErrVersionNotFound):
		writeErr(w, http.StatusNotFound, 40402, "Version not found. "+err.Error())
	case errors.Is(err, ErrConfigNotFound):
		writeErr(w, http.StatusNotFound, 40408, "Subject does not have subject-level compatibility configured. "+err.Error())
	case errors.Is(err, ErrSchemaNotFound):
		writeErr(w, http.StatusNotFound, 40403, "Schema not found. "+err.Error())
	case errors.As(err, &invalid):
		writeErr(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: "+invalid.Reason)
	case errors.As(err, &incompatible):
		writeErr(w, http.StatusConflict, 409, incompatible.Error())
	case errors.Is(err, ErrInvalidSubject):
		writeErr(w, http.StatusUnprocessableEntity, 42208, "Invalid subject: "+err.Error())
	case errors.Is(err, ErrIDCollision):
		writeErr(w, http.StatusUnprocessableEntity, 42205, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		h.log.Error("schema registry request timed out", "err", err)
		writeErr(w, http.StatusInternalServerError, 50002, "Operation timed out: "+err.Error())
	default:
		h.log.Error("schema registry request failed", "err", err)
		writeErr(w, http.StatusInternalServerError, 50001, "Error in the backend data store: "+err.Error())
	}
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"error_code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeRaw answers a schema's text itself, as Confluent's /schema endpoints do.
func writeRaw(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", contentType)
	_, _ = io.WriteString(w, text)
}
