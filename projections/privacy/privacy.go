// Package privacy carries out Shopify's mandatory privacy requests as they arrive on the log:
// customers/redact destroys the customer's personal-data keys (and those of the orders it lists),
// shop/redact every key of the shop, so every sealed copy of that data — on the topics, in the
// lake, in backups of either — becomes unreadable at once (crypto-shredding, see pii/README.md).
// Each request is also kept in privacy_requests, the record a merchant or an auditor asks for.
//
// It is a projection like the others: replaying the log repeats the shredding, which changes
// nothing the second time, and a rebuild of any other read model after a redaction finds the
// keys gone and stores no personal data.
package privacy

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
)

// Shredder destroys personal-data keys (*pii.Keystore).
type Shredder interface {
	Shred(ctx context.Context, shop, subject string) (int, error)
	ShredShop(ctx context.Context, shop string) (int, error)
}

// Projection is the privacy request handler.
type Projection struct {
	Keys Shredder
}

// Name implements projections.Projection.
func (Projection) Name() string { return "privacy" }

// Topics implements projections.Projection.
func (Projection) Topics() []string { return []string{events.TopicCommerce} }

// Apply implements projections.Projection.
func (p Projection) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	for _, r := range batch {
		var err error
		switch ev := r.Event.(type) {
		case *events.CustomerRedactRequested:
			err = p.redactCustomer(ctx, tx, ev)
		case *events.ShopRedactRequested:
			err = p.redactShop(ctx, tx, ev)
		case *events.CustomerDataRequested:
			err = record(ctx, tx, ev.Envelope, "customer_data_request", &ev.CustomerID, ev.OrdersRequested, 0)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p Projection) redactCustomer(ctx context.Context, tx pgx.Tx, ev *events.CustomerRedactRequested) error {
	shop := ev.Envelope.Shop
	subjects := []string{"customer/" + strconv.FormatInt(ev.CustomerID, 10)}
	for _, o := range ev.OrdersToRedact {
		subjects = append(subjects, "order/"+strconv.FormatInt(o, 10))
	}
	total := 0
	for _, s := range subjects {
		n, err := p.Keys.Shred(ctx, shop, s)
		if err != nil {
			return fmt.Errorf("customers/redact %s of %s: %w", s, shop, err)
		}
		total += n
	}
	return record(ctx, tx, ev.Envelope, "customer_redact", &ev.CustomerID, ev.OrdersToRedact, total)
}

func (p Projection) redactShop(ctx context.Context, tx pgx.Tx, ev *events.ShopRedactRequested) error {
	n, err := p.Keys.ShredShop(ctx, ev.Envelope.Shop)
	if err != nil {
		return fmt.Errorf("shop/redact of %s: %w", ev.Envelope.Shop, err)
	}
	return record(ctx, tx, ev.Envelope, "shop_redact", nil, nil, n)
}

// record keeps the request once (by event id, whatever the log repeats), with the number of
// keys its first handling destroyed.
func record(ctx context.Context, tx pgx.Tx, env events.Envelope, kind string, customerID *int64, orders []int64, keys int) error {
	if orders == nil {
		orders = []int64{}
	}
	_, err := tx.Exec(ctx, `
INSERT INTO privacy_requests (event_id, shop, kind, customer_id, order_ids, keys_shredded, requested_at, handled_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT (event_id) DO NOTHING`, env.EventID, env.Shop, kind, customerID, orders, keys, env.OccurredAt)
	if err != nil {
		return fmt.Errorf("record %s %s: %w", kind, env.EventID, err)
	}
	return nil
}
