package shopify

import (
	"context"
	"time"

	"github.com/storeline/storeline/events"
)

// OrderPaid translates an orders/paid delivery; occurred_at is the order's updated_at.
func OrderPaid(ctx context.Context, d Delivery, seal Sealer) (*events.OrderPaid, error) {
	ev, err := parseOrderEvent(ctx, d, seal, events.TypeOrderPaid, func(o events.Order) time.Time { return o.UpdatedAt })
	if err != nil {
		return nil, err
	}
	return &events.OrderPaid{Envelope: ev.envelope, Order: ev.order, PayloadJSON: ev.payloadJSON, PersonalData: ev.personalData}, nil
}
