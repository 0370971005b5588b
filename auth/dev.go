package auth

import (
	"errors"
	"log/slog"
	"net/http"
)

// ErrDevInProduction is returned by NewDev when the production flag is set.
var ErrDevInProduction = errors.New("auth: dev mode (authentication disabled) refused: production flag is set")

// NewDev returns the dev-mode middleware for the embedded defaults, or ErrDevInProduction when
// production is true, so a misconfigured deployment fails at start instead of running open.
func NewDev(production bool, p Principal, log *slog.Logger) (func(http.Handler) http.Handler, error) {
	if production {
		return nil, ErrDevInProduction
	}
	return DevMiddleware(p, log), nil
}

// DevMiddleware treats every request as p, with no token at all. It logs a warning when built
// so nobody runs it unknowingly. Prefer NewDev, which refuses in production.
func DevMiddleware(p Principal, log *slog.Logger) func(http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	log.Warn("authentication disabled: every request is "+p.Email+" ("+p.Role.String()+")",
		"email", p.Email, "role", p.Role.String())
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}
