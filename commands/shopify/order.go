package shopify

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/storeline/storeline/events"
)

// orderPayload is the part of Shopify's REST-shaped order payload storeline types; the whole
// payload also travels as JSON in the event (personal data sealed apart).
type orderPayload struct {
	ID                  json.Number `json:"id"`
	AdminGraphQLAPIID   string      `json:"admin_graphql_api_id"`
	Name                string      `json:"name"`
	OrderNumber         json.Number `json:"order_number"`
	CreatedAt           string      `json:"created_at"`
	UpdatedAt           string      `json:"updated_at"`
	ProcessedAt         *string     `json:"processed_at"`
	CancelledAt         *string     `json:"cancelled_at"`
	CancelReason        *string     `json:"cancel_reason"`
	ClosedAt            *string     `json:"closed_at"`
	FinancialStatus     *string     `json:"financial_status"`
	FulfillmentStatus   *string     `json:"fulfillment_status"`
	Currency            string      `json:"currency"`
	PresentmentCurrency *string     `json:"presentment_currency"`
	TotalPrice          money       `json:"total_price"`
	SubtotalPrice       money       `json:"subtotal_price"`
	TotalTax            money       `json:"total_tax"`
	TotalDiscounts      money       `json:"total_discounts"`
	CurrentTotalPrice   *money      `json:"current_total_price"`
	TotalShippingSet    *priceSet   `json:"total_shipping_price_set"`
	TaxesIncluded       bool        `json:"taxes_included"`
	Test                bool        `json:"test"`
	Customer            *struct {
		ID json.Number `json:"id"`
	} `json:"customer"`
	SourceName    *string `json:"source_name"`
	Tags          string  `json:"tags"`
	DiscountCodes []struct {
		Code string `json:"code"`
	} `json:"discount_codes"`
	LineItems []lineItemPL `json:"line_items"`
}

type priceSet struct {
	ShopMoney struct {
		Amount money `json:"amount"`
	} `json:"shop_money"`
}

type lineItemPL struct {
	ID                json.Number  `json:"id"`
	AdminGraphQLAPIID string       `json:"admin_graphql_api_id"`
	ProductID         *json.Number `json:"product_id"`
	VariantID         *json.Number `json:"variant_id"`
	Title             string       `json:"title"`
	VariantTitle      *string      `json:"variant_title"`
	SKU               *string      `json:"sku"`
	Vendor            *string      `json:"vendor"`
	Quantity          int32        `json:"quantity"`
	CurrentQuantity   *int32       `json:"current_quantity"`
	Price             money        `json:"price"`
	TotalDiscount     money        `json:"total_discount"`
	RequiresShipping  *bool        `json:"requires_shipping"`
	Taxable           *bool        `json:"taxable"`
	GiftCard          bool         `json:"gift_card"`
}

// parseOrder types an order payload into the Order record every order event carries.
func parseOrder(body []byte) (events.Order, error) {
	var p orderPayload
	if err := decodeJSON(body, &p); err != nil {
		return events.Order{}, err
	}
	if p.ID == "" {
		return events.Order{}, fmt.Errorf("%w: order has no id", ErrInvalidPayload)
	}
	if p.Currency == "" {
		return events.Order{}, fmt.Errorf("%w: order has no currency", ErrInvalidPayload)
	}
	c := converter{currency: p.Currency}
	o := events.Order{
		OrderID:             c.id(p.ID, "id"),
		Name:                p.Name,
		CreatedAt:           c.time(p.CreatedAt, "created_at"),
		ProcessedAt:         c.optTime(p.ProcessedAt, "processed_at"),
		CancelledAt:         c.optTime(p.CancelledAt, "cancelled_at"),
		CancelReason:        p.CancelReason,
		ClosedAt:            c.optTime(p.ClosedAt, "closed_at"),
		FinancialStatus:     p.FinancialStatus,
		FulfillmentStatus:   p.FulfillmentStatus,
		Currency:            p.Currency,
		PresentmentCurrency: p.PresentmentCurrency,
		TotalPrice:          c.money(p.TotalPrice, "total_price"),
		SubtotalPrice:       c.money(p.SubtotalPrice, "subtotal_price"),
		TotalTax:            c.money(p.TotalTax, "total_tax"),
		TotalDiscounts:      c.money(p.TotalDiscounts, "total_discounts"),
		TaxesIncluded:       p.TaxesIncluded,
		Test:                p.Test,
		SourceName:          p.SourceName,
		Tags:                splitTags(p.Tags),
		DiscountCodes:       []string{},
		LineItems:           make([]events.OrderLineItem, 0, len(p.LineItems)),
	}
	o.OrderGID = gidOr(p.AdminGraphQLAPIID, "Order", o.OrderID)
	if p.OrderNumber != "" {
		o.OrderNumber = c.id(p.OrderNumber, "order_number")
	}
	o.UpdatedAt = o.CreatedAt
	if p.UpdatedAt != "" {
		o.UpdatedAt = c.time(p.UpdatedAt, "updated_at")
	}
	if p.CurrentTotalPrice != nil {
		m := c.money(*p.CurrentTotalPrice, "current_total_price")
		o.CurrentTotalPrice = &m
	}
	if p.TotalShippingSet != nil {
		m := c.money(p.TotalShippingSet.ShopMoney.Amount, "total_shipping_price_set")
		o.TotalShipping = &m
	}
	if p.Customer != nil && p.Customer.ID != "" {
		cid := c.id(p.Customer.ID, "customer.id")
		o.CustomerID, o.CustomerGID = &cid, ptr(fmt.Sprintf("gid://shopify/Customer/%d", cid))
	}
	for _, dc := range p.DiscountCodes {
		o.DiscountCodes = append(o.DiscountCodes, dc.Code)
	}
	for i, li := range p.LineItems {
		field := fmt.Sprintf("line_items[%d]", i)
		item := events.OrderLineItem{
			LineItemID:       c.id(li.ID, field+".id"),
			ProductID:        c.optID(li.ProductID, field+".product_id"),
			VariantID:        c.optID(li.VariantID, field+".variant_id"),
			Title:            li.Title,
			VariantTitle:     li.VariantTitle,
			SKU:              li.SKU,
			Vendor:           li.Vendor,
			Quantity:         li.Quantity,
			CurrentQuantity:  li.CurrentQuantity,
			Price:            c.money(li.Price, field+".price"),
			TotalDiscount:    c.money(li.TotalDiscount, field+".total_discount"),
			RequiresShipping: li.RequiresShipping == nil || *li.RequiresShipping,
			Taxable:          li.Taxable == nil || *li.Taxable,
			GiftCard:         li.GiftCard,
		}
		item.LineItemGID = gidOr(li.AdminGraphQLAPIID, "LineItem", item.LineItemID)
		if item.ProductID != nil {
			item.ProductGID = ptr(fmt.Sprintf("gid://shopify/Product/%d", *item.ProductID))
		}
		if item.VariantID != nil {
			item.VariantGID = ptr(fmt.Sprintf("gid://shopify/ProductVariant/%d", *item.VariantID))
		}
		o.LineItems = append(o.LineItems, item)
	}
	return o, c.err
}

// splitTags splits Shopify's comma-separated tags ("a, b") into a list.
func splitTags(s string) []string {
	tags := []string{}
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

func gidOr(gid, resource string, id int64) string {
	if gid != "" {
		return gid
	}
	return fmt.Sprintf("gid://shopify/%s/%d", resource, id)
}
