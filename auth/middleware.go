package auth

import (
	"log/slog"
	"net/http"
	"strings"
)

// HeaderCfAccessJWT is where Cloudflare Access puts its assertion.
const HeaderCfAccessJWT = "Cf-Access-Jwt-Assertion"

// Middleware authenticates every request: it takes the token from Cf-Access-Jwt-Assertion or,
// failing that, from "Authorization: Bearer", verifies it with v and puts the Principal in the
// request context. A missing or invalid token is answered 401 /problems/unauthenticated; why it
// was refused is logged, not told to the caller.
func Middleware(v *Verifier, log *slog.Logger) func(http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token := tokenFrom(r)
			if token == "" {
				writeProblem(w, r, http.StatusUnauthorized, ProblemUnauthenticated, "Authentication required", "no identity token in the request")
				return
			}
			p, err := v.Verify(r.Context(), token)
			if err != nil {
				log.WarnContext(r.Context(), "auth: token refused", "path", r.URL.Path, "err", err)
				writeProblem(w, r, http.StatusUnauthorized, ProblemUnauthenticated, "Authentication required", "the identity token is not valid")
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

func tokenFrom(r *http.Request) string {
	if t := strings.TrimSpace(r.Header.Get(HeaderCfAccessJWT)); t != "" {
		return t
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token)
	}
	return ""
}

// RequireRole lets a request through only if the context's Principal allows min; otherwise it
// answers 403 /problems/forbidden (401 if there is no principal at all, i.e. the route was
// mounted without Middleware).
func RequireRole(min Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				writeProblem(w, r, http.StatusUnauthorized, ProblemUnauthenticated, "Authentication required", "")
				return
			}
			if !p.Role.Allows(min) {
				writeProblem(w, r, http.StatusForbidden, ProblemForbidden, "Forbidden", "this needs the "+min.String()+" role")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
