package shopify

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
)

var opCreated = time.Date(2026, 11, 29, 6, 0, 1, 0, time.UTC)

func bulkRow(line []byte, row int64) BulkRow {
	return BulkRow{
		Shop: "northbound.myshopify.com", BulkOperationGID: "gid://shopify/BulkOperation/147595010", BulkOperationCreatedAt: opCreated,
		Row: row, Line: line, Currency: "EUR", APIVersion: "2026-01", CorrelationID: "4b0c3d0e-1111-4222-8333-944455556666", RecordedAt: received,
	}
}

// TestBulkRows: every row of the sample results becomes its snapshot event, keyed by its
// aggregate (a child by its parent), with ids deterministic from (shop, bulk operation, row),
// and encodes with the real codec.
func TestBulkRows(t *testing.T) {
	ctx := context.Background()
	codec := eventstest.NewCodec(t, "")
	sealer, _ := piitest.NewSealer()
	seal := PersonalData{Sealer: sealer}
	type want struct {
		eventType, key string
		occurred       time.Time
	}
	for name, tc := range map[string]struct {
		lines [][]byte
		want  []want
	}{
		"products": {samples.BulkProducts(), []want{
			{events.TypeProductSnapshotted, "gid://shopify/Product/7712345678901", at("2026-03-04T17:30:45Z")},
			{events.TypeProductVariantSnapshotted, "gid://shopify/Product/7712345678901", at("2026-03-01T13:00:00Z")},
			{events.TypeProductVariantSnapshotted, "gid://shopify/Product/7712345678901", at("2026-03-04T17:30:45Z")},
			{events.TypeProductSnapshotted, "gid://shopify/Product/7712345678902", at("2026-02-27T21:40:05Z")},
			{events.TypeProductVariantSnapshotted, "gid://shopify/Product/7712345678902", at("2026-02-27T21:40:05Z")},
		}},
		"orders": {samples.BulkOrders(), []want{
			{events.TypeOrderSnapshotted, "gid://shopify/Order/820982911946154508", at("2026-11-22T10:02:00Z")},
			{events.TypeOrderLineItemSnapshotted, "gid://shopify/Order/820982911946154508", opCreated},
			{events.TypeOrderLineItemSnapshotted, "gid://shopify/Order/820982911946154508", opCreated},
			{events.TypeOrderSnapshotted, "gid://shopify/Order/5801234567999", at("2026-11-27T13:30:01Z")},
			{events.TypeOrderLineItemSnapshotted, "gid://shopify/Order/5801234567999", opCreated},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			if len(tc.lines) != len(tc.want) {
				t.Fatalf("%d lines, %d expectations", len(tc.lines), len(tc.want))
			}
			ids := map[string]bool{}
			for i, line := range tc.lines {
				row := int64(i + 1)
				ev, err := TranslateBulkRow(ctx, bulkRow(line, row), seal)
				if err != nil {
					t.Fatalf("row %d: %v", row, err)
				}
				m, w := ev.Meta(), tc.want[i]
				if m.EventType != w.eventType || m.AggregateID != w.key || !m.OccurredAt.Equal(w.occurred) {
					t.Errorf("row %d: %s %s %s, want %s %s %s", row, m.EventType, m.AggregateID, m.OccurredAt, w.eventType, w.key, w.occurred)
				}
				if m.EventID != events.DeterministicID("shopify-bulk", "northbound.myshopify.com", "gid://shopify/BulkOperation/147595010", strconv.Itoa(i+1)) || ids[m.EventID] {
					t.Errorf("row %d: event id %s", row, m.EventID)
				}
				ids[m.EventID] = true
				if m.Source != events.SourceBulkSync || *m.SourceTopic != name || *m.CorrelationID != "4b0c3d0e-1111-4222-8333-944455556666" ||
					*m.APIVersion != "2026-01" || m.SourceEventID != nil || m.WebhookID != nil || !m.RecordedAt.Equal(received) {
					t.Errorf("row %d: envelope %+v", row, m)
				}
				if _, err := codec.Encode(ev); err != nil {
					t.Errorf("row %d: the real codec refuses it: %v", row, err)
				}
				again, _ := TranslateBulkRow(ctx, bulkRow(line, row), seal)
				if again.Meta().EventID != m.EventID {
					t.Errorf("row %d: re-reading the result changed the event id", row)
				}
				if p, _ := payloadOf(t, ev); p != string(line) {
					t.Errorf("row %d: payload_json is not the row as exported", row)
				}
			}
		})
	}
}

func TestBulkRowDetails(t *testing.T) {
	ctx := context.Background()
	products, orders := samples.BulkProducts(), samples.BulkOrders()
	ev, err := TranslateBulkRow(ctx, bulkRow(products[0], 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := ev.(*events.ProductSnapshotted)
	if p.BulkOperationID != 147595010 || p.Row != 1 || p.Product.Status != "active" || len(p.Product.Variants) != 0 || len(p.Product.Options) != 2 ||
		strings.Join(p.Product.Tags, "|") != "linen|summer" || *p.Product.FeaturedImageURL == "" || !p.Product.CreatedAt.Equal(at("2026-03-01T13:00:00Z")) {
		t.Errorf("product: %+v", p.Product)
	}

	ev, err = TranslateBulkRow(ctx, bulkRow(products[2], 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := ev.(*events.ProductVariantSnapshotted)
	if v.ProductID != 7712345678901 || v.Variant.VariantID != 43011112222334 || *v.Variant.InventoryPolicy != "continue" || *v.Variant.Option1 != "M" ||
		*v.Variant.Option2 != "White" || v.Variant.Option3 != nil || *v.Variant.WeightUnit != "g" || *v.Variant.Weight != 260 ||
		v.Variant.InventoryItemGID != "gid://shopify/InventoryItem/45100000000334" || !*v.Variant.RequiresShipping || v.Variant.UnitCost != nil || v.Variant.Barcode != nil {
		t.Errorf("variant: %+v", v.Variant)
	}
	amount(t, &v.Variant.Price, "44.95", "EUR")
	amount(t, v.Variant.CompareAtPrice, "59.95", "EUR")
	r := bulkRow(products[1], 2)
	r.Currency = ""
	ev, _ = TranslateBulkRow(ctx, r, nil)
	v = ev.(*events.ProductVariantSnapshotted)
	amount(t, &v.Variant.Price, "49.95", UnknownCurrency) // no shop currency known
	amount(t, v.Variant.UnitCost, "18.5", "EUR")          // MoneyV2 names its own
	if *v.Variant.WeightUnit != "kg" {
		t.Errorf("weight unit %s", *v.Variant.WeightUnit)
	}

	ev, err = TranslateBulkRow(ctx, bulkRow(orders[0], 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := ev.(*events.OrderSnapshotted)
	if o.Order.OrderNumber != 1077 || *o.Order.FinancialStatus != "partially_refunded" || *o.Order.FulfillmentStatus != "fulfilled" ||
		*o.Order.CustomerID != 9007199254740995 || o.Order.LocationID != nil || len(o.Order.LineItems) != 0 || o.PersonalData != nil ||
		strings.Join(o.Order.DiscountCodes, "|") != "AUTUMN10" || *o.Order.PresentmentCurrency != "USD" {
		t.Errorf("order: %+v", o.Order)
	}
	amount(t, &o.Order.TotalPrice, "149.9", "EUR")
	amount(t, o.Order.CurrentTotalPrice, "104.9", "EUR")
	f := o.Order.Fulfillments[0]
	if f.Status != "success" || *f.ShipmentStatus != "in_transit" || *f.TrackingCompany != "Royal Mail" || *f.LocationID != 655441491 || *f.Service != "manual" {
		t.Errorf("fulfillment: %+v", f)
	}
	ev, _ = TranslateBulkRow(ctx, bulkRow(orders[3], 4), nil)
	o = ev.(*events.OrderSnapshotted)
	if o.Order.FulfillmentStatus != nil || *o.Order.CancelReason != "customer" || o.Order.CustomerID != nil || o.Order.Currency != "USD" {
		t.Errorf("UNFULFILLED is null, CUSTOMER is customer: %+v", o.Order)
	}

	ev, err = TranslateBulkRow(ctx, bulkRow(orders[2], 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	li := ev.(*events.OrderLineItemSnapshotted)
	if li.OrderID != 820982911946154508 || li.LineItem.LineItemID != 16600000000002 || *li.LineItem.VariantID != 43011112222400 ||
		*li.LineItem.FulfillableQuantity != 0 || *li.LineItem.CurrentQuantity != 0 || li.LineItem.FulfillmentStatus != nil {
		t.Errorf("line: %+v", li)
	}
	amount(t, li.LineItem.TotalTax, "7.98", "EUR")
	amount(t, &li.LineItem.TotalDiscount, "10.0", "EUR")
}

// TestBulkRowPersonalDataIsSealed: the bulk queries ask for no personal data, but a row that
// carries some anyway has it cut out and sealed (an order's under its customer's key, a line's
// under its order's), and restorable with package pii.
func TestBulkRowPersonalDataIsSealed(t *testing.T) {
	ctx := context.Background()
	sealer, keys := piitest.NewSealer()
	seal := PersonalData{Sealer: sealer}
	order := []byte(`{"id":"gid://shopify/Order/42","name":"#42","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-02T00:00:00Z","currencyCode":"EUR",` +
		`"email":"row.rita@example.com","note":"Rita's flat is 3B","customAttributes":[{"key":"gift","value":"for Rita"}],` +
		`"customer":{"id":"gid://shopify/Customer/7","firstName":"Rita","email":"row.rita@example.com"},` +
		`"shippingAddress":{"address1":"9 Quay Street","countryCodeV2":"IE","provinceCode":"D"},` +
		`"fulfillments":[{"id":"gid://shopify/Fulfillment/1","status":"SUCCESS","createdAt":"2026-01-01T00:00:00Z","trackingInfo":[{"company":"An Post","number":"CX123IE"}]}]}`)
	line := []byte(`{"id":"gid://shopify/LineItem/5","title":"Ring","quantity":1,"customAttributes":[{"key":"Engraving","value":"Rita forever"}],` +
		`"originalUnitPriceSet":{"shopMoney":{"amount":"10.00","currencyCode":"EUR"}},"__parentId":"gid://shopify/Order/42"}`)
	for _, tc := range []struct {
		name, subject string
		line          []byte
	}{{"order", "customer/7", order}, {"line", "order/42", line}} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := TranslateBulkRow(ctx, bulkRow(tc.line, 9), seal)
			if err != nil {
				t.Fatal(err)
			}
			payload, sealed := payloadOf(t, ev)
			typed := withoutPayload(ev)
			for _, p := range []string{"Rita", "9 Quay Street", "CX123IE"} {
				if strings.Contains(payload, p) || strings.Contains(jsonString(t, typed), p) {
					t.Errorf("%q in plaintext: %s", p, payload)
				}
			}
			if sealed == nil {
				t.Fatal("nothing sealed")
			}
			if tc.name == "order" && (!strings.Contains(payload, `"countryCodeV2":"IE"`) || !strings.Contains(payload, `"customer":{"id":"gid://shopify/Customer/7"}`) ||
				!strings.Contains(payload, `"company":"An Post"`)) {
				t.Errorf("what is not personal must stay: %s", payload)
			}
			ps := &pii.Sealed{KeyID: sealed.KeyID, Algorithm: sealed.Algorithm, Ciphertext: sealed.Ciphertext}
			whole, err := sealer.OpenShopify(ctx, payload, ps, ev.Meta().EventID)
			if err != nil || !sameJSON(t, whole, tc.line) {
				t.Fatalf("reopened: %s %v", whole, err)
			}
			if _, err := codec(t).Encode(ev); err != nil {
				t.Error(err)
			}
			keys.Shred("northbound.myshopify.com", tc.subject)
			if _, err := sealer.OpenShopify(ctx, payload, ps, ev.Meta().EventID); !errors.Is(err, pii.ErrShredded) {
				t.Errorf("after shredding %s: %v", tc.subject, err)
			}
		})
	}
	if _, err := TranslateBulkRow(ctx, bulkRow(line, 1), nil); err == nil || errors.Is(err, ErrInvalidPayload) {
		t.Errorf("personal data without a sealer is the caller's error, not the row's: %v", err)
	}
}

func codec(t *testing.T) *events.Codec { return eventstest.NewCodec(t, "") }

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBulkRowErrors(t *testing.T) {
	ctx := context.Background()
	good := samples.BulkProducts()[0]
	for name, r := range map[string]BulkRow{
		"no shop":          func() BulkRow { r := bulkRow(good, 1); r.Shop = ""; return r }(),
		"row 0":            bulkRow(good, 0),
		"not an operation": func() BulkRow { r := bulkRow(good, 1); r.BulkOperationGID = "gid://shopify/Order/1"; return r }(),
		"line row without the operation's time": func() BulkRow {
			r := bulkRow(samples.BulkOrders()[1], 2)
			r.BulkOperationCreatedAt = time.Time{}
			return r
		}(),
	} {
		if _, err := TranslateBulkRow(ctx, r, nil); !errors.Is(err, ErrInvalidBulkRow) {
			t.Errorf("%s: got %v, want ErrInvalidBulkRow", name, err)
		}
	}
	for _, line := range []string{
		`not json`,
		`{"id":"gid://shopify/Collection/1"}`,
		`{"title":"no id"}`,
		`{"id":"gid://shopify/Product/1","createdAt":"2026-01-01T00:00:00Z"}`,
		`{"id":"gid://shopify/ProductVariant/1","updatedAt":"2026-01-01T00:00:00Z","__parentId":"gid://shopify/Product/2"}`,
		`{"id":"gid://shopify/ProductVariant/1","updatedAt":"2026-01-01T00:00:00Z","inventoryItem":{"id":"gid://shopify/InventoryItem/3"},"__parentId":"gid://shopify/Order/2"}`,
		`{"id":"gid://shopify/ProductVariant/1","price":"1.23456","updatedAt":"2026-01-01T00:00:00Z","inventoryItem":{"id":"gid://shopify/InventoryItem/3"},"__parentId":"gid://shopify/Product/2"}`,
		`{"id":"gid://shopify/Order/1","createdAt":"2026-01-01T00:00:00Z"}`,
		`{"id":"gid://shopify/Order/x","currencyCode":"EUR","createdAt":"2026-01-01T00:00:00Z"}`,
		`{"id":"gid://shopify/LineItem/1","quantity":1}`,
		"{\"id\":\"gid://shopify/Product/1\",\"status\":\"ACTIVE\",\"title\":\"\xff\",\"createdAt\":\"2026-01-01T00:00:00Z\"}",
	} {
		if _, err := TranslateBulkRow(ctx, bulkRow([]byte(line), 1), nil); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%s: got %v, want ErrInvalidPayload", line, err)
		}
	}
}

func TestBulkQueries(t *testing.T) {
	since := time.Date(2026, 3, 1, 12, 30, 15, 999_000_000, time.FixedZone("CET", 3600))
	for name, q := range map[string]string{"products": BulkQueryProducts(since), "orders": BulkQueryOrders(since)} {
		if !strings.Contains(q, name+`(query: "updated_at:>='2026-03-01T11:30:15Z'") {`) {
			t.Errorf("%s: the filter is not updated_at:>= since in UTC, rounded down:\n%s", name, q)
		}
		if strings.Count(q, "{") != strings.Count(q, "}") || strings.Count(q, "edges") != 2 {
			t.Errorf("%s: unbalanced, or not two connections:\n%s", name, q)
		}
		for _, personal := range []string{"email", "phone", "note", "Address", "customAttributes", "number url", "trackingInfo { company number"} {
			if strings.Contains(q, personal) {
				t.Errorf("%s asks for personal data (%s)", name, personal)
			}
		}
		again, err := BulkQuery(name, since)
		if err != nil || again != q {
			t.Errorf("BulkQuery(%s) = %v", name, err)
		}
	}
	if q := BulkQueryOrders(time.Time{}); strings.Contains(q, "query:") || !strings.HasPrefix(q, "{\n  orders {") {
		t.Errorf("a full export has no filter:\n%s", q)
	}
	if _, err := BulkQuery("customers", time.Time{}); err == nil {
		t.Error("no bulk query for customers")
	}
	// Every field the translators read is asked for.
	for _, f := range []string{"selectedOptions { name value }", "unitCost { amount currencyCode }", "measurement { weight { unit value } }", "featuredMedia"} {
		if !strings.Contains(BulkQueryProducts(since), f) {
			t.Errorf("products query lacks %s", f)
		}
	}
	for _, f := range []string{"number", "displayFulfillmentStatus", "currentTotalPriceSet { shopMoney { amount currencyCode } }", "customer { id }", "retailLocation { id }", "unfulfilledQuantity", "taxLines { priceSet"} {
		if !strings.Contains(BulkQueryOrders(since), f) {
			t.Errorf("orders query lacks %s", f)
		}
	}
	if !bytes.Contains([]byte(BulkQueryOrders(since)), []byte("trackingInfo { company }")) {
		t.Error("tracking numbers are personal data: only the company is asked for")
	}
}

func jsonMarshal(v any) ([]byte, error) { return encodeJSON(v) }

// TestBulkInventoryRows: an inventory export's item rows record nothing; each level row becomes
// InventoryLevelSnapshotted keyed as InventoryLevelUpdated keys the level, with the item from
// __parentId, the location from location.id, available from the quantity named available (null
// without one), occurred_at its updatedAt, and a deterministic id; it encodes with the real codec.
func TestBulkInventoryRows(t *testing.T) {
	ctx := context.Background()
	codec := eventstest.NewCodec(t, "")
	lines := samples.BulkInventory()
	type want struct {
		item, location int64
		available      string
		updated        string
	}
	wants := []*want{nil, {49148385591558, 65544149191, "12", "2026-03-04T17:30:45Z"}, {49148385591558, 65544149192, "-3", "2026-03-01T13:00:00Z"},
		nil, {49148385591559, 65544149191, "null", "2026-02-27T21:40:05Z"}}
	if len(lines) != len(wants) {
		t.Fatalf("%d lines, %d expectations", len(lines), len(wants))
	}
	for i, line := range lines {
		row := int64(i + 1)
		ev, err := TranslateBulkRow(ctx, bulkRow(line, row), nil)
		if err != nil {
			t.Fatalf("row %d: %v", row, err)
		}
		w := wants[i]
		if w == nil {
			if ev != nil {
				t.Errorf("row %d (an inventory item) recorded %T", row, ev)
			}
			continue
		}
		e, ok := ev.(*events.InventoryLevelSnapshotted)
		if !ok {
			t.Fatalf("row %d: %T", row, ev)
		}
		avail := "null"
		if e.Available != nil {
			avail = strconv.Itoa(int(*e.Available))
		}
		key := "gid://shopify/InventoryLevel/" + strconv.FormatInt(w.location, 10) + "?inventory_item_id=" + strconv.FormatInt(w.item, 10)
		m := e.Envelope
		if e.InventoryItemID != w.item || e.LocationID != w.location || avail != w.available || !e.UpdatedAt.Equal(at(w.updated)) ||
			e.InventoryItemGID != "gid://shopify/InventoryItem/"+strconv.FormatInt(w.item, 10) || e.LocationGID != "gid://shopify/Location/"+strconv.FormatInt(w.location, 10) ||
			e.InventoryLevelGID == nil || *e.InventoryLevelGID != key || e.BulkOperationID != 147595010 || e.Row != row || e.PayloadJSON != string(line) {
			t.Errorf("row %d: %+v", row, e)
		}
		if m.EventType != events.TypeInventoryLevelSnapshotted || m.AggregateType != "InventoryLevel" || m.AggregateID != key || !m.OccurredAt.Equal(e.UpdatedAt) ||
			m.EventID != events.DeterministicID("shopify-bulk", "northbound.myshopify.com", "gid://shopify/BulkOperation/147595010", strconv.Itoa(i+1)) ||
			m.Source != events.SourceBulkSync || *m.SourceTopic != BulkResourceInventory || *m.CorrelationID != "4b0c3d0e-1111-4222-8333-944455556666" {
			t.Errorf("row %d: envelope %+v", row, m)
		}
		if _, err := codec.Encode(ev); err != nil {
			t.Errorf("row %d: the real codec refuses it: %v", row, err)
		}
	}
	for _, line := range []string{
		`{"id":"gid://shopify/InventoryItem/x"}`,
		`{"id":"gid://shopify/InventoryLevel/1?inventory_item_id=2","updatedAt":"2026-01-01T00:00:00Z","__parentId":"gid://shopify/InventoryItem/2"}`,
		`{"id":"gid://shopify/InventoryLevel/1?inventory_item_id=2","location":{"id":"gid://shopify/Location/1"},"__parentId":"gid://shopify/InventoryItem/2"}`,
		`{"id":"gid://shopify/InventoryLevel/1?inventory_item_id=2","location":{"id":"gid://shopify/Location/1"},"updatedAt":"2026-01-01T00:00:00Z","__parentId":"gid://shopify/Product/2"}`,
		`{"id":"gid://shopify/InventoryLevel/1?inventory_item_id=2","location":{"id":"gid://shopify/Order/1"},"updatedAt":"2026-01-01T00:00:00Z","__parentId":"gid://shopify/InventoryItem/2"}`,
		`{"id":"gid://shopify/InventoryLevel/1?inventory_item_id=2","location":{"id":"gid://shopify/Location/1"},"updatedAt":"yesterday","__parentId":"gid://shopify/InventoryItem/2"}`,
	} {
		if _, err := TranslateBulkRow(ctx, bulkRow([]byte(line), 1), nil); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%s: got %v, want ErrInvalidPayload", line, err)
		}
	}
	since := time.Date(2026, 3, 1, 12, 30, 15, 999_000_000, time.UTC)
	q, err := BulkQuery(BulkResourceInventory, since)
	if err != nil || q != BulkQueryInventory(since) || !strings.Contains(q, `inventoryItems(query: "updated_at:>='2026-03-01T12:30:15Z'") {`) ||
		strings.Count(q, "edges") != 2 || strings.Count(q, "{") != strings.Count(q, "}") {
		t.Errorf("BulkQuery(inventory) = %v:\n%s", err, q)
	}
	if q := BulkQueryInventory(time.Time{}); strings.Contains(q, "query:") {
		t.Errorf("a full export has no filter:\n%s", q)
	}
}
