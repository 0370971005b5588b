package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/webhooksig"
)

// Appender appends an event to the log durably.
type Appender interface {
	Append(ctx context.Context, ev events.Event, traceparent string) (eventlog.Position, error)
}

// Dead letters of the webhook intake, on the commerce dead-letter topic (deadletter.Topic of the
// prefixed commerce topic), with package deadletter's headers.
const (
	// DeadLetterConsumer is the dlq_consumer of the intake's dead letters.
	DeadLetterConsumer = "gateway:webhook"
	// ReasonInvalidPayload: the delivery's body does not translate into its event.
	ReasonInvalidPayload = "invalid_payload"
	// ReasonInvalidEvent: the body translated, but the event breaks its schema (the codec
	// refused it): a translator's bug, kept for replay once fixed.
	ReasonInvalidEvent = "invalid_event"

	// Headers carrying the sealed personal data of a dead letter's body (see shopify.Kept): the
	// data key's id, the algorithm, and the ciphertext (AAD: the event_id header).
	HeaderSealedKeyID     = "dlq_sealed_key_id"
	HeaderSealedAlgorithm = "dlq_sealed_algorithm"
	HeaderSealed          = "dlq_sealed"
	// HeaderSealedWhole is "true" when the whole body is sealed (the value is then empty); else
	// the value is the body without its personal data and HeaderSealed holds that data.
	HeaderSealedWhole = "dlq_sealed_whole"
)

// shopifyWebhook receives Shopify webhooks: verify, translate, append, and only then answer 200.
// No business work runs inline, so the answer comes well inside Shopify's 5 s. The answers:
//
//   - 200 stored: the event is acknowledged by Kafka (acks=all).
//   - 200 ignored: a topic storeline does not translate. Shopify retries every non-2xx answer
//     for hours and then deletes the subscription, so a subscription storeline has no use for is
//     acknowledged, logged and counted (storeline_webhooks_total{topic="unsupported",
//     outcome="ignored"}) rather than refused: remove the subscription instead.
//   - 200 acknowledged: bulk_operations/finish, checked and deliberately recorded as no event
//     (the bulk sync polls its operations; see shopify.BulkOperationFinish).
//   - 200 dead_lettered: the body does not translate; the delivery (body with the personal data
//     sealed, every X-Shopify-* header, the reason) is on the commerce dead-letter topic,
//     acknowledged by Kafka, for an operator to fix and replay. Retrying would fail the same
//     way, so Shopify is not asked to.
//   - 401 forged or unsigned, 413 too large, 400 a signed request without topic or shop.
//   - 503 (Retry-After) when nothing could be stored: the log, the dead-letter topic or the
//     key store is unavailable. Shopify retries.
type shopifyWebhook struct {
	secrets         webhookSecrets
	currencies      *currencyBook
	maxBody         int64
	produceTimeout  time.Duration
	deadLetterTopic string
	log             *slog.Logger
	appender        Appender
	sealer          shopify.Sealer
	deadLetters     DeadLetterProducer
	received        *prometheus.CounterVec // by topic, outcome
	seconds         prometheus.Observer
	now             func() time.Time
}

func (h *shopifyWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	topic := r.Header.Get("X-Shopify-Topic")
	status, outcome := h.serve(w, r, topic)
	h.seconds.Observe(time.Since(start).Seconds())
	h.received.WithLabelValues(metricTopic(topic, outcome), outcome).Inc()
	level := slog.LevelInfo
	if status >= 400 || outcome == outcomeDeadLettered || outcome == outcomeIgnored {
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "shopify webhook", "topic", clip(topic), "shop", clip(r.Header.Get("X-Shopify-Shop-Domain")),
		"webhook_id", clip(r.Header.Get("X-Shopify-Webhook-Id")), "status", status, "outcome", outcome, "duration", time.Since(start))
}

// Outcomes of a delivery: the values of storeline_webhooks_total's outcome label.
const (
	outcomeStored           = "stored"
	outcomeIgnored          = "ignored"
	outcomeAcknowledged     = "acknowledged"
	outcomeDeadLettered     = "dead_lettered"
	outcomeForged           = "forged"
	outcomeTooLarge         = "too_large"
	outcomeUnreadable       = "unreadable"
	outcomeMissingHeader    = "missing_header"
	outcomeKeysUnavailable  = "keys_unavailable"
	outcomeLogUnavailable   = "log_unavailable"
	outcomeDLQUnavailable   = "dead_letter_unavailable"
	metricTopicUnverified   = "unverified"
	metricTopicUnsupported  = "unsupported"
	maxLoggedHeaderLength   = 128
	deadLetterErrorMaxBytes = 4096
)

func (h *shopifyWebhook) serve(w http.ResponseWriter, r *http.Request, topic string) (int, string) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, r, http.StatusRequestEntityTooLarge, ProblemPayloadTooLarge, "the body exceeds the webhook limit")
			return http.StatusRequestEntityTooLarge, outcomeTooLarge
		}
		writeProblem(w, r, http.StatusBadRequest, ProblemMalformedPayload, "could not read the body")
		return http.StatusBadRequest, outcomeUnreadable
	}
	shop := r.Header.Get("X-Shopify-Shop-Domain")
	if !webhooksig.Verify(body, r.Header.Get("X-Shopify-Hmac-Sha256"), h.secrets.of(shop)) {
		writeProblem(w, r, http.StatusUnauthorized, ProblemInvalidSignature, "X-Shopify-Hmac-Sha256 is missing or does not match the body")
		return http.StatusUnauthorized, outcomeForged
	}
	for name, v := range map[string]string{"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop} {
		if v == "" {
			writeProblem(w, r, http.StatusBadRequest, ProblemMissingHeader, name+" is required")
			return http.StatusBadRequest, outcomeMissingHeader
		}
	}
	d := shopify.Delivery{
		Shop:         shop,
		Topic:        topic,
		EventID:      r.Header.Get("X-Shopify-Event-Id"),
		WebhookID:    r.Header.Get("X-Shopify-Webhook-Id"),
		APIVersion:   r.Header.Get("X-Shopify-API-Version"),
		Body:         body,
		ReceivedAt:   h.now(),
		ShopCurrency: h.currencies.of(shop),
	}
	if ts := r.Header.Get("X-Shopify-Triggered-At"); ts != "" {
		d.TriggeredAt, _ = time.Parse(time.RFC3339Nano, ts) // informative only: a bad value is dropped
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.produceTimeout)
	defer cancel()
	ev, err := shopify.Translate(ctx, d, h.sealer)
	switch {
	case errors.Is(err, shopify.ErrUnsupportedTopic):
		h.log.Warn("shopify webhook topic not supported: acknowledged and ignored; remove the subscription", "topic", clip(topic), "shop", clip(shop))
		writeJSON(w, http.StatusOK, map[string]string{"status": outcomeIgnored, "detail": "storeline does not record topic " + clip(topic)})
		return http.StatusOK, outcomeIgnored
	case errors.Is(err, shopify.ErrNoEvent):
		h.log.Info("shopify webhook acknowledged without an event", "topic", topic, "shop", clip(shop), "detail", err.Error())
		writeJSON(w, http.StatusOK, map[string]string{"status": outcomeAcknowledged})
		return http.StatusOK, outcomeAcknowledged
	case errors.Is(err, shopify.ErrInvalidPayload):
		return h.deadLetter(ctx, w, r, d, ReasonInvalidPayload, err)
	case err != nil: // the key store is unreachable: nothing was stored, Shopify retries
		h.log.Error("seal personal data", "topic", topic, "err", err)
		return h.unavailable(w, r, outcomeKeysUnavailable)
	}
	pos, err := h.appender.Append(ctx, ev, r.Header.Get("traceparent"))
	if errors.Is(err, events.ErrInvalidEvent) {
		h.log.Error("a translated webhook event breaks its schema", "topic", topic, "event_id", ev.Meta().EventID, "err", err)
		return h.deadLetter(ctx, w, r, d, ReasonInvalidEvent, err)
	}
	if err != nil {
		h.log.Error("append webhook event", "event_id", ev.Meta().EventID, "err", err)
		return h.unavailable(w, r, outcomeLogUnavailable)
	}
	h.currencies.learn(shop, ev)
	writeJSON(w, http.StatusOK, map[string]string{"status": outcomeStored, "event_id": ev.Meta().EventID, "position": pos.String()})
	return http.StatusOK, outcomeStored
}

// deadLetter keeps a delivery that does not translate on the commerce dead-letter topic and
// answers 200 once Kafka acknowledged it; 503 when it could not be kept.
func (h *shopifyWebhook) deadLetter(ctx context.Context, w http.ResponseWriter, r *http.Request, d shopify.Delivery, reason string, cause error) (int, string) {
	if h.deadLetters == nil {
		h.log.Error("no dead-letter producer: a delivery that does not translate cannot be kept", "topic", d.Topic)
		return h.unavailable(w, r, outcomeDLQUnavailable)
	}
	kept, err := shopify.Keep(ctx, d, h.sealer)
	if err != nil {
		h.log.Error("seal a dead letter", "topic", d.Topic, "err", err)
		return h.unavailable(w, r, outcomeKeysUnavailable)
	}
	rec := h.deadLetterRecord(r, d, kept, reason, cause)
	if err := h.deadLetters.Produce(ctx, rec); err != nil {
		h.log.Error("produce a dead letter", "topic", d.Topic, "event_id", kept.EventID, "err", err)
		return h.unavailable(w, r, outcomeDLQUnavailable)
	}
	h.log.Warn("shopify webhook does not translate: kept on the dead-letter topic", "topic", d.Topic, "shop", clip(d.Shop),
		"event_id", kept.EventID, "dead_letter", eventlog.Position{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}.String(),
		"reason", reason, "err", cause)
	writeJSON(w, http.StatusOK, map[string]string{"status": outcomeDeadLettered, "event_id": kept.EventID,
		"position": eventlog.Position{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}.String()})
	return http.StatusOK, outcomeDeadLettered
}

// deadLetterRecord is the dead letter of a delivery: keyed by its shop (a shop's dead letters
// stay in order in one partition), the body without personal data as its value, every
// X-Shopify-* request header as it came, and package deadletter's headers saying who gave up
// and why.
func (h *shopifyWebhook) deadLetterRecord(r *http.Request, d shopify.Delivery, kept shopify.Kept, reason string, cause error) *kgo.Record {
	var headers []kgo.RecordHeader
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-shopify-") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range r.Header.Values(name) {
			headers = append(headers, kgo.RecordHeader{Key: name, Value: []byte(v)})
		}
	}
	msg := strings.ToValidUTF8(cause.Error(), "")
	if len(msg) > deadLetterErrorMaxBytes {
		msg = strings.ToValidUTF8(msg[:deadLetterErrorMaxBytes], "")
	}
	headers = append(headers,
		kgo.RecordHeader{Key: events.HeaderEventID, Value: []byte(kept.EventID)},
		kgo.RecordHeader{Key: deadletter.HeaderConsumer, Value: []byte(DeadLetterConsumer)},
		kgo.RecordHeader{Key: deadletter.HeaderReason, Value: []byte(reason)},
		kgo.RecordHeader{Key: deadletter.HeaderError, Value: []byte(msg)},
		kgo.RecordHeader{Key: deadletter.HeaderDeadLetteredAt, Value: []byte(d.ReceivedAt.UTC().Format(time.RFC3339Nano))},
	)
	if tp := r.Header.Get(events.HeaderTraceparent); tp != "" {
		headers = append(headers, kgo.RecordHeader{Key: events.HeaderTraceparent, Value: []byte(tp)})
	}
	if kept.Sealed != nil {
		headers = append(headers,
			kgo.RecordHeader{Key: HeaderSealedKeyID, Value: []byte(kept.Sealed.KeyID)},
			kgo.RecordHeader{Key: HeaderSealedAlgorithm, Value: []byte(kept.Sealed.Algorithm)},
			kgo.RecordHeader{Key: HeaderSealed, Value: kept.Sealed.Ciphertext},
		)
		if kept.Whole {
			headers = append(headers, kgo.RecordHeader{Key: HeaderSealedWhole, Value: []byte("true")})
		}
	}
	return &kgo.Record{Topic: h.deadLetterTopic, Key: []byte(d.Shop), Value: kept.Body, Headers: headers}
}

func (h *shopifyWebhook) unavailable(w http.ResponseWriter, r *http.Request, outcome string) (int, string) {
	w.Header().Set("Retry-After", "5")
	writeProblem(w, r, http.StatusServiceUnavailable, ProblemLogUnavailable, "the delivery could not be stored; retry later")
	return http.StatusServiceUnavailable, outcome
}

// metricTopic bounds the label's values: a topic is named only when the request proved it came
// from Shopify and storeline translates it; every other verified topic is "unsupported", so a
// sender holding a secret cannot mint label values either.
func metricTopic(topic, outcome string) string {
	switch outcome {
	case outcomeTooLarge, outcomeUnreadable, outcomeForged:
		return metricTopicUnverified
	}
	if shopify.Supported(topic) {
		return topic
	}
	return metricTopicUnsupported
}

// clip bounds a header value before it is logged.
func clip(s string) string {
	if len(s) > maxLoggedHeaderLength {
		return strings.ToValidUTF8(s[:maxLoggedHeaderLength], "") + "..."
	}
	return s
}
