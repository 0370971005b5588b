package shopify

import (
	"context"
	"errors"
	"fmt"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
)

// PersonalData is the Sealer (and SubjectSealer) of a running service: it cuts personal data
// out of payloads and seals it with package pii, under keys kept outside the log.
type PersonalData struct {
	Sealer *pii.Sealer
}

// SealSubject implements SubjectSealer.
func (p PersonalData) SealSubject(ctx context.Context, shop, subject, eventID string, personal []byte) (*events.SealedPersonalData, error) {
	sealed, err := p.Sealer.Seal(ctx, shop, subject, []byte(eventID), personal)
	if err != nil {
		return nil, err
	}
	return &events.SealedPersonalData{KeyID: sealed.KeyID, Algorithm: sealed.Algorithm, Ciphertext: sealed.Ciphertext}, nil
}

// SealShopify implements Sealer. A payload pii cannot take apart (malformed, an id that is not
// one, personal data naming no one, a topic without rules) is ErrInvalidPayload: retrying it
// cannot help.
func (p PersonalData) SealShopify(ctx context.Context, shop, topic, eventID string, payload []byte) (string, *events.SealedPersonalData, error) {
	clean, sealed, err := p.Sealer.SealShopify(ctx, shop, topic, eventID, payload)
	if errors.Is(err, pii.ErrMalformed) || errors.Is(err, pii.ErrNoSubject) || errors.Is(err, pii.ErrUnknownTopic) {
		return "", nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	if err != nil || sealed == nil {
		return clean, nil, err
	}
	return clean, &events.SealedPersonalData{KeyID: sealed.KeyID, Algorithm: sealed.Algorithm, Ciphertext: sealed.Ciphertext}, nil
}
