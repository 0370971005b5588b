package shopify

import (
	"context"

	"github.com/storeline/storeline/events"
)

// ProductUpdated translates a products/update delivery (chatty: variant, stock and collection
// changes fire it, and so do storeline's own tag and metafield writes); occurred_at is the
// product's updated_at. Prices are in Delivery.ShopCurrency (UnknownCurrency when it is not
// known).
func ProductUpdated(_ context.Context, d Delivery, _ Sealer) (*events.ProductUpdated, error) {
	p, err := parseProduct(d.Body, d.shopCurrency())
	if err != nil {
		return nil, err
	}
	payload, err := d.rawPayload()
	if err != nil {
		return nil, err
	}
	return &events.ProductUpdated{
		Envelope:    d.envelope(events.TypeProductUpdated, "Product", p.ProductGID, p.UpdatedAt),
		Product:     p,
		PayloadJSON: payload,
	}, nil
}
