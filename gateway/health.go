package gateway

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Check is one dependency readiness depends on.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// ready serves GET /readyz: every check must pass within the deadline.
func ready(checks []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		results := make(map[string]string, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		ok := true
		for _, c := range checks {
			wg.Go(func() {
				status := "ok"
				if err := c.Ping(ctx); err != nil {
					status = err.Error()
				}
				mu.Lock()
				defer mu.Unlock()
				results[c.Name] = status
				if status != "ok" {
					ok = false
				}
			})
		}
		wg.Wait()
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"ready": ok, "checks": results})
	}
}

func healthy(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
