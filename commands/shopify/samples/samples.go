// Package samples holds example Shopify payloads: `make run` prints a signed request with one,
// and tests start from them. Webhook bodies are REST-shaped JSON as Shopify sends them; the
// bulk samples are JSONL results of shopify.BulkQueryProducts, shopify.BulkQueryOrders and
// shopify.BulkQueryInventory.
package samples

import (
	"bytes"
	_ "embed"
)

// OrdersCreate is an orders/create payload as Shopify sends it (REST-shaped JSON).
//
//go:embed orders_create.json
var OrdersCreate []byte

// OrdersCreateWithCustomer is an orders/create payload of a known customer, full of personal
// data (names, email, phone, addresses, browser IP, note): what must never reach a topic.
//
//go:embed orders_create_customer.json
var OrdersCreateWithCustomer []byte

// PersonalStrings are personal values OrdersCreateWithCustomer holds, for tests to look for.
var PersonalStrings = []string{"jane.doe@example.com", "Janeth", "+4915550123456", "203.0.113.77", "Kastanienallee 12"}

var (
	//go:embed orders_updated.json
	ordersUpdated []byte
	//go:embed orders_cancelled.json
	ordersCancelled []byte
	//go:embed orders_fulfilled.json
	ordersFulfilled []byte
	//go:embed orders_paid.json
	ordersPaid []byte
	//go:embed refunds_create.json
	refundsCreate []byte
	//go:embed products_create.json
	productsCreate []byte
	//go:embed products_update.json
	productsUpdate []byte
	//go:embed products_delete.json
	productsDelete []byte
	//go:embed inventory_levels_update.json
	inventoryLevelsUpdate []byte
	//go:embed app_uninstalled.json
	appUninstalled []byte
	//go:embed customers_data_request.json
	customersDataRequest []byte
	//go:embed customers_redact.json
	customersRedact []byte
	//go:embed shop_redact.json
	shopRedact []byte
	//go:embed bulk_operations_finish.json
	bulkOperationsFinish []byte
)

// Webhook is a sample delivery body of one topic, with the personal values it holds (for tests
// that look for them in what reaches a topic).
type Webhook struct {
	Topic    string
	Body     []byte
	Personal []string
}

// Webhooks has a realistic body for every webhook topic storeline takes.
var Webhooks = []Webhook{
	{"orders/create", OrdersCreateWithCustomer, PersonalStrings},
	{"orders/updated", ordersUpdated, append([]string{"RM443322110GB"}, orderPersonal...)},
	{"orders/cancelled", ordersCancelled, []string{"guest.gustavo@example.com", "Guestman", "77 Elm Street", "203.0.113.9", "555-0188", "Mama Guestman"}},
	{"orders/fulfilled", ordersFulfilled, append([]string{"JJD1122334455", "RM443322110GB"}, orderPersonal...)},
	{"orders/paid", ordersPaid, orderPersonal},
	{"refunds/create", refundsCreate, []string{"Olivia Quarrington", "OLIVIA QUARRINGTON", "4242"}},
	{"products/create", productsCreate, nil},
	{"products/update", productsUpdate, nil},
	{"products/delete", productsDelete, nil},
	{"inventory_levels/update", inventoryLevelsUpdate, nil},
	{"app/uninstalled", appUninstalled, []string{"owner.olga@example.com", "hello.olga@example.com", "Olga Ownerova", "+16135550111", "1 Owner Lane", "K2P 1L4"}},
	{"customers/data_request", customersDataRequest, []string{"john.redact@example.com", "555-625-1199"}},
	{"customers/redact", customersRedact, []string{"john.redact@example.com", "555-625-1199"}},
	{"shop/redact", shopRedact, nil},
	{"bulk_operations/finish", bulkOperationsFinish, nil},
}

// orderPersonal are the personal values of the orders/updated, orders/paid and orders/fulfilled
// samples (one customer's order at three moments), tracking numbers aside.
var orderPersonal = []string{"olivia.quarrington@example.com", "Quarrington", "+447700900123", "198.51.100.23", "14 Wharf Road", "BS1 4RN", "O.Q.", "concierge"}

// WebhookBody returns the sample body of topic, nil when there is none.
func WebhookBody(topic string) []byte {
	for _, w := range Webhooks {
		if w.Topic == topic {
			return w.Body
		}
	}
	return nil
}

var (
	//go:embed bulk_products.jsonl
	bulkProducts []byte
	//go:embed bulk_orders.jsonl
	bulkOrders []byte
	//go:embed bulk_inventory.jsonl
	bulkInventory []byte
)

// BulkInventory are the lines of an inventory-items-with-levels bulk result
// (shopify.BulkQueryInventory): item rows, and level rows with __parentId the item's GID.
func BulkInventory() [][]byte { return lines(bulkInventory) }

// BulkProducts are the lines of a products-with-variants bulk result (shopify.BulkQueryProducts).
func BulkProducts() [][]byte { return lines(bulkProducts) }

// BulkOrders are the lines of an orders-with-line-items bulk result (shopify.BulkQueryOrders).
func BulkOrders() [][]byte { return lines(bulkOrders) }

func lines(b []byte) [][]byte {
	var out [][]byte
	for l := range bytes.Lines(b) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			out = append(out, bytes.Clone(l))
		}
	}
	return out
}
