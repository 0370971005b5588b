package shopify

import (
	"context"

	"github.com/storeline/storeline/events"
)

// ShopRedactRequested translates a shop/redact delivery ({shop_id, shop_domain}, no personal
// data). Keyed by the shop's GID; occurred_at is X-Shopify-Triggered-At.
func ShopRedactRequested(_ context.Context, d Delivery, _ Sealer) (*events.ShopRedactRequested, error) {
	p, c, err := parseCompliance(d.Body)
	if err != nil {
		return nil, err
	}
	ev := &events.ShopRedactRequested{ShopID: c.id(p.ShopID, "shop_id"), ShopDomain: p.shopDomain(d)}
	if c.err != nil {
		return nil, c.err
	}
	ev.ShopGID = gid("Shop", ev.ShopID)
	ev.Envelope = d.envelope(events.TypeShopRedactRequested, "Shop", ev.ShopGID, d.triggeredAt())
	if ev.PayloadJSON, err = d.rawPayload(); err != nil {
		return nil, err
	}
	return ev, nil
}
