package shopify

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/storeline/storeline/events"
)

// ProductDeleted translates a products/delete delivery, whose body is only {"id": ...}: the
// deletion's time is X-Shopify-Triggered-At (both occurred_at and deleted_at).
func ProductDeleted(_ context.Context, d Delivery, _ Sealer) (*events.ProductDeleted, error) {
	var p struct {
		ID json.Number `json:"id"`
	}
	if err := decodeJSON(d.Body, &p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		return nil, fmt.Errorf("%w: deleted product has no id", ErrInvalidPayload)
	}
	var c converter
	id := c.id(p.ID, "id")
	if c.err != nil {
		return nil, c.err
	}
	payload, err := d.rawPayload()
	if err != nil {
		return nil, err
	}
	at := d.triggeredAt()
	return &events.ProductDeleted{
		Envelope:    d.envelope(events.TypeProductDeleted, "Product", gid("Product", id), at),
		ProductID:   id,
		ProductGID:  gid("Product", id),
		DeletedAt:   at,
		PayloadJSON: payload,
	}, nil
}
