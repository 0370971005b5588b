package shopify

import (
	"fmt"
	"strings"
	"time"
)

// Resources a bulk sync exports, as recorded in envelope.source_topic of the snapshot events
// and in the sync topic's events.
const (
	BulkResourceProducts = "products"
	BulkResourceOrders   = "orders"
	// BulkResourceInventory exports inventory items with their levels (BulkQueryInventory).
	BulkResourceInventory = "inventory"
)

// BulkQueryProducts returns the bulkOperationRunQuery query that exports products with their
// variants updated at or after since (every product when since is zero). Its JSONL result is
// what TranslateBulkRow reads: a product row per product, and a ProductVariant row per variant
// with __parentId the product's GID (Shopify flattens the variants connection). The selection
// is the contract between the bulk sync, the Shopify simulator and the translators:
//
//   - product: id title handle vendor productType status tags createdAt updatedAt publishedAt,
//     options { id name position values }, featuredMedia { preview { image { url } } };
//   - variant: id title sku barcode price (a bare amount: the shop's currency is not in the
//     row) compareAtPrice position inventoryQuantity inventoryPolicy taxable
//     selectedOptions { name value } (option1..3, in the product's option order) createdAt
//     updatedAt, inventoryItem { id requiresShipping unitCost { amount currencyCode }
//     measurement { weight { unit value } } }.
//
// Two connections, nested two deep: within Shopify's limits for bulk queries.
func BulkQueryProducts(since time.Time) string {
	return strings.Replace(bulkProducts, "products {", "products"+bulkFilter(since)+" {", 1)
}

// BulkQueryOrders returns the bulkOperationRunQuery query that exports orders with their line
// items updated at or after since (every order when since is zero). Its JSONL result is an
// Order row per order and a LineItem row per line with __parentId the order's GID. Money is
// asked for as *Set { shopMoney { amount currencyCode } }, the shop's currency. The customer is
// asked for by id only, and nothing else personal (no email, phone, note, addresses, custom
// attributes, tracking numbers): a row may still carry some (a changed query, a simulator), so
// TranslateBulkRow seals what it finds. Selection:
//
//   - order: id name number createdAt updatedAt processedAt cancelledAt cancelReason closedAt
//     displayFinancialStatus displayFulfillmentStatus currencyCode presentmentCurrencyCode
//     totalPriceSet subtotalPriceSet totalTaxSet totalDiscountsSet totalShippingPriceSet
//     currentTotalPriceSet currentSubtotalPriceSet currentTotalTaxSet currentTotalDiscountsSet
//     taxesIncluded test customer { id } sourceName tags discountCodes paymentGatewayNames
//     retailLocation { id }, fulfillments { id name status displayStatus createdAt updatedAt
//     location { id } service { handle } trackingInfo { company } } (a list, not a
//     connection: its fulfillmentLineItems cannot be asked for in a bulk query);
//   - line item: id title variantTitle sku vendor quantity currentQuantity unfulfilledQuantity
//     requiresShipping taxable isGiftCard product { id } variant { id } originalUnitPriceSet
//     totalDiscountSet taxLines { priceSet }.
func BulkQueryOrders(since time.Time) string {
	return strings.Replace(bulkOrders, "orders {", "orders"+bulkFilter(since)+" {", 1)
}

// BulkQueryInventory returns the bulkOperationRunQuery query that exports inventory items
// updated at or after since (every item when since is zero) with their inventory levels. Its
// JSONL result is an InventoryItem row per item (id updatedAt: it records nothing) and an
// InventoryLevel row per level with __parentId the item's GID. Selection:
//
//   - inventory item: id updatedAt;
//   - inventory level: id location { id } quantities(names: ["available"]) { name quantity }
//     updatedAt.
//
// The root is inventoryItems, not locations { inventoryLevels(query:) }: an item's updated_at
// moves with its levels' (as in the Shopify simulator; on Shopify, inventory_items/update
// fires on quantity changes), so the item filter finds moved stock and the export stays one
// connection deep under its root, the way the products and orders exports are.
func BulkQueryInventory(since time.Time) string {
	return strings.Replace(bulkInventory, "inventoryItems {", "inventoryItems"+bulkFilter(since)+" {", 1)
}

// bulkFilter is the connection's search argument: updated_at:>= since, to the second, rounded
// down so that nothing stamped within since's second is missed.
func bulkFilter(since time.Time) string {
	if since.IsZero() {
		return ""
	}
	return `(query: "updated_at:>='` + since.UTC().Truncate(time.Second).Format(time.RFC3339) + `'")`
}

const shopMoney = "{ shopMoney { amount currencyCode } }"

const bulkProducts = `{
  products {
    edges {
      node {
        id
        title
        handle
        vendor
        productType
        status
        tags
        createdAt
        updatedAt
        publishedAt
        options { id name position values }
        featuredMedia { preview { image { url } } }
        variants {
          edges {
            node {
              id
              title
              sku
              barcode
              price
              compareAtPrice
              position
              inventoryQuantity
              inventoryPolicy
              taxable
              selectedOptions { name value }
              createdAt
              updatedAt
              inventoryItem {
                id
                requiresShipping
                unitCost { amount currencyCode }
                measurement { weight { unit value } }
              }
            }
          }
        }
      }
    }
  }
}`

const bulkInventory = `{
  inventoryItems {
    edges {
      node {
        id
        updatedAt
        inventoryLevels {
          edges {
            node {
              id
              location { id }
              quantities(names: ["available"]) { name quantity }
              updatedAt
            }
          }
        }
      }
    }
  }
}`

const bulkOrders = `{
  orders {
    edges {
      node {
        id
        name
        number
        createdAt
        updatedAt
        processedAt
        cancelledAt
        cancelReason
        closedAt
        displayFinancialStatus
        displayFulfillmentStatus
        currencyCode
        presentmentCurrencyCode
        totalPriceSet ` + shopMoney + `
        subtotalPriceSet ` + shopMoney + `
        totalTaxSet ` + shopMoney + `
        totalDiscountsSet ` + shopMoney + `
        totalShippingPriceSet ` + shopMoney + `
        currentTotalPriceSet ` + shopMoney + `
        currentSubtotalPriceSet ` + shopMoney + `
        currentTotalTaxSet ` + shopMoney + `
        currentTotalDiscountsSet ` + shopMoney + `
        taxesIncluded
        test
        customer { id }
        sourceName
        tags
        discountCodes
        paymentGatewayNames
        retailLocation { id }
        fulfillments {
          id
          name
          status
          displayStatus
          createdAt
          updatedAt
          location { id }
          service { handle }
          trackingInfo { company }
        }
        lineItems {
          edges {
            node {
              id
              title
              variantTitle
              sku
              vendor
              quantity
              currentQuantity
              unfulfilledQuantity
              requiresShipping
              taxable
              isGiftCard
              product { id }
              variant { id }
              originalUnitPriceSet ` + shopMoney + `
              totalDiscountSet ` + shopMoney + `
              taxLines { priceSet ` + shopMoney + ` }
            }
          }
        }
      }
    }
  }
}`

// BulkQuery returns the bulk query of a resource (BulkResourceProducts, BulkResourceOrders or
// BulkResourceInventory) for what changed since since (zero: everything).
func BulkQuery(resource string, since time.Time) (string, error) {
	switch resource {
	case BulkResourceProducts:
		return BulkQueryProducts(since), nil
	case BulkResourceOrders:
		return BulkQueryOrders(since), nil
	case BulkResourceInventory:
		return BulkQueryInventory(since), nil
	}
	return "", fmt.Errorf("shopify: no bulk query for resource %q (products, orders, inventory)", resource)
}
