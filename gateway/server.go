// Package gateway is storeline's HTTP face: Shopify webhooks, the dashboard API, the embedded
// schema registry, health and metrics.
package gateway

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/metrics"
	"github.com/storeline/storeline/traceparent"
)

// Config configures the gateway.
type Config struct {
	// WebhookSecrets are the Shopify client secrets a webhook may be signed with (the current one
	// and, during a rotation, the previous ones), for every shop without secrets of its own in
	// Shops: the app's client secret.
	WebhookSecrets []string
	// Shops are the shops with settings of their own (STORELINE_SHOPIFY_SHOPS): a shop's own
	// webhook secrets replace WebhookSecrets for it; its currency is given to the bare amounts
	// of its product webhooks.
	Shops []config.Shop
	// TopicPrefix is the deployment's topic prefix: the intake's dead letters go to
	// <prefix>commerce.dlq.
	TopicPrefix string
	// MaxWebhookBody bounds a webhook body; larger ones get 413. Default 1 MiB.
	MaxWebhookBody int64
	// ProduceTimeout bounds the wait for the broker's acknowledgement; past it the answer is 503
	// (Shopify retries). Default 4 s, inside Shopify's 5 s.
	ProduceTimeout time.Duration
	// APITimeout bounds a dashboard API request. Default 30 s.
	APITimeout time.Duration
}

// Deps are what the gateway serves from.
type Deps struct {
	Appender Appender
	Sealer   shopify.Sealer // seals customers' personal data out of webhook payloads (package pii)
	// DeadLetters keeps the deliveries that do not translate (KafkaDeadLetters). Without it such
	// a delivery is answered 503.
	DeadLetters DeadLetterProducer
	// API is the dashboard API (package gateway/api), mounted at /api/v1; OpenAPI serves its
	// document at /api/openapi.json.
	API      http.Handler
	OpenAPI  http.HandlerFunc
	Checks   []Check
	Registry http.Handler // embedded schema registry; nil when an external one is used
	Metrics  prometheus.Registerer
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
}

// New returns the gateway's handler.
func New(cfg Config, d Deps) http.Handler {
	if cfg.MaxWebhookBody <= 0 {
		cfg.MaxWebhookBody = 1 << 20
	}
	if cfg.ProduceTimeout <= 0 {
		cfg.ProduceTimeout = 4 * time.Second
	}
	if cfg.APITimeout <= 0 {
		cfg.APITimeout = 30 * time.Second
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	requests := metrics.Register(d.Metrics, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "storeline_http_requests_total", Help: "HTTP requests by route and status.",
	}, []string{"route", "status"}))

	r := chi.NewRouter()
	r.Use(requestID, traceparent.Middleware, accessLog(d.Log), recoverer(d.Log), countRequests(requests))
	r.Method(http.MethodPost, "/webhooks/shopify", &shopifyWebhook{
		secrets:         newWebhookSecrets(cfg.WebhookSecrets, cfg.Shops),
		currencies:      newCurrencyBook(cfg.Shops),
		maxBody:         cfg.MaxWebhookBody,
		produceTimeout:  cfg.ProduceTimeout,
		deadLetterTopic: deadletter.Topic(cfg.TopicPrefix + events.TopicCommerce),
		log:             d.Log,
		appender:        d.Appender,
		sealer:          d.Sealer,
		deadLetters:     d.DeadLetters,
		now:             time.Now,
		received: metrics.Register(d.Metrics, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storeline_webhooks_total", Help: "Shopify webhooks received, by topic (a translated topic, unsupported, or unverified before the signature checked) and outcome (stored, ignored, acknowledged, dead_lettered, forged, too_large, log_unavailable, ...).",
		}, []string{"topic", "outcome"})),
		seconds: metrics.Register(d.Metrics, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "storeline_webhook_seconds", Help: "Time from request to answer, including the broker's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
		})),
	})
	if d.API != nil {
		r.With(timeout(cfg.APITimeout)).Mount("/api/v1", d.API)
	}
	if d.OpenAPI != nil {
		r.Get("/api/openapi.json", d.OpenAPI)
	}
	if d.Registry != nil {
		r.Mount("/registry", d.Registry)
	}
	r.Get("/healthz", healthy)
	r.Get("/readyz", ready(d.Checks))
	r.Handle("/metrics", promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{}))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no route "+r.Method+" "+r.URL.Path)
	})
	return r
}

func countRequests(c *prometheus.CounterVec) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			route := chi.RouteContext(r.Context()).RoutePattern()
			if route == "" {
				route = "unmatched"
			}
			c.WithLabelValues(route, http.StatusText(ww.Status())).Inc()
		})
	}
}
