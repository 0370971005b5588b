package pii

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/storeline/storeline/commands/shopify/samples"
)

// splitCase is a payload with every personal value it holds and some values that must stay.
type splitCase struct {
	file     string
	topic    string
	pointers []string // exactly what Split must cut
	personal []string // substrings that must not appear in the clean payload
	kept     []string // substrings that must still appear in the clean payload
}

var splitCases = []splitCase{
	{
		file:  "orders_create_full.json",
		topic: "orders/create",
		pointers: []string{
			"/email", "/contact_email", "/phone",
			"/customer/email", "/customer/first_name", "/customer/last_name", "/customer/phone",
			"/customer/note", "/customer/multipass_identifier", "/customer/default_address",
			"/billing_address/first_name", "/billing_address/last_name", "/billing_address/name",
			"/billing_address/address1", "/billing_address/address2", "/billing_address/city",
			"/billing_address/zip", "/billing_address/province", "/billing_address/country",
			"/billing_address/phone", "/billing_address/company", "/billing_address/latitude",
			"/billing_address/longitude",
			"/shipping_address/first_name", "/shipping_address/last_name", "/shipping_address/name",
			"/shipping_address/address1", "/shipping_address/city", "/shipping_address/zip",
			"/shipping_address/province", "/shipping_address/country", "/shipping_address/phone",
			"/shipping_address/latitude", "/shipping_address/longitude",
			"/browser_ip", "/client_details", "/landing_site", "/referring_site", "/order_status_url",
			"/note", "/note_attributes", "/payment_details",
			"/line_items/0/properties", "/line_items/0/destination_location",
			"/shipping_lines/0/phone",
			"/fulfillments/0/destination", "/fulfillments/0/email",
			"/fulfillments/0/tracking_number", "/fulfillments/0/tracking_numbers",
			"/fulfillments/0/tracking_url", "/fulfillments/0/tracking_urls",
			"/fulfillments/0/line_items/0/properties",
			"/refunds/0/note", "/refunds/0/transactions/0/receipt", "/refunds/0/transactions/0/payment_details",
			"/refunds/0/refund_line_items/0/line_item/properties",
		},
		personal: []string{
			"jane.doe", "Janeth", "JANETH", "Doerflinger", "5550123456", "5550199", "555017788",
			"mp-jane", "Kastanienallee", "Hinterhaus", "10435", "Berlin", "Germany", "Maximilian",
			"Mustermann", "Lindenstrasse", "Potsdam", "14467", "Brandenburg", "52.538", "13.411",
			"52.398", "13.065", "203.0.113.77", "Firefox", "sess-9f8e", "de-DE", "secretkey987",
			"123456abcd", "ring twice", "Happy birthday", "424242", "JJD0099887766", "utm_source",
			"email=", "running+shoes", "#top", "torn",
		},
		kept: []string{
			`"name":"#1042"`, `"country_code":"DE"`, `"province_code":"BE"`, `"province_code":"BB"`,
			`"customer":{`, `"id":9007199254740993`, `"id":820982911946154508`, `"customer_locale":"de"`,
			`"landing_site":"/products/trail-runner"`, `"landing_site_ref":"spring"`,
			`"referring_site":"https://www.search.example/search"`, `"tracking_company":"DHL"`,
			`"Shipping refund"`, `"Northbound Warehouse"`, `"WELCOME10"`, `"state":"subscribed"`,
			`"price":"14.975"`, `"total_weight":1.0e3`, `"amount":"-3.45"`, `<b>VIP</b> & friends`,
			`"title":"Trail Runner"`, `"properties":[]`, `"tags":"vip"`, `"authorization":"authorization-key"`,
		},
	},
	{
		file:  "orders_create_guest.json",
		topic: "orders/create",
		pointers: []string{
			"/email", "/contact_email", "/browser_ip", "/client_details",
			"/shipping_address/first_name", "/shipping_address/last_name", "/shipping_address/name",
			"/shipping_address/address1", "/shipping_address/city", "/shipping_address/zip",
			"/shipping_address/province", "/shipping_address/country",
		},
		personal: []string{"guest.buyer", "198.51.100.23", "iPhone", "Quentin", "Guestworth", "400 Harbor", "Portland", "97201", "Oregon"},
		kept:     []string{`"customer":null`, `"billing_address":null`, `"phone":null`, `"country_code":"US"`, `"province_code":"OR"`},
	},
	{
		file:  "customers_create.json",
		topic: "customers/create",
		pointers: []string{
			"/email", "/first_name", "/last_name", "/phone", "/note", "/addresses", "/default_address",
		},
		personal: []string{"bob.norman", "Bobbington", "Normanton", "6135550135", "Allergic", "Chestnut", "Louisville", "40202", "Kentucky"},
		kept:     []string{`"id":706405506930370084`, `"consent_collected_from":"OTHER"`, `"multipass_identifier":null`, `"total_spent":"0.00"`},
	},
	{
		file:     "customers_redact.json",
		topic:    "customers/redact",
		pointers: []string{"/customer/email", "/customer/phone"},
		personal: []string{"john.redact", "625-1199"},
		kept:     []string{`"customer":{"id":191167}`, `"orders_to_redact":[299938,280263,220458]`, `"shop_id":954889`},
	},
	{
		file:     "customers_data_request.json",
		topic:    "customers/data_request",
		pointers: []string{"/customer/email", "/customer/phone"},
		personal: []string{"john.redact", "625-1199"},
		kept:     []string{`"customer":{"id":191167}`, `"data_request":{"id":9999}`},
	},
	{
		file:  "shop_redact.json",
		topic: "shop/redact",
		kept:  []string{`"shop_domain":"snowdevil.myshopify.com"`},
	},
	{
		file:  "refunds_create.json",
		topic: "refunds/create",
		pointers: []string{
			"/note", "/transactions/0/receipt", "/transactions/0/payment_details",
			"/refund_line_items/0/line_item/properties",
		},
		personal: []string{"Walter", "WALTER", "Whitfield", "WHITFIELD", "424242"},
		kept:     []string{`"amount":"41.94"`, `"subtotal":"195.67"`, `"title":"IPod Nano - 8gb"`, `"gateway":"bogus"`},
	},
	{
		file:  "fulfillments_create.json",
		topic: "fulfillments/create",
		pointers: []string{
			"/email", "/destination", "/tracking_number", "/tracking_numbers", "/tracking_url", "/tracking_urls",
		},
		personal: []string{"florence", "Florence", "Fulfilmore", "Shipping Street", "555-7788", "1Z827", "Shippington"},
		kept:     []string{`"tracking_company":"UPS"`, `"name":"#9999.1"`, `"order_id":820982911946154508`},
	},
	{
		file:  "app_uninstalled.json",
		topic: "app/uninstalled",
		pointers: []string{
			"/email", "/customer_email", "/shop_owner", "/phone", "/address1", "/address2", "/city", "/zip",
			"/latitude", "/longitude",
		},
		personal: []string{"olga", "Olga", "Owner Lane", "K2P", "Ottawa", "6135550111", "Unit 4", "45.41", "-75.69"},
		kept:     []string{`"name":"Northbound Outfitters"`, `"province_code":"ON"`, `"myshopify_domain":"northbound.myshopify.com"`, `"money_format":"${{amount}}"`},
	},
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSplitShopifyCutsEveryListedValue(t *testing.T) {
	for _, c := range splitCases {
		t.Run(c.file, func(t *testing.T) {
			payload := readTestdata(t, c.file)
			for _, s := range c.personal {
				if !bytes.Contains(payload, []byte(s)) {
					t.Fatalf("bad fixture: %q is not in %s, so its absence proves nothing", s, c.file)
				}
			}
			clean, personal, err := SplitShopify(c.topic, payload)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range c.personal {
				if bytes.Contains(clean, []byte(s)) {
					t.Errorf("clean payload still holds %q:\n%s", s, clean)
				}
			}
			for _, s := range c.kept {
				if !bytes.Contains(clean, []byte(s)) {
					t.Errorf("clean payload lost %s:\n%s", s, clean)
				}
			}
			if got := pointersOf(t, personal); !slices.Equal(got, sorted(c.pointers)) {
				t.Errorf("cut pointers:\n got %q\nwant %q", got, sorted(c.pointers))
			}
			if len(c.pointers) == 0 && personal != nil {
				t.Errorf("nothing to cut, yet personal = %s", personal)
			}
			assertRoundTrip(t, payload, clean, personal)
		})
	}
}

func TestSplitShopifyRoundTripsTheSample(t *testing.T) {
	clean, personal, err := SplitShopify("orders/create", samples.OrdersCreate)
	if err != nil {
		t.Fatal(err)
	}
	// The sample holds no personal data (browser_ip is null): nothing to seal.
	if personal != nil {
		t.Errorf("personal = %s, want nil", personal)
	}
	assertRoundTrip(t, samples.OrdersCreate, clean, personal)
}

// assertRoundTrip checks that Join(clean, personal) decodes to the same value as payload, with
// every number kept as written.
func assertRoundTrip(t *testing.T, payload, clean, personal []byte) {
	t.Helper()
	joined, err := JoinShopify(clean, personal)
	if err != nil {
		t.Fatal(err)
	}
	want, err := decodeValue(payload)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeValue(joined)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Join(Split(p)) differs from p:\n got %s\nwant %s", joined, payload)
	}
}

func pointersOf(t *testing.T, personal []byte) []string {
	t.Helper()
	if personal == nil {
		return []string{}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(personal, &m); err != nil {
		t.Fatalf("personal part is not a JSON object: %v", err)
	}
	out := []string{}
	for p := range m {
		out = append(out, p)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return out
}

func TestSplitShopifySealsUnexpectedShapesWhole(t *testing.T) {
	payload := []byte(`{"id":1,"customer":"jane@example.com","fulfillments":["JJD-1",{"tracking_number":"JJD-2"}],"line_items":{"0":"x"},"billing_address":"Kastanienallee 12","landing_site":42}`)
	clean, personal, err := SplitShopify("orders/updated", payload)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/billing_address", "/customer", "/fulfillments/0", "/fulfillments/1/tracking_number", "/landing_site", "/line_items"}
	if got := pointersOf(t, personal); !slices.Equal(got, want) {
		t.Errorf("cut %q, want %q", got, want)
	}
	for _, s := range []string{"jane@", "JJD-", "Kastanien"} {
		if bytes.Contains(clean, []byte(s)) {
			t.Errorf("clean holds %q: %s", s, clean)
		}
	}
	assertRoundTrip(t, payload, clean, personal)
}

func TestSplitShopifyURLs(t *testing.T) {
	for _, tc := range []struct{ in, clean string }{
		{"/products/x?email=a%40b.c", "/products/x"},
		{"https://user:pw@example.com/p#frag", "https://example.com/p"},
		{"https://example.com/", ""}, // nothing to cut: stays, and nothing is sealed
		{"/?", "/"},
	} {
		payload, _ := json.Marshal(map[string]any{"id": 1, "landing_site": tc.in})
		clean, personal, err := SplitShopify("orders/create", payload)
		if err != nil {
			t.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(clean, &c); err != nil {
			t.Fatal(err)
		}
		if tc.clean == "" {
			if personal != nil || c["landing_site"] != tc.in {
				t.Errorf("%q: clean %v, personal %s; want it untouched", tc.in, c["landing_site"], personal)
			}
			continue
		}
		if c["landing_site"] != tc.clean {
			t.Errorf("%q: clean landing_site %v, want %q", tc.in, c["landing_site"], tc.clean)
		}
		assertRoundTrip(t, payload, clean, personal)
	}
}

func TestSplitShopifyRefusesUnknownTopicsAndBadJSON(t *testing.T) {
	if _, _, err := SplitShopify("checkouts/create", []byte(`{"email":"a@b.c"}`)); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("unknown topic: err = %v, want ErrUnknownTopic", err)
	}
	for _, bad := range []string{``, `[1]`, `{"id":1} {"id":2}`, `{"id":`, `"x"`} {
		if _, _, err := SplitShopify("orders/create", []byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestJoinShopifyRejectsPointersWithoutAParent(t *testing.T) {
	clean := []byte(`{"id":1,"a":{"b":[1,2]},"s":"x"}`)
	for _, p := range []string{"", "x", "/missing/child", "/a/b/2", "/a/b/01", "/a/b/-1", "/s/t", "/a/~2"} {
		personal, _ := json.Marshal(map[string]any{p: "v"})
		if _, err := JoinShopify(clean, personal); !errors.Is(err, ErrMalformed) {
			t.Errorf("pointer %q: err = %v, want ErrMalformed", p, err)
		}
	}
	// Escaped tokens and array elements are addressed as RFC 6901 says.
	got, err := JoinShopify(clean, []byte(`{"/a/b/1":"two","/a~1b":1,"/t~0":2}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"b":[1,"two"]},"a/b":1,"id":1,"s":"x","t~":2}`; string(got) != want {
		t.Errorf("joined %s, want %s", got, want)
	}
}

// TestPersonalFieldsTable keeps the table sound: every entry says why, every topic's rules are
// disjoint (no rule reaches inside what another cuts, or Join would restore them in the wrong
// order), and no rule ends at an array element.
func TestPersonalFieldsTable(t *testing.T) {
	for _, f := range personalFields {
		if strings.TrimSpace(f.why) == "" {
			t.Errorf("%s %s: no reason given", f.in, f.path)
		}
	}
	for k, rules := range compiledRules {
		for i, a := range rules {
			for j, b := range rules {
				if i != j && prefixOf(a.segs, b.segs) {
					t.Errorf("%s: rule %s reaches inside rule %s", k, b, a)
				}
			}
		}
	}
	if len(compiledRules[kindOrder]) < 30 {
		t.Errorf("order rules: %d, embeddings not expanded?", len(compiledRules[kindOrder]))
	}
}

func prefixOf(a, b []string) bool {
	return len(a) <= len(b) && slices.Equal(a, b[:len(a)])
}

// FuzzSplitJoin: for any JSON object under any rule set, Join(Split(p)) is p.
func FuzzSplitJoin(f *testing.F) {
	for _, c := range splitCases {
		b, err := os.ReadFile("testdata/" + c.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.topic, b)
	}
	f.Add("orders/updated", []byte(`{"customer":{"default_address":[1]},"line_items":[null,{"properties":{"a":1}}]}`))
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		clean, personal, err := SplitShopify(topic, payload)
		if err != nil {
			return
		}
		assertRoundTrip(t, payload, clean, personal)
	})
}
