package pii

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoSubject is returned when a payload holds personal data but names no one to seal it for
// (a customers/redact request with an email but no customer id, say).
var ErrNoSubject = errors.New("pii: personal data without a subject")

// SealShopify prepares a Shopify payload for the log: it splits it (SplitShopify), names its
// subject (SubjectOf) and seals the personal part for shop under that subject, with the event id
// as AAD. clean may be published as it is; sealed is nil when the payload held no personal data.
// Errors wrapping ErrUnknownTopic or ErrMalformed are the payload's; others are the keystore's
// and worth a retry.
func (s *Sealer) SealShopify(ctx context.Context, shop, topic, eventID string, payload []byte) (clean string, sealed *Sealed, err error) {
	subj, subjErr, c, personal, err := splitShopify(topic, payload)
	if err != nil {
		return "", nil, err
	}
	if personal == nil {
		return string(c), nil, nil
	}
	if subjErr != nil {
		return "", nil, subjErr
	}
	if subj == "" {
		return "", nil, fmt.Errorf("seal %s payload: %w", topic, ErrNoSubject)
	}
	sl, err := s.Seal(ctx, shop, subj, []byte(eventID), personal)
	if err != nil {
		return "", nil, fmt.Errorf("seal %s payload: %w", topic, err)
	}
	return string(c), &sl, nil
}

// OpenShopify returns the whole payload that SealShopify split into clean and sealed. When the
// key was shredded it returns ErrShredded (wrapped): clean is then all that is left, and all a
// reader may use.
func (s *Sealer) OpenShopify(ctx context.Context, clean string, sealed *Sealed, eventID string) ([]byte, error) {
	if sealed == nil {
		return []byte(clean), nil
	}
	personal, err := s.Open(ctx, *sealed, []byte(eventID))
	if err != nil {
		return nil, err
	}
	return JoinShopify([]byte(clean), personal)
}
