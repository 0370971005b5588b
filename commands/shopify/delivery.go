// Package shopify turns what Shopify sends (webhook deliveries and bulk-export rows) into
// storeline's domain events. It validates and translates; it does no I/O. Translate dispatches
// a webhook delivery on its topic (see Topics), TranslateBulkRow a JSONL row of the bulk queries
// BulkQueryProducts and BulkQueryOrders.
package shopify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storeline/storeline/events"
)

// ErrInvalidPayload wraps every reason a delivery's body (or a bulk row) cannot become an
// event. Retrying cannot help: the gateway keeps such a delivery on the commerce dead-letter
// topic for an operator.
var ErrInvalidPayload = errors.New("invalid payload")

// ErrUnsupportedTopic is returned for a webhook topic storeline does not translate. The gateway
// acknowledges such a delivery (so Shopify does not retry it for hours), counts and logs it.
var ErrUnsupportedTopic = errors.New("unsupported webhook topic")

// ErrNoEvent is returned for a topic storeline knows and deliberately records no event for
// (bulk_operations/finish: the bulk sync learns an operation's end by polling it, and the
// webhook names no sync run). The payload was checked; the gateway acknowledges it.
var ErrNoEvent = errors.New("topic records no event")

// UnknownCurrency is ISO 4217's code for "no currency": the currency of a bare amount (a
// product's price, a refund without shop_money sets) of a shop whose currency storeline does
// not know. It never passes for a real currency.
const UnknownCurrency = "XXX"

// Delivery is one webhook delivery as received: its headers and raw body.
type Delivery struct {
	Shop        string    // X-Shopify-Shop-Domain
	Topic       string    // X-Shopify-Topic, e.g. orders/create
	EventID     string    // X-Shopify-Event-Id: the same across redeliveries of one event
	WebhookID   string    // X-Shopify-Webhook-Id: one delivery attempt
	TriggeredAt time.Time // X-Shopify-Triggered-At (zero if absent)
	APIVersion  string    // X-Shopify-API-Version
	Body        []byte
	ReceivedAt  time.Time
	// ShopCurrency is the shop's currency as storeline knows it (configured, or learned from the
	// shop's orders), given to the bare amounts of payloads that do not name their currency:
	// products' prices, refunds without shop_money sets. Empty: UnknownCurrency.
	ShopCurrency string
}

// Sealer cuts a customer's personal data out of a Shopify payload and seals it under that
// customer's key, which is kept outside the log (package pii). clean is the rest of the payload
// as compact JSON; sealed is nil when the payload held no personal data. The event id is
// bound to the seal, so it cannot be moved to another event.
type Sealer interface {
	SealShopify(ctx context.Context, shop, topic, eventID string, payload []byte) (clean string, sealed *events.SealedPersonalData, err error)
}

// Translate turns a delivery into its domain event. Errors wrapping ErrInvalidPayload,
// ErrUnsupportedTopic or ErrNoEvent are about the delivery; any other error is the sealer
// failing: the delivery is fine and may be retried.
func Translate(ctx context.Context, d Delivery, seal Sealer) (events.Event, error) {
	t, ok := translators[d.Topic]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedTopic, truncateForError(d.Topic))
	}
	return t(ctx, d, seal)
}

type translator func(context.Context, Delivery, Sealer) (events.Event, error)

// translators maps every webhook topic storeline takes to its translator.
var translators = map[string]translator{
	"orders/create":           wrap(OrderCreated),
	"orders/updated":          wrap(OrderUpdated),
	"orders/cancelled":        wrap(OrderCancelled),
	"orders/fulfilled":        wrap(OrderFulfilled),
	"orders/paid":             wrap(OrderPaid),
	"refunds/create":          wrap(RefundCreated),
	"products/create":         wrap(ProductCreated),
	"products/update":         wrap(ProductUpdated),
	"products/delete":         wrap(ProductDeleted),
	"inventory_levels/update": wrap(InventoryLevelUpdated),
	"app/uninstalled":         wrap(ShopUninstalled),
	"customers/data_request":  wrap(CustomerDataRequested),
	"customers/redact":        wrap(CustomerRedactRequested),
	"shop/redact":             wrap(ShopRedactRequested),
	"bulk_operations/finish":  bulkOperationFinish,
}

// wrap adapts a typed translator to the table, never returning a typed nil as an Event.
func wrap[E events.Event](f func(context.Context, Delivery, Sealer) (E, error)) translator {
	return func(ctx context.Context, d Delivery, s Sealer) (events.Event, error) {
		ev, err := f(ctx, d, s)
		if err != nil {
			return nil, err
		}
		return ev, nil
	}
}

// Topics lists the webhook topics Translate takes, sorted: every other topic is
// ErrUnsupportedTopic.
func Topics() []string {
	out := make([]string, 0, len(translators))
	for t := range translators {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Supported reports whether Translate takes topic.
func Supported(topic string) bool {
	_, ok := translators[topic]
	return ok
}

// eventID is deterministic from (shop, topic, X-Shopify-Event-Id), so every redelivery of one
// Shopify event becomes the same storeline event. Without an event id (very old API versions,
// hand-made requests) the body's hash stands in: the same body is the same event.
func (d Delivery) eventID() string {
	src := d.EventID
	if src == "" {
		sum := sha256.Sum256(d.Body)
		src = "sha256:" + hex.EncodeToString(sum[:])
	}
	return events.DeterministicID("shopify", d.Shop, d.Topic, src)
}

func (d Delivery) envelope(eventType, aggregateType, aggregateID string, occurredAt time.Time) events.Envelope {
	e := events.Envelope{
		EventID:       d.eventID(),
		EventType:     eventType,
		OccurredAt:    occurredAt.UTC(),
		RecordedAt:    d.ReceivedAt.UTC(),
		Shop:          d.Shop,
		AggregateType: aggregateType,
		AggregateID:   aggregateID,
		Actor:         events.Actor{Type: events.ActorShopify, ID: d.Shop},
		Source:        events.SourceWebhook,
		SourceTopic:   ptr(d.Topic),
	}
	if d.APIVersion != "" {
		e.APIVersion = ptr(d.APIVersion)
	}
	if d.EventID != "" {
		e.SourceEventID = ptr(d.EventID)
	}
	if d.WebhookID != "" {
		e.WebhookID = ptr(d.WebhookID)
	}
	if !d.TriggeredAt.IsZero() {
		t := d.TriggeredAt.UTC()
		e.TriggeredAt = &t
	}
	return e
}

// seal returns the delivery's payload without personal data, and that data sealed.
func (d Delivery) seal(ctx context.Context, s Sealer, eventID string) (string, *events.SealedPersonalData, error) {
	clean, sealed, err := s.SealShopify(ctx, d.Shop, d.Topic, eventID, d.Body)
	if err != nil {
		return "", nil, fmt.Errorf("seal personal data of %s %s: %w", d.Topic, eventID, err)
	}
	return clean, sealed, nil
}

// triggeredAt is when Shopify says the webhook fired (X-Shopify-Triggered-At), the occurred_at
// of events whose payload carries no time; a delivery without the header (a hand-made request),
// or with a nonsensical one, falls back to its receipt.
func (d Delivery) triggeredAt() time.Time {
	if d.TriggeredAt.After(earliest) {
		return d.TriggeredAt.UTC().Truncate(time.Microsecond)
	}
	return d.ReceivedAt.UTC().Truncate(time.Microsecond)
}

// shopCurrency is the currency of the payload's bare amounts.
func (d Delivery) shopCurrency() string {
	if d.ShopCurrency != "" {
		return d.ShopCurrency
	}
	return UnknownCurrency
}

// rawPayload is the body as Shopify sent it, for the topics whose payloads hold no personal
// data (products, inventory levels, shop/redact): nothing to seal, so the bytes stay exactly
// Shopify's. It must be UTF-8, as every Avro string.
func (d Delivery) rawPayload() (string, error) {
	if !utf8.Valid(d.Body) {
		return "", fmt.Errorf("%w: the body is not UTF-8", ErrInvalidPayload)
	}
	return string(d.Body), nil
}

// gidID returns the numeric id of "gid://shopify/<resource>/<id>" (a query such as
// "?inventory_item_id=1" after the id is allowed).
func gidID(g, resource string) (int64, bool) {
	rest, ok := strings.CutPrefix(g, "gid://shopify/"+resource+"/")
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, "?")
	if rest == "" || !allDigits(rest) {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

func ptr[T any](v T) *T { return &v }

// decodeJSON parses a body into v, whose id fields are json.Number so that Shopify ids stay
// exact (they exceed float64's 2^53). Trailing data after the object is refused.
func decodeJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: malformed JSON: %v", ErrInvalidPayload, err)
	}
	return nil
}

// money is a Shopify amount: a decimal string ("19.99") or, in some payloads, a number. null
// is no amount.
type money string

func (m *money) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*m = money(s)
		return nil
	}
	*m = money(b)
	return nil
}

// moneySet is Shopify's *_set: the amount in the shop's and in the customer's currency.
type moneySet struct {
	ShopMoney *struct {
		Amount       money  `json:"amount"`
		CurrencyCode string `json:"currency_code"`
	} `json:"shop_money"`
}

// converter turns Shopify's JSON values into event fields, keeping the first error, so a
// translation reads as a list of fields and checks once at the end.
type converter struct {
	currency string // shop currency of the payload's bare amounts
	err      error
}

func (c *converter) fail(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: %s", ErrInvalidPayload, fmt.Sprintf(format, args...))
	}
}

// money returns a bare amount in the payload's shop currency; no amount is zero.
func (c *converter) money(m money, field string) events.Money {
	return c.moneyIn(m, c.currency, field)
}

// moneyIn returns an amount in currency. It must be a plain decimal that storeline.Money's
// decimal(20,4) holds exactly: anything else is refused here rather than by the encoder, which
// would turn a bad payload into an event that can never be stored.
func (c *converter) moneyIn(m money, currency, field string) events.Money {
	if m == "" {
		return events.Money{Amount: new(big.Rat), CurrencyCode: currency}
	}
	r, ok := parseDecimal(string(m))
	if !ok {
		c.fail("%s is not a decimal amount with at most 16 digits before and 4 after the point: %q", field, truncateForError(string(m)))
		r = new(big.Rat)
	}
	if !validCurrency(currency) {
		c.fail("%s: currency %q is not an ISO 4217 code", field, truncateForError(currency))
	}
	return events.Money{Amount: r, CurrencyCode: currency}
}

// optMoney is money for an optional field: no amount is null.
func (c *converter) optMoney(m *money, field string) *events.Money {
	if m == nil || *m == "" {
		return nil
	}
	v := c.money(*m, field)
	return &v
}

// setOr returns a *_set's shop money when the payload has it, else the bare amount in the shop
// currency.
func (c *converter) setOr(set *moneySet, bare money, field string) events.Money {
	if set != nil && set.ShopMoney != nil && set.ShopMoney.Amount != "" {
		cur := set.ShopMoney.CurrencyCode
		if cur == "" {
			cur = c.currency
		}
		return c.moneyIn(set.ShopMoney.Amount, cur, field+"_set.shop_money")
	}
	return c.money(bare, field)
}

// optSetOr is setOr for an optional amount: null when the payload has neither.
func (c *converter) optSetOr(set *moneySet, bare *money, field string) *events.Money {
	if (set == nil || set.ShopMoney == nil || set.ShopMoney.Amount == "") && (bare == nil || *bare == "") {
		return nil
	}
	var b money
	if bare != nil {
		b = *bare
	}
	m := c.setOr(set, b, field)
	return &m
}

// parseDecimal reads a plain decimal (-12.3400, 7) that fits decimal(20,4). Exponents are
// refused: "1e999999999" would make big.Rat compute a billion-digit number.
func parseDecimal(s string) (*big.Rat, bool) {
	whole, frac, point := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if whole == "" || (point && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return nil, false
	}
	if len(strings.TrimLeft(whole, "0")) > 16 || len(strings.TrimRight(frac, "0")) > 4 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validCurrency reports whether s looks like an ISO 4217 code: three upper-case letters.
func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// truncateForError bounds a payload value quoted in an error message.
func truncateForError(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// id returns a Shopify numeric id, exact.
func (c *converter) id(n json.Number, field string) int64 {
	v, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		c.fail("%s is not an integer id: %q", field, truncateForError(n.String()))
	}
	return v
}

func (c *converter) optID(n *json.Number, field string) *int64 {
	if n == nil || *n == "" {
		return nil
	}
	v := c.id(*n, field)
	return &v
}

// requiredID is id for a field that must be present.
func (c *converter) requiredID(n json.Number, field string) int64 {
	if n == "" {
		c.fail("%s is missing", field)
		return 0
	}
	return c.id(n, field)
}

// time reads an RFC 3339 time. Times before 1970 are refused: Shopify has none, and year 1 (the
// zero time.Time) is what the codec takes for "not set".
func (c *converter) time(s, field string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		c.fail("%s is not an RFC 3339 time: %q", field, truncateForError(s))
		return t
	}
	if t.Before(earliest) {
		c.fail("%s is before 1970: %q", field, truncateForError(s))
	}
	return t.UTC().Truncate(time.Microsecond)
}

var earliest = time.Unix(0, 0)

func (c *converter) optTime(s *string, field string) *time.Time {
	if s == nil || *s == "" {
		return nil
	}
	t := c.time(*s, field)
	return &t
}

// timeOr returns s as a time, or fallback when s is empty.
func (c *converter) timeOr(s string, fallback time.Time, field string) time.Time {
	if s == "" {
		return fallback
	}
	return c.time(s, field)
}

// gid returns "gid://shopify/<resource>/<id>".
func gid(resource string, id int64) string {
	return "gid://shopify/" + resource + "/" + strconv.FormatInt(id, 10)
}

func optGID(resource string, id *int64) *string {
	if id == nil {
		return nil
	}
	return ptr(gid(resource, *id))
}

// lower returns a lower-cased copy of an optional string (GraphQL enums are UPPER_CASE).
func lower(s *string) *string {
	if s == nil {
		return nil
	}
	return ptr(strings.ToLower(*s))
}

// nonEmpty returns nil for an absent or empty string.
func nonEmpty(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}
