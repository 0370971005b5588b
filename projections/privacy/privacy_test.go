package privacy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/migrations"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/privacy"
	"github.com/storeline/storeline/testkit"
)

const shop = "privacy.myshopify.com"

// customers/redact destroys the customer's key and the keys of the orders it lists, and only
// those; shop/redact every key of the shop; a repeated request changes nothing more.
func TestRedactionShredsKeys(t *testing.T) {
	ctx := context.Background()
	pool := testkit.FreshDatabase(t)
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	prefix := testkit.FreshTopicPrefix(t, 2, events.TopicCommerce)
	codec := eventstest.NewCodec(t, prefix)
	ks := piitest.Keystore(t, pool)
	keys := map[string]string{}
	for _, k := range []struct{ shop, subject string }{
		{shop, "customer/42"}, {shop, "order/7"}, {shop, "customer/43"}, {"other.myshopify.com", "customer/42"},
	} {
		id, _, err := ks.DataKey(ctx, k.shop, k.subject)
		if err != nil {
			t.Fatal(err)
		}
		keys[k.shop+" "+k.subject] = id
	}

	kind, _ := codec.Catalogue().Kind(events.TypeCustomerRedactRequested)
	redact := eventstest.Sample(kind, 1).(*events.CustomerRedactRequested)
	redact.Envelope.Shop, redact.CustomerID, redact.OrdersToRedact, redact.PersonalData = shop, 42, []int64{7}, nil
	producer, err := eventlog.NewProducer(testkit.Brokers(t), codec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	for range 2 { // Shopify redelivers
		if _, err := producer.Append(ctx, redact, ""); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	runner := projections.NewRunner(projections.Config{Brokers: testkit.Brokers(t), TopicPrefix: prefix}, privacy.Projection{Keys: ks},
		pool, codec, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	go func() { done <- runner.Run(runCtx) }()
	defer func() { stop(); <-done }()

	testkit.WaitFor(t, 30*time.Second, "the redaction to be handled", func() error {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM privacy_requests WHERE kind = 'customer_redact' AND keys_shredded = 2`).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("%d requests recorded", n)
		}
		return nil
	})
	for key, want := range map[string]bool{
		shop + " customer/42": true, shop + " order/7": true, shop + " customer/43": false, "other.myshopify.com customer/42": false,
	} {
		_, err := ks.Lookup(ctx, keys[key])
		if errors.Is(err, pii.ErrShredded) != want {
			t.Errorf("%s: Lookup %v, want shredded=%v", key, err, want)
		}
	}

	kind, _ = codec.Catalogue().Kind(events.TypeShopRedactRequested)
	shopRedact := eventstest.Sample(kind, 2).(*events.ShopRedactRequested)
	shopRedact.Envelope.Shop = shop
	if _, err := producer.Append(ctx, shopRedact, ""); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 30*time.Second, "the shop redaction", func() error {
		if _, err := ks.Lookup(ctx, keys[shop+" customer/43"]); !errors.Is(err, pii.ErrShredded) {
			return fmt.Errorf("customer/43: %v", err)
		}
		return nil
	})
	if _, err := ks.Lookup(ctx, keys["other.myshopify.com customer/42"]); err != nil {
		t.Errorf("another shop's key: %v", err)
	}
}

// customers/data_request is answered with the customer's orders from the read model and whether
// their sealed personal data can still be read.
func TestDataRequestReportsWhatIsHeld(t *testing.T) {
	ctx := context.Background()
	pool := testkit.FreshDatabase(t)
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	prefix := testkit.FreshTopicPrefix(t, 2, events.TopicCommerce)
	codec := eventstest.NewCodec(t, prefix)
	ks := piitest.Keystore(t, pool)
	if _, _, err := ks.DataKey(ctx, shop, "customer/44"); err != nil {
		t.Fatal(err)
	}
	producer, err := eventlog.NewProducer(testkit.Brokers(t), codec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	runCtx, stop := context.WithCancel(ctx)
	var done []chan error
	for _, p := range []projections.Projection{orders.Projection{}, privacy.Projection{Keys: ks}} {
		ch := make(chan error, 1)
		r := projections.NewRunner(projections.Config{Brokers: testkit.Brokers(t), TopicPrefix: prefix}, p, pool, codec, nil,
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		go func() { ch <- r.Run(runCtx) }()
		done = append(done, ch)
	}
	defer func() {
		stop()
		for _, ch := range done {
			<-ch
		}
	}()

	kind, _ := codec.Catalogue().Kind(events.TypeOrderCreated)
	order := eventstest.Sample(kind, 3).(*events.OrderCreated)
	customerID := int64(44)
	order.Envelope.Shop, order.Order.CustomerID = shop, &customerID
	if _, err := producer.Append(ctx, order, ""); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 30*time.Second, "the order in the read model", func() error {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE customer_id = 44`).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("%d orders", n)
		}
		return nil
	})
	kind, _ = codec.Catalogue().Kind(events.TypeCustomerDataRequested)
	req := eventstest.Sample(kind, 4).(*events.CustomerDataRequested)
	req.Envelope.Shop, req.CustomerID, req.PersonalData = shop, 44, nil
	if _, err := producer.Append(ctx, req, ""); err != nil {
		t.Fatal(err)
	}
	var report struct {
		Orders []struct {
			OrderID int64 `json:"order_id"`
		} `json:"orders"`
		Readable bool `json:"sealed_personal_data_readable"`
	}
	testkit.WaitFor(t, 30*time.Second, "the data request's report", func() error {
		var raw []byte
		err := pool.QueryRow(ctx, `SELECT report FROM privacy_requests WHERE kind = 'customer_data_request' AND customer_id = 44`).Scan(&raw)
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &report)
	})
	if len(report.Orders) != 1 || report.Orders[0].OrderID != order.Order.OrderID || !report.Readable {
		t.Errorf("report %+v, want order %d and readable personal data", report, order.Order.OrderID)
	}
}
