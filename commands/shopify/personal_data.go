package shopify

import (
	"context"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
)

// PersonalData is the Sealer of a running service: it cuts personal data out of payloads and
// seals it with package pii, under keys kept outside the log.
type PersonalData struct {
	Sealer *pii.Sealer
}

// SealShopify implements Sealer.
func (p PersonalData) SealShopify(ctx context.Context, shop, topic, eventID string, payload []byte) (string, *events.SealedPersonalData, error) {
	clean, sealed, err := p.Sealer.SealShopify(ctx, shop, topic, eventID, payload)
	if err != nil || sealed == nil {
		return clean, nil, err
	}
	return clean, &events.SealedPersonalData{KeyID: sealed.KeyID, Algorithm: sealed.Algorithm, Ciphertext: sealed.Ciphertext}, nil
}
