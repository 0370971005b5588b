package shopify

import (
	"context"
	"time"

	"github.com/storeline/storeline/events"
)

// OrderFulfilled translates an orders/fulfilled delivery (every line fulfilled; a partial
// fulfillment only fires orders/updated); occurred_at is the order's updated_at.
func OrderFulfilled(ctx context.Context, d Delivery, seal Sealer) (*events.OrderFulfilled, error) {
	ev, err := parseOrderEvent(ctx, d, seal, events.TypeOrderFulfilled, func(o events.Order) time.Time { return o.UpdatedAt })
	if err != nil {
		return nil, err
	}
	return &events.OrderFulfilled{Envelope: ev.envelope, Order: ev.order, PayloadJSON: ev.payloadJSON, PersonalData: ev.personalData}, nil
}
