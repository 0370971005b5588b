package events_test

import (
	"context"
	"errors"
	"testing"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/events"
)

type memRegistry struct{ ids map[string]int }

func (m *memRegistry) Register(_ context.Context, subject, schema string) (int, error) {
	if id, ok := m.ids[subject+schema]; ok {
		return id, nil
	}
	m.ids[subject+schema] = len(m.ids) + 7
	return m.ids[subject+schema], nil
}

func TestCodecRoundTripInConfluentWireFormat(t *testing.T) {
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(context.Background(), cat, &memRegistry{ids: map[string]int{}}, "x.")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := shopify.OrderCreated(shopify.Delivery{Shop: "s.myshopify.com", Topic: "orders/create", EventID: "1", Body: samples.OrdersCreate})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := codec.Record(ev, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Topic != "x.commerce" || string(rec.Key) != ev.OrderGID {
		t.Errorf("topic/key = %s/%s", rec.Topic, rec.Key)
	}
	if rec.Value[0] != 0 || int(rec.Value[4]) != codec.SchemaID(events.TypeOrderCreated) {
		t.Errorf("not the Confluent wire format: % x", rec.Value[:5])
	}
	headers := map[string]string{}
	for _, h := range rec.Headers {
		headers[h.Key] = string(h.Value)
	}
	if headers["event_type"] != events.TypeOrderCreated || headers["event_id"] != ev.Envelope.EventID || headers["traceparent"] == "" {
		t.Errorf("headers: %v", headers)
	}
	back, err := codec.Decode(rec.Value)
	if err != nil {
		t.Fatal(err)
	}
	got := back.(*events.OrderCreated)
	if got.TotalPrice.Cmp(ev.TotalPrice) != 0 || !got.CreatedAt.Equal(ev.CreatedAt) || len(got.LineItems) != 2 ||
		got.LineItems[1].Price.Cmp(ev.LineItems[1].Price) != 0 || got.PayloadJSON != ev.PayloadJSON {
		t.Errorf("round trip changed the event:\n got %+v\nwant %+v", got, ev)
	}
	unknown := append([]byte{0, 0, 0, 0x7f, 0x7f}, rec.Value[5:]...)
	if _, err := codec.Decode(unknown); !errors.Is(err, events.ErrUnknownSchema) {
		t.Errorf("unknown schema id: got %v", err)
	}
}
