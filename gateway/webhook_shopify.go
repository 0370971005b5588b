package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/webhooksig"
)

// Appender appends an event to the log durably.
type Appender interface {
	Append(ctx context.Context, ev events.Event, traceparent string) (eventlog.Position, error)
}

// shopifyWebhook receives Shopify webhooks: verify, translate, append, and only then answer 200.
// No business work runs inline, so the answer comes well inside Shopify's 5 s.
type shopifyWebhook struct {
	secrets        [][]byte
	maxBody        int64
	produceTimeout time.Duration
	log            *slog.Logger
	appender       Appender
	sealer         shopify.Sealer
	received       *prometheus.CounterVec // by topic, outcome
	seconds        prometheus.Observer
}

func (h *shopifyWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	topic := r.Header.Get("X-Shopify-Topic")
	status, outcome := h.serve(w, r, topic)
	h.seconds.Observe(time.Since(start).Seconds())
	h.received.WithLabelValues(metricTopic(topic, outcome), outcome).Inc()
	level := slog.LevelInfo
	if status >= 400 {
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "shopify webhook", "topic", topic, "shop", r.Header.Get("X-Shopify-Shop-Domain"),
		"webhook_id", r.Header.Get("X-Shopify-Webhook-Id"), "status", status, "outcome", outcome, "duration", time.Since(start))
}

func (h *shopifyWebhook) serve(w http.ResponseWriter, r *http.Request, topic string) (int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, ProblemPayloadTooLarge, "the body exceeds the webhook limit")
			return http.StatusRequestEntityTooLarge, "too_large"
		}
		writeProblem(w, r, http.StatusBadRequest, ProblemMalformedPayload, "could not read the body")
		return http.StatusBadRequest, "unreadable"
	}
	if !webhooksig.Verify(body, r.Header.Get("X-Shopify-Hmac-Sha256"), h.secrets) {
		writeProblem(w, r, http.StatusUnauthorized, ProblemInvalidSignature, "X-Shopify-Hmac-Sha256 is missing or does not match the body")
		return http.StatusUnauthorized, "forged"
	}
	d := shopify.Delivery{
		Shop:       r.Header.Get("X-Shopify-Shop-Domain"),
		Topic:      topic,
		EventID:    r.Header.Get("X-Shopify-Event-Id"),
		WebhookID:  r.Header.Get("X-Shopify-Webhook-Id"),
		APIVersion: r.Header.Get("X-Shopify-API-Version"),
		Body:       body,
		ReceivedAt: time.Now(),
	}
	for name, v := range map[string]string{"X-Shopify-Topic": d.Topic, "X-Shopify-Shop-Domain": d.Shop} {
		if v == "" {
			writeProblem(w, r, http.StatusBadRequest, ProblemMissingHeader, name+" is required")
			return http.StatusBadRequest, "missing_header"
		}
	}
	if ts := r.Header.Get("X-Shopify-Triggered-At"); ts != "" {
		d.TriggeredAt, _ = time.Parse(time.RFC3339Nano, ts) // informative only: a bad value is dropped
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.produceTimeout)
	defer cancel()
	ev, err := shopify.Translate(ctx, d, h.sealer)
	switch {
	case errors.Is(err, shopify.ErrUnsupportedTopic):
		writeProblem(w, r, http.StatusUnprocessableEntity, ProblemUnsupportedTopic, err.Error())
		return http.StatusUnprocessableEntity, "unsupported_topic"
	case errors.Is(err, shopify.ErrInvalidPayload):
		writeProblem(w, r, http.StatusBadRequest, ProblemMalformedPayload, err.Error())
		return http.StatusBadRequest, "malformed"
	case err != nil: // the key store is unreachable: nothing was stored, Shopify retries
		h.log.Error("seal personal data", "topic", d.Topic, "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemLogUnavailable, "the event could not be stored; retry later")
		return http.StatusServiceUnavailable, "keys_unavailable"
	}
	pos, err := h.appender.Append(ctx, ev, r.Header.Get("traceparent"))
	if err != nil {
		h.log.Error("append webhook event", "event_id", ev.Meta().EventID, "err", err)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, r, http.StatusServiceUnavailable, ProblemLogUnavailable, "the event could not be stored; retry later")
		return http.StatusServiceUnavailable, "log_unavailable"
	}
	writeJSON(w, http.StatusOK, map[string]string{"event_id": ev.Meta().EventID, "position": pos.String()})
	return http.StatusOK, "stored"
}

// metricTopic bounds the label's values: a topic is named only once the request proved it came
// from Shopify, so forged requests cannot mint label values.
func metricTopic(topic, outcome string) string {
	switch outcome {
	case "too_large", "unreadable", "forged":
		return "unverified"
	}
	if len(topic) > 64 {
		return "other"
	}
	return topic
}
