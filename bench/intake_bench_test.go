// Package bench holds storeline's benchmarks that need real services (make bench starts them).
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
	"sync"
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

const concurrency = 16

// BenchmarkIntakeVsRawProduce compares, in one run on one broker, the webhook intake (a signed
// HTTP request answered once its event is acknowledged by Kafka) with franz-go producing the same
// encoded bytes directly (ProduceSync, acks=all, idempotent), both with 16 requests in flight.
// The payload is an order of a known customer, so the intake also seals the customer's personal
// data under a key from the PostgreSQL key store, as in production.
func BenchmarkIntakeVsRawProduce(b *testing.B) {
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
	defer producer.Close()
	const secret = "bench-secret"
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(gateway.New(gateway.Config{WebhookSecrets: []string{secret}}, gateway.Deps{
		Appender: producer, Sealer: shopify.PersonalData{Sealer: pii.NewSealer(piitest.Keystore(b, pool))}, Metrics: reg, Gatherer: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	payload := samples.OrdersCreateWithCustomer
	signature := webhooksig.Sign(payload, secret)

	var seq atomic.Int64
	var intakeRate, rawRate float64
	b.Run("webhook", func(b *testing.B) {
		intakeRate = parallel(b, func() error {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/shopify", bytes.NewReader(payload))
			req.Header.Set("X-Shopify-Topic", "orders/create")
			req.Header.Set("X-Shopify-Shop-Domain", "bench.myshopify.com")
			req.Header.Set("X-Shopify-Event-Id", strconv.FormatInt(seq.Add(1), 10))
			req.Header.Set("X-Shopify-Hmac-Sha256", signature)
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		})
	})

	sealer, _ := piitest.NewSealer()
	ev, err := shopify.OrderCreated(context.Background(), shopify.Delivery{Shop: "bench.myshopify.com", Topic: "orders/create", EventID: "raw", Body: payload, ReceivedAt: time.Now()},
		shopify.PersonalData{Sealer: sealer})
	if err != nil {
		b.Fatal(err)
	}
	template, err := codec.Record(ev, "")
	if err != nil {
		b.Fatal(err)
	}
	raw, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	b.Run("raw_produce", func(b *testing.B) {
		rawRate = parallel(b, func() error {
			rec := &kgo.Record{Topic: template.Topic, Key: template.Key, Value: template.Value, Headers: template.Headers}
			return raw.ProduceSync(context.Background(), rec).FirstErr()
		})
	})
	if rawRate > 0 {
		fmt.Printf("\nintake: %.0f events/s   raw franz-go produce: %.0f events/s   intake/raw: %.2f\n\n", intakeRate, rawRate, intakeRate/rawRate)
	}
}

// parallel runs op b.N times from `concurrency` goroutines and returns the rate in ops/s.
func parallel(b *testing.B, op func() error) float64 {
	b.ReportAllocs()
	var next atomic.Int64
	var errOnce sync.Once
	var firstErr error
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := op(); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	return rate
}
