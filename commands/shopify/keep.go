package shopify

import (
	"context"
	"errors"
	"fmt"

	"github.com/storeline/storeline/events"
)

// Kept is a delivery that did not translate, made fit to keep on a topic that is kept forever
// (the commerce dead-letter topic): the customers' personal data it holds is sealed, as it would
// have been in its event, so keeping a bad delivery never puts personal data on a topic in
// plaintext. An operator who fixes the cause reassembles the body (package pii's OpenShopify
// with EventID, or Open for a Whole seal) and replays it.
type Kept struct {
	// EventID is the id the delivery's event has (deterministic, as Translate makes it): the
	// seal's additional authenticated data.
	EventID string
	// Body is the body without its personal data (package pii's clean payload); nil when Whole.
	Body []byte
	// Sealed is the personal data cut out of Body (nil when there was none), or the whole body
	// when Whole.
	Sealed *events.SealedPersonalData
	// Whole is set when the body could not be taken apart (not a JSON object, or personal data
	// naming no one): it is sealed whole, under the subject deadletter/<EventID> of the shop,
	// which shop/redact destroys with every other key of the shop.
	Whole bool
}

// Keep prepares a delivery that did not translate for the dead-letter topic. An error is the
// sealer failing (the key store is unreachable): nothing may be kept in plaintext instead, so
// the caller must answer so that Shopify retries.
func Keep(ctx context.Context, d Delivery, seal Sealer) (Kept, error) {
	k := Kept{EventID: d.eventID()}
	clean, sealed, err := seal.SealShopify(ctx, d.Shop, d.Topic, k.EventID, d.Body)
	if err == nil {
		k.Body, k.Sealed = []byte(clean), sealed
		return k, nil
	}
	if !errors.Is(err, ErrInvalidPayload) {
		return Kept{}, fmt.Errorf("seal the dead letter of %s %s: %w", d.Topic, k.EventID, err)
	}
	whole, ok := seal.(SubjectSealer)
	if !ok {
		return Kept{}, fmt.Errorf("seal the dead letter of %s %s: the sealer cannot seal a whole body", d.Topic, k.EventID)
	}
	if k.Sealed, err = whole.SealSubject(ctx, d.Shop, "deadletter/"+k.EventID, k.EventID, d.Body); err != nil {
		return Kept{}, fmt.Errorf("seal the dead letter of %s %s: %w", d.Topic, k.EventID, err)
	}
	k.Whole = true
	return k, nil
}
