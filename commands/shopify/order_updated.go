package shopify

import (
	"context"
	"time"

	"github.com/storeline/storeline/events"
)

// OrderUpdated translates an orders/updated delivery (an edit, a tag, a payment, a fulfillment,
// a refund, a cancellation: Shopify fires it for every change); occurred_at is the order's
// updated_at, by which projections keep the newest.
func OrderUpdated(ctx context.Context, d Delivery, seal Sealer) (*events.OrderUpdated, error) {
	ev, err := parseOrderEvent(ctx, d, seal, events.TypeOrderUpdated, func(o events.Order) time.Time { return o.UpdatedAt })
	if err != nil {
		return nil, err
	}
	return &events.OrderUpdated{Envelope: ev.envelope, Order: ev.order, PayloadJSON: ev.payloadJSON, PersonalData: ev.personalData}, nil
}
