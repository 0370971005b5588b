package shopifysim

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/shopifyapi"
)

// The contract with storeline's side of the wire: every webhook the simulator sends and every
// row its bulk exports hold (for the queries storeline runs) must translate into an event.

type fakeSealer struct{}

func (fakeSealer) SealShopify(_ context.Context, _, topic, _ string, payload []byte) (string, *events.SealedPersonalData, error) {
	clean, personal, err := pii.SplitShopify(topic, payload)
	if err != nil {
		return "", nil, err
	}
	if personal == nil {
		return string(clean), nil, nil
	}
	return string(clean), &events.SealedPersonalData{KeyID: "test", Algorithm: "none", Ciphertext: personal}, nil
}

func (fakeSealer) SealSubject(_ context.Context, _, _, _ string, personal []byte) (*events.SealedPersonalData, error) {
	return &events.SealedPersonalData{KeyID: "test", Algorithm: "none", Ciphertext: personal}, nil
}

func TestStorelineTranslatesEveryWebhook(t *testing.T) {
	s := Generate(12, Size{Products: 20, Orders: 80, Mix: &Mix{FulfillRate: 1, RefundRate: 0.5, PendingRate: 0.3, PayLaterRate: 0.5,
		GuestRate: 0.3, ProductUpdateRate: 1, ProductDeleteRate: 0.5, RestockRate: 0.2, OrderTagRate: 0.3}})
	c := s.Customers()[0]
	if _, err := s.CustomerRedact(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CustomerDataRequest(c.ID); err != nil {
		t.Fatal(err)
	}
	s.AppUninstalled()
	s.ShopRedact()
	topics := map[string]int{}
	for _, ch := range s.History() {
		d := shopify.Delivery{Shop: s.Shop().MyshopifyDomain, Topic: ch.Topic, EventID: ch.EventID, WebhookID: "w", TriggeredAt: ch.TriggeredAt,
			APIVersion: "2026-04", Body: ch.Payload(), ReceivedAt: ch.TriggeredAt, ShopCurrency: s.Shop().Currency}
		ev, err := shopify.Translate(context.Background(), d, fakeSealer{})
		if err != nil {
			t.Errorf("%s (change %d): %v", ch.Topic, ch.Seq, err)
			continue
		}
		if ev == nil {
			t.Errorf("%s: no event", ch.Topic)
		}
		topics[ch.Topic]++
	}
	if len(topics) < 14 {
		t.Errorf("translated only %v", topics)
	}
}

func TestStorelineTranslatesEveryBulkRow(t *testing.T) {
	s := Generate(13, Size{Products: 20, Orders: 80, Mix: &Mix{FulfillRate: 1, RefundRate: 0.5, PendingRate: 0.3, PayLaterRate: 0.5, GuestRate: 0.3,
		ProductUpdateRate: 1}})
	_, srv, clk := admin(t, s, AdminOptions{})
	since := s.Orders()[40].UpdatedAt
	rows := 0
	for _, resource := range []string{shopify.BulkResourceProducts, shopify.BulkResourceOrders} {
		for _, from := range []time.Time{{}, since} {
			q, err := shopify.BulkQuery(resource, from)
			if err != nil {
				t.Fatal(err)
			}
			id, errs := startBulk(t, srv.URL, "2026-04", q, false)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", resource, errs)
			}
			clk.Advance(time.Minute)
			op := bulkOp(t, srv.URL, id)
			created, _ := time.Parse(time.RFC3339, op["createdAt"].(string))
			if op["url"] == nil {
				if op["objectCount"] != "0" {
					t.Fatalf("%s: no url: %v", resource, op)
				}
				continue
			}
			for i, line := range jsonl(t, op["url"].(string)) {
				b, _ := json.Marshal(line)
				rows++
				_, err := shopify.TranslateBulkRow(context.Background(), shopify.BulkRow{Shop: s.Shop().MyshopifyDomain, BulkOperationGID: id,
					BulkOperationCreatedAt: created, Row: int64(i + 1), Line: b, Currency: s.Shop().Currency, APIVersion: "2026-04"}, fakeSealer{})
				if err != nil {
					t.Fatalf("%s row %d: %v\n%s", resource, i+1, err, b)
				}
			}
		}
	}
	if rows == 0 {
		t.Fatal("no rows exported")
	}
}

// TestStorelineClientRunsABulkSync drives the simulator with storeline's own Admin API client
// (real clock, short bulk timings): start, wait, check, stream, check the read.
func TestStorelineClientRunsABulkSync(t *testing.T) {
	s := Generate(14, Size{Products: 15, Orders: 40})
	a := NewAdminServer(s, AdminOptions{Bulk: BulkOptions{StartAfter: 5 * time.Millisecond, RunFor: 20 * time.Millisecond}})
	srv := httptest.NewServer(a)
	defer func() { srv.Close(); _ = a.Close() }()
	for _, version := range []string{"2025-10", "2026-04"} {
		c, err := shopifyapi.New(shopifyapi.Config{Shop: s.Shop().MyshopifyDomain, AccessToken: DefaultAccessToken, APIVersion: version, BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		q, _ := shopify.BulkQuery(shopify.BulkResourceOrders, time.Time{})
		op, err := c.RunBulkQuery(ctx, q, false)
		if err != nil {
			t.Fatalf("%s: RunBulkQuery: %v", version, err)
		}
		if op, err = c.WaitBulk(ctx, op.ID, 5*time.Millisecond); err != nil {
			t.Fatalf("%s: WaitBulk: %v", version, err)
		}
		if err := op.CheckComplete(); err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		r, err := c.OpenResult(ctx, op.URL)
		if err != nil {
			t.Fatal(err)
		}
		orders, lines := 0, 0
		for {
			line, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if line.ParentID == "" {
				orders++
			} else {
				lines++
			}
		}
		if err := op.CheckRead(r.Position()); err != nil {
			t.Errorf("%s: CheckRead: %v", version, err)
		}
		r.Close()
		want := 0
		for _, o := range s.Orders() {
			want += len(o.LineItems)
		}
		if orders != len(s.Orders()) || lines != want {
			t.Errorf("%s: read %d orders and %d lines, want %d and %d", version, orders, lines, len(s.Orders()), want)
		}
		cancel()
	}
}
