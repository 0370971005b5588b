package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/gateway"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/webhooksig"
)

const (
	// webhookToRESTRate is the offered load of BenchmarkWebhookToRESTLatency, in new orders per
	// second: a busy shop's peak, well below the intake's and the projection's capacity, so the
	// figure is the path's latency and not a queue's.
	webhookToRESTRate = 50
	// visiblePoll is how often an accepted order is looked for over REST: the resolution of the
	// measure (plus a request's own time).
	visiblePoll = time.Millisecond
	// visibleTimeout is how long an accepted order may take to show before its op fails.
	visibleTimeout = 30 * time.Second
)

// sampleOrderID is the order id of samples.OrdersCreateWithCustomer.
const sampleOrderID = 820982911946154508

// BenchmarkWebhookToRESTLatency measures how soon a new order is visible to the dashboard: a
// signed orders/create webhook of an order never seen before goes to the real intake (gateway,
// idempotent producer, personal data sealed), and from the moment its 200 arrives, GET
// /api/v1/orders/{id} on the same server (real JWT checks) is polled every visiblePoll until it
// answers 200; the orders projection consumes the log into PostgreSQL meanwhile, as in
// production. Webhooks are offered open-loop at webhookToRESTRate per second; one op is one
// webhook, so -benchtime is how long they are offered (make bench gives it 8s, ~10 s). The
// visible-* metrics are accepted → visible; p50-ms and the rest of fixedLoad's are from when the
// webhook was due to visible, the intake's answer included.
func BenchmarkWebhookToRESTLatency(b *testing.B) {
	pool := testkit.FreshDatabase(b)
	brokers := testkit.Brokers(b)
	prefix := testkit.FreshTopicPrefix(b, 3, events.TopicCommerce, deadletter.Topic(events.TopicCommerce))
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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		stopped <- projections.NewRunner(projections.Config{Brokers: brokers, TopicPrefix: prefix}, orders.Projection{}, pool, codec, nil, log).Run(ctx)
	}()
	b.Cleanup(func() {
		select {
		case err := <-stopped:
			b.Errorf("orders projection stopped before the benchmark ended: %v", err)
		default:
			cancel()
			<-stopped
		}
	})

	issuer := newBenchIssuer(b)
	handler, openAPI := newOrdersAPI(b, pool, benchShop, issuer, log)
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(gateway.New(gateway.Config{WebhookSecrets: []string{benchSecret}, TopicPrefix: prefix}, gateway.Deps{
		Appender: producer, Sealer: shopify.PersonalData{Sealer: pii.NewSealer(piitest.Keystore(b, pool))},
		API: handler, OpenAPI: openAPI, Metrics: reg, Gatherer: reg, Log: log,
	}))
	b.Cleanup(srv.Close)
	c := newAPIClient(b, srv.URL, issuer.viewerToken(b), 64)

	var (
		seq     atomic.Int64
		mu      sync.Mutex
		visible []time.Duration // accepted → visible, of the current run
	)
	newOrder := func() error {
		n := seq.Add(1)
		id := strconv.FormatInt(sampleOrderID+n, 10)
		body := newOrderBody(n)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/shopify", bytes.NewReader(body))
		req.Header.Set("X-Shopify-Topic", "orders/create")
		req.Header.Set("X-Shopify-Shop-Domain", benchShop)
		req.Header.Set("X-Shopify-Event-Id", "e2e-"+strconv.FormatInt(n, 10))
		req.Header.Set("X-Shopify-Hmac-Sha256", webhooksig.Sign(body, benchSecret))
		resp, err := c.client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("webhook of order %s: status %d", id, resp.StatusCode)
		}
		accepted := time.Now()
		for {
			status, err := c.get("/orders/"+id, nil)
			if err != nil {
				return err
			}
			if status == http.StatusOK {
				d := time.Since(accepted)
				mu.Lock()
				visible = append(visible, d)
				mu.Unlock()
				return nil
			}
			if status != http.StatusNotFound {
				return fmt.Errorf("GET order %s: status %d", id, status)
			}
			if time.Since(accepted) > visibleTimeout {
				return fmt.Errorf("order %s accepted but not visible after %s", id, visibleTimeout)
			}
			time.Sleep(visiblePoll)
		}
	}
	// The first order waits for the projection's consumer to join its group: not measured.
	if err := newOrder(); err != nil {
		b.Fatal(err)
	}

	var vis []time.Duration
	var r loadResult
	b.Run(fmt.Sprintf("rate=%d", webhookToRESTRate), func(b *testing.B) {
		visible = visible[:0]
		r = fixedLoad(b, webhookToRESTRate, newOrder)
		mu.Lock()
		vis = slices.Sorted(slices.Values(visible))
		mu.Unlock()
		if len(vis) > 0 {
			b.ReportMetric(msf(quantile(vis, 0.50)), "visible-p50-ms")
			b.ReportMetric(msf(quantile(vis, 0.95)), "visible-p95-ms")
			b.ReportMetric(msf(quantile(vis, 0.99)), "visible-p99-ms")
			b.ReportMetric(msf(vis[len(vis)-1]), "visible-max-ms")
		}
	})
	if len(vis) > 0 {
		fmt.Printf("\nwebhook → REST, %d new orders at %d/s: accepted → visible p50 %s p95 %s p99 %s max %s   "+
			"(due → visible p50 %s p99 %s; %d errors, start lag p99 %s)\n\n",
			len(vis), webhookToRESTRate, ms(quantile(vis, 0.50)), ms(quantile(vis, 0.95)), ms(quantile(vis, 0.99)), ms(vis[len(vis)-1]),
			ms(r.p50), ms(r.p99), r.errors, ms(r.lagP99))
	}
}

// newOrderBody is samples.OrdersCreateWithCustomer made the n-th new order: its id (and so its
// GID and its refund's order_id), name and numbers changed. The intake keys the event by the
// order id, and the projection keys the row by it.
func newOrderBody(n int64) []byte {
	body := bytes.ReplaceAll(samples.OrdersCreateWithCustomer,
		[]byte(strconv.FormatInt(sampleOrderID, 10)), []byte(strconv.FormatInt(sampleOrderID+n, 10)))
	number := 1042 + n
	body = bytes.ReplaceAll(body, []byte(`"#1042`), []byte(`"#`+strconv.FormatInt(number, 10)))
	body = bytes.Replace(body, []byte(`"order_number": 1042,`), []byte(`"order_number": `+strconv.FormatInt(number, 10)+`,`), 1)
	return bytes.Replace(body, []byte(`"number": 42,`), []byte(`"number": `+strconv.FormatInt(number-1000, 10)+`,`), 1)
}
