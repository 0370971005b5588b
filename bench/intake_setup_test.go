package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/gateway"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/webhooksig"
)

const (
	benchShop   = "bench.myshopify.com"
	benchSecret = "bench-secret"
)

// intakeRig is the webhook intake on the real services (gateway, idempotent producer, schema
// registry, PostgreSQL key store) and beside it a bare franz-go client that produces the record
// the intake makes of the same webhook: same topic, key (so same partition), headers and bytes.
// The payload is an order of a known customer, so the intake also seals the customer's personal
// data under a key from the key store, as in production.
type intakeRig struct {
	url       string // the gateway's webhook endpoint
	client    *http.Client
	payload   []byte
	signature string
	seq       atomic.Int64 // X-Shopify-Event-Id of the last webhook sent: each one is a new event
	raw       *kgo.Client
	template  *kgo.Record
}

// newIntakeRig builds the rig on a fresh database and topic prefix; everything is closed when the
// benchmark ends. idleConns is how many keep-alive connections the HTTP client keeps: at least
// the requests in flight, or connections are redialled and the dialling is measured too.
func newIntakeRig(b *testing.B, idleConns int) *intakeRig {
	b.Helper()
	pool := testkit.FreshDatabase(b)
	brokers := testkit.Brokers(b)
	prefix := testkit.FreshTopicPrefix(b, 3, events.TopicCommerce)
	cat, err := events.LoadCatalogue()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := events.NewCodec(context.Background(), cat, testkit.Registry(b, prefix), prefix)
	if err != nil {
		b.Fatal(err)
	}
	producer, err := eventlog.NewProducer(brokers, codec, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(producer.Close)
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(gateway.New(gateway.Config{WebhookSecrets: []string{benchSecret}}, gateway.Deps{
		Appender: producer, Sealer: shopify.PersonalData{Sealer: pii.NewSealer(piitest.Keystore(b, pool))}, Metrics: reg, Gatherer: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	b.Cleanup(srv.Close)

	r := &intakeRig{
		url:     srv.URL + "/webhooks/shopify",
		client:  &http.Client{Transport: &http.Transport{MaxIdleConns: idleConns, MaxIdleConnsPerHost: idleConns}},
		payload: samples.OrdersCreateWithCustomer,
	}
	r.signature = webhooksig.Sign(r.payload, benchSecret)
	b.Cleanup(r.client.CloseIdleConnections)

	sealer, _ := piitest.NewSealer()
	ev, err := shopify.OrderCreated(context.Background(), shopify.Delivery{Shop: benchShop, Topic: "orders/create", EventID: "raw", Body: r.payload, ReceivedAt: time.Now()},
		shopify.PersonalData{Sealer: sealer})
	if err != nil {
		b.Fatal(err)
	}
	if r.template, err = codec.Record(ev, ""); err != nil {
		b.Fatal(err)
	}
	if r.raw, err = kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.raw.Close)
	return r
}

// webhook sends one signed orders/create delivery with a new event id and waits for its answer:
// 200 once the event is acknowledged by Kafka.
func (r *intakeRig) webhook() error {
	req, _ := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(r.payload))
	req.Header.Set("X-Shopify-Topic", "orders/create")
	req.Header.Set("X-Shopify-Shop-Domain", benchShop)
	req.Header.Set("X-Shopify-Event-Id", strconv.FormatInt(r.seq.Add(1), 10))
	req.Header.Set("X-Shopify-Hmac-Sha256", r.signature)
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// rawProduce produces the intake's record with franz-go directly (acks=all, idempotent) and
// waits for the acknowledgement.
func (r *intakeRig) rawProduce() error {
	rec := &kgo.Record{Topic: r.template.Topic, Key: r.template.Key, Value: r.template.Value, Headers: r.template.Headers}
	return r.raw.ProduceSync(context.Background(), rec).FirstErr()
}
