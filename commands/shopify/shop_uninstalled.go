package shopify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/storeline/storeline/events"
)

// ShopUninstalled translates an app/uninstalled delivery, whose body is the Shop object. The
// owner's contact details and the shop's street address are sealed under the shop's key;
// occurred_at is X-Shopify-Triggered-At.
func ShopUninstalled(ctx context.Context, d Delivery, seal Sealer) (*events.ShopUninstalled, error) {
	var p struct {
		ID              json.Number `json:"id"`
		Name            string      `json:"name"`
		Domain          *string     `json:"domain"`
		MyshopifyDomain string      `json:"myshopify_domain"`
		PlanName        *string     `json:"plan_name"`
		Currency        *string     `json:"currency"`
		IanaTimezone    *string     `json:"iana_timezone"`
		CountryCode     *string     `json:"country_code"`
	}
	if err := decodeJSON(d.Body, &p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		return nil, fmt.Errorf("%w: shop has no id", ErrInvalidPayload)
	}
	var c converter
	ev := &events.ShopUninstalled{
		ShopID:          c.id(p.ID, "id"),
		Name:            p.Name,
		Domain:          nonEmpty(p.Domain),
		MyshopifyDomain: p.MyshopifyDomain,
		PlanName:        nonEmpty(p.PlanName),
		Currency:        nonEmpty(p.Currency),
		IanaTimezone:    nonEmpty(p.IanaTimezone),
		CountryCode:     nonEmpty(p.CountryCode),
	}
	if c.err != nil {
		return nil, c.err
	}
	if ev.MyshopifyDomain == "" {
		ev.MyshopifyDomain = d.Shop
	}
	ev.ShopGID = gid("Shop", ev.ShopID)
	ev.Envelope = d.envelope(events.TypeShopUninstalled, "Shop", ev.ShopGID, d.triggeredAt())
	var err error
	ev.PayloadJSON, ev.PersonalData, err = d.seal(ctx, seal, ev.Envelope.EventID)
	if err != nil {
		return nil, err
	}
	return ev, nil
}
