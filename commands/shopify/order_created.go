package shopify

import (
	"context"

	"github.com/storeline/storeline/events"
)

// OrderCreated translates an orders/create delivery.
func OrderCreated(ctx context.Context, d Delivery, seal Sealer) (*events.OrderCreated, error) {
	o, err := parseOrder(d.Body)
	if err != nil {
		return nil, err
	}
	ev := &events.OrderCreated{
		Envelope: d.envelope(events.TypeOrderCreated, "Order", o.OrderGID, o.CreatedAt),
		Order:    o,
	}
	ev.PayloadJSON, ev.PersonalData, err = d.seal(ctx, seal, ev.Envelope.EventID)
	return ev, err
}
