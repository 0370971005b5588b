package shopify

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/storeline/storeline/events"
)

// productPayload is the part of Shopify's REST-shaped product payload (products/create,
// products/update) storeline types.
type productPayload struct {
	ID          json.Number `json:"id"`
	Title       string      `json:"title"`
	Handle      string      `json:"handle"`
	Vendor      *string     `json:"vendor"`
	ProductType *string     `json:"product_type"`
	Status      string      `json:"status"`
	Tags        string      `json:"tags"`
	CreatedAt   string      `json:"created_at"`
	UpdatedAt   string      `json:"updated_at"`
	PublishedAt *string     `json:"published_at"`
	Options     []struct {
		ID       json.Number `json:"id"`
		Name     string      `json:"name"`
		Position int32       `json:"position"`
		Values   []string    `json:"values"`
	} `json:"options"`
	Variants []variantPL `json:"variants"`
	Image    *struct {
		Src *string `json:"src"`
	} `json:"image"`
}

type variantPL struct {
	ID                json.Number `json:"id"`
	Title             string      `json:"title"`
	SKU               *string     `json:"sku"`
	Barcode           *string     `json:"barcode"`
	Price             money       `json:"price"`
	CompareAtPrice    *money      `json:"compare_at_price"`
	Position          int32       `json:"position"`
	InventoryItemID   json.Number `json:"inventory_item_id"`
	InventoryQuantity *int32      `json:"inventory_quantity"`
	InventoryPolicy   *string     `json:"inventory_policy"`
	Taxable           *bool       `json:"taxable"`
	RequiresShipping  *bool       `json:"requires_shipping"`
	Weight            *float64    `json:"weight"`
	WeightUnit        *string     `json:"weight_unit"`
	Option1           *string     `json:"option1"`
	Option2           *string     `json:"option2"`
	Option3           *string     `json:"option3"`
	CreatedAt         string      `json:"created_at"`
	UpdatedAt         string      `json:"updated_at"`
}

// parseProduct types a product payload with its options and variants. Product payloads give
// bare amounts without a currency: prices are put in currency, the shop's currency as the
// caller knows it (Delivery.ShopCurrency).
func parseProduct(body []byte, currency string) (events.Product, error) {
	var p productPayload
	if err := decodeJSON(body, &p); err != nil {
		return events.Product{}, err
	}
	if p.ID == "" {
		return events.Product{}, fmt.Errorf("%w: product has no id", ErrInvalidPayload)
	}
	if p.Status == "" {
		return events.Product{}, fmt.Errorf("%w: product has no status", ErrInvalidPayload)
	}
	c := converter{currency: currency}
	out := events.Product{
		ProductID:   c.id(p.ID, "id"),
		Title:       p.Title,
		Handle:      p.Handle,
		Vendor:      p.Vendor,
		ProductType: p.ProductType,
		Status:      strings.ToLower(p.Status),
		Tags:        splitTags(p.Tags),
		CreatedAt:   c.time(p.CreatedAt, "created_at"),
		PublishedAt: c.optTime(p.PublishedAt, "published_at"),
		Options:     make([]events.ProductOption, 0, len(p.Options)),
		Variants:    make([]events.ProductVariant, 0, len(p.Variants)),
	}
	out.ProductGID = gid("Product", out.ProductID)
	out.UpdatedAt = c.timeOr(p.UpdatedAt, out.CreatedAt, "updated_at")
	if p.Image != nil {
		out.FeaturedImageURL = nonEmpty(p.Image.Src)
	}
	for i, o := range p.Options {
		f := fmt.Sprintf("options[%d]", i)
		opt := events.ProductOption{OptionID: c.requiredID(o.ID, f+".id"), Name: o.Name, Position: o.Position, Values: nonNil(o.Values)}
		if opt.Position == 0 {
			opt.Position = int32(i + 1)
		}
		opt.OptionGID = gid("ProductOption", opt.OptionID)
		out.Options = append(out.Options, opt)
	}
	for i, v := range p.Variants {
		f := fmt.Sprintf("variants[%d]", i)
		variant := events.ProductVariant{
			VariantID:         c.requiredID(v.ID, f+".id"),
			Title:             v.Title,
			SKU:               v.SKU,
			Barcode:           nonEmpty(v.Barcode),
			Price:             c.money(v.Price, f+".price"),
			CompareAtPrice:    c.optMoney(v.CompareAtPrice, f+".compare_at_price"),
			Position:          v.Position,
			InventoryItemID:   c.requiredID(v.InventoryItemID, f+".inventory_item_id"),
			InventoryQuantity: v.InventoryQuantity,
			InventoryPolicy:   lower(nonEmpty(v.InventoryPolicy)),
			Taxable:           v.Taxable == nil || *v.Taxable,
			RequiresShipping:  v.RequiresShipping,
			Weight:            v.Weight,
			Option1:           v.Option1,
			Option2:           v.Option2,
			Option3:           v.Option3,
			CreatedAt:         c.timeOr(v.CreatedAt, out.CreatedAt, f+".created_at"),
		}
		if v.Weight != nil {
			variant.WeightUnit = lower(nonEmpty(v.WeightUnit))
		}
		if variant.Position == 0 {
			variant.Position = int32(i + 1)
		}
		variant.UpdatedAt = c.timeOr(v.UpdatedAt, variant.CreatedAt, f+".updated_at")
		variant.VariantGID = gid("ProductVariant", variant.VariantID)
		variant.InventoryItemGID = gid("InventoryItem", variant.InventoryItemID)
		out.Variants = append(out.Variants, variant)
	}
	return out, c.err
}
