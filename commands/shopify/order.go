package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/storeline/storeline/events"
)

// orderPayload is the part of Shopify's REST-shaped order payload (orders/* webhooks) storeline
// types; the whole payload also travels as JSON in the event (personal data sealed apart).
type orderPayload struct {
	ID                       json.Number `json:"id"`
	Name                     string      `json:"name"`
	OrderNumber              json.Number `json:"order_number"`
	CreatedAt                string      `json:"created_at"`
	UpdatedAt                string      `json:"updated_at"`
	ProcessedAt              *string     `json:"processed_at"`
	CancelledAt              *string     `json:"cancelled_at"`
	CancelReason             *string     `json:"cancel_reason"`
	ClosedAt                 *string     `json:"closed_at"`
	FinancialStatus          *string     `json:"financial_status"`
	FulfillmentStatus        *string     `json:"fulfillment_status"`
	Currency                 string      `json:"currency"`
	PresentmentCurrency      *string     `json:"presentment_currency"`
	TotalPrice               money       `json:"total_price"`
	TotalPriceSet            *moneySet   `json:"total_price_set"`
	SubtotalPrice            money       `json:"subtotal_price"`
	SubtotalPriceSet         *moneySet   `json:"subtotal_price_set"`
	TotalTax                 money       `json:"total_tax"`
	TotalTaxSet              *moneySet   `json:"total_tax_set"`
	TotalDiscounts           money       `json:"total_discounts"`
	TotalDiscountsSet        *moneySet   `json:"total_discounts_set"`
	TotalShippingSet         *moneySet   `json:"total_shipping_price_set"`
	TotalLineItemsPrice      *money      `json:"total_line_items_price"`
	TotalLineItemsPriceSet   *moneySet   `json:"total_line_items_price_set"`
	CurrentTotalPrice        *money      `json:"current_total_price"`
	CurrentTotalPriceSet     *moneySet   `json:"current_total_price_set"`
	CurrentSubtotalPrice     *money      `json:"current_subtotal_price"`
	CurrentSubtotalPriceSet  *moneySet   `json:"current_subtotal_price_set"`
	CurrentTotalTax          *money      `json:"current_total_tax"`
	CurrentTotalTaxSet       *moneySet   `json:"current_total_tax_set"`
	CurrentTotalDiscounts    *money      `json:"current_total_discounts"`
	CurrentTotalDiscountsSet *moneySet   `json:"current_total_discounts_set"`
	TaxesIncluded            bool        `json:"taxes_included"`
	Test                     bool        `json:"test"`
	Customer                 *struct {
		ID json.Number `json:"id"`
	} `json:"customer"`
	SourceName    *string `json:"source_name"`
	Tags          string  `json:"tags"`
	DiscountCodes []struct {
		Code string `json:"code"`
	} `json:"discount_codes"`
	PaymentGatewayNames []string        `json:"payment_gateway_names"`
	LocationID          *json.Number    `json:"location_id"`
	LineItems           []lineItemPL    `json:"line_items"`
	Fulfillments        []fulfillmentPL `json:"fulfillments"`
}

type lineItemPL struct {
	ID                  json.Number  `json:"id"`
	ProductID           *json.Number `json:"product_id"`
	VariantID           *json.Number `json:"variant_id"`
	Title               string       `json:"title"`
	VariantTitle        *string      `json:"variant_title"`
	SKU                 *string      `json:"sku"`
	Vendor              *string      `json:"vendor"`
	Quantity            int32        `json:"quantity"`
	CurrentQuantity     *int32       `json:"current_quantity"`
	Price               money        `json:"price"`
	PriceSet            *moneySet    `json:"price_set"`
	TotalDiscount       money        `json:"total_discount"`
	TotalDiscountSet    *moneySet    `json:"total_discount_set"`
	RequiresShipping    *bool        `json:"requires_shipping"`
	Taxable             *bool        `json:"taxable"`
	GiftCard            bool         `json:"gift_card"`
	FulfillableQuantity *int32       `json:"fulfillable_quantity"`
	FulfillmentStatus   *string      `json:"fulfillment_status"`
	TaxLines            *[]struct {
		Price    money     `json:"price"`
		PriceSet *moneySet `json:"price_set"`
	} `json:"tax_lines"`
}

type fulfillmentPL struct {
	ID              json.Number  `json:"id"`
	Name            *string      `json:"name"`
	Status          string       `json:"status"`
	ShipmentStatus  *string      `json:"shipment_status"`
	CreatedAt       string       `json:"created_at"`
	UpdatedAt       string       `json:"updated_at"`
	LocationID      *json.Number `json:"location_id"`
	Service         *string      `json:"service"`
	TrackingCompany *string      `json:"tracking_company"`
	LineItems       []struct {
		ID       json.Number `json:"id"`
		Quantity int32       `json:"quantity"`
	} `json:"line_items"`
}

// parseOrder types an order payload into the Order record every order event carries. Ids are
// rebuilt from the numeric ids (never taken from admin_graphql_api_id), so the key is always
// gid://shopify/Order/<id>. Amounts come from the *_set shop_money when the payload has it,
// else from the bare amount, which REST gives in the shop currency (currency).
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
		OrderID:               c.id(p.ID, "id"),
		Name:                  p.Name,
		CreatedAt:             c.time(p.CreatedAt, "created_at"),
		ProcessedAt:           c.optTime(p.ProcessedAt, "processed_at"),
		CancelledAt:           c.optTime(p.CancelledAt, "cancelled_at"),
		CancelReason:          nonEmpty(p.CancelReason),
		ClosedAt:              c.optTime(p.ClosedAt, "closed_at"),
		FinancialStatus:       lower(nonEmpty(p.FinancialStatus)),
		FulfillmentStatus:     lower(nonEmpty(p.FulfillmentStatus)),
		Currency:              p.Currency,
		PresentmentCurrency:   nonEmpty(p.PresentmentCurrency),
		TotalPrice:            c.setOr(p.TotalPriceSet, p.TotalPrice, "total_price"),
		SubtotalPrice:         c.setOr(p.SubtotalPriceSet, p.SubtotalPrice, "subtotal_price"),
		TotalTax:              c.setOr(p.TotalTaxSet, p.TotalTax, "total_tax"),
		TotalDiscounts:        c.setOr(p.TotalDiscountsSet, p.TotalDiscounts, "total_discounts"),
		TotalShipping:         c.optSetOr(p.TotalShippingSet, nil, "total_shipping_price"),
		CurrentTotalPrice:     c.optSetOr(p.CurrentTotalPriceSet, p.CurrentTotalPrice, "current_total_price"),
		TotalLineItemsPrice:   c.optSetOr(p.TotalLineItemsPriceSet, p.TotalLineItemsPrice, "total_line_items_price"),
		CurrentSubtotalPrice:  c.optSetOr(p.CurrentSubtotalPriceSet, p.CurrentSubtotalPrice, "current_subtotal_price"),
		CurrentTotalTax:       c.optSetOr(p.CurrentTotalTaxSet, p.CurrentTotalTax, "current_total_tax"),
		CurrentTotalDiscounts: c.optSetOr(p.CurrentTotalDiscountsSet, p.CurrentTotalDiscounts, "current_total_discounts"),
		TaxesIncluded:         p.TaxesIncluded,
		Test:                  p.Test,
		SourceName:            p.SourceName,
		Tags:                  splitTags(p.Tags),
		DiscountCodes:         []string{},
		PaymentGatewayNames:   nonNil(p.PaymentGatewayNames),
		LocationID:            c.optID(p.LocationID, "location_id"),
		LineItems:             make([]events.OrderLineItem, 0, len(p.LineItems)),
		Fulfillments:          make([]events.OrderFulfillment, 0, len(p.Fulfillments)),
	}
	if !validCurrency(o.Currency) {
		c.fail("currency %q is not an ISO 4217 code", truncateForError(o.Currency))
	}
	o.OrderGID = gid("Order", o.OrderID)
	o.LocationGID = optGID("Location", o.LocationID)
	if p.OrderNumber != "" {
		o.OrderNumber = c.id(p.OrderNumber, "order_number")
	}
	o.UpdatedAt = c.timeOr(p.UpdatedAt, o.CreatedAt, "updated_at")
	if p.Customer != nil && p.Customer.ID != "" {
		cid := c.id(p.Customer.ID, "customer.id")
		o.CustomerID, o.CustomerGID = &cid, ptr(gid("Customer", cid))
	}
	for _, dc := range p.DiscountCodes {
		o.DiscountCodes = append(o.DiscountCodes, dc.Code)
	}
	for i, li := range p.LineItems {
		o.LineItems = append(o.LineItems, c.lineItem(li, fmt.Sprintf("line_items[%d]", i)))
	}
	for i, f := range p.Fulfillments {
		o.Fulfillments = append(o.Fulfillments, c.fulfillment(f, fmt.Sprintf("fulfillments[%d]", i)))
	}
	return o, c.err
}

func (c *converter) lineItem(li lineItemPL, field string) events.OrderLineItem {
	item := events.OrderLineItem{
		LineItemID:          c.requiredID(li.ID, field+".id"),
		ProductID:           c.optID(li.ProductID, field+".product_id"),
		VariantID:           c.optID(li.VariantID, field+".variant_id"),
		Title:               li.Title,
		VariantTitle:        li.VariantTitle,
		SKU:                 li.SKU,
		Vendor:              li.Vendor,
		Quantity:            li.Quantity,
		CurrentQuantity:     li.CurrentQuantity,
		Price:               c.setOr(li.PriceSet, li.Price, field+".price"),
		TotalDiscount:       c.setOr(li.TotalDiscountSet, li.TotalDiscount, field+".total_discount"),
		RequiresShipping:    li.RequiresShipping == nil || *li.RequiresShipping,
		Taxable:             li.Taxable == nil || *li.Taxable,
		GiftCard:            li.GiftCard,
		FulfillableQuantity: li.FulfillableQuantity,
		FulfillmentStatus:   lower(nonEmpty(li.FulfillmentStatus)),
	}
	item.LineItemGID = gid("LineItem", item.LineItemID)
	item.ProductGID = optGID("Product", item.ProductID)
	item.VariantGID = optGID("ProductVariant", item.VariantID)
	if li.TaxLines != nil {
		var sum events.Money
		for i, tl := range *li.TaxLines {
			m := c.setOr(tl.PriceSet, tl.Price, fmt.Sprintf("%s.tax_lines[%d].price", field, i))
			sum = c.add(sum, m, field+".tax_lines")
		}
		if sum.Amount == nil {
			sum = c.money("", field+".tax_lines")
		}
		item.TotalTax = &sum
	}
	return item
}

// add sums two amounts of one currency, refusing a sum the Money decimal cannot hold. A zero
// Money (nil amount) is the empty sum.
func (c *converter) add(a, b events.Money, field string) events.Money {
	if a.Amount == nil {
		return b
	}
	if a.CurrencyCode != b.CurrencyCode {
		c.fail("%s: amounts in %q and %q cannot be added", field, a.CurrencyCode, b.CurrencyCode)
		return a
	}
	sum := new(big.Rat).Add(a.Amount, b.Amount)
	if _, ok := parseDecimal(sum.FloatString(4)); !ok {
		c.fail("%s: the sum %s does not fit an amount", field, sum.FloatString(4))
		return a
	}
	return events.Money{Amount: sum, CurrencyCode: a.CurrencyCode}
}

// fulfillment types a fulfillment of an order. Its tracking numbers and URLs stay out of the
// typed fields: a tracking number looks the parcel up at the carrier, with the delivery address
// and the recipient's name, so package pii seals them with the event's personal data
// (pii/README.md). tracking_company, status and the lines stay.
func (c *converter) fulfillment(f fulfillmentPL, field string) events.OrderFulfillment {
	out := events.OrderFulfillment{
		FulfillmentID:   c.requiredID(f.ID, field+".id"),
		Name:            nonEmpty(f.Name),
		Status:          strings.ToLower(f.Status),
		ShipmentStatus:  lower(nonEmpty(f.ShipmentStatus)),
		CreatedAt:       c.time(f.CreatedAt, field+".created_at"),
		LocationID:      c.optID(f.LocationID, field+".location_id"),
		Service:         nonEmpty(f.Service),
		TrackingCompany: nonEmpty(f.TrackingCompany),
		TrackingNumbers: []string{},
		TrackingUrls:    []string{},
		LineItems:       make([]events.OrderFulfillmentLineItem, 0, len(f.LineItems)),
	}
	out.FulfillmentGID = gid("Fulfillment", out.FulfillmentID)
	out.LocationGID = optGID("Location", out.LocationID)
	out.UpdatedAt = c.timeOr(f.UpdatedAt, out.CreatedAt, field+".updated_at")
	for i, li := range f.LineItems {
		id := c.requiredID(li.ID, fmt.Sprintf("%s.line_items[%d].id", field, i))
		out.LineItems = append(out.LineItems, events.OrderFulfillmentLineItem{LineItemID: id, LineItemGID: gid("LineItem", id), Quantity: li.Quantity})
	}
	return out
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

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// orderEvent is what the order translators share: the typed order, its envelope, and its
// payload with the personal data sealed.
type orderEvent struct {
	envelope     events.Envelope
	order        events.Order
	payloadJSON  string
	personalData *events.SealedPersonalData
}

// parseOrderEvent parses an orders/* delivery and seals it. occurredAt picks the envelope's
// occurred_at from the order, as the event's schema says.
func parseOrderEvent(ctx context.Context, d Delivery, seal Sealer, eventType string, occurredAt func(events.Order) time.Time) (orderEvent, error) {
	o, err := parseOrder(d.Body)
	if err != nil {
		return orderEvent{}, err
	}
	ev := orderEvent{envelope: d.envelope(eventType, "Order", o.OrderGID, occurredAt(o)), order: o}
	ev.payloadJSON, ev.personalData, err = d.seal(ctx, seal, ev.envelope.EventID)
	return ev, err
}
