// Package shopifysim is a fake Shopify that speaks the real protocol: one shop generated from a
// seed, its webhooks delivered the way Shopify delivers them (signed, retried, duplicated, out
// of order, late or lost), and its Admin GraphQL API with the cost bucket, bulk operations and
// the mutations storeline uses. Tests run storeline against it; `make run` seeds a demo store
// from it. It owns no storeline logic: it is the other side of the wire.
//
// # Using it in a test
//
//	store := shopifysim.Generate(42, shopifysim.Size{Products: 200, Orders: 2000})
//	clock := shopifysim.NewFakeClock(time.Now())
//
//	// Shopify's side of the webhooks: every change, with faults, to storeline's endpoint.
//	sender := shopifysim.NewWebhookSender(store, shopifysim.SenderOptions{
//		URL: gateway.URL + "/webhooks/shopify", Secret: appSecret, Clock: clock, Seed: 1,
//		Faults: shopifysim.Faults{Duplicate: 0.1, OutOfOrder: 0.1, Drop: 0.05},
//	})
//	defer sender.Close()
//	report, err := sender.Send(ctx, store.History()) // returns when all are delivered, dropped or given up
//
//	// The Admin API for the reconciliation (bulk sync), tag and metafield writes.
//	admin := shopifysim.NewAdminServer(store, shopifysim.AdminOptions{Clock: clock, BulkFinishWebhook: true})
//	defer admin.Close()
//	api := httptest.NewServer(admin) // storeline's client: api.URL, shopifysim.DefaultAccessToken
//	defer sender.Follow(store)()     // writes through the API echo as webhooks (products/update, ...)
//	// ... storeline starts a bulk operation; the test moves time on:
//	clock.Advance(time.Minute) // CREATED → RUNNING → COMPLETED, bulk_operations/finish sent
//
//	// Then the read models must equal the final state, row by row:
//	for _, o := range store.Orders() { ... o.TotalPrice.String(), o.LineItems, o.Refunds ... }
//	store.Products(); store.InventoryLevels(); store.DeletedProducts()
//
// reconcile_test.go does exactly this in small, against a miniature read model.
//
// # The shop (Store, Generate)
//
// Generate(seed, Size) makes a shop deterministically: the same seed and size give the same
// objects, ids, history, payload bytes and X-Shopify-Event-Ids. A catalogue is created first
// (products with 1..VariantsPerProduct variants from option combinations, SKUs, EAN-13
// barcodes, prices, compare-at prices, tags; stock per variant at each location), then orders
// arrive over Size.Duration (customers or guests with names, emails, phones, addresses, browser
// IPs and user agents; one to four lines; discount codes; 8.25 % tax; shipping), and later
// changes follow as Mix says: orders paid, fulfilled, refunded (partly or wholly, restocked),
// cancelled (voided and restocked), tagged; products updated, archived and deleted (only
// never-ordered products are deleted, so every order line keeps its variant); stock adjusted.
//
// Every write has a time strictly after the previous one (whole seconds, UTC), so each object's
// updated_at grows. Orders, customers, refunds and metafields have ids above 2^53; products,
// variants and line items have ids of today's size. Money is Money (int64 cents, formatted
// "49.00") in the shop's currency (USD), exact to the cent: totals, current totals after
// refunds and refund amounts add up.
//
// The accessors (Shop, Locations, Products, Product, DeletedProducts, InventoryItems,
// InventoryLevels, Customers, Customer, Orders, Order, Metafields) return copies of the current
// state, which is what a consumer of every webhook and export must end up with. History and
// HistorySince return the changes; Subscribe (or WebhookSender.Follow) hears later ones.
// CustomerDataRequest, CustomerRedact, ShopRedact and AppUninstalled record those webhooks on
// request; Generate never sends them by itself.
//
// # Webhook payloads
//
// Change.Payload is the REST-shaped body (snake_case, numeric ids, money as strings with
// *_set {shop_money, presentment_money}, tags as a comma string, times in the shop's zone
// "2026-03-02T04:03:16-05:00") as of the change:
//
//   - orders/create, orders/updated, orders/paid, orders/fulfilled, orders/cancelled: the whole
//     order: id, admin_graphql_api_id, name, order_number, email, phone, contact_email,
//     created_at, updated_at, processed_at, cancelled_at, cancel_reason, closed_at,
//     financial_status, fulfillment_status, currency, presentment_currency, total_price,
//     subtotal_price, total_tax, total_discounts, total_line_items_price, current_* and their
//     *_set, total_shipping_price_set, tags, test, source_name, note, note_attributes,
//     browser_ip, client_details, landing_site, referring_site, order_status_url, customer
//     (with default_address), billing_address, shipping_address, discount_codes,
//     discount_applications, line_items (with tax_lines, discount_allocations, properties),
//     shipping_lines, fulfillments, refunds. Every order change also sends orders/updated;
//     an order paid at checkout sends orders/create and orders/paid.
//   - refunds/create: the refund with refund_line_items (each with its line_item) and
//     transactions.
//   - products/create, products/update: the product with variants, options, images, image,
//     variant_gids. products/delete: {"id": …}.
//   - inventory_levels/update: {inventory_item_id, location_id, available, updated_at,
//     admin_graphql_api_id "gid://shopify/InventoryLevel/<location_id>?inventory_item_id=<id>"}.
//   - bulk_operations/finish: {admin_graphql_api_id, completed_at, created_at, error_code,
//     status, type}, status and type lowercase, no URL.
//   - app/uninstalled: the Shop object. shop/redact: {shop_id, shop_domain}.
//     customers/redact and customers/data_request: {shop_id, shop_domain, customer {id, email,
//     phone}, orders_to_redact | orders_requested (+ data_request {id})}.
//
// # Delivering webhooks (WebhookSender)
//
// One WebhookSender is one subscription. Each request carries X-Shopify-Topic,
// X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the exact body under the app secret),
// X-Shopify-Shop-Domain, X-Shopify-API-Version, X-Shopify-Webhook-Id, X-Shopify-Event-Id,
// X-Shopify-Triggered-At and X-Shopify-Name, Content-Type application/json and User-Agent
// Shopify-Captain-Hook. Only a 2xx succeeds (a 3xx is a failure and is not followed); the
// default client gives 1 s to connect and 5 s in all. A failure is retried 8 times with
// exponential backoff ending 4 h after the first failure, on the sender's Clock, with the same
// body, Event-Id and Triggered-At; after the last the subscription is removed (every later
// change is Undelivered) unless KeepSubscription. Faults (each a rate, decided by Seed):
// Duplicate (the same Event-Id again, with the same or a new Webhook-Id), OutOfOrder (moved up
// to OutOfOrderWindow places later), Late (held back LateBy), Drop (never sent; the change is
// in the store's state all the same). Concurrency sends several at once. Two senders on one
// store are a fan-out to two subscriptions: the same Event-Ids, different Webhook-Ids.
//
// # The Admin API (AdminServer)
//
// AdminServer is an http.Handler for POST /admin/api/{version}/graphql.json (version YYYY-01,
// -04, -07, -10 or unstable; others 404) with X-Shopify-Access-Token (else 401 with Shopify's
// body). Bodies are JSON {query, variables, operationName} or application/graphql. Queries are
// parsed by a real GraphQL parser (operations, variables, aliases, fragments, inline
// fragments, block strings) and checked against the schema below: an unknown field or argument
// is an undefinedField / argumentNotAccepted error, as on Shopify.
//
// Every answer has extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus
// {maximumAvailable, currentlyAvailable, restoreRate}}. The bucket (default 1000 points, 50 per
// second on the Clock) is charged the requested cost (objects 1, connections 2 + first × node,
// scalars 0, mutations 10) and refunded the difference to the actual cost. A query that does
// not fit is answered {"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED",
// "documentation":"https://shopify.dev/api/usage/rate-limits"}}],"extensions":{"cost":{…,
// "actualQueryCost":null,…}}} with HTTP 200 or, with ThrottledStatus 429, with Retry-After; one
// above 1000 requested points is MAX_COST_EXCEEDED. FailNextRequests injects 5xx answers.
//
// Query root: products, productVariants, orders, customers, inventoryItems, locations, events
// (connections with first/last/after/before/reverse; query: and sortKey: where Shopify has
// them), product, productVariant, order, customer, inventoryItem, location, node, nodes, shop,
// currentBulkOperation(type:), and from 2026-01 bulkOperation(id:) and bulkOperations.
// Mutations: bulkOperationRunQuery(query:, groupObjects:), bulkOperationCancel(id:),
// metafieldsSet(metafields:), tagsAdd(id:, tags:), tagsRemove(id:, tags:).
// Types: Product, ProductVariant, ProductOption, InventoryItem, InventoryLevel (quantities(names:)
// with available/on_hand and zeros for the rest), Location, Order, LineItem, Refund,
// RefundLineItem, OrderTransaction, Fulfillment, Customer, MailingAddress, MoneyBag, MoneyV2
// (amount a decimal string), TaxLine, Metafield, Shop, BasicEvent, BulkOperation, the payloads
// and UserError (field, message: no code), BulkOperationUserError and MetafieldsSetUserError
// (field, message, code, elementIndex). Read schema.go for every field.
//
// The query: argument understands field:value terms joined by spaces or AND, quoted values, and
// >=, >, <=, < on times (RFC 3339, or a date in the shop's zone) and ids: updated_at,
// created_at, id, status, tag, ... per resource (search.go); unknown fields are ignored as
// Shopify ignores them; OR, NOT and free text are errors. events(query:) takes subject_type,
// action (create, destroy) and created_at: the way to find a products/delete that was lost.
//
// # Bulk operations
//
// bulkOperationRunQuery checks the query as Shopify does (one top-level connection, not
// node/nodes; at most 5 connections, nested at most 2 deep, none inside a list) and enforces the
// concurrency limit of the API version: one running query below 2026-01 (userError
// OPERATION_IN_PROGRESS, "A bulk query operation for this app and shop is already in progress:
// gid://…."), five from 2026-01 (LIMIT_REACHED). The status machine runs on the Clock:
// CREATED → RUNNING after Bulk.StartAfter, when the store is read (the result is the shop as it
// was then) → COMPLETED after Bulk.RunFor, or FAILED (FailNextBulkOperation: errorCode and a
// partialDataUrl holding the first fraction of the lines; also TIMEOUT when RunFor exceeds
// MaxRunTime) → EXPIRED after Bulk.URLTTL (default 7 days); bulkOperationCancel gives
// CANCELING → CANCELED. objectCount, rootObjectCount and fileSize are strings; objectCount grows
// while RUNNING; a COMPLETED operation with no objects has url null. With BulkFinishWebhook the
// store records bulk_operations/finish (completed, failed or canceled).
//
// The result is JSONL written to a file, one root object at a time, never whole in memory, and
// served at a separate signed URL (/bulk-operation-outputs/…?Expires=…&Signature=…, no access
// token; 403 SignatureDoesNotMatch when tampered, 400 ExpiredToken after expiry, Range
// supported). Lines carry exactly the fields the query selected, with GraphQL names, GIDs and
// money as {"amount":"49.00","currencyCode":"USD"} inside MoneyBags; every nested connection's
// items are lines of their own with "__parentId" (the parent's GID) last:
//
//	{"id":"gid://shopify/Product/8123456703439","title":"Recycled Cap","status":"ACTIVE","tags":["sale"],"updatedAt":"2026-03-02T09:00:00Z"}
//	{"id":"gid://shopify/ProductVariant/45012345603582","sku":"RC-OAT-0001","price":"38.95","inventoryQuantity":65,"__parentId":"gid://shopify/Product/8123456703439"}
//	{"id":"gid://shopify/Order/9007199300001099","name":"#1001","updatedAt":"…","displayFinancialStatus":"PAID","totalPriceSet":{"shopMoney":{"amount":"35.84","currencyCode":"USD"}}}
//	{"id":"gid://shopify/LineItem/14321098702607","quantity":1,"currentQuantity":1,"variant":{"id":"gid://shopify/ProductVariant/…"},"__parentId":"gid://shopify/Order/9007199300001099"}
//	{"id":"gid://shopify/InventoryLevel/65544149191?inventory_item_id=47111222301234","location":{"id":"gid://shopify/Location/65544149191"},"quantities":[{"name":"available","quantity":12}],"__parentId":"gid://shopify/InventoryItem/47111222301234"}
//
// With groupObjects true (the default before 2026-07) children follow their parent; with false
// the lines are shuffled within Bulk.ShuffleWindow, so a child can come before its parent.
// Bulk.NestedLimit truncates nested connections silently, as Shopify truncates some.
//
// # Writes
//
// metafieldsSet takes at most 25 inputs (more: MAX_INPUT_SIZE_EXCEEDED error), validates them
// all (owner, namespace 3–255 and key 2–64 of [A-Za-z0-9_-], type, value per type,
// compareDigest: the current digest, null for "must not exist", anything else STALE_OBJECT or
// INVALID_COMPARE_DIGEST; userErrors with field, code and elementIndex) and writes all or
// nothing. tagsAdd and tagsRemove take a list or a comma-separated string, are idempotent and
// case-sensitive, answer node: null with a UserError for a missing id. A write that changes
// something bumps the owner's updated_at and records its webhook: products/update for a product
// or a variant's product, orders/updated for an order (customers change silently); a write
// that changes nothing records nothing.
//
// # Not faithful (yet)
//
//   - One payload shape for every API version; X-Shopify-API-Version is only a header.
//   - A variant's inventory_quantity (REST and GraphQL) is the stock as of the product's last
//     write: stock moves change inventory levels and send inventory_levels/update only, never
//     products/update. Reconcile stock through InventoryLevels (inventoryItems exports).
//   - An inventory item's updatedAt includes its levels' changes, so inventoryItems(query:
//     "updated_at:>=…") finds moved stock; on Shopify that may not hold.
//   - A metafield or tag write bumps the product's updated_at with its products/update echo.
//   - Customers never change by themselves, and no customers/* webhooks besides the privacy
//     ones are sent; no fulfillments/*, inventory_items/*, or orders/delete either.
//   - No bulkOperationRunMutation, no REST Admin API, no webhookSubscriptions API, no
//     includeFields debounce, no HMAC secret rotation.
//   - Search syntax: no OR, NOT, grouping or free text; sortKeys ID, UPDATED_AT, CREATED_AT (and
//     TITLE, PROCESSED_AT where they exist).
//   - Error message wording follows public examples where known (throttling, cost cap, bulk
//     concurrency) and is illustrative elsewhere; codes follow Shopify's enums.
//   - Costs follow the published formula, not Shopify's exact per-field weights.
package shopifysim
