package registry

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// Handler serves the read side of Confluent's REST API over the Store, enough for any Kafka
// client's Avro deserializer to fetch our schemas by id: GET /schemas/ids/{id}, GET /subjects,
// GET /subjects/{subject}/versions, GET /subjects/{subject}/versions/{version|latest}.
// Registration stays internal to storeline.
func Handler(s *Store) http.Handler {
	r := chi.NewRouter()
	r.Get("/schemas/ids/{id}", func(w http.ResponseWriter, req *http.Request) {
		id, err := strconv.Atoi(chi.URLParam(req, "id"))
		if err != nil {
			writeErr(w, http.StatusNotFound, 40403, "Schema not found")
			return
		}
		text, err := s.Schema(req.Context(), id)
		if err != nil {
			storeErr(w, err, 40403, "Schema not found")
			return
		}
		writeJSON(w, map[string]any{"schema": text, "schemaType": "AVRO"})
	})
	r.Get("/subjects", func(w http.ResponseWriter, req *http.Request) {
		subjects, err := s.Subjects(req.Context())
		if err != nil {
			storeErr(w, err, 40401, "Subject not found")
			return
		}
		writeJSON(w, append([]string{}, subjects...))
	})
	r.Get("/subjects/{subject}/versions", func(w http.ResponseWriter, req *http.Request) {
		vs, err := s.Versions(req.Context(), chi.URLParam(req, "subject"))
		if err != nil {
			storeErr(w, err, 40401, "Subject not found")
			return
		}
		writeJSON(w, vs)
	})
	r.Get("/subjects/{subject}/versions/{version}", func(w http.ResponseWriter, req *http.Request) {
		subject, vs := chi.URLParam(req, "subject"), chi.URLParam(req, "version")
		version := -1
		if vs != "latest" {
			v, err := strconv.Atoi(vs)
			if err != nil || v < 1 {
				writeErr(w, http.StatusUnprocessableEntity, 42202, "Invalid version")
				return
			}
			version = v
		}
		id, v, text, err := s.Version(req.Context(), subject, version)
		if err != nil {
			storeErr(w, err, 40402, "Version not found")
			return
		}
		writeJSON(w, map[string]any{"subject": subject, "version": v, "id": id, "schema": text, "schemaType": "AVRO"})
	})
	return r
}

func storeErr(w http.ResponseWriter, err error, code int, msg string) {
	if errors.Is(err, ErrNotFound) {
		writeErr(w, http.StatusNotFound, code, msg)
		return
	}
	writeErr(w, http.StatusInternalServerError, 50001, "Error in the backend data store")
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	_ = json.NewEncoder(w).Encode(v)
}
