package pii

import (
	"errors"
	"slices"
	"testing"

	"github.com/storeline/storeline/commands/shopify/samples"
)

func TestSubjectOf(t *testing.T) {
	for _, tc := range []struct {
		topic, payload, want string
	}{
		{"orders/create", `{"id":5801234567890,"customer":{"id":9007199254740993}}`, "customer/9007199254740993"},
		{"orders/updated", `{"id":5801234567890,"customer":null}`, "order/5801234567890"},
		{"orders/paid", `{"id":5801234567890}`, "order/5801234567890"},
		{"orders/cancelled", `{"id":5801234567890,"customer":{"email":"x@y.z"}}`, "order/5801234567890"},
		{"orders/create", `{"customer":null}`, ""},
		{"refunds/create", `{"id":1,"order_id":450789469}`, "order/450789469"},
		{"fulfillments/update", `{"id":1,"order_id":"gid://shopify/Order/450789469"}`, "order/450789469"},
		{"customers/update", `{"id":706405506930370084}`, "customer/706405506930370084"},
		{"customers/redact", `{"shop_id":1,"customer":{"id":191167}}`, "customer/191167"},
		{"customers/data_request", `{"shop_id":1,"customer":{"id":"191167"}}`, "customer/191167"},
		{"customers/redact", `{"shop_id":1,"customer":{"email":"only@email.example"}}`, ""},
		{"app/uninstalled", `{"id":548380009,"shop_owner":"O"}`, "shop"},
		{"shop/redact", `{"shop_id":954889,"shop_domain":"x.myshopify.com"}`, ""},
		{"products/update", `{"id":1}`, ""},
	} {
		got, err := SubjectOf(tc.topic, []byte(tc.payload))
		if err != nil {
			t.Errorf("%s %s: %v", tc.topic, tc.payload, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s %s: subject %q, want %q", tc.topic, tc.payload, got, tc.want)
		}
	}
	if got, err := SubjectOf("orders/create", samples.OrdersCreate); err != nil || got != "order/5801234567890" {
		t.Errorf("sample: %q, %v", got, err)
	}
}

func TestSubjectOfRejectsIDsThatAreNotShopifyIDs(t *testing.T) {
	for _, p := range []string{
		`{"id":1,"customer":{"id":1.5}}`,
		`{"id":1,"customer":{"id":-3}}`,
		`{"id":1,"customer":{"id":"jane"}}`,
		`{"id":1,"customer":{"id":true}}`,
		`{"id":1e3}`,
	} {
		if _, err := SubjectOf("orders/create", []byte(p)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", p, err)
		}
	}
	if _, err := SubjectOf("draft_orders/create", []byte(`{}`)); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("unknown topic: err = %v", err)
	}
}

func TestRedactionOf(t *testing.T) {
	r, err := RedactionOf("customers/redact", readTestdata(t, "customers_redact.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"customer/191167", "order/299938", "order/280263", "order/220458"}
	if r.WholeShop || !slices.Equal(r.Subjects, want) {
		t.Errorf("customers/redact: %+v, want subjects %q", r, want)
	}
	r, err = RedactionOf("shop/redact", readTestdata(t, "shop_redact.json"))
	if err != nil || !r.WholeShop || len(r.Subjects) != 0 {
		t.Errorf("shop/redact: %+v, %v", r, err)
	}
	if _, err := RedactionOf("orders/create", samples.OrdersCreate); err == nil {
		t.Error("orders/create is not a redaction")
	}
	if _, err := RedactionOf("customers/redact", []byte(`{"customer":{"id":1},"orders_to_redact":["#72348"]}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("order name instead of id: err = %v", err)
	}
}
