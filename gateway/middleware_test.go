package gateway

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/storeline/storeline/traceparent"
)

func TestMiddlewareChain(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	r := chi.NewRouter()
	r.Use(requestID, traceparent.Middleware, accessLog(log), recoverer(log))
	var seenID, seenTrace string
	r.Get("/ok", func(w http.ResponseWriter, r *http.Request) {
		seenID, seenTrace = middleware.GetReqID(r.Context()), traceparent.From(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })

	req := httptest.NewRequest(http.MethodGet, "/ok", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Header().Get("X-Request-Id") != "abc-123" || seenID != "abc-123" || traceparent.TraceID(seenTrace) != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("request id %q/%q, trace %q", w.Header().Get("X-Request-Id"), seenID, seenTrace)
	}

	// An unusable request id is replaced, not echoed.
	req = httptest.NewRequest(http.MethodGet, "/ok", nil)
	req.Header.Set("X-Request-Id", "evil\nheader")
	w = httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if got := w.Header().Get("X-Request-Id"); got == "" || strings.ContainsAny(got, "\n ") {
		t.Errorf("request id %q", got)
	}

	// A panic is a logged 500 problem, and the server goes on.
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if w.Code != http.StatusInternalServerError || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("panic answered %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	var sawPanic, sawAccess bool
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q is not JSON", line)
		}
		sawPanic = sawPanic || m["msg"] == "http handler panicked" && m["panic"] == "kaboom"
		sawAccess = sawAccess || m["msg"] == "http request" && m["route"] == "/ok" && m["request_id"] == "abc-123" && m["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
	}
	if !sawPanic || !sawAccess {
		t.Errorf("logs lack the panic or the access line: %s", logs.String())
	}
}
