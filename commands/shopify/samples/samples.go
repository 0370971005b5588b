// Package samples holds example Shopify webhook payloads: `make run` prints a signed request with
// one, and tests start from them.
package samples

import _ "embed"

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
