package shopify

import (
	"context"
	"time"

	"github.com/storeline/storeline/events"
)

// OrderCreated translates an orders/create delivery; occurred_at is the order's created_at.
func OrderCreated(ctx context.Context, d Delivery, seal Sealer) (*events.OrderCreated, error) {
	ev, err := parseOrderEvent(ctx, d, seal, events.TypeOrderCreated, func(o events.Order) time.Time { return o.CreatedAt })
	if err != nil {
		return nil, err
	}
	return &events.OrderCreated{Envelope: ev.envelope, Order: ev.order, PayloadJSON: ev.payloadJSON, PersonalData: ev.personalData}, nil
}
