package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storeline/storeline/events"
)

// BulkRow is one line of a bulk operation's JSONL result (BulkQueryProducts, BulkQueryOrders),
// with where it came from. The bulk sync gives rows one at a time; no reassembly of parents and
// children is needed, since a child names its parent (__parentId) and shares its key.
type BulkRow struct {
	Shop             string // the shop's myshopify domain
	BulkOperationGID string // gid://shopify/BulkOperation/<id>
	// BulkOperationCreatedAt is the operation's createdAt: the occurred_at of line-item rows,
	// which have no time of their own.
	BulkOperationCreatedAt time.Time
	Row                    int64  // 1-based line number in the result file
	Line                   []byte // the JSON object of the line, as Shopify wrote it
	// Currency is the shop's currency (configured, or the shop's currencyCode), for the bare
	// amounts of product variants; empty: UnknownCurrency. Order rows carry their own.
	Currency      string
	APIVersion    string    // Admin API version of the client that ran the query
	CorrelationID string    // the sync run's id, recorded as envelope.correlation_id
	RecordedAt    time.Time // when storeline read the row; zero: now
}

// ErrInvalidBulkRow is returned for a BulkRow whose own fields (not Shopify's line) are wrong: a
// bug of the caller, not a row to dead-letter.
var ErrInvalidBulkRow = errors.New("invalid bulk row")

// TranslateBulkRow turns a row of a bulk export into its snapshot event: a Product row into
// ProductSnapshotted, a ProductVariant row into ProductVariantSnapshotted, an Order row into
// OrderSnapshotted, a LineItem row into OrderLineItemSnapshotted, an InventoryLevel row into
// InventoryLevelSnapshotted. An InventoryItem row (the parent of the levels in
// BulkQueryInventory) records nothing: TranslateBulkRow returns a nil event and a nil error for
// it, and the caller skips the row (it still counts as a line read). The event id is deterministic
// from (shop, bulk operation, row), so re-reading the same result records the same events.
// Personal data an order or line row holds is sealed through seal (nil is fine for product
// exports, which hold none). Errors wrap ErrInvalidPayload (the line), ErrInvalidBulkRow (the
// caller's fields) or are the sealer's.
func TranslateBulkRow(ctx context.Context, r BulkRow, seal SubjectSealer) (events.Event, error) {
	opID, ok := gidID(r.BulkOperationGID, "BulkOperation")
	if !ok || r.Shop == "" || r.Row < 1 {
		return nil, fmt.Errorf("%w: shop %q, bulk operation %q, row %d", ErrInvalidBulkRow, r.Shop, r.BulkOperationGID, r.Row)
	}
	if !utf8.Valid(r.Line) {
		return nil, fmt.Errorf("%w: row %d is not UTF-8", ErrInvalidPayload, r.Row)
	}
	var head struct {
		ID       string `json:"id"`
		ParentID string `json:"__parentId"`
	}
	if err := decodeJSON(r.Line, &head); err != nil {
		return nil, err
	}
	resource, _, _ := strings.Cut(strings.TrimPrefix(head.ID, "gid://shopify/"), "/")
	if !strings.HasPrefix(head.ID, "gid://shopify/") {
		resource = ""
	}
	b := bulkTranslation{row: r, opID: opID, seal: seal}
	switch resource {
	case "Product":
		return b.product()
	case "ProductVariant":
		return b.variant()
	case "Order":
		return b.order(ctx)
	case "LineItem":
		return b.lineItem(ctx)
	case "InventoryLevel":
		return b.inventoryLevel()
	case "InventoryItem":
		if _, ok := gidID(head.ID, "InventoryItem"); !ok {
			return nil, fmt.Errorf("%w: row %d: id %q is not a gid://shopify/InventoryItem/<id>", ErrInvalidPayload, r.Row, truncateForError(head.ID))
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("%w: row %d is a %q, not a row of storeline's bulk queries (Product, ProductVariant, Order, LineItem, InventoryItem, InventoryLevel)", ErrInvalidPayload, r.Row, truncateForError(resource))
	}
}

type bulkTranslation struct {
	row  BulkRow
	opID int64
	seal SubjectSealer
}

func (b bulkTranslation) envelope(eventType, aggregateType, aggregateID, resource string, occurredAt time.Time) events.Envelope {
	recorded := b.row.RecordedAt
	if recorded.IsZero() {
		recorded = time.Now()
	}
	e := events.Envelope{
		EventID:       events.DeterministicID("shopify-bulk", b.row.Shop, b.row.BulkOperationGID, strconv.FormatInt(b.row.Row, 10)),
		EventType:     eventType,
		OccurredAt:    occurredAt.UTC(),
		RecordedAt:    recorded.UTC(),
		Shop:          b.row.Shop,
		AggregateType: aggregateType,
		AggregateID:   aggregateID,
		Actor:         events.Actor{Type: events.ActorShopify, ID: b.row.Shop},
		Source:        events.SourceBulkSync,
		SourceTopic:   ptr(resource),
	}
	if b.row.CorrelationID != "" {
		e.CorrelationID = ptr(b.row.CorrelationID)
	}
	if b.row.APIVersion != "" {
		e.APIVersion = ptr(b.row.APIVersion)
	}
	return e
}

func (b bulkTranslation) currency() string {
	if b.row.Currency != "" {
		return b.row.Currency
	}
	return UnknownCurrency
}

// gqlMoney is a GraphQL amount: the Money scalar (a decimal string) or a MoneyV2 object
// {amount, currencyCode}, whose currency then wins.
type gqlMoney struct {
	Amount       money
	CurrencyCode string
}

func (m *gqlMoney) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var v struct {
			Amount       money  `json:"amount"`
			CurrencyCode string `json:"currencyCode"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		m.Amount, m.CurrencyCode = v.Amount, v.CurrencyCode
		return nil
	}
	return m.Amount.UnmarshalJSON(b)
}

// gqlMoneyBag is a GraphQL MoneyBag as the bulk queries ask for it: { shopMoney { amount
// currencyCode } }.
type gqlMoneyBag struct {
	ShopMoney *gqlMoney `json:"shopMoney"`
}

// bag returns a MoneyBag's shop money; a missing bag is zero in the fallback currency.
func (c *converter) bag(m *gqlMoneyBag, field string) events.Money {
	if m == nil || m.ShopMoney == nil {
		return c.money("", field)
	}
	return c.gql(*m.ShopMoney, field+".shopMoney")
}

func (c *converter) optBag(m *gqlMoneyBag, field string) *events.Money {
	if m == nil || m.ShopMoney == nil || m.ShopMoney.Amount == "" {
		return nil
	}
	v := c.bag(m, field)
	return &v
}

func (c *converter) gql(m gqlMoney, field string) events.Money {
	cur := m.CurrencyCode
	if cur == "" {
		cur = c.currency
	}
	return c.moneyIn(m.Amount, cur, field)
}

// gid returns the numeric id of a GraphQL id of resource.
func (c *converter) gid(g, resource, field string) int64 {
	id, ok := gidID(g, resource)
	if !ok {
		c.fail("%s %q is not a gid://shopify/%s/<id>", field, truncateForError(g), resource)
	}
	return id
}

func (c *converter) optGIDRef(ref *struct {
	ID string `json:"id"`
}, resource, field string) *int64 {
	if ref == nil || ref.ID == "" {
		return nil
	}
	id := c.gid(ref.ID, resource, field+".id")
	return &id
}

// bothTimes reads a created/updated pair of which one may be missing (then it is the other).
func (c *converter) bothTimes(created, updated, field string) (time.Time, time.Time) {
	switch {
	case created == "" && updated == "":
		c.fail("%s has neither createdAt nor updatedAt", field)
		return time.Time{}, time.Time{}
	case created == "":
		u := c.time(updated, field+".updatedAt")
		return u, u
	case updated == "":
		t := c.time(created, field+".createdAt")
		return t, t
	}
	return c.time(created, field+".createdAt"), c.time(updated, field+".updatedAt")
}

type gqlRef = *struct {
	ID string `json:"id"`
}

func (b bulkTranslation) product() (*events.ProductSnapshotted, error) {
	var p struct {
		ID          string   `json:"id"`
		Title       string   `json:"title"`
		Handle      string   `json:"handle"`
		Vendor      *string  `json:"vendor"`
		ProductType *string  `json:"productType"`
		Status      string   `json:"status"`
		Tags        []string `json:"tags"`
		CreatedAt   string   `json:"createdAt"`
		UpdatedAt   string   `json:"updatedAt"`
		PublishedAt *string  `json:"publishedAt"`
		Options     []struct {
			ID       string   `json:"id"`
			Name     string   `json:"name"`
			Position int32    `json:"position"`
			Values   []string `json:"values"`
		} `json:"options"`
		FeaturedMedia *struct {
			Preview *struct {
				Image *struct {
					URL *string `json:"url"`
				} `json:"image"`
			} `json:"preview"`
		} `json:"featuredMedia"`
	}
	if err := decodeJSON(b.row.Line, &p); err != nil {
		return nil, err
	}
	if p.Status == "" {
		return nil, fmt.Errorf("%w: product row %d has no status", ErrInvalidPayload, b.row.Row)
	}
	c := converter{currency: b.currency()}
	out := events.Product{
		ProductID:   c.gid(p.ID, "Product", "id"),
		Title:       p.Title,
		Handle:      p.Handle,
		Vendor:      p.Vendor,
		ProductType: p.ProductType,
		Status:      strings.ToLower(p.Status),
		Tags:        trimTags(p.Tags),
		PublishedAt: c.optTime(p.PublishedAt, "publishedAt"),
		Options:     make([]events.ProductOption, 0, len(p.Options)),
		Variants:    []events.ProductVariant{},
	}
	out.CreatedAt, out.UpdatedAt = c.bothTimes(p.CreatedAt, p.UpdatedAt, "product")
	out.ProductGID = gid("Product", out.ProductID)
	if m := p.FeaturedMedia; m != nil && m.Preview != nil && m.Preview.Image != nil {
		out.FeaturedImageURL = nonEmpty(m.Preview.Image.URL)
	}
	for i, o := range p.Options {
		f := fmt.Sprintf("options[%d]", i)
		opt := events.ProductOption{OptionID: c.gid(o.ID, "ProductOption", f+".id"), Name: o.Name, Position: o.Position, Values: nonNil(o.Values)}
		if opt.Position == 0 {
			opt.Position = int32(i + 1)
		}
		opt.OptionGID = gid("ProductOption", opt.OptionID)
		out.Options = append(out.Options, opt)
	}
	if c.err != nil {
		return nil, c.err
	}
	return &events.ProductSnapshotted{
		Envelope:         b.envelope(events.TypeProductSnapshotted, "Product", out.ProductGID, BulkResourceProducts, out.UpdatedAt),
		BulkOperationID:  b.opID,
		BulkOperationGID: b.row.BulkOperationGID,
		Row:              b.row.Row,
		Product:          out,
		PayloadJSON:      string(b.row.Line),
	}, nil
}

// weightUnits maps GraphQL's WeightUnit to the REST unit the events use.
var weightUnits = map[string]string{"GRAMS": "g", "KILOGRAMS": "kg", "OUNCES": "oz", "POUNDS": "lb"}

func (b bulkTranslation) variant() (*events.ProductVariantSnapshotted, error) {
	var v struct {
		ID                string    `json:"id"`
		ParentID          string    `json:"__parentId"`
		Title             string    `json:"title"`
		SKU               *string   `json:"sku"`
		Barcode           *string   `json:"barcode"`
		Price             gqlMoney  `json:"price"`
		CompareAtPrice    *gqlMoney `json:"compareAtPrice"`
		Position          int32     `json:"position"`
		InventoryQuantity *int32    `json:"inventoryQuantity"`
		InventoryPolicy   *string   `json:"inventoryPolicy"`
		Taxable           *bool     `json:"taxable"`
		SelectedOptions   []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"selectedOptions"`
		CreatedAt     string `json:"createdAt"`
		UpdatedAt     string `json:"updatedAt"`
		InventoryItem *struct {
			ID               string    `json:"id"`
			RequiresShipping *bool     `json:"requiresShipping"`
			UnitCost         *gqlMoney `json:"unitCost"`
			Measurement      *struct {
				Weight *struct {
					Unit  string   `json:"unit"`
					Value *float64 `json:"value"`
				} `json:"weight"`
			} `json:"measurement"`
		} `json:"inventoryItem"`
	}
	if err := decodeJSON(b.row.Line, &v); err != nil {
		return nil, err
	}
	if v.InventoryItem == nil {
		return nil, fmt.Errorf("%w: variant row %d has no inventoryItem", ErrInvalidPayload, b.row.Row)
	}
	c := converter{currency: b.currency()}
	out := events.ProductVariant{
		VariantID:         c.gid(v.ID, "ProductVariant", "id"),
		Title:             v.Title,
		SKU:               v.SKU,
		Barcode:           nonEmpty(v.Barcode),
		Price:             c.gql(v.Price, "price"),
		Position:          v.Position,
		InventoryItemID:   c.gid(v.InventoryItem.ID, "InventoryItem", "inventoryItem.id"),
		InventoryQuantity: v.InventoryQuantity,
		InventoryPolicy:   lower(nonEmpty(v.InventoryPolicy)),
		Taxable:           v.Taxable == nil || *v.Taxable,
		RequiresShipping:  v.InventoryItem.RequiresShipping,
	}
	productID := c.gid(v.ParentID, "Product", "__parentId")
	out.CreatedAt, out.UpdatedAt = c.bothTimes(v.CreatedAt, v.UpdatedAt, "variant")
	if v.CompareAtPrice != nil && v.CompareAtPrice.Amount != "" {
		m := c.gql(*v.CompareAtPrice, "compareAtPrice")
		out.CompareAtPrice = &m
	}
	if u := v.InventoryItem.UnitCost; u != nil && u.Amount != "" {
		m := c.gql(*u, "inventoryItem.unitCost")
		out.UnitCost = &m
	}
	if m := v.InventoryItem.Measurement; m != nil && m.Weight != nil && m.Weight.Value != nil {
		out.Weight = m.Weight.Value
		unit, ok := weightUnits[m.Weight.Unit]
		if !ok {
			unit = strings.ToLower(m.Weight.Unit)
		}
		out.WeightUnit = nonEmpty(&unit)
	}
	for i, o := range v.SelectedOptions {
		val := o.Value
		switch i {
		case 0:
			out.Option1 = &val
		case 1:
			out.Option2 = &val
		case 2:
			out.Option3 = &val
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	out.VariantGID = gid("ProductVariant", out.VariantID)
	out.InventoryItemGID = gid("InventoryItem", out.InventoryItemID)
	productGID := gid("Product", productID)
	return &events.ProductVariantSnapshotted{
		Envelope:         b.envelope(events.TypeProductVariantSnapshotted, "Product", productGID, BulkResourceProducts, out.UpdatedAt),
		BulkOperationID:  b.opID,
		BulkOperationGID: b.row.BulkOperationGID,
		Row:              b.row.Row,
		ProductID:        productID,
		ProductGID:       productGID,
		Variant:          out,
		PayloadJSON:      string(b.row.Line),
	}, nil
}

// fulfillmentStatuses maps GraphQL's displayFulfillmentStatus to the REST vocabulary of
// Order.fulfillment_status; every other value is null (unfulfilled).
var fulfillmentStatuses = map[string]string{"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}

func (b bulkTranslation) order(ctx context.Context) (*events.OrderSnapshotted, error) {
	var p struct {
		ID                       string       `json:"id"`
		Name                     string       `json:"name"`
		Number                   *json.Number `json:"number"`
		CreatedAt                string       `json:"createdAt"`
		UpdatedAt                string       `json:"updatedAt"`
		ProcessedAt              *string      `json:"processedAt"`
		CancelledAt              *string      `json:"cancelledAt"`
		CancelReason             *string      `json:"cancelReason"`
		ClosedAt                 *string      `json:"closedAt"`
		DisplayFinancialStatus   *string      `json:"displayFinancialStatus"`
		DisplayFulfillmentStatus *string      `json:"displayFulfillmentStatus"`
		CurrencyCode             string       `json:"currencyCode"`
		PresentmentCurrencyCode  *string      `json:"presentmentCurrencyCode"`
		TotalPriceSet            *gqlMoneyBag `json:"totalPriceSet"`
		SubtotalPriceSet         *gqlMoneyBag `json:"subtotalPriceSet"`
		TotalTaxSet              *gqlMoneyBag `json:"totalTaxSet"`
		TotalDiscountsSet        *gqlMoneyBag `json:"totalDiscountsSet"`
		TotalShippingPriceSet    *gqlMoneyBag `json:"totalShippingPriceSet"`
		CurrentTotalPriceSet     *gqlMoneyBag `json:"currentTotalPriceSet"`
		CurrentSubtotalPriceSet  *gqlMoneyBag `json:"currentSubtotalPriceSet"`
		CurrentTotalTaxSet       *gqlMoneyBag `json:"currentTotalTaxSet"`
		CurrentTotalDiscountsSet *gqlMoneyBag `json:"currentTotalDiscountsSet"`
		TaxesIncluded            bool         `json:"taxesIncluded"`
		Test                     bool         `json:"test"`
		Customer                 gqlRef       `json:"customer"`
		SourceName               *string      `json:"sourceName"`
		Tags                     []string     `json:"tags"`
		DiscountCodes            []string     `json:"discountCodes"`
		PaymentGatewayNames      []string     `json:"paymentGatewayNames"`
		RetailLocation           gqlRef       `json:"retailLocation"`
		Fulfillments             []struct {
			ID            string  `json:"id"`
			Name          *string `json:"name"`
			Status        string  `json:"status"`
			DisplayStatus *string `json:"displayStatus"`
			CreatedAt     string  `json:"createdAt"`
			UpdatedAt     string  `json:"updatedAt"`
			Location      gqlRef  `json:"location"`
			Service       *struct {
				Handle *string `json:"handle"`
			} `json:"service"`
			TrackingInfo []struct {
				Company *string `json:"company"`
			} `json:"trackingInfo"`
		} `json:"fulfillments"`
	}
	if err := decodeJSON(b.row.Line, &p); err != nil {
		return nil, err
	}
	if p.CurrencyCode == "" {
		return nil, fmt.Errorf("%w: order row %d has no currencyCode", ErrInvalidPayload, b.row.Row)
	}
	c := converter{currency: p.CurrencyCode}
	o := events.Order{
		OrderID:               c.gid(p.ID, "Order", "id"),
		Name:                  p.Name,
		ProcessedAt:           c.optTime(p.ProcessedAt, "processedAt"),
		CancelledAt:           c.optTime(p.CancelledAt, "cancelledAt"),
		CancelReason:          lower(nonEmpty(p.CancelReason)),
		ClosedAt:              c.optTime(p.ClosedAt, "closedAt"),
		FinancialStatus:       lower(nonEmpty(p.DisplayFinancialStatus)),
		Currency:              p.CurrencyCode,
		PresentmentCurrency:   nonEmpty(p.PresentmentCurrencyCode),
		TotalPrice:            c.bag(p.TotalPriceSet, "totalPriceSet"),
		SubtotalPrice:         c.bag(p.SubtotalPriceSet, "subtotalPriceSet"),
		TotalTax:              c.bag(p.TotalTaxSet, "totalTaxSet"),
		TotalDiscounts:        c.bag(p.TotalDiscountsSet, "totalDiscountsSet"),
		TotalShipping:         c.optBag(p.TotalShippingPriceSet, "totalShippingPriceSet"),
		CurrentTotalPrice:     c.optBag(p.CurrentTotalPriceSet, "currentTotalPriceSet"),
		CurrentSubtotalPrice:  c.optBag(p.CurrentSubtotalPriceSet, "currentSubtotalPriceSet"),
		CurrentTotalTax:       c.optBag(p.CurrentTotalTaxSet, "currentTotalTaxSet"),
		CurrentTotalDiscounts: c.optBag(p.CurrentTotalDiscountsSet, "currentTotalDiscountsSet"),
		TaxesIncluded:         p.TaxesIncluded,
		Test:                  p.Test,
		CustomerID:            c.optGIDRef(p.Customer, "Customer", "customer"),
		SourceName:            p.SourceName,
		Tags:                  trimTags(p.Tags),
		DiscountCodes:         nonNil(p.DiscountCodes),
		LineItems:             []events.OrderLineItem{},
		PaymentGatewayNames:   nonNil(p.PaymentGatewayNames),
		LocationID:            c.optGIDRef(p.RetailLocation, "Location", "retailLocation"),
		Fulfillments:          make([]events.OrderFulfillment, 0, len(p.Fulfillments)),
	}
	if !validCurrency(o.Currency) {
		c.fail("currencyCode %q is not an ISO 4217 code", truncateForError(o.Currency))
	}
	o.CreatedAt, o.UpdatedAt = c.bothTimes(p.CreatedAt, p.UpdatedAt, "order")
	o.OrderGID = gid("Order", o.OrderID)
	o.CustomerGID = optGID("Customer", o.CustomerID)
	o.LocationGID = optGID("Location", o.LocationID)
	if p.Number != nil && *p.Number != "" {
		o.OrderNumber = c.id(*p.Number, "number")
	}
	if p.DisplayFulfillmentStatus != nil {
		if s, ok := fulfillmentStatuses[*p.DisplayFulfillmentStatus]; ok {
			o.FulfillmentStatus = &s
		}
	}
	for i, f := range p.Fulfillments {
		field := fmt.Sprintf("fulfillments[%d]", i)
		ful := events.OrderFulfillment{
			FulfillmentID:   c.gid(f.ID, "Fulfillment", field+".id"),
			Name:            nonEmpty(f.Name),
			Status:          strings.ToLower(f.Status),
			ShipmentStatus:  lower(nonEmpty(f.DisplayStatus)),
			LocationID:      c.optGIDRef(f.Location, "Location", field+".location"),
			TrackingNumbers: []string{},
			TrackingUrls:    []string{},
			LineItems:       []events.OrderFulfillmentLineItem{},
		}
		ful.CreatedAt, ful.UpdatedAt = c.bothTimes(f.CreatedAt, f.UpdatedAt, field)
		ful.FulfillmentGID = gid("Fulfillment", ful.FulfillmentID)
		ful.LocationGID = optGID("Location", ful.LocationID)
		if f.Service != nil {
			ful.Service = nonEmpty(f.Service.Handle)
		}
		if len(f.TrackingInfo) > 0 {
			ful.TrackingCompany = nonEmpty(f.TrackingInfo[0].Company)
		}
		o.Fulfillments = append(o.Fulfillments, ful)
	}
	if c.err != nil {
		return nil, c.err
	}
	ev := &events.OrderSnapshotted{
		Envelope:         b.envelope(events.TypeOrderSnapshotted, "Order", o.OrderGID, BulkResourceOrders, o.UpdatedAt),
		BulkOperationID:  b.opID,
		BulkOperationGID: b.row.BulkOperationGID,
		Row:              b.row.Row,
		Order:            o,
	}
	subject := "order/" + strconv.FormatInt(o.OrderID, 10)
	if o.CustomerID != nil {
		subject = "customer/" + strconv.FormatInt(*o.CustomerID, 10)
	}
	var err error
	ev.PayloadJSON, ev.PersonalData, err = b.sealRow(ctx, gqlOrderRow, subject, ev.Envelope.EventID)
	if err != nil {
		return nil, err
	}
	return ev, nil
}

func (b bulkTranslation) lineItem(ctx context.Context) (*events.OrderLineItemSnapshotted, error) {
	var li struct {
		ID                  string       `json:"id"`
		ParentID            string       `json:"__parentId"`
		Title               string       `json:"title"`
		VariantTitle        *string      `json:"variantTitle"`
		SKU                 *string      `json:"sku"`
		Vendor              *string      `json:"vendor"`
		Quantity            int32        `json:"quantity"`
		CurrentQuantity     *int32       `json:"currentQuantity"`
		UnfulfilledQuantity *int32       `json:"unfulfilledQuantity"`
		RequiresShipping    *bool        `json:"requiresShipping"`
		Taxable             *bool        `json:"taxable"`
		IsGiftCard          bool         `json:"isGiftCard"`
		Product             gqlRef       `json:"product"`
		Variant             gqlRef       `json:"variant"`
		OriginalUnitPrice   *gqlMoneyBag `json:"originalUnitPriceSet"`
		TotalDiscount       *gqlMoneyBag `json:"totalDiscountSet"`
		TaxLines            *[]struct {
			PriceSet *gqlMoneyBag `json:"priceSet"`
		} `json:"taxLines"`
	}
	if err := decodeJSON(b.row.Line, &li); err != nil {
		return nil, err
	}
	if b.row.BulkOperationCreatedAt.IsZero() {
		return nil, fmt.Errorf("%w: BulkOperationCreatedAt is needed for line-item rows", ErrInvalidBulkRow)
	}
	c := converter{currency: b.lineCurrency(li.OriginalUnitPrice, li.TotalDiscount)}
	item := events.OrderLineItem{
		LineItemID:          c.gid(li.ID, "LineItem", "id"),
		ProductID:           c.optGIDRef(li.Product, "Product", "product"),
		VariantID:           c.optGIDRef(li.Variant, "ProductVariant", "variant"),
		Title:               li.Title,
		VariantTitle:        li.VariantTitle,
		SKU:                 li.SKU,
		Vendor:              li.Vendor,
		Quantity:            li.Quantity,
		CurrentQuantity:     li.CurrentQuantity,
		Price:               c.bag(li.OriginalUnitPrice, "originalUnitPriceSet"),
		TotalDiscount:       c.bag(li.TotalDiscount, "totalDiscountSet"),
		RequiresShipping:    li.RequiresShipping == nil || *li.RequiresShipping,
		Taxable:             li.Taxable == nil || *li.Taxable,
		GiftCard:            li.IsGiftCard,
		FulfillableQuantity: li.UnfulfilledQuantity,
	}
	orderID := c.gid(li.ParentID, "Order", "__parentId")
	if li.TaxLines != nil {
		var sum events.Money
		for i, tl := range *li.TaxLines {
			sum = c.add(sum, c.bag(tl.PriceSet, fmt.Sprintf("taxLines[%d].priceSet", i)), "taxLines")
		}
		if sum.Amount == nil {
			sum = c.money("", "taxLines")
		}
		item.TotalTax = &sum
	}
	if c.err != nil {
		return nil, c.err
	}
	item.LineItemGID = gid("LineItem", item.LineItemID)
	item.ProductGID = optGID("Product", item.ProductID)
	item.VariantGID = optGID("ProductVariant", item.VariantID)
	orderGID := gid("Order", orderID)
	ev := &events.OrderLineItemSnapshotted{
		Envelope:         b.envelope(events.TypeOrderLineItemSnapshotted, "Order", orderGID, BulkResourceOrders, b.row.BulkOperationCreatedAt.UTC().Truncate(time.Microsecond)),
		BulkOperationID:  b.opID,
		BulkOperationGID: b.row.BulkOperationGID,
		Row:              b.row.Row,
		OrderID:          orderID,
		OrderGID:         orderGID,
		LineItem:         item,
	}
	var err error
	ev.PayloadJSON, ev.PersonalData, err = b.sealRow(ctx, gqlLineItemRow, "order/"+strconv.FormatInt(orderID, 10), ev.Envelope.EventID)
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// inventoryLevel translates an InventoryLevel row of BulkQueryInventory. The inventory item is
// the row's __parentId (Shopify's level GID is opaque: its path id is not documented to be the
// location's) and the location its location.id; the key is built from the two as
// InventoryLevelUpdated builds it, so a snapshot and a webhook of one level share a key.
func (b bulkTranslation) inventoryLevel() (*events.InventoryLevelSnapshotted, error) {
	var l struct {
		ID         string `json:"id"`
		ParentID   string `json:"__parentId"`
		Location   gqlRef `json:"location"`
		Quantities []struct {
			Name     string `json:"name"`
			Quantity *int32 `json:"quantity"`
		} `json:"quantities"`
		UpdatedAt string `json:"updatedAt"`
	}
	if err := decodeJSON(b.row.Line, &l); err != nil {
		return nil, err
	}
	if l.Location == nil || l.Location.ID == "" {
		return nil, fmt.Errorf("%w: inventory level row %d has no location", ErrInvalidPayload, b.row.Row)
	}
	if l.UpdatedAt == "" {
		return nil, fmt.Errorf("%w: inventory level row %d has no updatedAt", ErrInvalidPayload, b.row.Row)
	}
	var c converter
	ev := &events.InventoryLevelSnapshotted{
		BulkOperationID:   b.opID,
		BulkOperationGID:  b.row.BulkOperationGID,
		Row:               b.row.Row,
		InventoryItemID:   c.gid(l.ParentID, "InventoryItem", "__parentId"),
		LocationID:        c.gid(l.Location.ID, "Location", "location.id"),
		UpdatedAt:         c.time(l.UpdatedAt, "updatedAt"),
		InventoryLevelGID: nonEmpty(&l.ID),
		PayloadJSON:       string(b.row.Line),
	}
	for _, q := range l.Quantities {
		if q.Name == "available" && q.Quantity != nil {
			n := *q.Quantity
			ev.Available = &n
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	ev.InventoryItemGID = gid("InventoryItem", ev.InventoryItemID)
	ev.LocationGID = gid("Location", ev.LocationID)
	key := fmt.Sprintf("gid://shopify/InventoryLevel/%d?inventory_item_id=%d", ev.LocationID, ev.InventoryItemID)
	ev.Envelope = b.envelope(events.TypeInventoryLevelSnapshotted, "InventoryLevel", key, BulkResourceInventory, ev.UpdatedAt)
	return ev, nil
}

// lineCurrency is the shop currency of a line row: its money bags', else the row's.
func (b bulkTranslation) lineCurrency(bags ...*gqlMoneyBag) string {
	for _, m := range bags {
		if m != nil && m.ShopMoney != nil && m.ShopMoney.CurrencyCode != "" {
			return m.ShopMoney.CurrencyCode
		}
	}
	return b.currency()
}

// trimTags trims a GraphQL tag list and drops empty tags, as splitTags does for REST.
func trimTags(in []string) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
