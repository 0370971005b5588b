package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/storeline/storeline/auth"
)

// Check is one dependency or pipeline stage the deep health check looks at.
type Check struct {
	Name string
	// Probe returns what to show about it, and an error when it is unhealthy (down, or lagging
	// past its bound).
	Probe func(ctx context.Context) (detail any, err error)
}

// CheckResult is one check's outcome.
type CheckResult struct {
	OK     bool   `json:"ok"`
	Detail any    `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

type healthBody struct {
	Status string                 `json:"status" enum:"ok,failing" doc:"ok when every check passed."`
	Checks map[string]CheckResult `json:"checks"`
}

func (a *API) registerHealth() {
	huma.Register(a.humaAPI, op("get-health", http.MethodGet, "/health", auth.RoleViewer, "operations",
		"Deep health: Kafka, Postgres, each projection's lag, the Iceberg sink's lag and the outbox. 503 when any check fails."),
		func(ctx context.Context, _ *struct{}) (*struct {
			Status int
			Body   healthBody
		}, error) {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			body := healthBody{Status: "ok", Checks: make(map[string]CheckResult, len(a.d.Health))}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for _, c := range a.d.Health {
				wg.Go(func() {
					detail, err := c.Probe(ctx)
					res := CheckResult{OK: err == nil, Detail: detail}
					if err != nil {
						res.Error = err.Error()
					}
					mu.Lock()
					defer mu.Unlock()
					body.Checks[c.Name] = res
					if err != nil {
						body.Status = "failing"
					}
				})
			}
			wg.Wait()
			status := http.StatusOK
			if body.Status != "ok" {
				status = http.StatusServiceUnavailable
			}
			return &struct {
				Status int
				Body   healthBody
			}{Status: status, Body: body}, nil
		})
}
