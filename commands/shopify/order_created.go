package shopify

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/storeline/storeline/events"
)

// orderPayload is the part of Shopify's REST-shaped order payload storeline types; the whole
// payload also travels as JSON in the event.
type orderPayload struct {
	ID                json.Number  `json:"id"`
	AdminGraphQLAPIID string       `json:"admin_graphql_api_id"`
	Name              string       `json:"name"`
	OrderNumber       json.Number  `json:"order_number"`
	Currency          string       `json:"currency"`
	TotalPrice        money        `json:"total_price"`
	SubtotalPrice     money        `json:"subtotal_price"`
	TotalTax          money        `json:"total_tax"`
	FinancialStatus   *string      `json:"financial_status"`
	FulfillmentStatus *string      `json:"fulfillment_status"`
	CreatedAt         string       `json:"created_at"`
	UpdatedAt         string       `json:"updated_at"`
	LineItems         []lineItemPL `json:"line_items"`
}

type lineItemPL struct {
	ID           json.Number  `json:"id"`
	ProductID    *json.Number `json:"product_id"`
	VariantID    *json.Number `json:"variant_id"`
	Title        string       `json:"title"`
	VariantTitle *string      `json:"variant_title"`
	SKU          *string      `json:"sku"`
	Quantity     int32        `json:"quantity"`
	Price        money        `json:"price"`
}

// OrderCreated translates an orders/create delivery.
func OrderCreated(d Delivery) (*events.OrderCreated, error) {
	var p orderPayload
	if err := decodeJSON(d.Body, &p); err != nil {
		return nil, err
	}
	if p.ID == "" {
		return nil, fmt.Errorf("%w: order has no id", ErrInvalidPayload)
	}
	orderID, err := id(p.ID, "id")
	if err != nil {
		return nil, err
	}
	gid := p.AdminGraphQLAPIID
	if gid == "" {
		gid = fmt.Sprintf("gid://shopify/Order/%d", orderID)
	}
	var number int64
	if p.OrderNumber != "" {
		if number, err = id(p.OrderNumber, "order_number"); err != nil {
			return nil, err
		}
	}
	created, err := timestamp(p.CreatedAt, "created_at")
	if err != nil {
		return nil, err
	}
	updated := created
	if p.UpdatedAt != "" {
		if updated, err = timestamp(p.UpdatedAt, "updated_at"); err != nil {
			return nil, err
		}
	}
	if p.Currency == "" {
		return nil, fmt.Errorf("%w: order has no currency", ErrInvalidPayload)
	}
	ev := &events.OrderCreated{
		Envelope:          d.envelope(events.TypeOrderCreated, "Order", gid, created),
		OrderID:           orderID,
		OrderGID:          gid,
		Name:              p.Name,
		OrderNumber:       number,
		Currency:          p.Currency,
		FinancialStatus:   p.FinancialStatus,
		FulfillmentStatus: p.FulfillmentStatus,
		CreatedAt:         created,
		UpdatedAt:         updated,
		LineItems:         make([]events.LineItem, 0, len(p.LineItems)),
	}
	if ev.TotalPrice, err = p.TotalPrice.rat("total_price"); err != nil {
		return nil, err
	}
	if ev.SubtotalPrice, err = p.SubtotalPrice.rat("subtotal_price"); err != nil {
		return nil, err
	}
	if ev.TotalTax, err = p.TotalTax.rat("total_tax"); err != nil {
		return nil, err
	}
	for i, li := range p.LineItems {
		item := events.LineItem{Title: li.Title, VariantTitle: li.VariantTitle, SKU: li.SKU, Quantity: li.Quantity}
		field := fmt.Sprintf("line_items[%d]", i)
		if item.LineItemID, err = id(li.ID, field+".id"); err != nil {
			return nil, err
		}
		if item.ProductID, err = optID(li.ProductID, field+".product_id"); err != nil {
			return nil, err
		}
		if item.VariantID, err = optID(li.VariantID, field+".variant_id"); err != nil {
			return nil, err
		}
		if item.Price, err = li.Price.rat(field + ".price"); err != nil {
			return nil, err
		}
		ev.LineItems = append(ev.LineItems, item)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, d.Body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	ev.PayloadJSON = compact.String()
	return ev, nil
}
