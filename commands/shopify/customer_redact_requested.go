package shopify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/storeline/storeline/events"
)

// compliancePayload is the body of Shopify's mandatory privacy webhooks (customers/redact,
// customers/data_request, shop/redact).
type compliancePayload struct {
	ShopID     json.Number `json:"shop_id"`
	ShopDomain string      `json:"shop_domain"`
	Customer   *struct {
		ID json.Number `json:"id"`
	} `json:"customer"`
	OrdersToRedact  []json.Number `json:"orders_to_redact"`
	OrdersRequested []json.Number `json:"orders_requested"`
	DataRequest     *struct {
		ID json.Number `json:"id"`
	} `json:"data_request"`
}

func parseCompliance(body []byte) (compliancePayload, converter, error) {
	var p compliancePayload
	if err := decodeJSON(body, &p); err != nil {
		return p, converter{}, err
	}
	if p.ShopID == "" {
		return p, converter{}, fmt.Errorf("%w: no shop_id", ErrInvalidPayload)
	}
	return p, converter{}, nil
}

// customerID is the request's customer id, required by the customer requests.
func (p compliancePayload) customerID(c *converter) int64 {
	if p.Customer == nil || p.Customer.ID == "" {
		c.fail("the request names no customer (customer.id)")
		return 0
	}
	return c.id(p.Customer.ID, "customer.id")
}

func (c *converter) ids(ns []json.Number, field string) []int64 {
	out := make([]int64, 0, len(ns))
	for i, n := range ns {
		out = append(out, c.requiredID(n, fmt.Sprintf("%s[%d]", field, i)))
	}
	return out
}

// shopDomain is the request's shop_domain, or the delivery's shop should it be empty.
func (p compliancePayload) shopDomain(d Delivery) string {
	if p.ShopDomain != "" {
		return p.ShopDomain
	}
	return d.Shop
}

// CustomerRedactRequested translates a customers/redact delivery: the customer's email and
// phone are sealed under the customer's own key (the key the request destroys). Keyed by the
// customer's GID; occurred_at is X-Shopify-Triggered-At.
func CustomerRedactRequested(ctx context.Context, d Delivery, seal Sealer) (*events.CustomerRedactRequested, error) {
	p, c, err := parseCompliance(d.Body)
	if err != nil {
		return nil, err
	}
	ev := &events.CustomerRedactRequested{
		ShopID:         c.id(p.ShopID, "shop_id"),
		ShopDomain:     p.shopDomain(d),
		CustomerID:     p.customerID(&c),
		OrdersToRedact: c.ids(p.OrdersToRedact, "orders_to_redact"),
	}
	if c.err != nil {
		return nil, c.err
	}
	ev.CustomerGID = gid("Customer", ev.CustomerID)
	ev.Envelope = d.envelope(events.TypeCustomerRedactRequested, "Customer", ev.CustomerGID, d.triggeredAt())
	if ev.PayloadJSON, ev.PersonalData, err = d.seal(ctx, seal, ev.Envelope.EventID); err != nil {
		return nil, err
	}
	return ev, nil
}
