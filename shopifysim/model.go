package shopifysim

import (
	"fmt"
	"slices"
	"time"
)

// The model: one shop's objects as Shopify holds them. Accessors on Store return copies;
// timestamps are whole seconds in UTC (payloads render them in the shop's zone, GraphQL in UTC).

// GID formats a Shopify global id: GID("Product", 42) is "gid://shopify/Product/42".
func GID(resource string, id int64) string { return fmt.Sprintf("gid://shopify/%s/%d", resource, id) }

// Shop is the store itself: what app/uninstalled and shop/update carry.
type Shop struct {
	ID                int64
	Name              string
	Email             string // the owner's: personal data
	CustomerEmail     string
	ShopOwner         string // personal data
	Phone             string
	Domain            string
	MyshopifyDomain   string // the shop's name everywhere: X-Shopify-Shop-Domain
	Currency          string // ISO 4217, the currency of every Money
	IANATimezone      string
	TimezoneName      string // "(GMT-05:00) America/Panama"
	UTCOffset         int    // seconds east of UTC (the zone has no daylight saving)
	PlanName          string
	Address1, City    string
	Province          string
	ProvinceCode      string
	Country           string // country code, as Shopify's shop.country
	CountryName       string
	Zip               string
	PrimaryLocationID int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// GID is gid://shopify/Shop/<id>.
func (s Shop) GID() string { return GID("Shop", s.ID) }

// Location is where stock is kept.
type Location struct {
	ID           int64
	Name         string
	Address1     string
	City         string
	ProvinceCode string
	CountryCode  string
	Zip          string
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// GID is gid://shopify/Location/<id>.
func (l Location) GID() string { return GID("Location", l.ID) }

// Product is a product with its variants.
type Product struct {
	ID          int64
	Title       string
	Handle      string
	BodyHTML    string
	Vendor      string
	ProductType string
	Status      string // active, draft or archived (GraphQL: ACTIVE, DRAFT, ARCHIVED)
	Tags        []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt *time.Time
	Options     []ProductOption
	Variants    []Variant
	ImageID     int64
}

// GID is gid://shopify/Product/<id>.
func (p Product) GID() string { return GID("Product", p.ID) }

// ProductOption is one of a product's options (Size, Color) with its values.
type ProductOption struct {
	ID       int64
	Name     string
	Position int
	Values   []string
}

// Variant is one sellable version of a product.
type Variant struct {
	ID              int64
	ProductID       int64
	Title           string // "M / White"
	SKU             string
	Barcode         string
	Price           Money
	CompareAtPrice  *Money
	Position        int
	Options         []string // option1..option3
	InventoryItemID int64
	// InventoryQuantity is the variant's stock summed over locations as of the product's last
	// write (products/create, products/update). Stock moves change InventoryLevels and
	// inventory_levels/update only; see the package documentation.
	InventoryQuantity int
	Taxable           bool
	RequiresShipping  bool
	Grams             int
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// GID is gid://shopify/ProductVariant/<id>.
func (v Variant) GID() string { return GID("ProductVariant", v.ID) }

// DeletedProduct is a product that products/delete removed.
type DeletedProduct struct {
	ID        int64
	DeletedAt time.Time
}

// InventoryItem is the stock-keeping side of a variant.
type InventoryItem struct {
	ID        int64
	VariantID int64
	ProductID int64
	SKU       string
	Tracked   bool
	Cost      Money
	CreatedAt time.Time
	// UpdatedAt is the latest of the item's own writes and its levels' updated_at, so an
	// inventoryItems(query: "updated_at:>=…") export finds items whose stock moved.
	UpdatedAt time.Time
}

// GID is gid://shopify/InventoryItem/<id>.
func (i InventoryItem) GID() string { return GID("InventoryItem", i.ID) }

// InventoryLevel is the stock of one inventory item at one location.
type InventoryLevel struct {
	InventoryItemID int64
	LocationID      int64
	Available       int // may be negative: oversold
	UpdatedAt       time.Time
}

// GID is gid://shopify/InventoryLevel/<location_id>?inventory_item_id=<inventory_item_id>, the
// shape of the admin_graphql_api_id inventory_levels/update carries.
func (l InventoryLevel) GID() string {
	return fmt.Sprintf("gid://shopify/InventoryLevel/%d?inventory_item_id=%d", l.LocationID, l.InventoryItemID)
}

// Customer is a buyer with an account. Every string field but State, Tags and Currency is
// personal data.
type Customer struct {
	ID               int64
	Email            string
	FirstName        string
	LastName         string
	Phone            string
	Note             string
	State            string // enabled
	VerifiedEmail    bool
	AcceptsMarketing bool
	Tags             []string
	DefaultAddress   Address
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// GID is gid://shopify/Customer/<id>.
func (c Customer) GID() string { return GID("Customer", c.ID) }

// Address is a postal address (a customer's, or an order's billing or shipping address).
type Address struct {
	ID           int64 // a customer address's id; 0 on an order's addresses
	FirstName    string
	LastName     string
	Company      string
	Address1     string
	Address2     string
	City         string
	Province     string
	ProvinceCode string
	Country      string
	CountryCode  string
	Zip          string
	Phone        string
	Latitude     float64
	Longitude    float64
}

// Name is "First Last".
func (a Address) Name() string { return a.FirstName + " " + a.LastName }

// Order is an order with its lines, refunds and fulfillments.
type Order struct {
	ID                int64
	Name              string // "#1001"
	OrderNumber       int
	Number            int
	Token             string
	Email             string // personal data, as everything down to CustomerLocale
	Phone             string
	CustomerID        int64 // 0: a guest checkout
	BillingAddress    *Address
	ShippingAddress   *Address
	BrowserIP         string
	UserAgent         string
	AcceptLanguage    string
	SessionHash       string
	LandingSite       string
	ReferringSite     string
	Note              string
	NoteAttributes    []Property
	CustomerLocale    string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ProcessedAt       time.Time
	CancelledAt       *time.Time
	CancelReason      string // customer, fraud, inventory, declined, other; "" when not cancelled
	ClosedAt          *time.Time
	FinancialStatus   string // pending, paid, partially_refunded, refunded, voided
	FulfillmentStatus string // "" (null: unfulfilled) or fulfilled
	Currency          string
	SourceName        string // web, pos
	Tags              []string
	Test              bool
	TaxesIncluded     bool
	LineItems         []LineItem
	ShippingLines     []ShippingLine
	DiscountCodes     []DiscountCode
	Refunds           []Refund
	Fulfillments      []Fulfillment

	// Amounts as at creation.
	TotalLineItemsPrice Money // Σ price × quantity
	TotalDiscounts      Money
	SubtotalPrice       Money // line items less discounts
	TotalTax            Money
	TotalShipping       Money
	TotalPrice          Money // subtotal + tax + shipping
	// Amounts after refunds (Shopify's current_*).
	CurrentSubtotalPrice  Money
	CurrentTotalDiscounts Money
	CurrentTotalTax       Money
	CurrentTotalPrice     Money
	TotalRefunded         Money // Σ refund transactions
}

// GID is gid://shopify/Order/<id>.
func (o Order) GID() string { return GID("Order", o.ID) }

// Property is a name/value pair: a line item's customisation or an order's note attribute.
type Property struct {
	Name  string
	Value string
}

// LineItem is one line of an order.
type LineItem struct {
	ID                  int64
	ProductID           int64
	VariantID           int64
	Title               string
	VariantTitle        string
	Name                string // "Title - Variant title"
	SKU                 string
	Vendor              string
	Quantity            int
	CurrentQuantity     int // quantity less refunded units
	FulfillableQuantity int
	FulfillmentStatus   string // "" or fulfilled
	Price               Money  // unit price
	TotalDiscount       Money  // discount on the whole line
	TaxLines            []TaxLine
	Taxable             bool
	RequiresShipping    bool
	GiftCard            bool
	Grams               int
	Properties          []Property // personal data: engraving text, gift messages
}

// GID is gid://shopify/LineItem/<id>.
func (l LineItem) GID() string { return GID("LineItem", l.ID) }

// TaxLine is a tax charged on a line or a shipping line.
type TaxLine struct {
	Title string
	Rate  string // decimal, "0.0825"
	Price Money
}

// ShippingLine is a shipping method charged on an order.
type ShippingLine struct {
	ID    int64
	Title string
	Code  string
	Price Money
	Phone string // personal data
}

// DiscountCode is a code applied at checkout.
type DiscountCode struct {
	Code   string
	Amount Money
	Type   string // percentage
	// Percent is the percentage off every line, in basis points.
	Percent int64
}

// Refund gives back money (and possibly goods) of an order.
type Refund struct {
	ID              int64
	OrderID         int64
	CreatedAt       time.Time
	Note            string // personal data
	Restock         bool
	RefundLineItems []RefundLineItem
	Transactions    []Transaction
}

// GID is gid://shopify/Refund/<id>.
func (r Refund) GID() string { return GID("Refund", r.ID) }

// Total is the refund's money: Σ transactions.
func (r Refund) Total() Money {
	var t Money
	for _, tr := range r.Transactions {
		t += tr.Amount
	}
	return t
}

// RefundLineItem is the part of a line a refund takes back.
type RefundLineItem struct {
	ID          int64
	LineItemID  int64
	Quantity    int
	RestockType string // return, cancel, no_restock
	LocationID  int64
	Subtotal    Money // the line's price × quantity less its discount share
	TotalTax    Money
	Discount    Money // the line discount's share refunded
}

// Transaction is a payment movement (here: a refund's).
type Transaction struct {
	ID            int64
	OrderID       int64
	ParentID      int64
	Kind          string // refund
	Gateway       string
	Status        string // success
	Amount        Money
	Authorization string
	CreatedAt     time.Time
}

// Fulfillment ships lines of an order.
type Fulfillment struct {
	ID              int64
	OrderID         int64
	LocationID      int64
	Name            string // "#1001.1"
	Status          string // success
	TrackingCompany string
	TrackingNumber  string // personal data
	CreatedAt       time.Time
	UpdatedAt       time.Time
	LineItems       []FulfillmentLine
}

// FulfillmentLine is a line a fulfillment ships.
type FulfillmentLine struct {
	LineItemID int64
	Quantity   int
}

// Metafield is a typed value an app attached to a resource (metafieldsSet).
type Metafield struct {
	ID        int64
	OwnerID   string // GID of the owner
	Namespace string
	Key       string
	Type      string
	Value     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GID is gid://shopify/Metafield/<id>.
func (m Metafield) GID() string { return GID("Metafield", m.ID) }

// clone helpers: a version held by the store is never mutated in place, so accessors copy what
// a caller could modify.

func (p Product) clone() Product {
	p.Tags = slices.Clone(p.Tags)
	p.Options = slices.Clone(p.Options)
	for i := range p.Options {
		p.Options[i].Values = slices.Clone(p.Options[i].Values)
	}
	p.Variants = slices.Clone(p.Variants)
	for i := range p.Variants {
		p.Variants[i].Options = slices.Clone(p.Variants[i].Options)
	}
	return p
}

func (o Order) clone() Order {
	o.NoteAttributes = slices.Clone(o.NoteAttributes)
	o.Tags = slices.Clone(o.Tags)
	o.LineItems = slices.Clone(o.LineItems)
	for i := range o.LineItems {
		o.LineItems[i].TaxLines = slices.Clone(o.LineItems[i].TaxLines)
		o.LineItems[i].Properties = slices.Clone(o.LineItems[i].Properties)
	}
	o.ShippingLines = slices.Clone(o.ShippingLines)
	o.DiscountCodes = slices.Clone(o.DiscountCodes)
	o.Refunds = slices.Clone(o.Refunds)
	for i := range o.Refunds {
		o.Refunds[i].RefundLineItems = slices.Clone(o.Refunds[i].RefundLineItems)
		o.Refunds[i].Transactions = slices.Clone(o.Refunds[i].Transactions)
	}
	o.Fulfillments = slices.Clone(o.Fulfillments)
	for i := range o.Fulfillments {
		o.Fulfillments[i].LineItems = slices.Clone(o.Fulfillments[i].LineItems)
	}
	if o.BillingAddress != nil {
		a := *o.BillingAddress
		o.BillingAddress = &a
	}
	if o.ShippingAddress != nil {
		a := *o.ShippingAddress
		o.ShippingAddress = &a
	}
	if o.CancelledAt != nil {
		t := *o.CancelledAt
		o.CancelledAt = &t
	}
	if o.ClosedAt != nil {
		t := *o.ClosedAt
		o.ClosedAt = &t
	}
	return o
}
