package pii

import (
	"fmt"
	"strings"
)

// kind is a kind of Shopify object (REST/webhook shape, snake_case) that can hold personal data.
type kind string

const (
	kindOrder       kind = "order"
	kindCustomer    kind = "customer"
	kindLineItem    kind = "line item"
	kindFulfillment kind = "fulfillment"
	kindRefund      kind = "refund"
	kindTransaction kind = "transaction"
	kindCompliance  kind = "compliance request" // customers/redact, customers/data_request
	kindShop        kind = "shop"
	kindNone        kind = "no personal data"
)

// shopifyTopics maps each webhook topic SplitShopify understands to the kind of its payload's
// root object. A topic that is not here is refused (ErrUnknownTopic) rather than published
// unexamined: its payload may hold personal data nobody has listed yet. Admin REST API
// resources have the same shapes; pass the matching topic (an order from GET /orders/{id}.json,
// unwrapped from its "order" member, is "orders/updated").
var shopifyTopics = map[string]kind{
	"orders/create":              kindOrder,
	"orders/updated":             kindOrder,
	"orders/cancelled":           kindOrder,
	"orders/fulfilled":           kindOrder,
	"orders/partially_fulfilled": kindOrder,
	"orders/paid":                kindOrder,
	"orders/delete":              kindOrder, // {"id": …} only; the order rules find nothing
	"refunds/create":             kindRefund,
	"fulfillments/create":        kindFulfillment,
	"fulfillments/update":        kindFulfillment,
	"customers/create":           kindCustomer,
	"customers/update":           kindCustomer,
	"customers/delete":           kindCustomer,
	"customers/enable":           kindCustomer,
	"customers/disable":          kindCustomer,
	"customers/redact":           kindCompliance,
	"customers/data_request":     kindCompliance,
	"shop/redact":                kindNone, // {"shop_id", "shop_domain"}
	"app/uninstalled":            kindShop,
	"shop/update":                kindShop,
	"products/create":            kindNone,
	"products/update":            kindNone,
	"products/delete":            kindNone,
	"inventory_levels/update":    kindNone,
	"bulk_operations/finish":     kindNone,
}

// op is what happens to a listed member.
type op int

const (
	// opSeal removes the member from the clean payload; its value goes to the personal part.
	opSeal op = iota
	// opSealAllBut removes every member of an object except the listed ones (an allow-list, so a
	// member Shopify adds later is sealed too). Anything but an object is sealed whole.
	opSealAllBut
	// opSealURLQuery keeps a URL's scheme, host and path in the clean payload and seals the
	// original (with its query, fragment and user info). Anything but a string URL is sealed whole.
	opSealURLQuery
	// opEmbed applies another kind's rules below this path.
	opEmbed
)

// field is one entry of the personal-data table: a member of a kind of object, given as an
// RFC 6901 JSON pointer relative to that object, where "*" stands for every element of an array.
type field struct {
	in   kind
	path string
	op   op
	keep []string // opSealAllBut: the members that stay in the clean payload
	kind kind     // opEmbed: the kind of the object(s) at path
	why  string
}

// personalFields is the one list of what SplitShopify seals. A value that is null, "", [] or {}
// carries nothing and stays where it is, so a payload without personal data seals nothing.
var personalFields = []field{
	// Orders (orders/*): the buyer, where the goods go, and how the buyer reached the shop.
	{in: kindOrder, path: "/email", why: "the buyer's email address"},
	{in: kindOrder, path: "/contact_email", why: "the buyer's email address, again"},
	{in: kindOrder, path: "/phone", why: "the buyer's phone number"},
	{in: kindOrder, path: "/customer", op: opEmbed, kind: kindCustomer, why: "the buyer's customer record, embedded"},
	{in: kindOrder, path: "/billing_address", op: opSealAllBut, keep: addressKeeps, why: "a person's name, street, city, zip, phone, company and coordinates; the country and province codes stay for sales-by-region and identify nobody on their own"},
	{in: kindOrder, path: "/shipping_address", op: opSealAllBut, keep: addressKeeps, why: "the recipient's name, street, city, zip, phone and coordinates; codes stay as for billing_address"},
	{in: kindOrder, path: "/browser_ip", why: "the buyer's IP address"},
	{in: kindOrder, path: "/client_details", why: "browser_ip, user_agent, accept_language, session_hash, screen size: a device fingerprint"},
	{in: kindOrder, path: "/landing_site", op: opSealURLQuery, why: "query strings carry emails, names, click ids (fbclid, gclid) and discount tokens; the path stays for attribution"},
	{in: kindOrder, path: "/referring_site", op: opSealURLQuery, why: "a referrer's query can hold the buyer's search terms or webmail ids; the site and path stay for attribution"},
	{in: kindOrder, path: "/order_status_url", why: "a bearer link (token and key) to the buyer's order status page, which shows their address"},
	{in: kindOrder, path: "/note", why: "free text from the buyer or staff: names, phone numbers, delivery instructions"},
	{in: kindOrder, path: "/note_attributes", why: "free-form name/value pairs from the cart: gift messages, recipients, birthdays"},
	{in: kindOrder, path: "/payment_details", why: "older API versions: credit card name, BIN and masked number"},
	{in: kindOrder, path: "/line_items/*", op: opEmbed, kind: kindLineItem, why: "line items carry the buyer's customisations"},
	{in: kindOrder, path: "/shipping_lines/*/phone", why: "the recipient's phone for the carrier"},
	{in: kindOrder, path: "/fulfillments/*", op: opEmbed, kind: kindFulfillment, why: "fulfillments, embedded"},
	{in: kindOrder, path: "/refunds/*", op: opEmbed, kind: kindRefund, why: "refunds, embedded (their order_adjustments stay: amounts only)"},

	// Customers (customers/*, and order.customer). The id, state, tags, consent states,
	// currency and timestamps stay.
	{in: kindCustomer, path: "/email", why: "the customer's email address"},
	{in: kindCustomer, path: "/first_name", why: "the customer's name"},
	{in: kindCustomer, path: "/last_name", why: "the customer's name"},
	{in: kindCustomer, path: "/phone", why: "the customer's phone number"},
	{in: kindCustomer, path: "/note", why: "free text about the customer written by staff"},
	{in: kindCustomer, path: "/multipass_identifier", why: "the customer's identity in the merchant's own login system"},
	{in: kindCustomer, path: "/default_address", why: "a whole postal address with name and phone; the order keeps its own country codes"},
	{in: kindCustomer, path: "/addresses", why: "every postal address the customer saved"},

	// Line items (in orders, fulfillments and refunds).
	{in: kindLineItem, path: "/properties", why: "buyer-entered customisations: engraving text, gift messages, recipients' names"},
	{in: kindLineItem, path: "/destination_location", why: "older API versions: the shipping address per line item"},

	// Fulfillments (fulfillments/*, and order.fulfillments[]). tracking_company stays.
	{in: kindFulfillment, path: "/destination", why: "the recipient's postal address"},
	{in: kindFulfillment, path: "/email", why: "the recipient's email address"},
	{in: kindFulfillment, path: "/tracking_number", why: "looks the parcel up at the carrier: delivery address, recipient, signature"},
	{in: kindFulfillment, path: "/tracking_numbers", why: "as tracking_number"},
	{in: kindFulfillment, path: "/tracking_url", why: "a tracking link with the tracking number in it"},
	{in: kindFulfillment, path: "/tracking_urls", why: "as tracking_url"},
	{in: kindFulfillment, path: "/line_items/*", op: opEmbed, kind: kindLineItem, why: "line items carry the buyer's customisations"},

	// Refunds (refunds/create, and order.refunds[]). Amounts, order_adjustments and duties stay.
	{in: kindRefund, path: "/note", why: "free text written by staff about the buyer's request"},
	{in: kindRefund, path: "/transactions/*", op: opEmbed, kind: kindTransaction, why: "refund transactions, embedded"},
	{in: kindRefund, path: "/refund_line_items/*/line_item", op: opEmbed, kind: kindLineItem, why: "the refunded line item, embedded"},

	// Transactions (in refunds). Amounts, gateway, kind, status and authorization stay.
	{in: kindTransaction, path: "/receipt", why: "the gateway's raw receipt: card holder names, billing details"},
	{in: kindTransaction, path: "/payment_details", why: "credit_card_name, credit_card_number (masked), BIN, wallet"},

	// Compliance requests (customers/redact, customers/data_request): shop_id, shop_domain,
	// orders_to_redact, orders_requested and data_request.id stay.
	{in: kindCompliance, path: "/customer", op: opEmbed, kind: kindCustomer, why: "the customer concerned: email and phone"},

	// Shop (app/uninstalled, shop/update): the merchant is a person too. Shop name, domains,
	// plan, currency, timezone and country/province stay.
	{in: kindShop, path: "/email", why: "the shop owner's email address"},
	{in: kindShop, path: "/customer_email", why: "the email address the shop shows its customers, often the owner's"},
	{in: kindShop, path: "/shop_owner", why: "the shop owner's name"},
	{in: kindShop, path: "/phone", why: "the shop's phone number, often the owner's"},
	{in: kindShop, path: "/address1", why: "the shop's street address, often the owner's home"},
	{in: kindShop, path: "/address2", why: "as address1"},
	{in: kindShop, path: "/city", why: "as address1"},
	{in: kindShop, path: "/zip", why: "as address1"},
	{in: kindShop, path: "/latitude", why: "as address1"},
	{in: kindShop, path: "/longitude", why: "as address1"},
}

// addressKeeps are the members of an order's billing or shipping address that stay clean.
var addressKeeps = []string{"country_code", "province_code"}

// rule is a field resolved against a payload's root: path segments from the root, "*" for
// every array element.
type rule struct {
	segs []string
	f    field
}

// compiledRules holds, for each root kind, every rule with embeddings expanded.
var compiledRules = compileAll()

func compileAll() map[kind][]rule {
	out := map[kind][]rule{}
	for _, k := range shopifyTopics {
		if _, done := out[k]; !done {
			out[k] = compile(k, nil, 0)
		}
	}
	return out
}

// compile expands k's fields below prefix. The table is static, so a cycle or a malformed path
// is a programming error and panics at package load.
func compile(k kind, prefix []string, depth int) []rule {
	if depth > 8 {
		panic(fmt.Sprintf("pii: personalFields embeds %s too deep (a cycle?)", k))
	}
	var out []rule
	for _, f := range personalFields {
		if f.in != k {
			continue
		}
		segs, err := parsePointer(f.path)
		if err != nil || len(segs) == 0 {
			panic(fmt.Sprintf("pii: personalFields %s %q: bad path", k, f.path))
		}
		full := append(append([]string{}, prefix...), segs...)
		if f.op == opEmbed {
			out = append(out, compile(f.kind, full, depth+1)...)
			continue
		}
		if full[len(full)-1] == "*" {
			panic(fmt.Sprintf("pii: personalFields %s %q: a rule must end at an object member", k, f.path))
		}
		out = append(out, rule{segs: full, f: f})
	}
	return out
}

// String renders the rule's pattern, for tests and messages.
func (r rule) String() string { return "/" + strings.Join(r.segs, "/") }
