package shopifysim

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/pii"
)

func TestGenerateIsDeterministic(t *testing.T) {
	size := Size{Products: 30, Orders: 120}
	a, b := Generate(7, size), Generate(7, size)
	ha, hb := a.History(), b.History()
	if len(ha) != len(hb) {
		t.Fatalf("history lengths differ: %d vs %d", len(ha), len(hb))
	}
	for i := range ha {
		if ha[i].Topic != hb[i].Topic || ha[i].EventID != hb[i].EventID || !ha[i].TriggeredAt.Equal(hb[i].TriggeredAt) ||
			!bytes.Equal(ha[i].Payload(), hb[i].Payload()) {
			t.Fatalf("change %d differs: %s %s vs %s %s", i, ha[i].Topic, ha[i].EventID, hb[i].Topic, hb[i].EventID)
		}
	}
	if !reflect.DeepEqual(a.Orders(), b.Orders()) || !reflect.DeepEqual(a.Products(), b.Products()) ||
		!reflect.DeepEqual(a.InventoryLevels(), b.InventoryLevels()) {
		t.Fatal("final states differ for the same seed")
	}
	if c := Generate(8, size); reflect.DeepEqual(c.Orders(), a.Orders()) {
		t.Fatal("another seed gave the same orders")
	}
}

func TestGenerateSizesAndIDs(t *testing.T) {
	s := Generate(3, Size{Products: 40, VariantsPerProduct: 4, Orders: 150, Customers: 30})
	if n := len(s.Products()) + len(s.DeletedProducts()); n != 40 {
		t.Errorf("%d products made, want 40", n)
	}
	if n := len(s.Orders()); n != 150 {
		t.Errorf("%d orders, want 150", n)
	}
	const above53 = int64(1) << 53
	seen := map[int64]string{}
	check := func(kind string, id int64) {
		if id <= 0 {
			t.Errorf("%s id %d", kind, id)
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("%s id %d also a %s id", kind, id, prev)
		}
		seen[id] = kind
	}
	for _, o := range s.Orders() {
		check("order", o.ID)
		if o.ID <= above53 {
			t.Errorf("order id %d not above 2^53", o.ID)
		}
		for _, li := range o.LineItems {
			check("line item", li.ID)
		}
		for _, r := range o.Refunds {
			check("refund", r.ID)
		}
	}
	for _, c := range s.Customers() {
		check("customer", c.ID)
		if c.ID <= above53 {
			t.Errorf("customer id %d not above 2^53", c.ID)
		}
		if !strings.Contains(c.Email, "@example.") || c.FirstName == "" || c.Phone == "" || c.DefaultAddress.Address1 == "" {
			t.Errorf("customer without personal data: %+v", c)
		}
	}
	variants := 0
	for _, p := range s.Products() {
		check("product", p.ID)
		if len(p.Variants) < 1 || len(p.Variants) > 4 {
			t.Errorf("product %d has %d variants", p.ID, len(p.Variants))
		}
		for _, v := range p.Variants {
			variants++
			check("variant", v.ID)
			if v.SKU == "" || v.Price <= 0 || len(v.Barcode) != 13 {
				t.Errorf("variant %+v", v)
			}
		}
	}
	if len(s.InventoryLevels()) != variants*len(s.Locations()) {
		t.Errorf("%d inventory levels for %d variants at %d locations", len(s.InventoryLevels()), variants, len(s.Locations()))
	}
}

// TestGenerateMoneyIsExact checks every order's amounts add up to the cent, before and after
// refunds, and that the payload carries the same strings.
func TestGenerateMoneyIsExact(t *testing.T) {
	s := Generate(11, Size{Products: 30, Orders: 300, Mix: &Mix{RefundRate: 0.5, FulfillRate: 1, PendingRate: 0.2, PayLaterRate: 0.5, GuestRate: 0.3}})
	refunded := 0
	for _, o := range s.Orders() {
		var lines, disc, tax, refSub, refTax, refDisc, refTotal Money
		for _, li := range o.LineItems {
			lines += li.Price * Money(li.Quantity)
			disc += li.TotalDiscount
			tax += li.TaxLines[0].Price
		}
		for _, r := range o.Refunds {
			refunded++
			for _, rl := range r.RefundLineItems {
				refSub += rl.Subtotal
				refTax += rl.TotalTax
				refDisc += rl.Discount
			}
			refTotal += r.Total()
		}
		if o.TotalLineItemsPrice != lines || o.TotalDiscounts != disc || o.TotalTax != tax || o.SubtotalPrice != lines-disc ||
			o.TotalPrice != o.SubtotalPrice+o.TotalTax+o.TotalShipping {
			t.Errorf("order %s totals do not add up: %+v", o.Name, o)
		}
		if o.CurrentSubtotalPrice != o.SubtotalPrice-refSub || o.CurrentTotalTax != o.TotalTax-refTax ||
			o.CurrentTotalDiscounts != o.TotalDiscounts-refDisc || o.TotalRefunded != refTotal ||
			o.CurrentTotalPrice != o.CurrentSubtotalPrice+o.CurrentTotalTax+o.TotalShipping {
			t.Errorf("order %s current totals do not add up", o.Name)
		}
	}
	if refunded == 0 {
		t.Fatal("no refunds generated")
	}
	// The last payload of each order carries its final amounts as strings.
	last := map[string]Change{}
	for _, c := range s.History() {
		if strings.HasPrefix(c.Topic, "orders/") {
			last[c.Subject] = c
		}
	}
	for _, o := range s.Orders() {
		var p struct {
			TotalPrice        string `json:"total_price"`
			CurrentTotalPrice string `json:"current_total_price"`
			TotalPriceSet     struct {
				ShopMoney struct{ Amount, CurrencyCode string } `json:"shop_money"`
			} `json:"total_price_set"`
			UpdatedAt string `json:"updated_at"`
		}
		if err := json.Unmarshal(last[o.GID()].Payload(), &p); err != nil {
			t.Fatal(err)
		}
		if p.TotalPrice != o.TotalPrice.String() || p.CurrentTotalPrice != o.CurrentTotalPrice.String() ||
			p.TotalPriceSet.ShopMoney.Amount != o.TotalPrice.String() {
			t.Errorf("order %s payload amounts %+v, state %s/%s", o.Name, p, o.TotalPrice, o.CurrentTotalPrice)
		}
		if ts, _ := time.Parse(time.RFC3339, p.UpdatedAt); !ts.Equal(o.UpdatedAt) {
			t.Errorf("order %s last payload updated_at %s, state %s", o.Name, p.UpdatedAt, o.UpdatedAt)
		}
	}
}

// TestHistoryUpdatedAtIsMonotone: every object's updated_at grows with each of its changes,
// and triggered times never go back.
func TestHistoryUpdatedAtIsMonotone(t *testing.T) {
	s := Generate(5, Size{Products: 25, Orders: 200})
	lastAt := map[string]time.Time{}
	var prev time.Time
	counts := map[string]int{}
	for _, c := range s.History() {
		counts[c.Topic]++
		if c.TriggeredAt.Before(prev) {
			t.Fatalf("change %d triggered before the one before it", c.Seq)
		}
		prev = c.TriggeredAt
		var p struct {
			UpdatedAt string `json:"updated_at"`
		}
		if err := json.Unmarshal(c.Payload(), &p); err != nil {
			t.Fatal(err)
		}
		if p.UpdatedAt == "" {
			continue // products/delete, refunds/create
		}
		at, err := time.Parse(time.RFC3339, p.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		key := c.Subject + " " + c.Topic
		if before, ok := lastAt[key]; ok && !at.After(before) {
			t.Errorf("%s: updated_at %s not after %s", key, at, before)
		}
		lastAt[key] = at
		if !at.Equal(c.TriggeredAt) {
			t.Errorf("%s: updated_at %s, triggered %s", key, at, c.TriggeredAt)
		}
	}
	for _, topic := range []string{"orders/create", "orders/updated", "orders/paid", "orders/fulfilled", "orders/cancelled",
		"refunds/create", "products/create", "products/update", "inventory_levels/update"} {
		if counts[topic] == 0 {
			t.Errorf("no %s in the history: %v", topic, counts)
		}
	}
}

// TestPayloadShapes checks the REST shapes storeline relies on, and that storeline's own
// personal-data splitter accepts every payload.
func TestPayloadShapes(t *testing.T) {
	s := Generate(9, Size{Products: 20, Orders: 120, Mix: &Mix{GuestRate: 0, FulfillRate: 1, RefundRate: 0.5, ProductUpdateRate: 1, ProductDeleteRate: 0.5, RestockRate: 0.2}})
	must := map[string][]string{
		"orders/create": {"id", "admin_graphql_api_id", "name", "order_number", "email", "created_at", "updated_at", "processed_at", "cancelled_at",
			"financial_status", "fulfillment_status", "currency", "presentment_currency", "total_price", "subtotal_price", "total_tax", "total_discounts",
			"total_price_set", "tags", "test", "source_name", "customer", "billing_address", "shipping_address", "browser_ip", "client_details",
			"line_items", "refunds", "shipping_lines", "discount_codes"},
		"products/create":         {"id", "admin_graphql_api_id", "title", "handle", "body_html", "vendor", "product_type", "status", "tags", "created_at", "updated_at", "published_at", "variants", "options", "images", "image"},
		"products/delete":         {"id"},
		"inventory_levels/update": {"inventory_item_id", "location_id", "available", "updated_at", "admin_graphql_api_id"},
		"refunds/create":          {"id", "order_id", "created_at", "refund_line_items", "transactions"},
	}
	seen := map[string]bool{}
	for _, c := range s.History() {
		body := c.Payload()
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("%s payload: %v", c.Topic, err)
		}
		if keys, ok := must[c.Topic]; ok && !seen[c.Topic] {
			seen[c.Topic] = true
			for _, k := range keys {
				if _, ok := m[k]; !ok {
					t.Errorf("%s payload lacks %q", c.Topic, k)
				}
			}
		}
		if _, _, err := pii.SplitShopify(c.Topic, body); err != nil {
			t.Errorf("pii.SplitShopify(%s): %v", c.Topic, err)
		}
		if c.Topic == "orders/create" {
			// Ids above 2^53 survive a json.Number decode exactly.
			id, _ := m["id"].(json.Number).Int64()
			if GID("Order", id) != c.Subject {
				t.Errorf("order id %v vs subject %s", m["id"], c.Subject)
			}
			if _, isString := m["total_price"].(string); !isString {
				t.Errorf("total_price is %T", m["total_price"])
			}
			if _, isString := m["tags"].(string); !isString {
				t.Errorf("tags is %T", m["tags"])
			}
			li := m["line_items"].([]any)[0].(map[string]any)
			for _, k := range []string{"id", "product_id", "variant_id", "sku", "title", "variant_title", "vendor", "quantity", "current_quantity", "price", "price_set", "total_discount", "tax_lines", "discount_allocations"} {
				if _, ok := li[k]; !ok {
					t.Errorf("line item lacks %q", k)
				}
			}
		}
	}
	for topic := range must {
		if !seen[topic] {
			t.Errorf("no %s payload generated", topic)
		}
	}
	// Compliance topics on request.
	cust := s.Customers()[0]
	for _, mk := range []func() (Change, error){
		func() (Change, error) { return s.CustomerRedact(cust.ID) },
		func() (Change, error) { return s.CustomerDataRequest(cust.ID) },
		func() (Change, error) { return s.ShopRedact(), nil },
		func() (Change, error) { return s.AppUninstalled(), nil },
	} {
		c, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := pii.SplitShopify(c.Topic, c.Payload()); err != nil {
			t.Errorf("pii.SplitShopify(%s): %v", c.Topic, err)
		}
		if c.Topic == "customers/redact" {
			r, err := pii.RedactionOf(c.Topic, c.Payload())
			if err != nil || len(r.Subjects) == 0 {
				t.Errorf("customers/redact payload: %v %+v", err, r)
			}
		}
	}
}

func TestMoneyFormatAndParse(t *testing.T) {
	for _, c := range []struct {
		m Money
		s string
	}{{0, "0.00"}, {5, "0.05"}, {4900, "49.00"}, {-345, "-3.45"}, {123456789, "1234567.89"}} {
		if got := c.m.String(); got != c.s {
			t.Errorf("%d: %s, want %s", c.m, got, c.s)
		}
		if back, err := ParseMoney(c.s); err != nil || back != c.m {
			t.Errorf("ParseMoney(%s) = %d, %v", c.s, back, err)
		}
	}
	if _, err := ParseMoney("1.234"); err == nil {
		t.Error("three decimals parsed")
	}
}
