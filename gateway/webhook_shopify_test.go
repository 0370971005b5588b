package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/gateway/problem"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/webhooksig"
)

// fakeAppender is an in-process stand-in for the log (unit tests only).
type fakeAppender struct {
	appended []events.Event
	err      error
}

func (f *fakeAppender) Append(_ context.Context, ev events.Event, _ string) (eventlog.Position, error) {
	if f.err != nil {
		return eventlog.Position{}, f.err
	}
	f.appended = append(f.appended, ev)
	return eventlog.Position{Topic: "commerce", Partition: 1, Offset: int64(len(f.appended) - 1)}, nil
}

// fakeDeadLetters is an in-process stand-in for the dead-letter topic.
type fakeDeadLetters struct {
	produced []*kgo.Record
	err      error
}

func (f *fakeDeadLetters) Produce(_ context.Context, rec *kgo.Record) error {
	if f.err != nil {
		return f.err
	}
	rec.Partition, rec.Offset = 0, int64(len(f.produced))
	f.produced = append(f.produced, rec)
	return nil
}

const secret = "shpss_test_secret"

func newTestServer(app Appender) http.Handler {
	return newTestServerWith(app, &fakeDeadLetters{})
}

func newTestServerWith(app Appender, dlq DeadLetterProducer) http.Handler {
	sealer, _ := piitest.NewSealer()
	h, _ := newTestGateway(Config{WebhookSecrets: []string{"old_secret", secret}, MaxWebhookBody: 64 << 10},
		Deps{Appender: app, DeadLetters: dlq, Sealer: shopify.PersonalData{Sealer: sealer}})
	return h
}

func newTestServerSealing(app Appender, sealer shopify.Sealer) http.Handler {
	h, _ := newTestGateway(Config{WebhookSecrets: []string{"old_secret", secret}, MaxWebhookBody: 64 << 10},
		Deps{Appender: app, DeadLetters: &fakeDeadLetters{}, Sealer: sealer})
	return h
}

// newTestGateway fills in the metrics and log of d, and returns the gateway and its metrics.
func newTestGateway(cfg Config, d Deps) (http.Handler, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	d.Metrics, d.Gatherer, d.Log = reg, reg, slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(cfg, d), reg
}

func webhookRequest(body []byte, signature string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/shopify", bytes.NewReader(body))
	r.Header.Set("X-Shopify-Topic", "orders/create")
	r.Header.Set("X-Shopify-Shop-Domain", "demo.myshopify.com")
	r.Header.Set("X-Shopify-Event-Id", "evt-1")
	r.Header.Set("X-Shopify-Webhook-Id", "wh-1")
	r.Header.Set("X-Shopify-Hmac-Sha256", signature)
	return r
}

func TestWebhookAnswers(t *testing.T) {
	tooBig := []byte(`{"pad":"` + strings.Repeat("x", 65<<10) + `"}`)
	for _, tc := range []struct {
		name        string
		body        []byte
		signature   string
		appendErr   error
		wantStatus  int
		wantProblem string
		wantEvents  int
	}{
		{"signed", samples.OrdersCreate, webhooksig.Sign(samples.OrdersCreate, secret), nil, 200, "", 1},
		{"signed with the previous secret during a rotation", samples.OrdersCreate, webhooksig.Sign(samples.OrdersCreate, "old_secret"), nil, 200, "", 1},
		{"forged", samples.OrdersCreate, webhooksig.Sign(samples.OrdersCreate, "guess"), nil, 401, ProblemInvalidSignature, 0},
		{"unsigned", samples.OrdersCreate, "", nil, 401, ProblemInvalidSignature, 0},
		{"signature of another body", samples.OrdersCreate, webhooksig.Sign([]byte("{}"), secret), nil, 401, ProblemInvalidSignature, 0},
		{"too large", tooBig, webhooksig.Sign(tooBig, secret), nil, 413, ProblemPayloadTooLarge, 0},
		{"malformed: kept as a dead letter", []byte(`{"id":`), webhooksig.Sign([]byte(`{"id":`), secret), nil, 200, "", 0},
		{"log down", samples.OrdersCreate, webhooksig.Sign(samples.OrdersCreate, secret), errors.New("broker unreachable"), 503, ProblemLogUnavailable, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &fakeAppender{err: tc.appendErr}
			w := httptest.NewRecorder()
			newTestServer(app).ServeHTTP(w, webhookRequest(tc.body, tc.signature))
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.wantStatus, w.Body)
			}
			if len(app.appended) != tc.wantEvents {
				t.Errorf("appended %d events, want %d", len(app.appended), tc.wantEvents)
			}
			if tc.wantProblem != "" {
				if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type %q", ct)
				}
				var p problem.Details
				if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Type != tc.wantProblem || p.Status != tc.wantStatus {
					t.Errorf("problem %+v (%v), want type %s", p, err, tc.wantProblem)
				}
			}
		})
	}
}

func TestWebhookMissingHeaders(t *testing.T) {
	r := webhookRequest(samples.OrdersCreate, webhooksig.Sign(samples.OrdersCreate, secret))
	r.Header.Del("X-Shopify-Shop-Domain")
	w := httptest.NewRecorder()
	app := &fakeAppender{}
	newTestServer(app).ServeHTTP(w, r)
	if w.Code != 400 || len(app.appended) != 0 {
		t.Fatalf("status %d, appended %d", w.Code, len(app.appended))
	}
}

func TestUnknownRouteIsProblem(t *testing.T) {
	w := httptest.NewRecorder()
	newTestServer(&fakeAppender{}).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/nope", nil))
	if w.Code != 404 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d, content type %q", w.Code, w.Header().Get("Content-Type"))
	}
}

// With no broker reachable, the real producer cannot get an acknowledgement: the answer must be
// 503 (Shopify retries), never 200.
func TestWebhookWithBrokerDownIs503(t *testing.T) {
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(context.Background(), cat, eventstest.NewRegistry(), "")
	if err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(http.NotFoundHandler()) // a port that answers, but not Kafka
	dead.Close()                                       // and now nothing listens there
	producer, err := eventlog.NewProducer([]string{strings.TrimPrefix(dead.URL, "http://")}, codec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	reg := prometheus.NewRegistry()
	sealer, _ := piitest.NewSealer()
	h := New(Config{WebhookSecrets: []string{secret}, ProduceTimeout: 300 * time.Millisecond},
		Deps{Appender: producer, Sealer: shopify.PersonalData{Sealer: sealer}, Metrics: reg, Gatherer: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, webhookRequest(samples.OrdersCreate, webhooksig.Sign(samples.OrdersCreate, secret)))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d (Retry-After %q), want 503", w.Code, w.Header().Get("Retry-After"))
	}
}

// TestWebhookSealsPersonalData: what the gateway appends holds the customer's personal data
// only sealed; when the key store is unreachable nothing is appended and Shopify is told to
// retry.
func TestWebhookSealsPersonalData(t *testing.T) {
	app := &fakeAppender{}
	w := httptest.NewRecorder()
	newTestServer(app).ServeHTTP(w, webhookRequest(samples.OrdersCreateWithCustomer, webhooksig.Sign(samples.OrdersCreateWithCustomer, secret)))
	if w.Code != http.StatusOK || len(app.appended) != 1 {
		t.Fatalf("status %d, %d appended", w.Code, len(app.appended))
	}
	ev := app.appended[0].(*events.OrderCreated)
	if ev.PersonalData == nil {
		t.Fatal("no sealed personal data")
	}
	for _, s := range samples.PersonalStrings {
		if strings.Contains(ev.PayloadJSON, s) {
			t.Errorf("%q reached the log in plaintext", s)
		}
	}

	app = &fakeAppender{}
	w = httptest.NewRecorder()
	newTestServerSealing(app, brokenSealer{}).ServeHTTP(w, webhookRequest(samples.OrdersCreateWithCustomer, webhooksig.Sign(samples.OrdersCreateWithCustomer, secret)))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || len(app.appended) != 0 {
		t.Fatalf("key store down: status %d, %d appended; want 503 and nothing", w.Code, len(app.appended))
	}
}

type brokenSealer struct{}

func (brokenSealer) SealShopify(context.Context, string, string, string, []byte) (string, *events.SealedPersonalData, error) {
	return "", nil, errors.New("connection refused")
}
