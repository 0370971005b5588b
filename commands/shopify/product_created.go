package shopify

import (
	"context"

	"github.com/storeline/storeline/events"
)

// ProductCreated translates a products/create delivery; occurred_at is the product's
// created_at. Prices are in Delivery.ShopCurrency (UnknownCurrency when it is not known).
func ProductCreated(_ context.Context, d Delivery, _ Sealer) (*events.ProductCreated, error) {
	p, err := parseProduct(d.Body, d.shopCurrency())
	if err != nil {
		return nil, err
	}
	payload, err := d.rawPayload()
	if err != nil {
		return nil, err
	}
	return &events.ProductCreated{
		Envelope:    d.envelope(events.TypeProductCreated, "Product", p.ProductGID, p.CreatedAt),
		Product:     p,
		PayloadJSON: payload,
	}, nil
}
