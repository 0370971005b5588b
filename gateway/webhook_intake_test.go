package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/webhooksig"
)

// intake is a gateway under test with its fakes.
type intake struct {
	h      http.Handler
	reg    *prometheus.Registry
	log    *fakeAppender
	dlq    *fakeDeadLetters
	sealer *pii.Sealer
}

func newIntake(t *testing.T, cfg Config) *intake {
	t.Helper()
	sealer, _ := piitest.NewSealer()
	in := &intake{log: &fakeAppender{}, dlq: &fakeDeadLetters{}, sealer: sealer}
	if cfg.WebhookSecrets == nil {
		cfg.WebhookSecrets = []string{secret}
	}
	in.h, in.reg = newTestGateway(cfg, Deps{Appender: in.log, DeadLetters: in.dlq, Sealer: shopify.PersonalData{Sealer: sealer}})
	return in
}

// send posts a webhook of topic for shop, signed with key ("" for unsigned).
func (in *intake) send(topic, shop string, body []byte, key string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/shopify", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Shopify-Topic", topic)
	r.Header.Set("X-Shopify-Shop-Domain", shop)
	r.Header.Set("X-Shopify-Event-Id", "evt-"+topic)
	r.Header.Set("X-Shopify-Webhook-Id", "wh-"+topic)
	r.Header.Set("X-Shopify-Triggered-At", "2026-11-28T15:59:58.123Z")
	r.Header.Set("X-Shopify-API-Version", "2026-01")
	r.Header.Set("X-Shopify-Name", "storeline")
	if key != "" {
		r.Header.Set("X-Shopify-Hmac-Sha256", webhooksig.Sign(body, key))
	}
	w := httptest.NewRecorder()
	in.h.ServeHTTP(w, r)
	return w
}

// count returns storeline_webhooks_total{topic, outcome}.
func (in *intake) count(t *testing.T, topic, outcome string) float64 {
	t.Helper()
	mfs, err := in.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "storeline_webhooks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["topic"] == topic && labels["outcome"] == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func status(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var v struct{ Status string }
	_ = json.Unmarshal(w.Body.Bytes(), &v)
	return v.Status
}

// TestEveryTopicThroughTheGateway: each topic's sample, signed, is stored as its event (and
// bulk_operations/finish acknowledged without one); the events encode with the real codec.
func TestEveryTopicThroughTheGateway(t *testing.T) {
	in := newIntake(t, Config{})
	codec := eventstest.NewCodec(t, "")
	for _, s := range samples.Webhooks {
		w := in.send(s.Topic, "northbound.myshopify.com", s.Body, secret)
		want := "stored"
		if s.Topic == "bulk_operations/finish" {
			want = "acknowledged"
		}
		if w.Code != http.StatusOK || status(t, w) != want {
			t.Errorf("%s: %d %s, want 200 %s", s.Topic, w.Code, w.Body, want)
		}
		if in.count(t, s.Topic, want) != 1 {
			t.Errorf("%s: not counted as %s", s.Topic, want)
		}
	}
	if len(in.log.appended) != len(samples.Webhooks)-1 || len(in.dlq.produced) != 0 {
		t.Fatalf("%d events, %d dead letters", len(in.log.appended), len(in.dlq.produced))
	}
	for _, ev := range in.log.appended {
		if _, err := codec.Encode(ev); err != nil {
			t.Error(err)
		}
	}
}

// TestWebhookSecretsPerShopAndRotation: a shop listed with its own secrets is verified with
// those only (the current one and the previous one during a rotation); any other shop with the
// default secrets (again current and previous).
func TestWebhookSecretsPerShopAndRotation(t *testing.T) {
	in := newIntake(t, Config{
		WebhookSecrets: []string{"app_new", "app_old"},
		Shops: []config.Shop{
			{Domain: "own.myshopify.com", WebhookSecrets: []string{"own_new", "own_old"}},
			{Domain: "configured.myshopify.com", Currency: "EUR"}, // no secrets of its own: the defaults
		},
	})
	body := samples.OrdersCreate
	for _, tc := range []struct {
		shop, key string
		want      int
	}{
		{"own.myshopify.com", "own_new", 200},
		{"own.myshopify.com", "own_old", 200}, // during the rotation
		{"OWN.myshopify.com", "own_new", 200}, // domains compare case-insensitively
		{"own.myshopify.com", "app_new", 401}, // another app's secret does not sign for this shop
		{"own.myshopify.com", "", 401},
		{"unknown.myshopify.com", "app_new", 200},
		{"unknown.myshopify.com", "app_old", 200},
		{"unknown.myshopify.com", "own_new", 401},
		{"unknown.myshopify.com", "forged", 401},
		{"configured.myshopify.com", "app_new", 200},
		{"", "app_new", 400}, // signed, but names no shop
	} {
		w := in.send("orders/create", tc.shop, body, tc.key)
		if w.Code != tc.want {
			t.Errorf("%s signed with %q: %d, want %d (%s)", tc.shop, tc.key, w.Code, tc.want, w.Body)
		}
	}
	if got := in.count(t, "unverified", "forged"); got != 4 {
		t.Errorf("forged deliveries counted %v, want 4", got)
	}

	// After the rotation the old secret is removed from the list, and refused.
	in = newIntake(t, Config{WebhookSecrets: []string{"app_new"}})
	if w := in.send("orders/create", "unknown.myshopify.com", body, "app_old"); w.Code != 401 {
		t.Errorf("a retired secret: %d", w.Code)
	}
}

// TestUnknownTopicIsAcknowledged: a topic storeline does not take is answered 200 (Shopify
// would retry anything else for hours, then drop the subscription), counted, and nothing is
// produced; the label stays bounded whatever the topic.
func TestUnknownTopicIsAcknowledged(t *testing.T) {
	in := newIntake(t, Config{})
	for _, topic := range []string{"checkouts/create", "orders/delete", strings.Repeat("x", 300)} {
		w := in.send(topic, "northbound.myshopify.com", []byte(`{"id":1}`), secret)
		if w.Code != http.StatusOK || status(t, w) != "ignored" {
			t.Errorf("%.20s: %d %s", topic, w.Code, w.Body)
		}
	}
	if len(in.log.appended)+len(in.dlq.produced) != 0 {
		t.Fatal("an ignored topic produced something")
	}
	if got := in.count(t, "unsupported", "ignored"); got != 3 {
		t.Errorf("ignored deliveries counted %v, want 3", got)
	}
	// A forged request of an unknown topic is still a 401.
	if w := in.send("checkouts/create", "northbound.myshopify.com", []byte(`{}`), "guess"); w.Code != 401 {
		t.Errorf("forged unknown topic: %d", w.Code)
	}
}

// TestUntranslatableDeliveryIsDeadLettered: a body that does not translate is kept on the
// commerce dead-letter topic, with every X-Shopify-* header, the reason and its personal data
// sealed, and only then answered 200; the kept body restores the original.
func TestUntranslatableDeliveryIsDeadLettered(t *testing.T) {
	in := newIntake(t, Config{TopicPrefix: "p."})
	ctx := context.Background()
	bad := []byte(`{"id":"#1","email":"dlq.dora@example.com","customer":{"id":88,"first_name":"Dora"},"currency":"EUR","created_at":"2026-11-28T10:00:00Z"}`)
	w := in.send("orders/updated", "northbound.myshopify.com", bad, secret)
	if w.Code != http.StatusOK || status(t, w) != "dead_lettered" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(in.log.appended) != 0 || len(in.dlq.produced) != 1 || in.count(t, "orders/updated", "dead_lettered") != 1 {
		t.Fatalf("%d events, %d dead letters", len(in.log.appended), len(in.dlq.produced))
	}
	rec := in.dlq.produced[0]
	if rec.Topic != "p.commerce.dlq" || rec.Topic != deadletter.Topic("p."+events.TopicCommerce) || string(rec.Key) != "northbound.myshopify.com" {
		t.Errorf("dead letter on %s keyed %s", rec.Topic, rec.Key)
	}
	h := headers(rec)
	for name, want := range map[string]string{
		"X-Shopify-Topic": "orders/updated", "X-Shopify-Shop-Domain": "northbound.myshopify.com", "X-Shopify-Event-Id": "evt-orders/updated",
		"X-Shopify-Webhook-Id": "wh-orders/updated", "X-Shopify-Triggered-At": "2026-11-28T15:59:58.123Z", "X-Shopify-Api-Version": "2026-01",
		"X-Shopify-Name": "storeline", "X-Shopify-Hmac-Sha256": webhooksig.Sign(bad, secret),
		deadletter.HeaderConsumer: "gateway:webhook", deadletter.HeaderReason: ReasonInvalidPayload,
	} {
		if h[name] != want {
			t.Errorf("header %s = %q, want %q", name, h[name], want)
		}
	}
	if !strings.Contains(h[deadletter.HeaderError], "id") || h[deadletter.HeaderDeadLetteredAt] == "" || h[HeaderSealedWhole] != "" {
		t.Errorf("headers: %v", h)
	}
	if bytes.Contains(rec.Value, []byte("dora")) || bytes.Contains(rec.Value, []byte("Dora")) {
		t.Fatalf("personal data in plaintext on the dead-letter topic: %s", rec.Value)
	}
	whole, err := in.sealer.OpenShopify(ctx, string(rec.Value), &pii.Sealed{KeyID: h[HeaderSealedKeyID], Algorithm: h[HeaderSealedAlgorithm], Ciphertext: []byte(h[HeaderSealed])}, h[events.HeaderEventID])
	if err != nil || !sameJSON(t, whole, bad) {
		t.Fatalf("the dead letter does not restore the delivery: %s %v", whole, err)
	}

	// Not even JSON: sealed whole.
	garbage := []byte("email=dlq.dora@example.com")
	if w := in.send("orders/create", "northbound.myshopify.com", garbage, secret); w.Code != 200 || len(in.dlq.produced) != 2 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	rec = in.dlq.produced[1]
	h = headers(rec)
	if len(rec.Value) != 0 || h[HeaderSealedWhole] != "true" || strings.Contains(string(h[HeaderSealed]), "dora") {
		t.Fatalf("whole dead letter: %q %v", rec.Value, h)
	}
	opened, err := in.sealer.Open(ctx, pii.Sealed{KeyID: h[HeaderSealedKeyID], Algorithm: h[HeaderSealedAlgorithm], Ciphertext: []byte(h[HeaderSealed])}, []byte(h[events.HeaderEventID]))
	if err != nil || !bytes.Equal(opened, garbage) {
		t.Fatalf("reopened: %q %v", opened, err)
	}
}

func headers(rec *kgo.Record) map[string]string {
	h := map[string]string{}
	for _, x := range rec.Headers {
		h[x.Key] = string(x.Value)
	}
	return h
}

func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return fmt.Sprint(va) == fmt.Sprint(vb)
}

// TestDeadLetterUnavailableIs503: when the dead letter cannot be kept (Kafka refuses it, no
// producer, the key store is down) nothing is acknowledged: 503, Shopify retries.
func TestDeadLetterUnavailableIs503(t *testing.T) {
	bad := []byte(`{"id":`)
	in := newIntake(t, Config{})
	in.dlq.err = errors.New("NOT_ENOUGH_REPLICAS")
	if w := in.send("orders/create", "northbound.myshopify.com", bad, secret); w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("dead-letter produce failing: %d", w.Code)
	}
	if in.count(t, "orders/create", "dead_letter_unavailable") != 1 {
		t.Error("not counted")
	}

	h, _ := newTestGateway(Config{WebhookSecrets: []string{secret}}, Deps{Appender: &fakeAppender{}, Sealer: shopify.PersonalData{Sealer: mustSealer()}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, webhookRequest(bad, webhooksig.Sign(bad, secret)))
	if w.Code != 503 {
		t.Errorf("no dead-letter producer: %d", w.Code)
	}

	dlq := &fakeDeadLetters{}
	h, _ = newTestGateway(Config{WebhookSecrets: []string{secret}}, Deps{Appender: &fakeAppender{}, DeadLetters: dlq, Sealer: keysDown{}})
	w = httptest.NewRecorder()
	h.ServeHTTP(w, webhookRequest(bad, webhooksig.Sign(bad, secret)))
	if w.Code != 503 || len(dlq.produced) != 0 {
		t.Errorf("key store down: %d, %d dead letters; want 503 and nothing kept in plaintext", w.Code, len(dlq.produced))
	}
}

func mustSealer() *pii.Sealer {
	s, _ := piitest.NewSealer()
	return s
}

// keysDown is a sealer whose key store does not answer.
type keysDown struct{}

func (keysDown) SealShopify(context.Context, string, string, string, []byte) (string, *events.SealedPersonalData, error) {
	return "", nil, errors.New("dial tcp: connection refused")
}

// TestInvalidEventIsDeadLettered: an event the codec refuses (a translator's bug) is kept as a
// dead letter rather than answered 503 forever.
func TestInvalidEventIsDeadLettered(t *testing.T) {
	in := newIntake(t, Config{})
	in.log.err = fmt.Errorf("%w: occurred_at is not set", events.ErrInvalidEvent)
	w := in.send("orders/create", "northbound.myshopify.com", samples.OrdersCreate, secret)
	if w.Code != 200 || len(in.dlq.produced) != 1 || headers(in.dlq.produced[0])[deadletter.HeaderReason] != ReasonInvalidEvent {
		t.Fatalf("%d %s, %d dead letters", w.Code, w.Body, len(in.dlq.produced))
	}
}

// TestProductCurrency: product prices carry the shop's currency: configured, else learned from
// the shop's orders, else XXX.
func TestProductCurrency(t *testing.T) {
	in := newIntake(t, Config{Shops: []config.Shop{{Domain: "configured.myshopify.com", Currency: "CHF"}}})
	product := samples.WebhookBody("products/create")
	currencyOf := func() string {
		ev := in.log.appended[len(in.log.appended)-1].(*events.ProductCreated)
		return ev.Product.Variants[0].Price.CurrencyCode
	}
	for _, tc := range []struct{ shop, want string }{
		{"configured.myshopify.com", "CHF"},
		{"learner.myshopify.com", shopify.UnknownCurrency},
	} {
		if w := in.send("products/create", tc.shop, product, secret); w.Code != 200 {
			t.Fatal(w.Body)
		}
		if got := currencyOf(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.shop, got, tc.want)
		}
	}
	in.send("orders/updated", "learner.myshopify.com", samples.WebhookBody("orders/updated"), secret) // an EUR order
	in.send("orders/updated", "configured.myshopify.com", samples.WebhookBody("orders/updated"), secret)
	in.send("products/create", "learner.myshopify.com", product, secret)
	if got := currencyOf(); got != "EUR" {
		t.Errorf("learned from the order: %s, want EUR", got)
	}
	in.send("products/create", "configured.myshopify.com", product, secret)
	if got := currencyOf(); got != "CHF" {
		t.Errorf("the configured currency wins: %s", got)
	}
}

func TestParseShops(t *testing.T) {
	inline := `[{"domain":"A.myshopify.com","webhook_secrets":["new"," old "],"access_token":"shpat_x","api_version":"2026-01","currency":"EUR"},{"domain":"b.myshopify.com"}]`
	shops, err := config.ParseShops(inline)
	if err != nil {
		t.Fatal(err)
	}
	if len(shops) != 2 || shops[0].Domain != "a.myshopify.com" || shops[0].WebhookSecrets[1] != "old" || shops[0].AccessToken != "shpat_x" {
		t.Errorf("shops: %+v", shops)
	}
	if s := fmt.Sprintf("%v %+v %#v", shops[0], shops[0], shops[0]); strings.Contains(s, "shpat_x") || strings.Contains(s, "new") {
		t.Errorf("a logged shop shows its secrets: %s", s)
	}
	path := filepath.Join(t.TempDir(), "shops.json")
	if err := os.WriteFile(path, []byte(inline), 0o600); err != nil {
		t.Fatal(err)
	}
	if fromFile, err := config.ParseShops(path); err != nil || len(fromFile) != 2 {
		t.Errorf("from a file: %v %v", fromFile, err)
	}
	if none, err := config.ParseShops("  "); err != nil || none != nil {
		t.Errorf("empty: %v %v", none, err)
	}
	for _, bad := range []string{
		`[{"domain":"a.myshopify.com","webhook_secret":"typo"}]`,
		`[{"domain":"a.myshopify.com"},{"domain":"A.myshopify.com"}]`,
		`[{"domain":"not a domain"}]`,
		`[{"domain":"a.myshopify.com","currency":"euro"}]`,
		`[{"domain":"a.myshopify.com","api_version":"latest"}]`,
		`[{"domain":"a.myshopify.com","webhook_secrets":[""]}]`,
		`[{"domain":"a.myshopify.com"}] []`,
		`{"domain":"a.myshopify.com"}`,
		filepath.Join(t.TempDir(), "missing.json"),
	} {
		if _, err := config.ParseShops(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
