package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/storeline/storeline/events"
)

// refundPayload is the part of Shopify's refunds/create payload storeline types.
type refundPayload struct {
	ID              json.Number `json:"id"`
	OrderID         json.Number `json:"order_id"`
	CreatedAt       string      `json:"created_at"`
	ProcessedAt     *string     `json:"processed_at"`
	Restock         *bool       `json:"restock"`
	RefundLineItems []struct {
		ID          json.Number  `json:"id"`
		LineItemID  json.Number  `json:"line_item_id"`
		Quantity    int32        `json:"quantity"`
		RestockType string       `json:"restock_type"`
		LocationID  *json.Number `json:"location_id"`
		Subtotal    money        `json:"subtotal"`
		SubtotalSet *moneySet    `json:"subtotal_set"`
		TotalTax    money        `json:"total_tax"`
		TotalTaxSet *moneySet    `json:"total_tax_set"`
		LineItem    *struct {
			ProductID *json.Number `json:"product_id"`
			VariantID *json.Number `json:"variant_id"`
		} `json:"line_item"`
	} `json:"refund_line_items"`
	Transactions []struct {
		ID          json.Number  `json:"id"`
		ParentID    *json.Number `json:"parent_id"`
		Kind        string       `json:"kind"`
		Status      string       `json:"status"`
		Gateway     *string      `json:"gateway"`
		Amount      money        `json:"amount"`
		Currency    string       `json:"currency"`
		CreatedAt   string       `json:"created_at"`
		ProcessedAt *string      `json:"processed_at"`
		Test        bool         `json:"test"`
		ErrorCode   *string      `json:"error_code"`
	} `json:"transactions"`
	OrderAdjustments []struct {
		ID           json.Number `json:"id"`
		Kind         string      `json:"kind"`
		Reason       *string     `json:"reason"`
		Amount       money       `json:"amount"`
		AmountSet    *moneySet   `json:"amount_set"`
		TaxAmount    money       `json:"tax_amount"`
		TaxAmountSet *moneySet   `json:"tax_amount_set"`
	} `json:"order_adjustments"`
}

// shopCurrency is the currency of the refund's shop_money sets, "" when it has none: a refund
// does not name its shop's currency otherwise.
func (p *refundPayload) shopCurrency() string {
	for _, li := range p.RefundLineItems {
		for _, s := range []*moneySet{li.SubtotalSet, li.TotalTaxSet} {
			if s != nil && s.ShopMoney != nil && s.ShopMoney.CurrencyCode != "" {
				return s.ShopMoney.CurrencyCode
			}
		}
	}
	for _, a := range p.OrderAdjustments {
		for _, s := range []*moneySet{a.AmountSet, a.TaxAmountSet} {
			if s != nil && s.ShopMoney != nil && s.ShopMoney.CurrencyCode != "" {
				return s.ShopMoney.CurrencyCode
			}
		}
	}
	return ""
}

// RefundCreated translates a refunds/create delivery. The event is keyed by the refunded
// order's GID, so it shares the order's partition; occurred_at is the refund's created_at.
// Amounts of the lines and adjustments are in the shop currency: their shop_money sets' when
// the payload has them, else the bare amounts in Delivery.ShopCurrency. Transactions keep their
// own currency (the one the customer paid in).
func RefundCreated(ctx context.Context, d Delivery, seal Sealer) (*events.RefundCreated, error) {
	var p refundPayload
	if err := decodeJSON(d.Body, &p); err != nil {
		return nil, err
	}
	if p.ID == "" || p.OrderID == "" {
		return nil, fmt.Errorf("%w: refund has no id or no order_id", ErrInvalidPayload)
	}
	c := converter{currency: p.shopCurrency()}
	if c.currency == "" {
		c.currency = d.shopCurrency()
	}
	r := events.Refund{
		RefundID:         c.id(p.ID, "id"),
		OrderID:          c.id(p.OrderID, "order_id"),
		CreatedAt:        c.time(p.CreatedAt, "created_at"),
		ProcessedAt:      c.optTime(p.ProcessedAt, "processed_at"),
		Restock:          p.Restock,
		RefundLineItems:  make([]events.RefundLineItem, 0, len(p.RefundLineItems)),
		Transactions:     make([]events.OrderTransaction, 0, len(p.Transactions)),
		OrderAdjustments: make([]events.OrderAdjustment, 0, len(p.OrderAdjustments)),
	}
	r.RefundGID, r.OrderGID = gid("Refund", r.RefundID), gid("Order", r.OrderID)
	for i, li := range p.RefundLineItems {
		f := fmt.Sprintf("refund_line_items[%d]", i)
		item := events.RefundLineItem{
			RefundLineItemID: c.requiredID(li.ID, f+".id"),
			LineItemID:       c.requiredID(li.LineItemID, f+".line_item_id"),
			Quantity:         li.Quantity,
			RestockType:      strings.ToLower(li.RestockType),
			LocationID:       c.optID(li.LocationID, f+".location_id"),
			Subtotal:         c.setOr(li.SubtotalSet, li.Subtotal, f+".subtotal"),
			TotalTax:         c.setOr(li.TotalTaxSet, li.TotalTax, f+".total_tax"),
		}
		if item.RestockType == "" { // API versions before restock types: the refund's restock says it
			item.RestockType = "no_restock"
			if p.Restock != nil && *p.Restock {
				item.RestockType = "legacy_restock"
			}
		}
		if li.LineItem != nil {
			item.ProductID = c.optID(li.LineItem.ProductID, f+".line_item.product_id")
			item.VariantID = c.optID(li.LineItem.VariantID, f+".line_item.variant_id")
		}
		item.RefundLineItemGID = gid("RefundLineItem", item.RefundLineItemID)
		item.LineItemGID = gid("LineItem", item.LineItemID)
		item.ProductGID = optGID("Product", item.ProductID)
		item.VariantGID = optGID("ProductVariant", item.VariantID)
		item.LocationGID = optGID("Location", item.LocationID)
		r.RefundLineItems = append(r.RefundLineItems, item)
	}
	for i, t := range p.Transactions {
		f := fmt.Sprintf("transactions[%d]", i)
		cur := t.Currency
		if cur == "" {
			cur = c.currency
		}
		tx := events.OrderTransaction{
			TransactionID: c.requiredID(t.ID, f+".id"),
			ParentID:      c.optID(t.ParentID, f+".parent_id"),
			Kind:          strings.ToLower(t.Kind),
			Status:        strings.ToLower(t.Status),
			Gateway:       nonEmpty(t.Gateway),
			Amount:        c.moneyIn(t.Amount, cur, f+".amount"),
			CreatedAt:     c.timeOr(t.CreatedAt, r.CreatedAt, f+".created_at"),
			ProcessedAt:   c.optTime(t.ProcessedAt, f+".processed_at"),
			Test:          t.Test,
			ErrorCode:     nonEmpty(t.ErrorCode),
		}
		tx.TransactionGID = gid("OrderTransaction", tx.TransactionID)
		tx.ParentGID = optGID("OrderTransaction", tx.ParentID)
		r.Transactions = append(r.Transactions, tx)
	}
	for i, a := range p.OrderAdjustments {
		f := fmt.Sprintf("order_adjustments[%d]", i)
		adj := events.OrderAdjustment{
			OrderAdjustmentID: c.requiredID(a.ID, f+".id"),
			Kind:              strings.ToLower(a.Kind),
			Reason:            nonEmpty(a.Reason),
			Amount:            c.setOr(a.AmountSet, a.Amount, f+".amount"),
			TaxAmount:         c.setOr(a.TaxAmountSet, a.TaxAmount, f+".tax_amount"),
		}
		adj.OrderAdjustmentGID = gid("OrderAdjustment", adj.OrderAdjustmentID)
		r.OrderAdjustments = append(r.OrderAdjustments, adj)
	}
	if c.err != nil {
		return nil, c.err
	}
	ev := &events.RefundCreated{
		Envelope: d.envelope(events.TypeRefundCreated, "Order", r.OrderGID, r.CreatedAt),
		Refund:   r,
	}
	var err error
	ev.PayloadJSON, ev.PersonalData, err = d.seal(ctx, seal, ev.Envelope.EventID)
	if err != nil {
		return nil, err
	}
	return ev, nil
}
