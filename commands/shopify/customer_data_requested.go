package shopify

import (
	"context"

	"github.com/storeline/storeline/events"
)

// CustomerDataRequested translates a customers/data_request delivery: the customer's email and
// phone are sealed under the customer's key. Keyed by the customer's GID; occurred_at is
// X-Shopify-Triggered-At.
func CustomerDataRequested(ctx context.Context, d Delivery, seal Sealer) (*events.CustomerDataRequested, error) {
	p, c, err := parseCompliance(d.Body)
	if err != nil {
		return nil, err
	}
	ev := &events.CustomerDataRequested{
		ShopID:          c.id(p.ShopID, "shop_id"),
		ShopDomain:      p.shopDomain(d),
		CustomerID:      p.customerID(&c),
		OrdersRequested: c.ids(p.OrdersRequested, "orders_requested"),
	}
	if p.DataRequest == nil || p.DataRequest.ID == "" {
		c.fail("the request has no data_request.id")
	} else {
		ev.DataRequestID = c.id(p.DataRequest.ID, "data_request.id")
	}
	if c.err != nil {
		return nil, c.err
	}
	ev.CustomerGID = gid("Customer", ev.CustomerID)
	ev.Envelope = d.envelope(events.TypeCustomerDataRequested, "Customer", ev.CustomerGID, d.triggeredAt())
	if ev.PayloadJSON, ev.PersonalData, err = d.seal(ctx, seal, ev.Envelope.EventID); err != nil {
		return nil, err
	}
	return ev, nil
}
