package shopify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/storeline/storeline/events"
)

// InventoryLevelUpdated translates an inventory_levels/update delivery. The payload has no id
// of its own: the key is built from the inventory item and the location,
// gid://shopify/InventoryLevel/<location_id>?inventory_item_id=<inventory_item_id>, so one item
// at one location always has one key (the schema's rule), and occurred_at is updated_at
// (X-Shopify-Triggered-At should a payload lack it).
func InventoryLevelUpdated(_ context.Context, d Delivery, _ Sealer) (*events.InventoryLevelUpdated, error) {
	var p struct {
		InventoryItemID   json.Number `json:"inventory_item_id"`
		LocationID        json.Number `json:"location_id"`
		Available         *int32      `json:"available"`
		UpdatedAt         string      `json:"updated_at"`
		AdminGraphQLAPIID *string     `json:"admin_graphql_api_id"`
	}
	if err := decodeJSON(d.Body, &p); err != nil {
		return nil, err
	}
	var c converter
	ev := &events.InventoryLevelUpdated{
		InventoryItemID:   c.requiredID(p.InventoryItemID, "inventory_item_id"),
		LocationID:        c.requiredID(p.LocationID, "location_id"),
		Available:         p.Available,
		UpdatedAt:         c.timeOr(p.UpdatedAt, d.triggeredAt(), "updated_at"),
		InventoryLevelGID: nonEmpty(p.AdminGraphQLAPIID),
	}
	if c.err != nil {
		return nil, c.err
	}
	ev.InventoryItemGID = gid("InventoryItem", ev.InventoryItemID)
	ev.LocationGID = gid("Location", ev.LocationID)
	key := fmt.Sprintf("gid://shopify/InventoryLevel/%d?inventory_item_id=%d", ev.LocationID, ev.InventoryItemID)
	ev.Envelope = d.envelope(events.TypeInventoryLevelUpdated, "InventoryLevel", key, ev.UpdatedAt)
	var err error
	if ev.PayloadJSON, err = d.rawPayload(); err != nil {
		return nil, err
	}
	return ev, nil
}
