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
			err = dataRequest(ctx, tx, ev)
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

// dataRequest answers customers/data_request with what storeline holds on the customer: the
// orders of the read model (no personal data: that stays sealed in the log, under the customer's
// key, exactly as Shopify sent it, and Shopify answers for it) and whether a live key still
// seals personal data of theirs. The report reflects the read models when the request is handled.
func dataRequest(ctx context.Context, tx pgx.Tx, ev *events.CustomerDataRequested) error {
	if err := record(ctx, tx, ev.Envelope, "customer_data_request", &ev.CustomerID, ev.OrdersRequested, 0); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
UPDATE privacy_requests SET report = jsonb_build_object(
    'customer_id', $3::bigint,
    'orders', (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                   'order_id', o.order_id, 'order_gid', o.order_gid, 'name', o.name, 'created_at', o.created_at,
                   'currency', o.currency, 'total_price', o.total_price::text, 'financial_status', o.financial_status,
                   'fulfillment_status', o.fulfillment_status,
                   'line_items', (SELECT COALESCE(jsonb_agg(jsonb_build_object('title', l.title, 'quantity', l.quantity,
                                                      'price', l.price::text) ORDER BY l.line_item_id), '[]'::jsonb)
                                  FROM order_line_items l WHERE l.order_id = o.order_id)) ORDER BY o.created_at), '[]'::jsonb)
               FROM orders o WHERE o.shop = $2 AND o.customer_id = $3),
    'sealed_personal_data_readable', EXISTS (SELECT 1 FROM pii_keys k WHERE k.shop = $2
                                            AND k.subject = 'customer/' || $3::text AND k.destroyed_at IS NULL))
WHERE event_id = $1 AND report IS NULL`, ev.Envelope.EventID, ev.Envelope.Shop, ev.CustomerID)
	if err != nil {
		return fmt.Errorf("report of data request %s: %w", ev.Envelope.EventID, err)
	}
	return nil
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
