package shopifysim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// REST-shaped webhook payloads (snake_case, numeric ids, money as strings, tags as a comma
// string, times in the shop's zone), field by field as Shopify's webhook reference shows them.

const restTime = "2006-01-02T15:04:05-07:00"

func (sh *shopInfo) ts(t time.Time) string { return t.In(sh.zone).Format(restTime) }

func (sh *shopInfo) tsp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := sh.ts(*t)
	return &s
}

type restMoney struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type restPriceSet struct {
	ShopMoney        restMoney `json:"shop_money"`
	PresentmentMoney restMoney `json:"presentment_money"`
}

func (sh *shopInfo) set(m Money) restPriceSet {
	x := restMoney{Amount: m.String(), CurrencyCode: sh.Currency}
	return restPriceSet{ShopMoney: x, PresentmentMoney: x}
}

func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func commaTags(tags []string) string { return strings.Join(tags, ", ") }

func mustJSON(v any) []byte {
	b, err := marshalNoEscape(v) // Shopify writes <p> as is, not \u003cp\u003e
	if err != nil {
		panic(fmt.Sprintf("shopifysim: render payload: %v", err)) // our own structs: a bug
	}
	return b
}

type restAddress struct {
	ID           *int64   `json:"id,omitempty"`
	CustomerID   *int64   `json:"customer_id,omitempty"`
	FirstName    string   `json:"first_name"`
	Address1     string   `json:"address1"`
	Phone        string   `json:"phone"`
	City         string   `json:"city"`
	Zip          string   `json:"zip"`
	Province     string   `json:"province"`
	Country      string   `json:"country"`
	LastName     string   `json:"last_name"`
	Address2     *string  `json:"address2"`
	Company      *string  `json:"company"`
	Latitude     *float64 `json:"latitude,omitempty"`
	Longitude    *float64 `json:"longitude,omitempty"`
	Name         string   `json:"name"`
	CountryCode  string   `json:"country_code"`
	ProvinceCode string   `json:"province_code"`
	CountryName  *string  `json:"country_name,omitempty"`
	Default      *bool    `json:"default,omitempty"`
}

func restAddr(a *Address, customerID int64) *restAddress {
	if a == nil {
		return nil
	}
	r := &restAddress{FirstName: a.FirstName, Address1: a.Address1, Phone: a.Phone, City: a.City, Zip: a.Zip,
		Province: a.Province, Country: a.Country, LastName: a.LastName, Address2: nullStr(a.Address2), Company: nullStr(a.Company),
		Name: a.Name(), CountryCode: a.CountryCode, ProvinceCode: a.ProvinceCode}
	if customerID != 0 { // a customer's saved address
		id, def, cn := a.ID, true, a.Country
		r.ID, r.CustomerID, r.Default, r.CountryName = &id, &customerID, &def, &cn
	} else {
		lat, lng := a.Latitude, a.Longitude
		r.Latitude, r.Longitude = &lat, &lng
	}
	return r
}

type restConsent struct {
	State            string  `json:"state"`
	OptInLevel       string  `json:"opt_in_level"`
	ConsentUpdatedAt *string `json:"consent_updated_at"`
}

type restCustomer struct {
	ID                    int64        `json:"id"`
	Email                 string       `json:"email"`
	CreatedAt             string       `json:"created_at"`
	UpdatedAt             string       `json:"updated_at"`
	FirstName             string       `json:"first_name"`
	LastName              string       `json:"last_name"`
	State                 string       `json:"state"`
	Note                  *string      `json:"note"`
	VerifiedEmail         bool         `json:"verified_email"`
	MultipassIdentifier   *string      `json:"multipass_identifier"`
	TaxExempt             bool         `json:"tax_exempt"`
	Phone                 string       `json:"phone"`
	EmailMarketingConsent restConsent  `json:"email_marketing_consent"`
	SMSMarketingConsent   *restConsent `json:"sms_marketing_consent"`
	Tags                  string       `json:"tags"`
	Currency              string       `json:"currency"`
	TaxExemptions         []string     `json:"tax_exemptions"`
	AdminGraphQLAPIID     string       `json:"admin_graphql_api_id"`
	DefaultAddress        *restAddress `json:"default_address"`
}

func restCust(sh *shopInfo, c *Customer) *restCustomer {
	if c == nil {
		return nil
	}
	consent := restConsent{State: "not_subscribed", OptInLevel: "single_opt_in"}
	if c.AcceptsMarketing {
		consent.State, consent.ConsentUpdatedAt = "subscribed", sh.tsp(&c.CreatedAt)
	}
	a := c.DefaultAddress
	return &restCustomer{ID: c.ID, Email: c.Email, CreatedAt: sh.ts(c.CreatedAt), UpdatedAt: sh.ts(c.UpdatedAt), FirstName: c.FirstName,
		LastName: c.LastName, State: c.State, Note: nullStr(c.Note), VerifiedEmail: c.VerifiedEmail, Phone: c.Phone,
		EmailMarketingConsent: consent, Tags: commaTags(c.Tags), Currency: sh.Currency, TaxExemptions: []string{},
		AdminGraphQLAPIID: c.GID(), DefaultAddress: restAddr(&a, c.ID)}
}

type restProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func restProps(ps []Property) []restProperty {
	out := make([]restProperty, len(ps))
	for i, p := range ps {
		out[i] = restProperty(p)
	}
	return out
}

type restTaxLine struct {
	ChannelLiable bool         `json:"channel_liable"`
	Price         string       `json:"price"`
	PriceSet      restPriceSet `json:"price_set"`
	Rate          json.Number  `json:"rate"`
	Title         string       `json:"title"`
}

type restDiscountAllocation struct {
	Amount                   string       `json:"amount"`
	AmountSet                restPriceSet `json:"amount_set"`
	DiscountApplicationIndex int          `json:"discount_application_index"`
}

type restLineItem struct {
	ID                         int64                    `json:"id"`
	AdminGraphQLAPIID          string                   `json:"admin_graphql_api_id"`
	CurrentQuantity            int                      `json:"current_quantity"`
	FulfillableQuantity        int                      `json:"fulfillable_quantity"`
	FulfillmentService         string                   `json:"fulfillment_service"`
	FulfillmentStatus          *string                  `json:"fulfillment_status"`
	GiftCard                   bool                     `json:"gift_card"`
	Grams                      int                      `json:"grams"`
	Name                       string                   `json:"name"`
	Price                      string                   `json:"price"`
	PriceSet                   restPriceSet             `json:"price_set"`
	ProductExists              bool                     `json:"product_exists"`
	ProductID                  *int64                   `json:"product_id"`
	Properties                 []restProperty           `json:"properties"`
	Quantity                   int                      `json:"quantity"`
	RequiresShipping           bool                     `json:"requires_shipping"`
	SKU                        *string                  `json:"sku"`
	Taxable                    bool                     `json:"taxable"`
	Title                      string                   `json:"title"`
	TotalDiscount              string                   `json:"total_discount"`
	TotalDiscountSet           restPriceSet             `json:"total_discount_set"`
	VariantID                  *int64                   `json:"variant_id"`
	VariantInventoryManagement string                   `json:"variant_inventory_management"`
	VariantTitle               *string                  `json:"variant_title"`
	Vendor                     *string                  `json:"vendor"`
	TaxLines                   []restTaxLine            `json:"tax_lines"`
	Duties                     []any                    `json:"duties"`
	DiscountAllocations        []restDiscountAllocation `json:"discount_allocations"`
}

func restLine(sh *shopInfo, li LineItem) restLineItem {
	r := restLineItem{ID: li.ID, AdminGraphQLAPIID: li.GID(), CurrentQuantity: li.CurrentQuantity, FulfillableQuantity: li.FulfillableQuantity,
		FulfillmentService: "manual", FulfillmentStatus: nullStr(li.FulfillmentStatus), GiftCard: li.GiftCard, Grams: li.Grams,
		Name: li.Name, Price: li.Price.String(), PriceSet: sh.set(li.Price), ProductExists: true, Properties: restProps(li.Properties),
		Quantity: li.Quantity, RequiresShipping: li.RequiresShipping, SKU: nullStr(li.SKU), Taxable: li.Taxable, Title: li.Title,
		TotalDiscount: li.TotalDiscount.String(), TotalDiscountSet: sh.set(li.TotalDiscount), VariantInventoryManagement: "shopify",
		VariantTitle: nullStr(li.VariantTitle), Vendor: nullStr(li.Vendor), TaxLines: []restTaxLine{}, Duties: []any{},
		DiscountAllocations: []restDiscountAllocation{}}
	if li.ProductID != 0 {
		p, v := li.ProductID, li.VariantID
		r.ProductID, r.VariantID = &p, &v
	}
	for _, t := range li.TaxLines {
		r.TaxLines = append(r.TaxLines, restTaxLine{Price: t.Price.String(), PriceSet: sh.set(t.Price), Rate: json.Number(t.Rate), Title: t.Title})
	}
	if li.TotalDiscount != 0 {
		r.DiscountAllocations = append(r.DiscountAllocations, restDiscountAllocation{Amount: li.TotalDiscount.String(), AmountSet: sh.set(li.TotalDiscount)})
	}
	return r
}

type restClientDetails struct {
	AcceptLanguage string  `json:"accept_language"`
	BrowserHeight  *int    `json:"browser_height"`
	BrowserIP      string  `json:"browser_ip"`
	BrowserWidth   *int    `json:"browser_width"`
	SessionHash    *string `json:"session_hash"`
	UserAgent      string  `json:"user_agent"`
}

type restDiscountCode struct {
	Code   string `json:"code"`
	Amount string `json:"amount"`
	Type   string `json:"type"`
}

type restDiscountApplication struct {
	TargetType       string `json:"target_type"`
	Type             string `json:"type"`
	Value            string `json:"value"`
	ValueType        string `json:"value_type"`
	AllocationMethod string `json:"allocation_method"`
	TargetSelection  string `json:"target_selection"`
	Code             string `json:"code"`
}

type restShippingLine struct {
	ID                  int64         `json:"id"`
	CarrierIdentifier   *string       `json:"carrier_identifier"`
	Code                string        `json:"code"`
	DiscountedPrice     string        `json:"discounted_price"`
	DiscountedPriceSet  restPriceSet  `json:"discounted_price_set"`
	Phone               *string       `json:"phone"`
	Price               string        `json:"price"`
	PriceSet            restPriceSet  `json:"price_set"`
	Source              string        `json:"source"`
	Title               string        `json:"title"`
	TaxLines            []restTaxLine `json:"tax_lines"`
	DiscountAllocations []any         `json:"discount_allocations"`
}

type restFulfillmentLine struct {
	ID       int64 `json:"id"`
	Quantity int   `json:"quantity"`
}

type restFulfillment struct {
	ID                int64                 `json:"id"`
	AdminGraphQLAPIID string                `json:"admin_graphql_api_id"`
	CreatedAt         string                `json:"created_at"`
	LocationID        int64                 `json:"location_id"`
	Name              string                `json:"name"`
	OrderID           int64                 `json:"order_id"`
	Service           string                `json:"service"`
	ShipmentStatus    *string               `json:"shipment_status"`
	Status            string                `json:"status"`
	TrackingCompany   string                `json:"tracking_company"`
	TrackingNumber    string                `json:"tracking_number"`
	TrackingNumbers   []string              `json:"tracking_numbers"`
	TrackingURL       string                `json:"tracking_url"`
	TrackingURLs      []string              `json:"tracking_urls"`
	UpdatedAt         string                `json:"updated_at"`
	LineItems         []restFulfillmentLine `json:"line_items"`
}

type restOrder struct {
	ID                          int64                     `json:"id"`
	AdminGraphQLAPIID           string                    `json:"admin_graphql_api_id"`
	AppID                       int64                     `json:"app_id"`
	BrowserIP                   *string                   `json:"browser_ip"`
	BuyerAcceptsMarketing       bool                      `json:"buyer_accepts_marketing"`
	CancelReason                *string                   `json:"cancel_reason"`
	CancelledAt                 *string                   `json:"cancelled_at"`
	CartToken                   *string                   `json:"cart_token"`
	CheckoutToken               *string                   `json:"checkout_token"`
	ClientDetails               *restClientDetails        `json:"client_details"`
	ClosedAt                    *string                   `json:"closed_at"`
	ConfirmationNumber          string                    `json:"confirmation_number"`
	Confirmed                   bool                      `json:"confirmed"`
	ContactEmail                *string                   `json:"contact_email"`
	CreatedAt                   string                    `json:"created_at"`
	Currency                    string                    `json:"currency"`
	CurrentSubtotalPrice        string                    `json:"current_subtotal_price"`
	CurrentSubtotalPriceSet     restPriceSet              `json:"current_subtotal_price_set"`
	CurrentTotalDiscounts       string                    `json:"current_total_discounts"`
	CurrentTotalDiscountsSet    restPriceSet              `json:"current_total_discounts_set"`
	CurrentTotalPrice           string                    `json:"current_total_price"`
	CurrentTotalPriceSet        restPriceSet              `json:"current_total_price_set"`
	CurrentTotalTax             string                    `json:"current_total_tax"`
	CurrentTotalTaxSet          restPriceSet              `json:"current_total_tax_set"`
	CustomerLocale              string                    `json:"customer_locale"`
	DiscountCodes               []restDiscountCode        `json:"discount_codes"`
	Email                       string                    `json:"email"`
	EstimatedTaxes              bool                      `json:"estimated_taxes"`
	FinancialStatus             string                    `json:"financial_status"`
	FulfillmentStatus           *string                   `json:"fulfillment_status"`
	LandingSite                 *string                   `json:"landing_site"`
	Name                        string                    `json:"name"`
	Note                        *string                   `json:"note"`
	NoteAttributes              []restProperty            `json:"note_attributes"`
	Number                      int                       `json:"number"`
	OrderNumber                 int                       `json:"order_number"`
	OrderStatusURL              string                    `json:"order_status_url"`
	Phone                       *string                   `json:"phone"`
	PresentmentCurrency         string                    `json:"presentment_currency"`
	ProcessedAt                 string                    `json:"processed_at"`
	ReferringSite               *string                   `json:"referring_site"`
	SourceName                  string                    `json:"source_name"`
	SubtotalPrice               string                    `json:"subtotal_price"`
	SubtotalPriceSet            restPriceSet              `json:"subtotal_price_set"`
	Tags                        string                    `json:"tags"`
	TaxLines                    []restTaxLine             `json:"tax_lines"`
	TaxesIncluded               bool                      `json:"taxes_included"`
	Test                        bool                      `json:"test"`
	Token                       string                    `json:"token"`
	TotalDiscounts              string                    `json:"total_discounts"`
	TotalDiscountsSet           restPriceSet              `json:"total_discounts_set"`
	TotalLineItemsPrice         string                    `json:"total_line_items_price"`
	TotalLineItemsPriceSet      restPriceSet              `json:"total_line_items_price_set"`
	TotalOutstanding            string                    `json:"total_outstanding"`
	TotalPrice                  string                    `json:"total_price"`
	TotalPriceSet               restPriceSet              `json:"total_price_set"`
	TotalShippingPriceSet       restPriceSet              `json:"total_shipping_price_set"`
	TotalTax                    string                    `json:"total_tax"`
	TotalTaxSet                 restPriceSet              `json:"total_tax_set"`
	TotalWeight                 int                       `json:"total_weight"`
	UpdatedAt                   string                    `json:"updated_at"`
	BillingAddress              *restAddress              `json:"billing_address"`
	Customer                    *restCustomer             `json:"customer"`
	DiscountApplications        []restDiscountApplication `json:"discount_applications"`
	Fulfillments                []restFulfillment         `json:"fulfillments"`
	LineItems                   []restLineItem            `json:"line_items"`
	PaymentTerms                any                       `json:"payment_terms"`
	Refunds                     []restRefund              `json:"refunds"`
	ShippingAddress             *restAddress              `json:"shipping_address"`
	ShippingLines               []restShippingLine        `json:"shipping_lines"`
	PaymentGatewayNames         []string                  `json:"payment_gateway_names"`
	SourceIdentifier            *string                   `json:"source_identifier"`
	CurrentTotalAdditionalFees  any                       `json:"current_total_additional_fees_set"`
	OriginalTotalAdditionalFees any                       `json:"original_total_additional_fees_set"`
}

// simAppID is the app_id of the sales channel that placed the orders (Online Store).
const simAppID = 580111

func renderOrder(sh *shopInfo, o *Order, c *Customer) []byte {
	r := restOrder{ID: o.ID, AdminGraphQLAPIID: o.GID(), AppID: simAppID, BrowserIP: nullStr(o.BrowserIP),
		CancelReason: nullStr(o.CancelReason), CancelledAt: sh.tsp(o.CancelledAt), ClosedAt: sh.tsp(o.ClosedAt),
		ConfirmationNumber: strings.ToUpper(o.Token[:9]), Confirmed: true, ContactEmail: nullStr(o.Email), CreatedAt: sh.ts(o.CreatedAt),
		Currency: o.Currency, CurrentSubtotalPrice: o.CurrentSubtotalPrice.String(), CurrentSubtotalPriceSet: sh.set(o.CurrentSubtotalPrice),
		CurrentTotalDiscounts: o.CurrentTotalDiscounts.String(), CurrentTotalDiscountsSet: sh.set(o.CurrentTotalDiscounts),
		CurrentTotalPrice: o.CurrentTotalPrice.String(), CurrentTotalPriceSet: sh.set(o.CurrentTotalPrice),
		CurrentTotalTax: o.CurrentTotalTax.String(), CurrentTotalTaxSet: sh.set(o.CurrentTotalTax), CustomerLocale: o.CustomerLocale,
		DiscountCodes: []restDiscountCode{}, Email: o.Email, FinancialStatus: o.FinancialStatus, FulfillmentStatus: nullStr(o.FulfillmentStatus),
		LandingSite: nullStr(o.LandingSite), Name: o.Name, Note: nullStr(o.Note), NoteAttributes: restProps(o.NoteAttributes),
		Number: o.Number, OrderNumber: o.OrderNumber, Phone: nullStr(o.Phone), PresentmentCurrency: o.Currency,
		OrderStatusURL: fmt.Sprintf("https://%s/%d/orders/%s/authenticate?key=%s", sh.Domain, sh.ID, o.Token, o.Token[len(o.Token)-12:]),
		ProcessedAt:    sh.ts(o.ProcessedAt), ReferringSite: nullStr(o.ReferringSite), SourceName: o.SourceName,
		SubtotalPrice: o.SubtotalPrice.String(), SubtotalPriceSet: sh.set(o.SubtotalPrice), Tags: commaTags(o.Tags),
		TaxLines: []restTaxLine{}, TaxesIncluded: o.TaxesIncluded, Test: o.Test, Token: o.Token,
		TotalDiscounts: o.TotalDiscounts.String(), TotalDiscountsSet: sh.set(o.TotalDiscounts),
		TotalLineItemsPrice: o.TotalLineItemsPrice.String(), TotalLineItemsPriceSet: sh.set(o.TotalLineItemsPrice),
		TotalPrice: o.TotalPrice.String(), TotalPriceSet: sh.set(o.TotalPrice), TotalShippingPriceSet: sh.set(o.TotalShipping),
		TotalTax: o.TotalTax.String(), TotalTaxSet: sh.set(o.TotalTax), UpdatedAt: sh.ts(o.UpdatedAt),
		BillingAddress: restAddr(o.BillingAddress, 0), Customer: restCust(sh, c), DiscountApplications: []restDiscountApplication{},
		Fulfillments: []restFulfillment{}, Refunds: []restRefund{}, ShippingAddress: restAddr(o.ShippingAddress, 0),
		ShippingLines: []restShippingLine{}, PaymentGatewayNames: []string{"shopify_payments"}}
	if o.SourceName == "web" {
		cart, checkout := o.Token[:16], o.Token[16:]
		r.CartToken, r.CheckoutToken = &cart, &checkout
		h, w := 900, 1440
		r.ClientDetails = &restClientDetails{AcceptLanguage: o.AcceptLanguage, BrowserHeight: &h, BrowserIP: o.BrowserIP, BrowserWidth: &w,
			SessionHash: nullStr(o.SessionHash), UserAgent: o.UserAgent}
	}
	if c != nil {
		r.BuyerAcceptsMarketing = c.AcceptsMarketing
	}
	outstanding := o.CurrentTotalPrice
	if o.FinancialStatus != "pending" {
		outstanding = 0
	}
	r.TotalOutstanding = outstanding.String()
	var tax Money
	weight := 0
	for _, li := range o.LineItems {
		r.LineItems = append(r.LineItems, restLine(sh, li))
		weight += li.Grams * li.Quantity
		for _, t := range li.TaxLines {
			tax += t.Price
		}
	}
	r.TotalWeight = weight
	if tax != 0 || len(o.LineItems) > 0 {
		r.TaxLines = append(r.TaxLines, restTaxLine{Price: tax.String(), PriceSet: sh.set(tax), Rate: "0.0825", Title: "State Tax"})
	}
	for _, dc := range o.DiscountCodes {
		r.DiscountCodes = append(r.DiscountCodes, restDiscountCode{Code: dc.Code, Amount: dc.Amount.String(), Type: dc.Type})
		r.DiscountApplications = append(r.DiscountApplications, restDiscountApplication{TargetType: "line_item", Type: "discount_code",
			Value: fmt.Sprintf("%d.0", dc.Percent/100), ValueType: "percentage", AllocationMethod: "across", TargetSelection: "all", Code: dc.Code})
	}
	for _, f := range o.Fulfillments {
		rf := restFulfillment{ID: f.ID, AdminGraphQLAPIID: GID("Fulfillment", f.ID), CreatedAt: sh.ts(f.CreatedAt), LocationID: f.LocationID,
			Name: f.Name, OrderID: f.OrderID, Service: "manual", Status: f.Status, TrackingCompany: f.TrackingCompany,
			TrackingNumber: f.TrackingNumber, TrackingNumbers: []string{f.TrackingNumber},
			TrackingURL: "https://track.example.com/?n=" + f.TrackingNumber, UpdatedAt: sh.ts(f.UpdatedAt)}
		rf.TrackingURLs = []string{rf.TrackingURL}
		for _, l := range f.LineItems {
			rf.LineItems = append(rf.LineItems, restFulfillmentLine{ID: l.LineItemID, Quantity: l.Quantity})
		}
		r.Fulfillments = append(r.Fulfillments, rf)
	}
	for _, rf := range o.Refunds {
		r.Refunds = append(r.Refunds, restRefundOf(sh, o, rf))
	}
	for _, sl := range o.ShippingLines {
		r.ShippingLines = append(r.ShippingLines, restShippingLine{ID: sl.ID, Code: sl.Code, DiscountedPrice: sl.Price.String(),
			DiscountedPriceSet: sh.set(sl.Price), Phone: nullStr(sl.Phone), Price: sl.Price.String(), PriceSet: sh.set(sl.Price),
			Source: "shopify", Title: sl.Title, TaxLines: []restTaxLine{}, DiscountAllocations: []any{}})
	}
	return mustJSON(r)
}

type restRefundLine struct {
	ID          int64        `json:"id"`
	LineItemID  int64        `json:"line_item_id"`
	LocationID  *int64       `json:"location_id"`
	Quantity    int          `json:"quantity"`
	RestockType string       `json:"restock_type"`
	Subtotal    string       `json:"subtotal"`
	SubtotalSet restPriceSet `json:"subtotal_set"`
	TotalTax    string       `json:"total_tax"`
	TotalTaxSet restPriceSet `json:"total_tax_set"`
	LineItem    restLineItem `json:"line_item"`
}

type restTransaction struct {
	ID                int64   `json:"id"`
	AdminGraphQLAPIID string  `json:"admin_graphql_api_id"`
	Amount            string  `json:"amount"`
	Authorization     string  `json:"authorization"`
	CreatedAt         string  `json:"created_at"`
	Currency          string  `json:"currency"`
	Gateway           string  `json:"gateway"`
	Kind              string  `json:"kind"`
	Message           *string `json:"message"`
	OrderID           int64   `json:"order_id"`
	ParentID          *int64  `json:"parent_id"`
	ProcessedAt       string  `json:"processed_at"`
	SourceName        string  `json:"source_name"`
	Status            string  `json:"status"`
	Test              bool    `json:"test"`
}

type restRefund struct {
	ID                int64             `json:"id"`
	AdminGraphQLAPIID string            `json:"admin_graphql_api_id"`
	CreatedAt         string            `json:"created_at"`
	Note              *string           `json:"note"`
	OrderID           int64             `json:"order_id"`
	ProcessedAt       string            `json:"processed_at"`
	Restock           bool              `json:"restock"`
	TotalDutiesSet    restPriceSet      `json:"total_duties_set"`
	UserID            *int64            `json:"user_id"`
	OrderAdjustments  []any             `json:"order_adjustments"`
	Transactions      []restTransaction `json:"transactions"`
	RefundLineItems   []restRefundLine  `json:"refund_line_items"`
	Duties            []any             `json:"duties"`
}

func restRefundOf(sh *shopInfo, o *Order, rf Refund) restRefund {
	r := restRefund{ID: rf.ID, AdminGraphQLAPIID: rf.GID(), CreatedAt: sh.ts(rf.CreatedAt), Note: nullStr(rf.Note), OrderID: rf.OrderID,
		ProcessedAt: sh.ts(rf.CreatedAt), Restock: rf.Restock, TotalDutiesSet: sh.set(0), OrderAdjustments: []any{},
		Transactions: []restTransaction{}, RefundLineItems: []restRefundLine{}, Duties: []any{}}
	for _, t := range rf.Transactions {
		r.Transactions = append(r.Transactions, restTransaction{ID: t.ID, AdminGraphQLAPIID: GID("OrderTransaction", t.ID),
			Amount: t.Amount.String(), Authorization: t.Authorization, CreatedAt: sh.ts(t.CreatedAt), Currency: o.Currency,
			Gateway: t.Gateway, Kind: t.Kind, OrderID: t.OrderID, ProcessedAt: sh.ts(t.CreatedAt), SourceName: "web", Status: t.Status, Test: o.Test})
	}
	for _, rl := range rf.RefundLineItems {
		line := restRefundLine{ID: rl.ID, LineItemID: rl.LineItemID, Quantity: rl.Quantity, RestockType: rl.RestockType,
			Subtotal: rl.Subtotal.String(), SubtotalSet: sh.set(rl.Subtotal), TotalTax: rl.TotalTax.String(), TotalTaxSet: sh.set(rl.TotalTax)}
		if rl.LocationID != 0 {
			loc := rl.LocationID
			line.LocationID = &loc
		}
		for _, li := range o.LineItems {
			if li.ID == rl.LineItemID {
				line.LineItem = restLine(sh, li)
			}
		}
		r.RefundLineItems = append(r.RefundLineItems, line)
	}
	return r
}

func renderRefund(sh *shopInfo, o *Order, rf Refund) []byte { return mustJSON(restRefundOf(sh, o, rf)) }

type restVariant struct {
	ID                   int64   `json:"id"`
	ProductID            int64   `json:"product_id"`
	Title                string  `json:"title"`
	Price                string  `json:"price"`
	Position             int     `json:"position"`
	InventoryPolicy      string  `json:"inventory_policy"`
	CompareAtPrice       *string `json:"compare_at_price"`
	Option1              *string `json:"option1"`
	Option2              *string `json:"option2"`
	Option3              *string `json:"option3"`
	CreatedAt            string  `json:"created_at"`
	UpdatedAt            string  `json:"updated_at"`
	Taxable              bool    `json:"taxable"`
	Barcode              *string `json:"barcode"`
	FulfillmentService   string  `json:"fulfillment_service"`
	Grams                int     `json:"grams"`
	InventoryManagement  string  `json:"inventory_management"`
	RequiresShipping     bool    `json:"requires_shipping"`
	SKU                  string  `json:"sku"`
	Weight               float64 `json:"weight"`
	WeightUnit           string  `json:"weight_unit"`
	InventoryItemID      int64   `json:"inventory_item_id"`
	InventoryQuantity    int     `json:"inventory_quantity"`
	OldInventoryQuantity int     `json:"old_inventory_quantity"`
	AdminGraphQLAPIID    string  `json:"admin_graphql_api_id"`
	ImageID              *int64  `json:"image_id"`
}

type restOption struct {
	ID        int64    `json:"id"`
	ProductID int64    `json:"product_id"`
	Name      string   `json:"name"`
	Position  int      `json:"position"`
	Values    []string `json:"values"`
}

type restImage struct {
	ID                int64   `json:"id"`
	AdminGraphQLAPIID string  `json:"admin_graphql_api_id"`
	ProductID         int64   `json:"product_id"`
	Position          int     `json:"position"`
	CreatedAt         string  `json:"created_at"`
	UpdatedAt         string  `json:"updated_at"`
	Alt               *string `json:"alt"`
	Width             int     `json:"width"`
	Height            int     `json:"height"`
	Src               string  `json:"src"`
	VariantIDs        []int64 `json:"variant_ids"`
}

type restVariantGID struct {
	AdminGraphQLAPIID string `json:"admin_graphql_api_id"`
	UpdatedAt         string `json:"updated_at"`
}

type restProduct struct {
	AdminGraphQLAPIID                 string           `json:"admin_graphql_api_id"`
	BodyHTML                          string           `json:"body_html"`
	CreatedAt                         string           `json:"created_at"`
	Handle                            string           `json:"handle"`
	ID                                int64            `json:"id"`
	ProductType                       string           `json:"product_type"`
	PublishedAt                       *string          `json:"published_at"`
	TemplateSuffix                    *string          `json:"template_suffix"`
	Title                             string           `json:"title"`
	UpdatedAt                         string           `json:"updated_at"`
	Vendor                            string           `json:"vendor"`
	Status                            string           `json:"status"`
	PublishedScope                    string           `json:"published_scope"`
	Tags                              string           `json:"tags"`
	Variants                          []restVariant    `json:"variants"`
	Options                           []restOption     `json:"options"`
	Images                            []restImage      `json:"images"`
	Image                             *restImage       `json:"image"`
	Media                             []any            `json:"media"`
	VariantGIDs                       []restVariantGID `json:"variant_gids"`
	HasVariantsThatRequiresComponents bool             `json:"has_variants_that_requires_components"`
	Category                          any              `json:"category"`
}

func renderProduct(sh *shopInfo, p *Product) []byte {
	r := restProduct{AdminGraphQLAPIID: p.GID(), BodyHTML: p.BodyHTML, CreatedAt: sh.ts(p.CreatedAt), Handle: p.Handle, ID: p.ID,
		ProductType: p.ProductType, PublishedAt: sh.tsp(p.PublishedAt), Title: p.Title, UpdatedAt: sh.ts(p.UpdatedAt), Vendor: p.Vendor,
		Status: p.Status, PublishedScope: "global", Tags: commaTags(p.Tags), Variants: []restVariant{}, Options: []restOption{},
		Images: []restImage{}, Media: []any{}, VariantGIDs: []restVariantGID{}}
	if p.Status != "active" {
		r.PublishedAt = nil
	}
	for _, v := range p.Variants {
		rv := restVariant{ID: v.ID, ProductID: p.ID, Title: v.Title, Price: v.Price.String(), Position: v.Position, InventoryPolicy: "deny",
			CreatedAt: sh.ts(v.CreatedAt), UpdatedAt: sh.ts(v.UpdatedAt), Taxable: v.Taxable, Barcode: nullStr(v.Barcode),
			FulfillmentService: "manual", Grams: v.Grams, InventoryManagement: "shopify", RequiresShipping: v.RequiresShipping, SKU: v.SKU,
			Weight: float64(v.Grams) / 1000, WeightUnit: "kg", InventoryItemID: v.InventoryItemID, InventoryQuantity: v.InventoryQuantity,
			OldInventoryQuantity: v.InventoryQuantity, AdminGraphQLAPIID: v.GID()}
		if v.CompareAtPrice != nil {
			c := v.CompareAtPrice.String()
			rv.CompareAtPrice = &c
		}
		opts := []**string{&rv.Option1, &rv.Option2, &rv.Option3}
		for i, o := range v.Options {
			if i < 3 {
				o := o
				*opts[i] = &o
			}
		}
		r.Variants = append(r.Variants, rv)
		r.VariantGIDs = append(r.VariantGIDs, restVariantGID{AdminGraphQLAPIID: v.GID(), UpdatedAt: v.UpdatedAt.UTC().Format(time.RFC3339Nano)})
	}
	for _, o := range p.Options {
		r.Options = append(r.Options, restOption{ID: o.ID, ProductID: p.ID, Name: o.Name, Position: o.Position, Values: o.Values})
	}
	if p.ImageID != 0 {
		img := restImage{ID: p.ImageID, AdminGraphQLAPIID: GID("ProductImage", p.ImageID), ProductID: p.ID, Position: 1,
			CreatedAt: sh.ts(p.CreatedAt), UpdatedAt: sh.ts(p.CreatedAt), Width: 2048, Height: 2048,
			Src: fmt.Sprintf("https://cdn.shopify.com/s/files/1/0548/3800/0912/files/%s.jpg?v=%d", p.Handle, p.CreatedAt.Unix()), VariantIDs: []int64{}}
		r.Images = append(r.Images, img)
		r.Image = &img
	}
	return mustJSON(r)
}

func renderProductDelete(id int64) []byte {
	return mustJSON(struct {
		ID int64 `json:"id"`
	}{id})
}

func renderInventoryLevel(sh *shopInfo, l InventoryLevel) []byte {
	return mustJSON(struct {
		InventoryItemID   int64  `json:"inventory_item_id"`
		LocationID        int64  `json:"location_id"`
		Available         int    `json:"available"`
		UpdatedAt         string `json:"updated_at"`
		AdminGraphQLAPIID string `json:"admin_graphql_api_id"`
	}{l.InventoryItemID, l.LocationID, l.Available, sh.ts(l.UpdatedAt), l.GID()})
}

func renderShop(sh *shopInfo) []byte {
	s := sh.Shop
	return mustJSON(struct {
		ID                int64   `json:"id"`
		Name              string  `json:"name"`
		Email             string  `json:"email"`
		Domain            string  `json:"domain"`
		Province          string  `json:"province"`
		Country           string  `json:"country"`
		Address1          string  `json:"address1"`
		Zip               string  `json:"zip"`
		City              string  `json:"city"`
		Source            *string `json:"source"`
		Phone             string  `json:"phone"`
		PrimaryLocale     string  `json:"primary_locale"`
		Address2          string  `json:"address2"`
		CreatedAt         string  `json:"created_at"`
		UpdatedAt         string  `json:"updated_at"`
		CountryCode       string  `json:"country_code"`
		CountryName       string  `json:"country_name"`
		Currency          string  `json:"currency"`
		CustomerEmail     string  `json:"customer_email"`
		Timezone          string  `json:"timezone"`
		IANATimezone      string  `json:"iana_timezone"`
		ShopOwner         string  `json:"shop_owner"`
		MoneyFormat       string  `json:"money_format"`
		ProvinceCode      string  `json:"province_code"`
		PlanName          string  `json:"plan_name"`
		PlanDisplayName   string  `json:"plan_display_name"`
		MyshopifyDomain   string  `json:"myshopify_domain"`
		PrimaryLocationID int64   `json:"primary_location_id"`
	}{s.ID, s.Name, s.Email, s.Domain, s.Province, s.Country, s.Address1, s.Zip, s.City, nil, s.Phone, "en", "",
		sh.ts(s.CreatedAt), sh.ts(s.UpdatedAt), s.Country, s.CountryName, s.Currency, s.CustomerEmail, s.TimezoneName, s.IANATimezone,
		s.ShopOwner, "${{amount}}", s.ProvinceCode, s.PlanName, "Basic", s.MyshopifyDomain, s.PrimaryLocationID})
}
