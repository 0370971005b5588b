// Package traceparent carries the W3C Trace Context (https://www.w3.org/TR/trace-context/) of a
// request into the events it causes: the gateway continues the caller's trace (or starts one),
// keeps it in the request's context, and writers put it in the traceparent header of every Kafka
// record, so a trace can be followed from the dashboard's click to the projection that applied it.
package traceparent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
)

// Header is the HTTP and Kafka header name.
const Header = "traceparent"

type ctxKey struct{}

// With returns ctx carrying tp.
func With(ctx context.Context, tp string) context.Context {
	return context.WithValue(ctx, ctxKey{}, tp)
}

// From returns the traceparent in ctx, or "".
func From(ctx context.Context) string {
	tp, _ := ctx.Value(ctxKey{}).(string)
	return tp
}

// Valid reports whether s is a version-00 traceparent with non-zero ids.
func Valid(s string) bool {
	p := strings.Split(s, "-")
	if len(p) != 4 || p[0] != "00" || len(p[1]) != 32 || len(p[2]) != 16 || len(p[3]) != 2 {
		return false
	}
	for _, part := range p[1:] {
		if _, err := hex.DecodeString(part); err != nil || strings.ToLower(part) != part {
			return false
		}
	}
	return p[1] != strings.Repeat("0", 32) && p[2] != strings.Repeat("0", 16)
}

// Child continues parent's trace with a new span id (this hop); with no valid parent it starts
// a new, sampled trace.
func Child(parent string) string {
	span := randomHex(8)
	if Valid(parent) {
		p := strings.Split(parent, "-")
		return "00-" + p[1] + "-" + span + "-" + p[3]
	}
	return "00-" + randomHex(16) + "-" + span + "-01"
}

// TraceID returns the trace id part of tp ("" if invalid).
func TraceID(tp string) string {
	if !Valid(tp) {
		return ""
	}
	return strings.Split(tp, "-")[1]
}

// Middleware continues the request's trace and puts the result in its context.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp := Child(r.Header.Get(Header))
		next.ServeHTTP(w, r.WithContext(With(r.Context(), tp)))
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	for {
		_, _ = rand.Read(b)
		for _, c := range b {
			if c != 0 {
				return hex.EncodeToString(b)
			}
		}
	}
}
