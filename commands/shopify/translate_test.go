package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
)

var (
	received  = time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC)
	triggered = time.Date(2026, 11, 28, 15, 59, 58, 123456000, time.UTC)
)

func delivery(topic string, body []byte) Delivery {
	return Delivery{
		Shop: "northbound.myshopify.com", Topic: topic, EventID: "evt-" + topic, WebhookID: "wh-1",
		TriggeredAt: triggered, APIVersion: "2026-01", Body: body, ReceivedAt: received, ShopCurrency: "EUR",
	}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func amount(t *testing.T, m *events.Money, want, currency string) {
	t.Helper()
	if m == nil {
		t.Errorf("amount is null, want %s %s", want, currency)
		return
	}
	w, _ := new(big.Rat).SetString(want)
	if m.Amount.Cmp(w) != 0 || m.CurrencyCode != currency {
		t.Errorf("amount %s %s, want %s %s", m.Amount.FloatString(4), m.CurrencyCode, want, currency)
	}
}

// TestTranslateEveryTopic: every topic's sample becomes its event, keyed and timed as its schema
// says, encodes with the real codec (which checks the envelope against the catalogue), lands on
// commerce under its key, holds the sample's personal values only sealed, and the sealed part
// restores the exact payload.
func TestTranslateEveryTopic(t *testing.T) {
	ctx := context.Background()
	sealer, _ := piitest.NewSealer()
	seal := PersonalData{Sealer: sealer}
	codec := eventstest.NewCodec(t, "")
	want := map[string]struct {
		eventType, key string
		occurred       time.Time
	}{
		"orders/create":           {events.TypeOrderCreated, "gid://shopify/Order/820982911946154508", at("2026-11-26T15:15:42Z")},
		"orders/updated":          {events.TypeOrderUpdated, "gid://shopify/Order/820982911946154508", at("2026-11-21T15:40:11Z")},
		"orders/cancelled":        {events.TypeOrderCancelled, "gid://shopify/Order/5801234567999", at("2026-11-27T13:30:00Z")},
		"orders/fulfilled":        {events.TypeOrderFulfilled, "gid://shopify/Order/820982911946154508", at("2026-11-22T10:02:00Z")},
		"orders/paid":             {events.TypeOrderPaid, "gid://shopify/Order/820982911946154508", at("2026-11-20T08:12:05Z")},
		"refunds/create":          {events.TypeRefundCreated, "gid://shopify/Order/820982911946154508", at("2026-11-28T16:00:00Z")},
		"products/create":         {events.TypeProductCreated, "gid://shopify/Product/7712345678901", at("2026-03-01T13:00:00Z")},
		"products/update":         {events.TypeProductUpdated, "gid://shopify/Product/7712345678901", at("2026-03-04T17:30:45Z")},
		"products/delete":         {events.TypeProductDeleted, "gid://shopify/Product/788032119674292922", triggered},
		"inventory_levels/update": {events.TypeInventoryLevelUpdated, "gid://shopify/InventoryLevel/655441491?inventory_item_id=45100000000334", at("2026-03-04T17:31:02Z")},
		"app/uninstalled":         {events.TypeShopUninstalled, "gid://shopify/Shop/548380009", triggered},
		"customers/data_request":  {events.TypeCustomerDataRequested, "gid://shopify/Customer/191167", triggered},
		"customers/redact":        {events.TypeCustomerRedactRequested, "gid://shopify/Customer/191167", triggered},
		"shop/redact":             {events.TypeShopRedactRequested, "gid://shopify/Shop/954889", triggered},
	}
	for _, s := range samples.Webhooks {
		t.Run(s.Topic, func(t *testing.T) {
			if !Supported(s.Topic) {
				t.Fatalf("%s has a sample but no translator", s.Topic)
			}
			ev, err := Translate(ctx, delivery(s.Topic, s.Body), seal)
			if s.Topic == "bulk_operations/finish" {
				if !errors.Is(err, ErrNoEvent) || ev != nil {
					t.Fatalf("got %v, %v; want no event (ErrNoEvent)", ev, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[s.Topic]
			if !ok {
				t.Fatalf("no expectation for %s", s.Topic)
			}
			m := ev.Meta()
			if m.EventType != w.eventType || m.AggregateID != w.key || !m.OccurredAt.Equal(w.occurred) {
				t.Errorf("type %s key %s occurred %s; want %s %s %s", m.EventType, m.AggregateID, m.OccurredAt, w.eventType, w.key, w.occurred)
			}
			if m.Source != events.SourceWebhook || *m.SourceTopic != s.Topic || *m.SourceEventID != "evt-"+s.Topic ||
				*m.WebhookID != "wh-1" || !m.TriggeredAt.Equal(triggered) || *m.APIVersion != "2026-01" ||
				m.Shop != "northbound.myshopify.com" || !m.RecordedAt.Equal(received) || m.Actor != (events.Actor{Type: "shopify", ID: "northbound.myshopify.com"}) {
				t.Errorf("envelope: %+v", m)
			}
			rec, err := codec.Record(ev, "")
			if err != nil {
				t.Fatalf("the real codec refuses the event: %v", err)
			}
			if rec.Topic != events.TopicCommerce || string(rec.Key) != w.key {
				t.Errorf("record on %s keyed %s", rec.Topic, rec.Key)
			}
			back, err := codec.Decode(ctx, rec.Value)
			if err != nil || back.Meta().EventID != m.EventID {
				t.Fatalf("decode: %v", err)
			}

			payload, sealed := payloadOf(t, ev)
			typed, err := json.Marshal(withoutPayload(ev))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range s.Personal {
				if !bytes.Contains(s.Body, []byte(p)) {
					t.Fatalf("the sample does not hold %q: the test proves nothing", p)
				}
				if strings.Contains(payload, p) || bytes.Contains(typed, []byte(p)) {
					t.Errorf("%q is in plaintext in the event", p)
				}
			}
			if (len(s.Personal) > 0) != (sealed != nil) {
				t.Errorf("personal data sealed: %v, want %v", sealed != nil, len(s.Personal) > 0)
			}
			var whole []byte
			if sealed != nil {
				whole, err = sealer.OpenShopify(ctx, payload, &pii.Sealed{KeyID: sealed.KeyID, Algorithm: sealed.Algorithm, Ciphertext: sealed.Ciphertext}, m.EventID)
				if err != nil {
					t.Fatal(err)
				}
			} else {
				whole = []byte(payload)
			}
			if !sameJSON(t, whole, s.Body) {
				t.Errorf("payload_json + personal_data is not the payload Shopify sent:\n%s", whole)
			}
		})
	}
}

// payloadOf returns an event's payload_json and personal_data.
func payloadOf(t *testing.T, ev events.Event) (string, *events.SealedPersonalData) {
	t.Helper()
	var v struct {
		PayloadJSON  string
		PersonalData *events.SealedPersonalData
	}
	b, _ := json.Marshal(ev)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.PayloadJSON, v.PersonalData
}

// withoutPayload is the event's typed fields only.
func withoutPayload(ev events.Event) map[string]any {
	b, _ := json.Marshal(ev)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "PayloadJSON")
	delete(m, "PersonalData")
	return m
}

func TestEventIDsAreDeterministic(t *testing.T) {
	ctx := context.Background()
	for _, s := range samples.Webhooks {
		if s.Topic == "bulk_operations/finish" {
			continue
		}
		d := delivery(s.Topic, s.Body)
		a, err := Translate(ctx, d, &stubSealer{})
		if err != nil {
			t.Fatalf("%s: %v", s.Topic, err)
		}
		d.WebhookID, d.ReceivedAt, d.TriggeredAt = "wh-retry", received.Add(3*time.Hour), triggered // a retry: a new delivery of the same event
		b, _ := Translate(ctx, d, &stubSealer{})
		if a.Meta().EventID != b.Meta().EventID || *b.Meta().WebhookID != "wh-retry" {
			t.Errorf("%s: a redelivery changed the event id", s.Topic)
		}
		d.Shop = "other.myshopify.com"
		c, _ := Translate(ctx, d, &stubSealer{})
		d.Shop, d.Topic = "northbound.myshopify.com", s.Topic
		d.EventID = "evt-other"
		e, _ := Translate(ctx, d, &stubSealer{})
		if c.Meta().EventID == a.Meta().EventID || e.Meta().EventID == a.Meta().EventID {
			t.Errorf("%s: another shop's or another Shopify event's delivery got the same event id", s.Topic)
		}
	}
}

func TestOrderDetails(t *testing.T) {
	ev, err := OrderUpdated(context.Background(), delivery("orders/updated", samples.WebhookBody("orders/updated")), &stubSealer{})
	if err != nil {
		t.Fatal(err)
	}
	o := ev.Order
	if o.OrderID != 820982911946154508 || o.OrderNumber != 2077 || o.Name != "#2077" || *o.FinancialStatus != "paid" || *o.FulfillmentStatus != "partial" {
		t.Errorf("order: %d %d %s %v %v", o.OrderID, o.OrderNumber, o.Name, o.FinancialStatus, o.FulfillmentStatus)
	}
	if o.Currency != "EUR" || *o.PresentmentCurrency != "USD" || !o.TaxesIncluded || *o.CustomerID != 9007199254740995 || *o.CustomerGID != "gid://shopify/Customer/9007199254740995" {
		t.Errorf("order: %+v", o)
	}
	amount(t, &o.TotalPrice, "149.90", "EUR") // shop money, not the presentment 162.01 USD
	amount(t, o.TotalShipping, "10.00", "EUR")
	amount(t, o.CurrentTotalPrice, "149.90", "EUR")
	amount(t, o.CurrentSubtotalPrice, "139.90", "EUR")
	amount(t, o.CurrentTotalTax, "23.93", "EUR")
	amount(t, o.CurrentTotalDiscounts, "10.00", "EUR")
	amount(t, o.TotalLineItemsPrice, "149.90", "EUR")
	if strings.Join(o.Tags, "|") != "wholesale|autumn" || strings.Join(o.DiscountCodes, "|") != "AUTUMN10" || strings.Join(o.PaymentGatewayNames, "|") != "shopify_payments" {
		t.Errorf("lists: %q %q %q", o.Tags, o.DiscountCodes, o.PaymentGatewayNames)
	}
	li := o.LineItems[0]
	if *li.FulfillableQuantity != 0 || *li.FulfillmentStatus != "fulfilled" || *li.CurrentQuantity != 2 || li.LineItemGID != "gid://shopify/LineItem/16600000000001" {
		t.Errorf("line: %+v", li)
	}
	amount(t, li.TotalTax, "15.95", "EUR")
	amount(t, &li.Price, "49.95", "EUR")
	amount(t, &o.LineItems[1].TotalDiscount, "10.00", "EUR")
	if len(o.Fulfillments) != 1 {
		t.Fatalf("fulfillments: %+v", o.Fulfillments)
	}
	f := o.Fulfillments[0]
	if f.FulfillmentGID != "gid://shopify/Fulfillment/5500000000001" || f.Status != "success" || *f.ShipmentStatus != "in_transit" ||
		*f.TrackingCompany != "Royal Mail" || *f.LocationGID != "gid://shopify/Location/655441491" || *f.Service != "manual" ||
		len(f.LineItems) != 1 || f.LineItems[0].Quantity != 2 || !f.UpdatedAt.Equal(at("2026-11-21T15:40:11Z")) {
		t.Errorf("fulfillment: %+v", f)
	}
	// A tracking number finds the parcel, its recipient and address at the carrier: pii seals it.
	if f.TrackingNumber != nil || f.TrackingURL != nil || len(f.TrackingNumbers)+len(f.TrackingUrls) != 0 {
		t.Errorf("tracking numbers typed in the clear: %+v", f)
	}

	guest, err := OrderCancelled(context.Background(), delivery("orders/cancelled", samples.WebhookBody("orders/cancelled")), &stubSealer{})
	if err != nil {
		t.Fatal(err)
	}
	if guest.Order.CustomerID != nil || *guest.Order.CancelReason != "customer" || !guest.Order.Test || guest.Order.LineItems[0].Taxable {
		t.Errorf("cancelled guest order: %+v", guest.Order)
	}
	amount(t, guest.Order.LineItems[0].TotalTax, "0", "USD") // tax_lines: [] is no tax, not unknown
	if samples.WebhookBody("orders/create") == nil || len(mustOrder(t, samples.OrdersCreate).LineItems[0].LineItemGID) == 0 {
		t.Error("orders/create sample")
	}
	if mustOrder(t, samples.OrdersCreate).LineItems[0].TotalTax != nil {
		t.Error("a line without tax_lines has an unknown tax, not zero")
	}
}

func mustOrder(t *testing.T, body []byte) events.Order {
	t.Helper()
	o, err := parseOrder(body)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestRefundDetails(t *testing.T) {
	d := delivery("refunds/create", samples.WebhookBody("refunds/create"))
	d.ShopCurrency = "" // the sets name the shop currency
	ev, err := RefundCreated(context.Background(), d, &stubSealer{})
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Refund
	if r.RefundGID != "gid://shopify/Refund/509562969" || r.OrderGID != "gid://shopify/Order/820982911946154508" || !*r.Restock {
		t.Errorf("refund: %+v", r)
	}
	li := r.RefundLineItems[0]
	if li.RestockType != "return" || *li.ProductID != 7712345678902 || *li.VariantGID != "gid://shopify/ProductVariant/43011112222400" ||
		*li.LocationID != 655441491 || li.Quantity != 1 || li.LineItemGID != "gid://shopify/LineItem/16600000000002" {
		t.Errorf("refund line: %+v", li)
	}
	amount(t, &li.Subtotal, "40.00", "EUR")
	amount(t, &li.TotalTax, "6.39", "EUR")
	tx := r.Transactions[0]
	if tx.Kind != "refund" || tx.Status != "success" || *tx.ParentGID != "gid://shopify/OrderTransaction/801038806" || *tx.Gateway != "shopify_payments" {
		t.Errorf("transaction: %+v", tx)
	}
	amount(t, &tx.Amount, "43.22", "USD") // the transaction's own currency
	amount(t, &r.OrderAdjustments[0].Amount, "-5.00", "EUR")

	// An older refund with bare amounts only: the shop currency as storeline knows it, or XXX.
	bare := []byte(`{"id":1,"order_id":2,"created_at":"2026-01-01T00:00:00Z","restock":true,"refund_line_items":[{"id":3,"line_item_id":4,"quantity":1,"subtotal":"9.99","total_tax":"0"}]}`)
	for currency, want := range map[string]string{"CAD": "CAD", "": UnknownCurrency} {
		d := delivery("refunds/create", bare)
		d.ShopCurrency = currency
		ev, err := RefundCreated(context.Background(), d, &stubSealer{})
		if err != nil {
			t.Fatal(err)
		}
		amount(t, &ev.Refund.RefundLineItems[0].Subtotal, "9.99", want)
		if ev.Refund.RefundLineItems[0].RestockType != "legacy_restock" {
			t.Errorf("restock type: %s", ev.Refund.RefundLineItems[0].RestockType)
		}
	}
}

func TestProductDetails(t *testing.T) {
	ev, err := ProductUpdated(context.Background(), delivery("products/update", samples.WebhookBody("products/update")), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := ev.Product
	if p.Status != "active" || p.Handle != "linen-shirt" || strings.Join(p.Tags, "|") != "linen|summer|storeline-combo" || *p.ProductType != "Shirts" ||
		*p.FeaturedImageURL == "" || len(p.Options) != 2 || p.Options[1].Name != "Color" || p.Options[1].OptionGID != "gid://shopify/ProductOption/9900000000002" {
		t.Errorf("product: %+v", p)
	}
	if ev.PayloadJSON != string(samples.WebhookBody("products/update")) {
		t.Error("a product's payload_json must be the body as Shopify sent it")
	}
	v := p.Variants[1]
	if v.VariantGID != "gid://shopify/ProductVariant/43011112222334" || *v.InventoryPolicy != "continue" || v.InventoryItemGID != "gid://shopify/InventoryItem/45100000000334" ||
		*v.InventoryQuantity != 7 || *v.Option1 != "M" || *v.Option2 != "White" || v.Option3 != nil || *v.WeightUnit != "kg" || v.Barcode != nil || v.UnitCost != nil || v.Position != 2 {
		t.Errorf("variant: %+v", v)
	}
	amount(t, &v.Price, "44.95", "EUR")
	amount(t, v.CompareAtPrice, "59.95", "EUR")
	if p.Variants[0].CompareAtPrice != nil {
		t.Error("compare_at_price null must stay null")
	}

	d := delivery("products/create", samples.WebhookBody("products/create"))
	d.ShopCurrency = ""
	created, err := ProductCreated(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	amount(t, &created.Product.Variants[0].Price, "49.95", UnknownCurrency)

	del, err := ProductDeleted(context.Background(), delivery("products/delete", samples.WebhookBody("products/delete")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if del.ProductID != 788032119674292922 || !del.DeletedAt.Equal(triggered) || !del.Envelope.OccurredAt.Equal(del.DeletedAt) {
		t.Errorf("deleted: %+v", del)
	}
	d = delivery("products/delete", samples.WebhookBody("products/delete"))
	d.TriggeredAt = time.Time{}
	del, _ = ProductDeleted(context.Background(), d, nil)
	if !del.DeletedAt.Equal(received) {
		t.Errorf("without X-Shopify-Triggered-At the deletion is dated by its receipt: %s", del.DeletedAt)
	}
}

func TestInventoryShopAndComplianceDetails(t *testing.T) {
	ctx := context.Background()
	inv, err := InventoryLevelUpdated(ctx, delivery("inventory_levels/update", samples.WebhookBody("inventory_levels/update")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if *inv.Available != -2 || inv.LocationGID != "gid://shopify/Location/655441491" || inv.InventoryItemGID != "gid://shopify/InventoryItem/45100000000334" ||
		*inv.InventoryLevelGID != "gid://shopify/InventoryLevel/655441491?inventory_item_id=45100000000334" {
		t.Errorf("inventory: %+v", inv)
	}
	untracked, err := InventoryLevelUpdated(ctx, delivery("inventory_levels/update", []byte(`{"inventory_item_id":1,"location_id":2,"available":null}`)), nil)
	if err != nil || untracked.Available != nil || untracked.InventoryLevelGID != nil || !untracked.UpdatedAt.Equal(triggered) {
		t.Errorf("untracked: %+v %v", untracked, err)
	}

	shop, err := ShopUninstalled(ctx, delivery("app/uninstalled", samples.WebhookBody("app/uninstalled")), &stubSealer{})
	if err != nil {
		t.Fatal(err)
	}
	if shop.Name != "Northbound Outfitters" || *shop.Currency != "CAD" || *shop.IanaTimezone != "America/Toronto" || *shop.CountryCode != "CA" ||
		*shop.PlanName != "basic" || shop.MyshopifyDomain != "northbound.myshopify.com" || *shop.Domain != "northbound.example.com" {
		t.Errorf("shop: %+v", shop)
	}

	red, err := CustomerRedactRequested(ctx, delivery("customers/redact", samples.WebhookBody("customers/redact")), &stubSealer{})
	if err != nil {
		t.Fatal(err)
	}
	if red.ShopID != 954889 || red.ShopDomain != "snowdevil.myshopify.com" || red.CustomerID != 191167 || len(red.OrdersToRedact) != 3 || red.OrdersToRedact[2] != 220458 {
		t.Errorf("redact: %+v", red)
	}
	req, err := CustomerDataRequested(ctx, delivery("customers/data_request", samples.WebhookBody("customers/data_request")), &stubSealer{})
	if err != nil {
		t.Fatal(err)
	}
	if req.DataRequestID != 9999 || len(req.OrdersRequested) != 3 || req.CustomerGID != "gid://shopify/Customer/191167" {
		t.Errorf("data request: %+v", req)
	}
	shopRed, err := ShopRedactRequested(ctx, delivery("shop/redact", samples.WebhookBody("shop/redact")), nil)
	if err != nil || shopRed.ShopGID != "gid://shopify/Shop/954889" || shopRed.ShopDomain != "snowdevil.myshopify.com" {
		t.Errorf("shop redact: %+v %v", shopRed, err)
	}

	f, err := ParseBulkOperationFinish(samples.WebhookBody("bulk_operations/finish"))
	if err != nil || f.BulkOperationGID != "gid://shopify/BulkOperation/147595010" || f.Status != "COMPLETED" || f.Type != "QUERY" || f.ErrorCode != "" ||
		!f.CompletedAt.Equal(at("2026-03-05T12:34:56Z")) {
		t.Errorf("bulk operation finish: %+v %v", f, err)
	}
}

func TestUnsupportedTopic(t *testing.T) {
	for _, topic := range []string{"checkouts/create", "orders/delete", "", "ORDERS/CREATE"} {
		if _, err := Translate(context.Background(), delivery(topic, []byte(`{"id":1}`)), &stubSealer{}); !errors.Is(err, ErrUnsupportedTopic) {
			t.Errorf("%q: got %v, want ErrUnsupportedTopic", topic, err)
		}
	}
	if got := Topics(); len(got) != 15 || got[0] != "app/uninstalled" {
		t.Errorf("Topics() = %v", got)
	}
}

// TestTopicsHavePersonalDataRules: every topic Translate takes is one package pii knows, so a
// payload is never published unexamined.
func TestTopicsHavePersonalDataRules(t *testing.T) {
	for _, topic := range Topics() {
		if _, _, err := pii.SplitShopify(topic, []byte(`{}`)); err != nil {
			t.Errorf("%s: %v", topic, err)
		}
	}
}

func TestRejectsBadPayloads(t *testing.T) {
	for _, tc := range []struct{ topic, body string }{
		{"orders/updated", `[]`},
		{"orders/updated", `{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","total_price":"1e9"}`},
		{"orders/updated", `{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","total_price":"0.00001"}`},
		{"orders/updated", `{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","total_price":"12345678901234567"}`},
		{"orders/updated", `{"id":1,"currency":"euro","created_at":"2026-01-01T00:00:00Z"}`},
		{"orders/paid", `{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","line_items":[{"quantity":1}]}`},
		{"orders/paid", `{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","line_items":[{"id":2,"quantity":3000000000}]}`},
		{"orders/fulfilled", `{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","fulfillments":[{"id":2}]}`},
		{"orders/cancelled", `{"id":1,"currency":"EUR","created_at":"2026-01-01T00:00:00Z","cancelled_at":"soon"}`},
		{"refunds/create", `{"id":1,"created_at":"2026-01-01T00:00:00Z"}`},
		{"refunds/create", `{"id":1,"order_id":2,"created_at":"2026-01-01T00:00:00Z","transactions":[{"id":3,"amount":"1","currency":"dollars"}]}`},
		{"products/create", `{"id":1,"created_at":"2026-01-01T00:00:00Z"}`},
		{"products/update", `{"id":1,"status":"active","created_at":"2026-01-01T00:00:00Z","variants":[{"id":2,"price":"1"}]}`},
		{"products/delete", `{}`},
		{"products/delete", `{"id":"gid://shopify/Product/1"}`},
		{"inventory_levels/update", `{"location_id":2}`},
		{"app/uninstalled", `{"name":"x"}`},
		{"customers/redact", `{"shop_id":1,"customer":{"email":"a@example.com"}}`},
		{"customers/data_request", `{"shop_id":1,"customer":{"id":2}}`},
		{"shop/redact", `{"shop_domain":"x.myshopify.com"}`},
		{"shop/redact", "{\"shop_id\":1,\"shop_domain\":\"\xff\"}"},
		{"bulk_operations/finish", `{"admin_graphql_api_id":"gid://shopify/Order/1"}`},
	} {
		if _, err := Translate(context.Background(), delivery(tc.topic, []byte(tc.body)), &stubSealer{}); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%s %s: got %v, want ErrInvalidPayload", tc.topic, tc.body, err)
		}
	}
}

// TestKeep: a delivery that does not translate is kept with its personal data sealed: split when
// it is JSON, sealed whole when it is not, restorable either way with the event id.
func TestKeep(t *testing.T) {
	ctx := context.Background()
	sealer, keys := piitest.NewSealer()
	seal := PersonalData{Sealer: sealer}
	bad := []byte(`{"id":"#1","email":"kept.karla@example.com","customer":{"id":77,"email":"kept.karla@example.com"},"currency":"EUR"}`)
	d := delivery("orders/create", bad)
	if _, err := Translate(ctx, d, seal); !errors.Is(err, ErrInvalidPayload) {
		t.Fatalf("the body must not translate: %v", err)
	}
	k, err := Keep(ctx, d, seal)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := OrderCreated(ctx, delivery("orders/create", samples.OrdersCreate), &stubSealer{})
	if k.Whole || k.Sealed == nil || bytes.Contains(k.Body, []byte("karla")) || k.EventID != ev.Envelope.EventID {
		t.Fatalf("kept: %+v", k)
	}
	whole, err := sealer.OpenShopify(ctx, string(k.Body), &pii.Sealed{KeyID: k.Sealed.KeyID, Algorithm: k.Sealed.Algorithm, Ciphertext: k.Sealed.Ciphertext}, k.EventID)
	if err != nil || !sameJSON(t, whole, bad) {
		t.Fatalf("reopened: %s %v", whole, err)
	}

	garbage := []byte("email=kept.karla@example.com&id=1")
	d = delivery("orders/create", garbage)
	k, err = Keep(ctx, d, seal)
	if err != nil || !k.Whole || k.Body != nil || bytes.Contains(k.Sealed.Ciphertext, []byte("karla")) {
		t.Fatalf("kept whole: %+v %v", k, err)
	}
	opened, err := sealer.Open(ctx, pii.Sealed{KeyID: k.Sealed.KeyID, Algorithm: k.Sealed.Algorithm, Ciphertext: k.Sealed.Ciphertext}, []byte(k.EventID))
	if err != nil || !bytes.Equal(opened, garbage) {
		t.Fatalf("reopened whole: %q %v", opened, err)
	}
	keys.Shred(d.Shop, "deadletter/"+k.EventID)
	if _, err := sealer.Open(ctx, pii.Sealed{KeyID: k.Sealed.KeyID, Algorithm: k.Sealed.Algorithm, Ciphertext: k.Sealed.Ciphertext}, []byte(k.EventID)); !errors.Is(err, pii.ErrShredded) {
		t.Errorf("a whole dead letter is shreddable: %v", err)
	}

	if _, err := Keep(ctx, d, brokenSealer{}); err == nil {
		t.Error("a key store that is down must fail Keep, never keep plaintext")
	}
}

type brokenSealer struct{}

func (brokenSealer) SealShopify(context.Context, string, string, string, []byte) (string, *events.SealedPersonalData, error) {
	return "", nil, errors.New("connection refused")
}
