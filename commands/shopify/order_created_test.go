package shopify

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/shopify/samples"
)

func sampleDelivery(body []byte) Delivery {
	return Delivery{
		Shop: "demo.myshopify.com", Topic: "orders/create", EventID: "evt-1", WebhookID: "wh-1",
		Body: body, ReceivedAt: time.Date(2026, 11, 26, 15, 16, 0, 0, time.UTC),
	}
}

func TestOrderCreatedTranslatesSample(t *testing.T) {
	ev, err := OrderCreated(sampleDelivery(samples.OrdersCreate))
	if err != nil {
		t.Fatal(err)
	}
	if ev.OrderID != 5801234567890 || ev.OrderGID != "gid://shopify/Order/5801234567890" || ev.Name != "#1042" {
		t.Errorf("ids: got %d %q %q", ev.OrderID, ev.OrderGID, ev.Name)
	}
	if want := big.NewRat(16189, 100); ev.TotalPrice.Cmp(want) != 0 {
		t.Errorf("total_price = %s, want %s", ev.TotalPrice.FloatString(4), want.FloatString(4))
	}
	if got := ev.CreatedAt; !got.Equal(time.Date(2026, 11, 26, 15, 15, 42, 0, time.UTC)) {
		t.Errorf("created_at = %s", got)
	}
	if len(ev.LineItems) != 2 || ev.LineItems[1].VariantID != nil || *ev.LineItems[0].VariantID != 45012345678901 {
		t.Fatalf("line items: %+v", ev.LineItems)
	}
	if want := big.NewRat(14975, 1000); ev.LineItems[1].Price.Cmp(want) != 0 {
		t.Errorf("price kept exactly: got %s", ev.LineItems[1].Price.FloatString(4))
	}
	if ev.Envelope.EventType != "commerce.OrderCreated" || ev.Envelope.Source != "webhook" || *ev.Envelope.WebhookID != "wh-1" {
		t.Errorf("envelope: %+v", ev.Envelope)
	}
}

func TestEventIDIsDeterministic(t *testing.T) {
	a, _ := OrderCreated(sampleDelivery(samples.OrdersCreate))
	d := sampleDelivery(samples.OrdersCreate)
	d.WebhookID = "wh-2" // a redelivery: new delivery id, same event id
	d.ReceivedAt = d.ReceivedAt.Add(time.Hour)
	b, _ := OrderCreated(d)
	if a.Envelope.EventID != b.Envelope.EventID {
		t.Errorf("redelivery changed the event id: %s vs %s", a.Envelope.EventID, b.Envelope.EventID)
	}
	d.Shop = "other.myshopify.com"
	c, _ := OrderCreated(d)
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
			_, err := OrderCreated(sampleDelivery([]byte(body)))
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("got %v, want ErrInvalidPayload", err)
			}
		})
	}
}
