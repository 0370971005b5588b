// Package samples holds example Shopify webhook payloads: `make run` prints a signed request with
// one, and tests start from them.
package samples

import _ "embed"

// OrdersCreate is an orders/create payload as Shopify sends it (REST-shaped JSON).
//
//go:embed orders_create.json
var OrdersCreate []byte
