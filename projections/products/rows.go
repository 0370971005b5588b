package products

import (
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/recordset"
)

// Rows as the statements of fold.go read them (jsonb_to_recordset): JSON field = column name.

var productColumns = recordset.Columns{
	{"product_id", "bigint"}, {"product_gid", "text"}, {"shop", "text"}, {"title", "text"}, {"handle", "text"},
	{"vendor", "text"}, {"product_type", "text"}, {"status", "text"}, {"tags", "text[]"}, {"options", "jsonb"},
	{"featured_image_url", "text"}, {"created_at", "timestamptz"}, {"updated_at", "timestamptz"},
	{"published_at", "timestamptz"}, {"bulk_operation_id", "bigint"}, {"last_event_id", "uuid"},
}

type productRow struct {
	ProductID        int64      `json:"product_id"`
	ProductGID       string     `json:"product_gid"`
	Shop             string     `json:"shop"`
	Title            string     `json:"title"`
	Handle           string     `json:"handle"`
	Vendor           *string    `json:"vendor"`
	ProductType      *string    `json:"product_type"`
	Status           string     `json:"status"`
	Tags             []string   `json:"tags"`
	Options          []Option   `json:"options"`
	FeaturedImageURL *string    `json:"featured_image_url"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	PublishedAt      *time.Time `json:"published_at"`
	BulkOperationID  *int64     `json:"bulk_operation_id"`
	LastEventID      string     `json:"last_event_id"`
}

func newProductRow(v *version) productRow {
	p := v.product
	row := productRow{
		ProductID: p.ProductID, ProductGID: p.ProductGID, Shop: v.env.Shop, Title: p.Title, Handle: p.Handle,
		Vendor: p.Vendor, ProductType: p.ProductType, Status: p.Status, Tags: recordset.NonNil(p.Tags),
		Options: make([]Option, len(p.Options)), FeaturedImageURL: p.FeaturedImageURL,
		CreatedAt: recordset.UTC(p.CreatedAt), UpdatedAt: recordset.UTC(p.UpdatedAt), PublishedAt: recordset.OptUTC(p.PublishedAt),
		BulkOperationID: v.bulkOperationID, LastEventID: v.env.EventID,
	}
	for i, o := range p.Options {
		row.Options[i] = Option{ID: recordset.IDString(o.OptionID), GID: o.OptionGID, Name: o.Name, Position: o.Position, Values: recordset.NonNil(o.Values)}
	}
	return row
}

// variantColumns are the columns product_variants and product_variant_snapshots share.
var variantColumns = recordset.Columns{
	{"product_id", "bigint"}, {"variant_id", "bigint"}, {"variant_gid", "text"}, {"title", "text"},
	{"sku", "text"}, {"barcode", "text"}, {"position", "int"}, {"currency", "text"},
	{"price", "numeric"}, {"compare_at_price", "numeric"}, {"unit_cost", "numeric"},
	{"inventory_item_id", "bigint"}, {"inventory_item_gid", "text"}, {"inventory_quantity", "int"},
	{"inventory_policy", "text"}, {"taxable", "boolean"}, {"requires_shipping", "boolean"},
	{"weight", "double precision"}, {"weight_unit", "text"},
	{"option1", "text"}, {"option2", "text"}, {"option3", "text"},
	{"created_at", "timestamptz"}, {"updated_at", "timestamptz"},
}

// stagedVariantColumns adds the bulk operation that exported the variant.
var stagedVariantColumns = append(append(recordset.Columns{}, variantColumns...), recordset.Column{"bulk_operation_id", "bigint"})

type variantRow struct {
	ProductID         int64     `json:"product_id"`
	VariantID         int64     `json:"variant_id"`
	VariantGID        string    `json:"variant_gid"`
	Title             string    `json:"title"`
	SKU               *string   `json:"sku"`
	Barcode           *string   `json:"barcode"`
	Position          int32     `json:"position"`
	Currency          string    `json:"currency"`
	Price             string    `json:"price"`
	CompareAtPrice    *string   `json:"compare_at_price"`
	UnitCost          *string   `json:"unit_cost"`
	InventoryItemID   int64     `json:"inventory_item_id"`
	InventoryItemGID  string    `json:"inventory_item_gid"`
	InventoryQuantity *int32    `json:"inventory_quantity"`
	InventoryPolicy   *string   `json:"inventory_policy"`
	Taxable           bool      `json:"taxable"`
	RequiresShipping  *bool     `json:"requires_shipping"`
	Weight            *float64  `json:"weight"`
	WeightUnit        *string   `json:"weight_unit"`
	Option1           *string   `json:"option1"`
	Option2           *string   `json:"option2"`
	Option3           *string   `json:"option3"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
	BulkOperationID   *int64    `json:"bulk_operation_id,omitempty"`
}

func newVariantRow(productID int64, v *events.ProductVariant) variantRow {
	return variantRow{
		ProductID: productID, VariantID: v.VariantID, VariantGID: v.VariantGID, Title: v.Title, SKU: v.SKU,
		Barcode: v.Barcode, Position: v.Position, Currency: v.Price.CurrencyCode, Price: recordset.Amount(v.Price),
		CompareAtPrice: recordset.OptAmount(v.CompareAtPrice), UnitCost: recordset.OptAmount(v.UnitCost),
		InventoryItemID: v.InventoryItemID, InventoryItemGID: v.InventoryItemGID, InventoryQuantity: v.InventoryQuantity,
		InventoryPolicy: v.InventoryPolicy, Taxable: v.Taxable, RequiresShipping: v.RequiresShipping,
		Weight: v.Weight, WeightUnit: v.WeightUnit, Option1: v.Option1, Option2: v.Option2, Option3: v.Option3,
		CreatedAt: recordset.UTC(v.CreatedAt), UpdatedAt: recordset.UTC(v.UpdatedAt),
	}
}
