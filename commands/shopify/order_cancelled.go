package shopify

import (
	"context"
	"time"

	"github.com/storeline/storeline/events"
)

// OrderCancelled translates an orders/cancelled delivery; occurred_at is the order's
// cancelled_at (its updated_at should a payload lack it: the cancellation is the change that
// fired the webhook).
func OrderCancelled(ctx context.Context, d Delivery, seal Sealer) (*events.OrderCancelled, error) {
	ev, err := parseOrderEvent(ctx, d, seal, events.TypeOrderCancelled, func(o events.Order) time.Time {
		if o.CancelledAt != nil {
			return *o.CancelledAt
		}
		return o.UpdatedAt
	})
	if err != nil {
		return nil, err
	}
	return &events.OrderCancelled{Envelope: ev.envelope, Order: ev.order, PayloadJSON: ev.payloadJSON, PersonalData: ev.personalData}, nil
}
