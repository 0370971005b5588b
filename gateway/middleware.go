package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/gateway/problem"
	"github.com/storeline/storeline/traceparent"
)

// HeaderRequestID carries the request id in both directions.
const HeaderRequestID = "X-Request-Id"

// requestID takes the caller's X-Request-Id when it is a sane token (a proxy's id keeps a
// request traceable across hops) or makes one, puts it in the context where chi's GetReqID
// finds it, and echoes it in the answer.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !saneID(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), middleware.RequestIDKey, id)))
	})
}

func saneID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// accessLog logs one structured line per request: what, who, how it ended and how long it took.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			ctx, principal := auth.WithSlot(r.Context())
			r = r.WithContext(ctx)
			next.ServeHTTP(ww, r)
			route := chi.RouteContext(r.Context()).RoutePattern()
			attrs := []any{"method", r.Method, "path", r.URL.Path, "route", route, "status", ww.Status(),
				"bytes", ww.BytesWritten(), "duration_ms", float64(time.Since(start).Microseconds()) / 1000,
				"request_id", middleware.GetReqID(r.Context()), "trace_id", traceparent.TraceID(traceparent.From(r.Context()))}
			if p, ok := principal(); ok {
				attrs = append(attrs, "subject", p.Subject)
			}
			level := slog.LevelInfo
			if ww.Status() < 400 && strings.HasPrefix(r.URL.Path, "/webhooks/") {
				level = slog.LevelDebug // Shopify's steady stream: counted in metrics, not a log line each
			}
			if ww.Status() >= 500 {
				level = slog.LevelError
			}
			log.Log(r.Context(), level, "http request", attrs...)
		})
	}
}

// recoverer turns a handler's panic into a logged 500 problem; the process goes on.
func recoverer(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil || rec == http.ErrAbortHandler {
					if rec != nil {
						panic(rec)
					}
					return
				}
				log.ErrorContext(r.Context(), "http handler panicked", "panic", fmt.Sprint(rec),
					"request_id", middleware.GetReqID(r.Context()), "stack", string(debug.Stack()))
				problem.Write(w, r, http.StatusInternalServerError, problem.Internal, "request id "+middleware.GetReqID(r.Context()))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// timeout bounds a request's context: handlers and the queries they run stop at the deadline.
func timeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
