package shopify

import (
	"context"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/events"
)

// stubSealer stands in for package pii: it keeps the payload whole and seals a marker, and
// records what it was asked to seal.
type stubSealer struct{ shop, topic, eventID string }

func (s *stubSealer) SealShopify(_ context.Context, shop, topic, eventID string, payload []byte) (string, *events.SealedPersonalData, error) {
	s.shop, s.topic, s.eventID = shop, topic, eventID
	return string(payload), &events.SealedPersonalData{KeyID: "k", Algorithm: "stub", Ciphertext: []byte("x")}, nil
}

func translateOrder(d Delivery) (*events.OrderCreated, error) {
	return OrderCreated(context.Background(), d, &stubSealer{})
}

func sampleDelivery(body []byte) Delivery {
	return Delivery{
		Shop: "demo.myshopify.com", Topic: "orders/create", EventID: "evt-1", WebhookID: "wh-1",
		Body: body, ReceivedAt: time.Date(2026, 11, 26, 15, 16, 0, 0, time.UTC),
	}
}

func TestOrderCreatedTranslatesSample(t *testing.T) {
	seal := &stubSealer{}
	ev, err := OrderCreated(context.Background(), sampleDelivery(samples.OrdersCreate), seal)
	if err != nil {
		t.Fatal(err)
	}
	if seal.shop != "demo.myshopify.com" || seal.topic != "orders/create" || seal.eventID != ev.Envelope.EventID {
		t.Errorf("sealed for %+v, want the delivery's shop, topic and event id", seal)
	}
	if ev.PersonalData == nil || ev.PayloadJSON == "" {
		t.Error("the sealed personal data and the rest of the payload must be kept")
	}
	o := ev.Order
	if o.OrderID != 5801234567890 || o.OrderGID != "gid://shopify/Order/5801234567890" || o.Name != "#1042" {
		t.Errorf("ids: got %d %q %q", o.OrderID, o.OrderGID, o.Name)
	}
	if want := big.NewRat(16189, 100); o.TotalPrice.Amount.Cmp(want) != 0 || o.TotalPrice.CurrencyCode != "USD" {
		t.Errorf("total_price = %s %s, want %s USD", o.TotalPrice.Amount.FloatString(4), o.TotalPrice.CurrencyCode, want.FloatString(4))
	}
	if got := o.CreatedAt; !got.Equal(time.Date(2026, 11, 26, 15, 15, 42, 0, time.UTC)) {
		t.Errorf("created_at = %s", got)
	}
	if len(o.LineItems) != 2 || o.LineItems[1].VariantID != nil || *o.LineItems[0].VariantID != 45012345678901 ||
		*o.LineItems[0].VariantGID != "gid://shopify/ProductVariant/45012345678901" {
		t.Fatalf("line items: %+v", o.LineItems)
	}
	if want := big.NewRat(14975, 1000); o.LineItems[1].Price.Amount.Cmp(want) != 0 {
		t.Errorf("price kept exactly: got %s", o.LineItems[1].Price.Amount.FloatString(4))
	}
	if ev.Envelope.EventType != "commerce.OrderCreated" || ev.Envelope.Source != "webhook" || *ev.Envelope.WebhookID != "wh-1" ||
		ev.Envelope.Actor != (events.Actor{Type: "shopify", ID: "demo.myshopify.com"}) {
		t.Errorf("envelope: %+v", ev.Envelope)
	}
}

func TestEventIDIsDeterministic(t *testing.T) {
	a, _ := translateOrder(sampleDelivery(samples.OrdersCreate))
	d := sampleDelivery(samples.OrdersCreate)
	d.WebhookID = "wh-2" // a redelivery: new delivery id, same event id
	d.ReceivedAt = d.ReceivedAt.Add(time.Hour)
	b, _ := translateOrder(d)
	if a.Envelope.EventID != b.Envelope.EventID {
		t.Errorf("redelivery changed the event id: %s vs %s", a.Envelope.EventID, b.Envelope.EventID)
	}
	d.Shop = "other.myshopify.com"
	c, _ := translateOrder(d)
	if c.Envelope.EventID == a.Envelope.EventID {
		t.Error("another shop's event with the same Shopify event id got the same event id")
	}
}

func TestOrderCreatedRejectsBadPayloads(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `{"id": 1,`,
		"trailing data": `{"id":1,"currency":"USD","created_at":"2026-11-26T10:15:42Z"} {}`,
		"no id":         `{"currency":"USD","created_at":"2026-11-26T10:15:42Z"}`,
		"float id":      `{"id":1.5,"currency":"USD","created_at":"2026-11-26T10:15:42Z"}`,
		"bad money":     `{"id":1,"currency":"USD","total_price":"12,00","created_at":"2026-11-26T10:15:42Z"}`,
		"bad time":      `{"id":1,"currency":"USD","created_at":"yesterday"}`,
		"no currency":   `{"id":1,"created_at":"2026-11-26T10:15:42Z"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := translateOrder(sampleDelivery([]byte(body)))
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("got %v, want ErrInvalidPayload", err)
			}
		})
	}
}
