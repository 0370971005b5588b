package shopifysim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The Admin GraphQL schema the simulator serves: the types and fields storeline reads and
// writes, with Shopify's names and shapes. A field not declared here is an undefinedField
// error, as on Shopify.

type (
	variantSrc struct {
		p *Product
		v *Variant
	}
	lineSrc struct {
		o  *Order
		li *LineItem
	}
	refundSrc struct {
		o *Order
		r *Refund
	}
	refundLineSrc struct {
		o  *Order
		rl *RefundLineItem
	}
	fulfillmentSrc struct {
		o *Order
		f *Fulfillment
	}
	transactionSrc struct{ t *Transaction }
	bagSrc         Money // MoneyBag in the shop currency
	moneySrc       Money // MoneyV2
	addressSrc     struct {
		a   *Address
		own int64 // the customer's id for a saved address
	}
	quantitySrc struct {
		name string
		n    int
		l    *InventoryLevel
	}
	taxLineSrc TaxLine
	pairSrc    struct{ k, v string } // SelectedOption (name/value), Attribute (key/value)
	recSrc     map[string]any        // payloads and user errors
	imageSrc   struct{ p *Product }
	optionSrc  struct {
		p *Product
		o *ProductOption
	}
	countSrc  int
	weightSrc int // grams
)

type resolver = func(x *execCtx, src any, f *gqlField) (any, error)

func scalar[T any](fn func(T) any) *fieldDef {
	return &fieldDef{kind: kScalar, resolve: func(_ *execCtx, src any, _ *gqlField) (any, error) { return fn(src.(T)), nil }}
}

func object[T any](typ string, fn func(x *execCtx, v T) any) *fieldDef {
	return &fieldDef{kind: kObject, typ: typ, resolve: func(x *execCtx, src any, _ *gqlField) (any, error) {
		r := fn(x, src.(T))
		if r == nil {
			return nil, nil
		}
		return r, nil
	}}
}

func list[T any](typ string, args []string, fn func(x *execCtx, v T, f *gqlField) []any) *fieldDef {
	return &fieldDef{kind: kList, typ: typ, args: args, resolve: func(x *execCtx, src any, f *gqlField) (any, error) {
		return fn(x, src.(T), f), nil
	}}
}

func conn[T any](typ string, args []string, fn func(x *execCtx, v T, f *gqlField) (*connection, error)) *fieldDef {
	return &fieldDef{kind: kConn, typ: typ, args: args, resolve: func(x *execCtx, src any, f *gqlField) (any, error) {
		return fn(x, src.(T), f)
	}}
}

func withArgs(d *fieldDef, args ...string) *fieldDef { d.args = args; return d }

var connArgs = []string{"first", "last", "after", "before", "reverse"}

var tagStrip = regexp.MustCompile(`<[^>]*>`)

// schema is built in init: its resolvers refer back to it.
var schema map[string]*gqlType

func init() { schema = buildSchema() }

func buildSchema() map[string]*gqlType {
	types := map[string]*gqlType{}
	def := func(name string, fields map[string]*fieldDef, gid func(any) string, implements ...string) {
		types[name] = &gqlType{name: name, fields: fields, gid: gid, implements: implements}
	}
	id := func(fn func(any) string) *fieldDef {
		return &fieldDef{kind: kScalar, resolve: func(_ *execCtx, src any, _ *gqlField) (any, error) { return fn(src), nil }}
	}
	legacy := func(fn func(any) int64) *fieldDef {
		return &fieldDef{kind: kScalar, resolve: func(_ *execCtx, src any, _ *gqlField) (any, error) { return fmt.Sprint(fn(src)), nil }}
	}
	metafieldFields := func(owner func(any) string) map[string]*fieldDef {
		return map[string]*fieldDef{
			"metafield": {kind: kObject, typ: "Metafield", args: []string{"namespace", "key"}, resolve: func(x *execCtx, src any, f *gqlField) (any, error) {
				ns, _ := x.argString(f, "namespace")
				key, _ := x.argString(f, "key")
				if ns == "" {
					ns = appNamespace
				}
				for _, m := range x.store.metafields[owner(src)] {
					if m.Namespace == ns && m.Key == key {
						return m, nil
					}
				}
				return nil, nil
			}},
			"metafields": {kind: kConn, typ: "Metafield", args: append([]string{"namespace", "keys"}, connArgs...), resolve: func(x *execCtx, src any, f *gqlField) (any, error) {
				ns, hasNS := x.argString(f, "namespace")
				ms := x.store.metafields[owner(src)]
				items := make([]any, 0, len(ms))
				sorted := append([]*Metafield(nil), ms...)
				sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
				for _, m := range sorted {
					if !hasNS || m.Namespace == ns {
						items = append(items, m)
					}
				}
				return x.paginate(f, items, func(v any) (string, int64) { m := v.(*Metafield); return idKey(m.ID), m.ID })
			}},
		}
	}
	merge := func(ms ...map[string]*fieldDef) map[string]*fieldDef {
		out := map[string]*fieldDef{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	productGID := func(src any) string { return src.(*Product).GID() }
	variantGID := func(src any) string { return src.(variantSrc).v.GID() }
	orderGID := func(src any) string { return src.(*Order).GID() }
	customerGID := func(src any) string { return src.(*Customer).GID() }

	def("Product", merge(map[string]*fieldDef{
		"id":               id(productGID),
		"legacyResourceId": legacy(func(s any) int64 { return s.(*Product).ID }),
		"title":            scalar(func(p *Product) any { return p.Title }),
		"handle":           scalar(func(p *Product) any { return p.Handle }),
		"descriptionHtml":  scalar(func(p *Product) any { return p.BodyHTML }),
		"description":      withArgs(scalar(func(p *Product) any { return strings.TrimSpace(tagStrip.ReplaceAllString(p.BodyHTML, "")) }), "truncateAt"),
		"vendor":           scalar(func(p *Product) any { return p.Vendor }),
		"productType":      scalar(func(p *Product) any { return p.ProductType }),
		"status":           scalar(func(p *Product) any { return strings.ToUpper(p.Status) }),
		"tags":             scalar(func(p *Product) any { return append([]string{}, p.Tags...) }),
		"createdAt":        scalar(func(p *Product) any { return gqlTime(p.CreatedAt) }),
		"updatedAt":        scalar(func(p *Product) any { return gqlTime(p.UpdatedAt) }),
		"publishedAt": scalar(func(p *Product) any {
			if p.Status != "active" {
				return nil
			}
			return gqlTimePtr(p.PublishedAt)
		}),
		"templateSuffix": scalar(func(p *Product) any { return nil }),
		"onlineStoreUrl": scalar(func(p *Product) any { return nil }),
		"totalInventory": scalar(func(p *Product) any {
			n := 0
			for _, v := range p.Variants {
				n += v.InventoryQuantity
			}
			return n
		}),
		"tracksInventory":       scalar(func(p *Product) any { return true }),
		"hasOnlyDefaultVariant": scalar(func(p *Product) any { return len(p.Variants) == 1 }),
		"options": list("ProductOption", []string{"first"}, func(x *execCtx, p *Product, f *gqlField) []any {
			out := []any{}
			for i := range p.Options {
				out = append(out, optionSrc{p, &p.Options[i]})
			}
			return out
		}),
		"variants": conn("ProductVariant", connArgs, func(x *execCtx, p *Product, f *gqlField) (*connection, error) {
			items := make([]any, len(p.Variants))
			for i := range p.Variants {
				items[i] = variantSrc{p, &p.Variants[i]}
			}
			return x.paginate(f, items, func(v any) (string, int64) { vv := v.(variantSrc).v; return fmt.Sprintf("%06d", vv.Position), vv.ID })
		}),
		"variantsCount": object("Count", func(x *execCtx, p *Product) any { return countSrc(len(p.Variants)) }),
		"featuredImage": object("Image", func(x *execCtx, p *Product) any {
			if p.ImageID == 0 {
				return nil
			}
			return imageSrc{p}
		}),
		"featuredMedia": object("MediaImage", func(x *execCtx, p *Product) any {
			if p.ImageID == 0 {
				return nil
			}
			return imageSrc{p}
		}),
	}, metafieldFields(productGID)), productGID, "Node", "HasMetafields")

	def("MediaImage", map[string]*fieldDef{
		"id":               scalar(func(i imageSrc) any { return GID("MediaImage", i.p.ImageID) }),
		"alt":              scalar(func(i imageSrc) any { return "" }),
		"mediaContentType": scalar(func(i imageSrc) any { return "IMAGE" }),
		"status":           scalar(func(i imageSrc) any { return "READY" }),
		"image":            object("Image", func(x *execCtx, i imageSrc) any { return i }),
		"preview":          object("MediaPreviewImage", func(x *execCtx, i imageSrc) any { return i }),
	}, func(s any) string { return GID("MediaImage", s.(imageSrc).p.ImageID) }, "Node", "Media")
	def("MediaPreviewImage", map[string]*fieldDef{
		"image":  object("Image", func(x *execCtx, i imageSrc) any { return i }),
		"status": scalar(func(i imageSrc) any { return "READY" }),
	}, nil)

	def("ProductOption", map[string]*fieldDef{
		"id":       scalar(func(o optionSrc) any { return GID("ProductOption", o.o.ID) }),
		"name":     scalar(func(o optionSrc) any { return o.o.Name }),
		"position": scalar(func(o optionSrc) any { return o.o.Position }),
		"values":   scalar(func(o optionSrc) any { return append([]string{}, o.o.Values...) }),
	}, nil, "Node")

	def("Image", map[string]*fieldDef{
		"id": scalar(func(i imageSrc) any { return GID("ProductImage", i.p.ImageID) }),
		"url": withArgs(scalar(func(i imageSrc) any {
			return fmt.Sprintf("https://cdn.shopify.com/s/files/1/0548/3800/0912/files/%s.jpg", i.p.Handle)
		}), "transform"),
		"altText": scalar(func(i imageSrc) any { return nil }),
		"width":   scalar(func(i imageSrc) any { return 2048 }),
		"height":  scalar(func(i imageSrc) any { return 2048 }),
	}, nil)

	def("Count", map[string]*fieldDef{
		"count":     scalar(func(c countSrc) any { return int(c) }),
		"precision": scalar(func(c countSrc) any { return "EXACT" }),
	}, nil)

	def("ProductVariant", merge(map[string]*fieldDef{
		"id":               id(variantGID),
		"legacyResourceId": legacy(func(s any) int64 { return s.(variantSrc).v.ID }),
		"title":            scalar(func(v variantSrc) any { return v.v.Title }),
		"displayName":      scalar(func(v variantSrc) any { return v.p.Title + " - " + v.v.Title }),
		"sku":              scalar(func(v variantSrc) any { return nullable(v.v.SKU) }),
		"barcode":          scalar(func(v variantSrc) any { return nullable(v.v.Barcode) }),
		"price":            scalar(func(v variantSrc) any { return v.v.Price.String() }),
		"compareAtPrice": scalar(func(v variantSrc) any {
			if v.v.CompareAtPrice == nil {
				return nil
			}
			return v.v.CompareAtPrice.String()
		}),
		"position":          scalar(func(v variantSrc) any { return v.v.Position }),
		"inventoryQuantity": scalar(func(v variantSrc) any { return v.v.InventoryQuantity }),
		"taxable":           scalar(func(v variantSrc) any { return v.v.Taxable }),
		"inventoryPolicy":   scalar(func(v variantSrc) any { return "DENY" }),
		"availableForSale":  scalar(func(v variantSrc) any { return v.p.Status == "active" && v.v.InventoryQuantity > 0 }),
		"createdAt":         scalar(func(v variantSrc) any { return gqlTime(v.v.CreatedAt) }),
		"updatedAt":         scalar(func(v variantSrc) any { return gqlTime(v.v.UpdatedAt) }),
		"selectedOptions": list("SelectedOption", nil, func(x *execCtx, v variantSrc, f *gqlField) []any {
			out := []any{}
			for i, val := range v.v.Options {
				if i < len(v.p.Options) {
					out = append(out, pairSrc{v.p.Options[i].Name, val})
				}
			}
			return out
		}),
		"product": object("Product", func(x *execCtx, v variantSrc) any { return v.p }),
		"inventoryItem": object("InventoryItem", func(x *execCtx, v variantSrc) any {
			if it := x.store.items[v.v.InventoryItemID]; it != nil {
				return it
			}
			return nil
		}),
	}, metafieldFields(variantGID)), variantGID, "Node", "HasMetafields")

	def("SelectedOption", map[string]*fieldDef{
		"name":  scalar(func(p pairSrc) any { return p.k }),
		"value": scalar(func(p pairSrc) any { return p.v }),
	}, nil)
	def("Attribute", map[string]*fieldDef{
		"key":   scalar(func(p pairSrc) any { return p.k }),
		"value": scalar(func(p pairSrc) any { return p.v }),
	}, nil)

	def("InventoryItem", map[string]*fieldDef{
		"id":               id(func(s any) string { return s.(*InventoryItem).GID() }),
		"legacyResourceId": legacy(func(s any) int64 { return s.(*InventoryItem).ID }),
		"sku":              scalar(func(i *InventoryItem) any { return nullable(i.SKU) }),
		"tracked":          scalar(func(i *InventoryItem) any { return i.Tracked }),
		"requiresShipping": scalar(func(i *InventoryItem) any { return true }),
		"createdAt":        scalar(func(i *InventoryItem) any { return gqlTime(i.CreatedAt) }),
		"updatedAt":        scalar(func(i *InventoryItem) any { return gqlTime(i.UpdatedAt) }),
		"unitCost":         object("MoneyV2", func(x *execCtx, i *InventoryItem) any { return moneySrc(i.Cost) }),
		"measurement": object("InventoryItemMeasurement", func(x *execCtx, i *InventoryItem) any {
			if p := x.store.products[i.ProductID]; p != nil {
				if v := p.variant(i.VariantID); v != nil {
					return weightSrc(v.Grams)
				}
			}
			return weightSrc(0)
		}),
		"variant": object("ProductVariant", func(x *execCtx, i *InventoryItem) any {
			if p := x.store.products[i.ProductID]; p != nil {
				if v := p.variant(i.VariantID); v != nil {
					return variantSrc{p, v}
				}
			}
			return nil
		}),
		"inventoryLevels": conn("InventoryLevel", append([]string{"query"}, connArgs...), func(x *execCtx, i *InventoryItem, f *gqlField) (*connection, error) {
			q, _ := x.argString(f, "query")
			terms := parseSearch(q)
			items := []any{}
			for _, loc := range x.store.locations {
				if l := x.store.levels[levelKey{i.ID, loc.ID}]; l != nil && matchLevel(x, terms, l) {
					items = append(items, l)
				}
			}
			return x.paginate(f, items, func(v any) (string, int64) {
				return idKey(v.(*InventoryLevel).LocationID), v.(*InventoryLevel).LocationID
			})
		}),
		"inventoryLevel": {kind: kObject, typ: "InventoryLevel", args: []string{"locationId"}, resolve: func(x *execCtx, src any, f *gqlField) (any, error) {
			locID, _ := x.argString(f, "locationId")
			_, lid, _, ok := parseGID(locID)
			if !ok {
				return nil, errorf("", "Invalid global id '%s'", locID)
			}
			if l := x.store.levels[levelKey{src.(*InventoryItem).ID, lid}]; l != nil {
				return l, nil
			}
			return nil, nil
		}},
	}, func(s any) string { return s.(*InventoryItem).GID() }, "Node")

	def("InventoryLevel", map[string]*fieldDef{
		"id": id(func(s any) string { return s.(*InventoryLevel).GID() }),
		"quantities": {kind: kList, typ: "InventoryQuantity", args: []string{"names"}, resolve: func(x *execCtx, src any, f *gqlField) (any, error) {
			l := src.(*InventoryLevel)
			v, _ := x.arg(f, "names")
			names, _ := v.([]any)
			if s, ok := v.(string); ok {
				names = []any{s}
			}
			out := []any{}
			for _, n := range names {
				name, _ := n.(string)
				switch name {
				case "available", "on_hand":
					out = append(out, quantitySrc{name, l.Available, l})
				case "committed", "incoming", "reserved", "damaged", "safety_stock", "quality_control":
					out = append(out, quantitySrc{name, 0, l})
				default:
					return nil, errorf("INVALID", "Invalid quantity name: %q", name)
				}
			}
			return out, nil
		}},
		"location": object("Location", func(x *execCtx, l *InventoryLevel) any {
			for _, loc := range x.store.locations {
				if loc.ID == l.LocationID {
					return loc
				}
			}
			return nil
		}),
		"item": object("InventoryItem", func(x *execCtx, l *InventoryLevel) any {
			if it := x.store.items[l.InventoryItemID]; it != nil {
				return it
			}
			return nil
		}),
		"createdAt":     scalar(func(l *InventoryLevel) any { return gqlTime(l.UpdatedAt) }),
		"updatedAt":     scalar(func(l *InventoryLevel) any { return gqlTime(l.UpdatedAt) }),
		"canDeactivate": scalar(func(l *InventoryLevel) any { return true }),
	}, func(s any) string { return s.(*InventoryLevel).GID() }, "Node")

	def("InventoryQuantity", map[string]*fieldDef{
		"name":      scalar(func(q quantitySrc) any { return q.name }),
		"quantity":  scalar(func(q quantitySrc) any { return q.n }),
		"updatedAt": scalar(func(q quantitySrc) any { return gqlTime(q.l.UpdatedAt) }),
	}, nil)

	def("Location", map[string]*fieldDef{
		"id":                   id(func(s any) string { return s.(*Location).GID() }),
		"legacyResourceId":     legacy(func(s any) int64 { return s.(*Location).ID }),
		"name":                 scalar(func(l *Location) any { return l.Name }),
		"isActive":             scalar(func(l *Location) any { return l.Active }),
		"fulfillsOnlineOrders": scalar(func(l *Location) any { return true }),
		"createdAt":            scalar(func(l *Location) any { return gqlTime(l.CreatedAt) }),
		"updatedAt":            scalar(func(l *Location) any { return gqlTime(l.UpdatedAt) }),
		"address":              object("LocationAddress", func(x *execCtx, l *Location) any { return l }),
		"inventoryLevels": conn("InventoryLevel", append([]string{"query"}, connArgs...), func(x *execCtx, l *Location, f *gqlField) (*connection, error) {
			q, _ := x.argString(f, "query")
			terms := parseSearch(q)
			items := []any{}
			for _, itemID := range x.store.itemIDs {
				if lv := x.store.levels[levelKey{itemID, l.ID}]; lv != nil && matchLevel(x, terms, lv) {
					items = append(items, lv)
				}
			}
			return x.paginate(f, items, func(v any) (string, int64) {
				return idKey(v.(*InventoryLevel).InventoryItemID), v.(*InventoryLevel).InventoryItemID
			})
		}),
	}, func(s any) string { return s.(*Location).GID() }, "Node")

	def("LocationAddress", map[string]*fieldDef{
		"address1":     scalar(func(l *Location) any { return l.Address1 }),
		"city":         scalar(func(l *Location) any { return l.City }),
		"provinceCode": scalar(func(l *Location) any { return l.ProvinceCode }),
		"countryCode":  scalar(func(l *Location) any { return l.CountryCode }),
		"zip":          scalar(func(l *Location) any { return l.Zip }),
	}, nil)

	bag := func(fn func(*Order) Money) *fieldDef {
		return object("MoneyBag", func(x *execCtx, o *Order) any { return bagSrc(fn(o)) })
	}
	def("Order", merge(map[string]*fieldDef{
		"id":                      id(orderGID),
		"legacyResourceId":        legacy(func(s any) int64 { return s.(*Order).ID }),
		"name":                    scalar(func(o *Order) any { return o.Name }),
		"email":                   scalar(func(o *Order) any { return nullable(o.Email) }),
		"phone":                   scalar(func(o *Order) any { return nullable(o.Phone) }),
		"createdAt":               scalar(func(o *Order) any { return gqlTime(o.CreatedAt) }),
		"updatedAt":               scalar(func(o *Order) any { return gqlTime(o.UpdatedAt) }),
		"processedAt":             scalar(func(o *Order) any { return gqlTime(o.ProcessedAt) }),
		"cancelledAt":             scalar(func(o *Order) any { return gqlTimePtr(o.CancelledAt) }),
		"cancelReason":            scalar(func(o *Order) any { return nullable(strings.ToUpper(o.CancelReason)) }),
		"closedAt":                scalar(func(o *Order) any { return gqlTimePtr(o.ClosedAt) }),
		"closed":                  scalar(func(o *Order) any { return o.ClosedAt != nil }),
		"confirmed":               scalar(func(o *Order) any { return true }),
		"test":                    scalar(func(o *Order) any { return o.Test }),
		"note":                    scalar(func(o *Order) any { return nullable(o.Note) }),
		"tags":                    scalar(func(o *Order) any { return append([]string{}, o.Tags...) }),
		"currencyCode":            scalar(func(o *Order) any { return o.Currency }),
		"presentmentCurrencyCode": scalar(func(o *Order) any { return o.Currency }),
		"displayFinancialStatus":  scalar(func(o *Order) any { return strings.ToUpper(o.FinancialStatus) }),
		"displayFulfillmentStatus": scalar(func(o *Order) any {
			if o.FulfillmentStatus == "" {
				return "UNFULFILLED"
			}
			return strings.ToUpper(o.FulfillmentStatus)
		}),
		"sourceName":          scalar(func(o *Order) any { return o.SourceName }),
		"number":              scalar(func(o *Order) any { return o.Number }),
		"paymentGatewayNames": scalar(func(o *Order) any { return []string{"shopify_payments"} }),
		"retailLocation": object("Location", func(x *execCtx, o *Order) any {
			if o.SourceName == "pos" && len(x.store.locations) > 1 {
				return x.store.locations[1]
			}
			return nil
		}),
		"taxesIncluded":  scalar(func(o *Order) any { return o.TaxesIncluded }),
		"customerLocale": scalar(func(o *Order) any { return o.CustomerLocale }),
		"clientIp":       scalar(func(o *Order) any { return nullable(o.BrowserIP) }),
		"discountCodes": scalar(func(o *Order) any {
			out := []string{}
			for _, d := range o.DiscountCodes {
				out = append(out, d.Code)
			}
			return out
		}),
		"subtotalLineItemsQuantity": scalar(func(o *Order) any {
			n := 0
			for _, li := range o.LineItems {
				n += li.Quantity
			}
			return n
		}),
		"currentSubtotalLineItemsQuantity": scalar(func(o *Order) any {
			n := 0
			for _, li := range o.LineItems {
				n += li.CurrentQuantity
			}
			return n
		}),
		"subtotalPriceSet":         bag(func(o *Order) Money { return o.SubtotalPrice }),
		"totalPriceSet":            bag(func(o *Order) Money { return o.TotalPrice }),
		"totalTaxSet":              bag(func(o *Order) Money { return o.TotalTax }),
		"totalDiscountsSet":        bag(func(o *Order) Money { return o.TotalDiscounts }),
		"totalShippingPriceSet":    bag(func(o *Order) Money { return o.TotalShipping }),
		"currentSubtotalPriceSet":  bag(func(o *Order) Money { return o.CurrentSubtotalPrice }),
		"currentTotalPriceSet":     bag(func(o *Order) Money { return o.CurrentTotalPrice }),
		"currentTotalTaxSet":       bag(func(o *Order) Money { return o.CurrentTotalTax }),
		"currentTotalDiscountsSet": bag(func(o *Order) Money { return o.CurrentTotalDiscounts }),
		"totalRefundedSet":         bag(func(o *Order) Money { return o.TotalRefunded }),
		"totalOutstandingSet": bag(func(o *Order) Money {
			if o.FinancialStatus == "pending" {
				return o.CurrentTotalPrice
			}
			return 0
		}),
		"customer": object("Customer", func(x *execCtx, o *Order) any {
			if c := x.store.customers[o.CustomerID]; c != nil {
				return c
			}
			return nil
		}),
		"billingAddress": object("MailingAddress", func(x *execCtx, o *Order) any {
			if o.BillingAddress == nil {
				return nil
			}
			return addressSrc{a: o.BillingAddress}
		}),
		"shippingAddress": object("MailingAddress", func(x *execCtx, o *Order) any {
			if o.ShippingAddress == nil {
				return nil
			}
			return addressSrc{a: o.ShippingAddress}
		}),
		"customAttributes": list("Attribute", nil, func(x *execCtx, o *Order, f *gqlField) []any {
			out := []any{}
			for _, p := range o.NoteAttributes {
				out = append(out, pairSrc{p.Name, p.Value})
			}
			return out
		}),
		"lineItems": conn("LineItem", connArgs, func(x *execCtx, o *Order, f *gqlField) (*connection, error) {
			items := make([]any, len(o.LineItems))
			for i := range o.LineItems {
				items[i] = lineSrc{o, &o.LineItems[i]}
			}
			return x.paginate(f, items, func(v any) (string, int64) { return idKey(v.(lineSrc).li.ID), v.(lineSrc).li.ID })
		}),
		"refunds": list("Refund", []string{"first"}, func(x *execCtx, o *Order, f *gqlField) []any {
			out := []any{}
			for i := range o.Refunds {
				out = append(out, refundSrc{o, &o.Refunds[i]})
			}
			if n, ok := x.argInt(f, "first"); ok && n < len(out) {
				out = out[:n]
			}
			return out
		}),
		"fulfillments": list("Fulfillment", []string{"first"}, func(x *execCtx, o *Order, f *gqlField) []any {
			out := []any{}
			for i := range o.Fulfillments {
				out = append(out, fulfillmentSrc{o, &o.Fulfillments[i]})
			}
			return out
		}),
	}, metafieldFields(orderGID)), orderGID, "Node", "HasMetafields")

	lineBag := func(fn func(*LineItem) Money) *fieldDef {
		return object("MoneyBag", func(x *execCtx, l lineSrc) any { return bagSrc(fn(l.li)) })
	}
	def("LineItem", map[string]*fieldDef{
		"id":                     id(func(s any) string { return s.(lineSrc).li.GID() }),
		"title":                  scalar(func(l lineSrc) any { return l.li.Title }),
		"name":                   scalar(func(l lineSrc) any { return l.li.Name }),
		"sku":                    scalar(func(l lineSrc) any { return nullable(l.li.SKU) }),
		"variantTitle":           scalar(func(l lineSrc) any { return nullable(l.li.VariantTitle) }),
		"vendor":                 scalar(func(l lineSrc) any { return nullable(l.li.Vendor) }),
		"quantity":               scalar(func(l lineSrc) any { return l.li.Quantity }),
		"currentQuantity":        scalar(func(l lineSrc) any { return l.li.CurrentQuantity }),
		"refundableQuantity":     scalar(func(l lineSrc) any { return l.li.CurrentQuantity }),
		"unfulfilledQuantity":    scalar(func(l lineSrc) any { return l.li.FulfillableQuantity }),
		"nonFulfillableQuantity": scalar(func(l lineSrc) any { return l.li.Quantity - l.li.FulfillableQuantity }),
		"requiresShipping":       scalar(func(l lineSrc) any { return l.li.RequiresShipping }),
		"taxable":                scalar(func(l lineSrc) any { return l.li.Taxable }),
		"isGiftCard":             scalar(func(l lineSrc) any { return l.li.GiftCard }),
		"originalUnitPriceSet":   lineBag(func(li *LineItem) Money { return li.Price }),
		"discountedUnitPriceSet": lineBag(func(li *LineItem) Money { return share(li.Price*Money(li.Quantity)-li.TotalDiscount, 1, li.Quantity) }),
		"originalTotalSet":       lineBag(func(li *LineItem) Money { return li.Price * Money(li.Quantity) }),
		"discountedTotalSet":     lineBag(func(li *LineItem) Money { return li.Price*Money(li.Quantity) - li.TotalDiscount }),
		"totalDiscountSet":       lineBag(func(li *LineItem) Money { return li.TotalDiscount }),
		"taxLines": list("TaxLine", []string{"first"}, func(x *execCtx, l lineSrc, f *gqlField) []any {
			out := []any{}
			for _, t := range l.li.TaxLines {
				out = append(out, taxLineSrc(t))
			}
			return out
		}),
		"customAttributes": list("Attribute", nil, func(x *execCtx, l lineSrc, f *gqlField) []any {
			out := []any{}
			for _, p := range l.li.Properties {
				out = append(out, pairSrc{p.Name, p.Value})
			}
			return out
		}),
		"variant": object("ProductVariant", func(x *execCtx, l lineSrc) any {
			if p := x.store.products[l.li.ProductID]; p != nil {
				if v := p.variant(l.li.VariantID); v != nil {
					return variantSrc{p, v}
				}
			}
			return nil
		}),
		"product": object("Product", func(x *execCtx, l lineSrc) any {
			if p := x.store.products[l.li.ProductID]; p != nil {
				return p
			}
			return nil
		}),
	}, func(s any) string { return s.(lineSrc).li.GID() }, "Node")

	def("TaxLine", map[string]*fieldDef{
		"title":          scalar(func(t taxLineSrc) any { return t.Title }),
		"rate":           scalar(func(t taxLineSrc) any { return t.Rate }),
		"ratePercentage": scalar(func(t taxLineSrc) any { return 8.25 }),
		"priceSet":       object("MoneyBag", func(x *execCtx, t taxLineSrc) any { return bagSrc(t.Price) }),
	}, nil)

	def("Refund", map[string]*fieldDef{
		"id":               id(func(s any) string { return s.(refundSrc).r.GID() }),
		"legacyResourceId": legacy(func(s any) int64 { return s.(refundSrc).r.ID }),
		"createdAt":        scalar(func(r refundSrc) any { return gqlTime(r.r.CreatedAt) }),
		"updatedAt":        scalar(func(r refundSrc) any { return gqlTime(r.r.CreatedAt) }),
		"note":             scalar(func(r refundSrc) any { return nullable(r.r.Note) }),
		"totalRefundedSet": object("MoneyBag", func(x *execCtx, r refundSrc) any { return bagSrc(r.r.Total()) }),
		"order":            object("Order", func(x *execCtx, r refundSrc) any { return r.o }),
		"refundLineItems": conn("RefundLineItem", connArgs, func(x *execCtx, r refundSrc, f *gqlField) (*connection, error) {
			items := []any{}
			for i := range r.r.RefundLineItems {
				items = append(items, refundLineSrc{r.o, &r.r.RefundLineItems[i]})
			}
			return x.paginate(f, items, func(v any) (string, int64) { return idKey(v.(refundLineSrc).rl.ID), v.(refundLineSrc).rl.ID })
		}),
		"transactions": conn("OrderTransaction", connArgs, func(x *execCtx, r refundSrc, f *gqlField) (*connection, error) {
			items := []any{}
			for i := range r.r.Transactions {
				items = append(items, transactionSrc{&r.r.Transactions[i]})
			}
			return x.paginate(f, items, func(v any) (string, int64) { return idKey(v.(transactionSrc).t.ID), v.(transactionSrc).t.ID })
		}),
	}, func(s any) string { return s.(refundSrc).r.GID() }, "Node")

	def("RefundLineItem", map[string]*fieldDef{
		"id":          id(func(s any) string { return GID("RefundLineItem", s.(refundLineSrc).rl.ID) }),
		"quantity":    scalar(func(r refundLineSrc) any { return r.rl.Quantity }),
		"restockType": scalar(func(r refundLineSrc) any { return strings.ToUpper(r.rl.RestockType) }),
		"restocked":   scalar(func(r refundLineSrc) any { return r.rl.RestockType != "no_restock" }),
		"subtotalSet": object("MoneyBag", func(x *execCtx, r refundLineSrc) any { return bagSrc(r.rl.Subtotal) }),
		"totalTaxSet": object("MoneyBag", func(x *execCtx, r refundLineSrc) any { return bagSrc(r.rl.TotalTax) }),
		"priceSet": object("MoneyBag", func(x *execCtx, r refundLineSrc) any {
			for _, li := range r.o.LineItems {
				if li.ID == r.rl.LineItemID {
					return bagSrc(li.Price)
				}
			}
			return nil
		}),
		"lineItem": object("LineItem", func(x *execCtx, r refundLineSrc) any {
			for i := range r.o.LineItems {
				if r.o.LineItems[i].ID == r.rl.LineItemID {
					return lineSrc{r.o, &r.o.LineItems[i]}
				}
			}
			return nil
		}),
	}, func(s any) string { return GID("RefundLineItem", s.(refundLineSrc).rl.ID) }, "Node")

	def("OrderTransaction", map[string]*fieldDef{
		"id":          id(func(s any) string { return GID("OrderTransaction", s.(transactionSrc).t.ID) }),
		"kind":        scalar(func(t transactionSrc) any { return strings.ToUpper(t.t.Kind) }),
		"status":      scalar(func(t transactionSrc) any { return strings.ToUpper(t.t.Status) }),
		"gateway":     scalar(func(t transactionSrc) any { return t.t.Gateway }),
		"createdAt":   scalar(func(t transactionSrc) any { return gqlTime(t.t.CreatedAt) }),
		"processedAt": scalar(func(t transactionSrc) any { return gqlTime(t.t.CreatedAt) }),
		"amountSet":   object("MoneyBag", func(x *execCtx, t transactionSrc) any { return bagSrc(t.t.Amount) }),
	}, func(s any) string { return GID("OrderTransaction", s.(transactionSrc).t.ID) }, "Node")

	def("Fulfillment", map[string]*fieldDef{
		"id":            id(func(s any) string { return GID("Fulfillment", s.(fulfillmentSrc).f.ID) }),
		"name":          scalar(func(f fulfillmentSrc) any { return f.f.Name }),
		"status":        scalar(func(f fulfillmentSrc) any { return strings.ToUpper(f.f.Status) }),
		"createdAt":     scalar(func(f fulfillmentSrc) any { return gqlTime(f.f.CreatedAt) }),
		"updatedAt":     scalar(func(f fulfillmentSrc) any { return gqlTime(f.f.UpdatedAt) }),
		"displayStatus": scalar(func(f fulfillmentSrc) any { return "FULFILLED" }),
		"location": object("Location", func(x *execCtx, f fulfillmentSrc) any {
			for _, l := range x.store.locations {
				if l.ID == f.f.LocationID {
					return l
				}
			}
			return nil
		}),
		"service": object("FulfillmentService", func(x *execCtx, f fulfillmentSrc) any { return f }),
		"trackingInfo": list("FulfillmentTrackingInfo", []string{"first"}, func(x *execCtx, f fulfillmentSrc, _ *gqlField) []any {
			return []any{f}
		}),
	}, func(s any) string { return GID("Fulfillment", s.(fulfillmentSrc).f.ID) }, "Node")
	def("FulfillmentTrackingInfo", map[string]*fieldDef{
		"company": scalar(func(f fulfillmentSrc) any { return f.f.TrackingCompany }),
		"number":  scalar(func(f fulfillmentSrc) any { return f.f.TrackingNumber }),
		"url":     scalar(func(f fulfillmentSrc) any { return "https://track.example.com/?n=" + f.f.TrackingNumber }),
	}, nil)
	def("FulfillmentService", map[string]*fieldDef{
		"id":          scalar(func(f fulfillmentSrc) any { return GID("FulfillmentService", 1) }),
		"handle":      scalar(func(f fulfillmentSrc) any { return "manual" }),
		"serviceName": scalar(func(f fulfillmentSrc) any { return "Manual" }),
	}, nil)
	def("InventoryItemMeasurement", map[string]*fieldDef{
		"weight": object("Weight", func(x *execCtx, w weightSrc) any { return w }),
	}, nil)
	def("Weight", map[string]*fieldDef{
		"unit":  scalar(func(w weightSrc) any { return "KILOGRAMS" }),
		"value": scalar(func(w weightSrc) any { return float64(w) / 1000 }),
	}, nil)

	def("MoneyBag", map[string]*fieldDef{
		"shopMoney":        object("MoneyV2", func(x *execCtx, b bagSrc) any { return moneySrc(b) }),
		"presentmentMoney": object("MoneyV2", func(x *execCtx, b bagSrc) any { return moneySrc(b) }),
	}, nil)
	def("MoneyV2", map[string]*fieldDef{
		"amount":       scalar(func(m moneySrc) any { return Money(m).String() }),
		"currencyCode": {kind: kScalar, resolve: func(x *execCtx, _ any, _ *gqlField) (any, error) { return x.store.shop.Currency, nil }},
	}, nil)

	def("Customer", merge(map[string]*fieldDef{
		"id":               id(customerGID),
		"legacyResourceId": legacy(func(s any) int64 { return s.(*Customer).ID }),
		"firstName":        scalar(func(c *Customer) any { return c.FirstName }),
		"lastName":         scalar(func(c *Customer) any { return c.LastName }),
		"displayName":      scalar(func(c *Customer) any { return c.FirstName + " " + c.LastName }),
		"email":            scalar(func(c *Customer) any { return c.Email }),
		"phone":            scalar(func(c *Customer) any { return nullable(c.Phone) }),
		"note":             scalar(func(c *Customer) any { return nullable(c.Note) }),
		"state":            scalar(func(c *Customer) any { return strings.ToUpper(c.State) }),
		"verifiedEmail":    scalar(func(c *Customer) any { return c.VerifiedEmail }),
		"tags":             scalar(func(c *Customer) any { return append([]string{}, c.Tags...) }),
		"createdAt":        scalar(func(c *Customer) any { return gqlTime(c.CreatedAt) }),
		"updatedAt":        scalar(func(c *Customer) any { return gqlTime(c.UpdatedAt) }),
		"defaultAddress": object("MailingAddress", func(x *execCtx, c *Customer) any {
			a := c.DefaultAddress
			return addressSrc{a: &a, own: c.ID}
		}),
	}, metafieldFields(customerGID)), customerGID, "Node", "HasMetafields")

	addr := func(fn func(*Address) any) *fieldDef { return scalar(func(a addressSrc) any { return fn(a.a) }) }
	def("MailingAddress", map[string]*fieldDef{
		"id": scalar(func(a addressSrc) any {
			if a.own == 0 {
				return nil
			}
			return fmt.Sprintf("gid://shopify/MailingAddress/%d?model_name=CustomerAddress", a.a.ID)
		}),
		"firstName":     addr(func(a *Address) any { return a.FirstName }),
		"lastName":      addr(func(a *Address) any { return a.LastName }),
		"name":          addr(func(a *Address) any { return a.Name() }),
		"company":       addr(func(a *Address) any { return nullable(a.Company) }),
		"address1":      addr(func(a *Address) any { return a.Address1 }),
		"address2":      addr(func(a *Address) any { return nullable(a.Address2) }),
		"city":          addr(func(a *Address) any { return a.City }),
		"province":      addr(func(a *Address) any { return a.Province }),
		"provinceCode":  addr(func(a *Address) any { return a.ProvinceCode }),
		"country":       addr(func(a *Address) any { return a.Country }),
		"countryCodeV2": addr(func(a *Address) any { return a.CountryCode }),
		"zip":           addr(func(a *Address) any { return a.Zip }),
		"phone":         addr(func(a *Address) any { return nullable(a.Phone) }),
		"latitude":      addr(func(a *Address) any { return a.Latitude }),
		"longitude":     addr(func(a *Address) any { return a.Longitude }),
	}, nil)

	def("Metafield", map[string]*fieldDef{
		"id":               id(func(s any) string { return s.(*Metafield).GID() }),
		"legacyResourceId": legacy(func(s any) int64 { return s.(*Metafield).ID }),
		"namespace":        scalar(func(m *Metafield) any { return m.Namespace }),
		"key":              scalar(func(m *Metafield) any { return m.Key }),
		"value":            scalar(func(m *Metafield) any { return m.Value }),
		"type":             scalar(func(m *Metafield) any { return m.Type }),
		"compareDigest":    scalar(func(m *Metafield) any { return m.compareDigest() }),
		"createdAt":        scalar(func(m *Metafield) any { return gqlTime(m.CreatedAt) }),
		"updatedAt":        scalar(func(m *Metafield) any { return gqlTime(m.UpdatedAt) }),
		"description":      scalar(func(m *Metafield) any { return nil }),
		"ownerType": scalar(func(m *Metafield) any {
			t, _, _, _ := parseGID(m.OwnerID)
			switch t {
			case "ProductVariant":
				return "PRODUCTVARIANT"
			}
			return strings.ToUpper(t)
		}),
		"owner": object("Node", func(x *execCtx, m *Metafield) any { return x.store.node(m.OwnerID) }),
	}, func(s any) string { return s.(*Metafield).GID() }, "Node")

	def("Shop", map[string]*fieldDef{
		"id":                   id(func(s any) string { return s.(*shopInfo).GID() }),
		"name":                 scalar(func(s *shopInfo) any { return s.Name }),
		"email":                scalar(func(s *shopInfo) any { return s.Email }),
		"contactEmail":         scalar(func(s *shopInfo) any { return s.CustomerEmail }),
		"myshopifyDomain":      scalar(func(s *shopInfo) any { return s.MyshopifyDomain }),
		"url":                  scalar(func(s *shopInfo) any { return "https://" + s.Domain }),
		"currencyCode":         scalar(func(s *shopInfo) any { return s.Currency }),
		"ianaTimezone":         scalar(func(s *shopInfo) any { return s.IANATimezone }),
		"timezoneAbbreviation": scalar(func(s *shopInfo) any { return "EST" }),
		"createdAt":            scalar(func(s *shopInfo) any { return gqlTime(s.CreatedAt) }),
		"plan": scalar(func(s *shopInfo) any {
			return map[string]any{"displayName": "Basic", "partnerDevelopment": false, "shopifyPlus": false}
		}),
		"primaryDomain": scalar(func(s *shopInfo) any {
			return map[string]any{"host": s.Domain, "url": "https://" + s.Domain}
		}),
	}, func(s any) string { return s.(*shopInfo).GID() }, "Node")

	def("BasicEvent", map[string]*fieldDef{
		"id":              id(func(s any) string { return GID("BasicEvent", s.(*shopEvent).ID) }),
		"action":          scalar(func(e *shopEvent) any { return e.Action }),
		"message":         scalar(func(e *shopEvent) any { return e.Message }),
		"createdAt":       scalar(func(e *shopEvent) any { return gqlTime(e.CreatedAt) }),
		"subjectId":       scalar(func(e *shopEvent) any { return GID("Product", e.SubjectID) }),
		"subjectType":     scalar(func(e *shopEvent) any { return e.SubjectType }),
		"appTitle":        scalar(func(e *shopEvent) any { return nil }),
		"attributeToApp":  scalar(func(e *shopEvent) any { return false }),
		"attributeToUser": scalar(func(e *shopEvent) any { return false }),
		"criticalAlert":   scalar(func(e *shopEvent) any { return false }),
	}, func(s any) string { return GID("BasicEvent", s.(*shopEvent).ID) }, "Node", "Event")

	def("BulkOperation", map[string]*fieldDef{
		"id":              id(func(s any) string { return s.(*BulkOperation).GID() }),
		"status":          scalar(func(b *BulkOperation) any { return b.Status }),
		"errorCode":       scalar(func(b *BulkOperation) any { return nullable(b.ErrorCode) }),
		"createdAt":       scalar(func(b *BulkOperation) any { return gqlTime(b.CreatedAt) }),
		"completedAt":     scalar(func(b *BulkOperation) any { return gqlTimePtr(b.CompletedAt) }),
		"objectCount":     scalar(func(b *BulkOperation) any { return fmt.Sprint(b.ObjectCount) }),
		"rootObjectCount": scalar(func(b *BulkOperation) any { return fmt.Sprint(b.RootObjectCount) }),
		"fileSize": scalar(func(b *BulkOperation) any {
			if b.Status != "COMPLETED" {
				return nil
			}
			return fmt.Sprint(b.FileSize)
		}),
		"url": {kind: kScalar, resolve: func(x *execCtx, s any, _ *gqlField) (any, error) {
			return x.srv.resultURL(x, s.(*BulkOperation), false), nil
		}},
		"partialDataUrl": {kind: kScalar, resolve: func(x *execCtx, s any, _ *gqlField) (any, error) {
			return x.srv.resultURL(x, s.(*BulkOperation), true), nil
		}},
		"query": scalar(func(b *BulkOperation) any { return b.Query }),
		"type":  scalar(func(b *BulkOperation) any { return b.Type }),
	}, func(s any) string { return s.(*BulkOperation).GID() }, "Node")

	// Payloads and user errors resolve from maps.
	rec := func(name string, scalars []string, objects map[string]string, lists map[string]string) {
		fields := map[string]*fieldDef{}
		for _, k := range scalars {
			fields[k] = scalar(func(r recSrc) any { return r[k] })
		}
		for k, t := range objects {
			fields[k] = &fieldDef{kind: kObject, typ: t, resolve: func(_ *execCtx, src any, _ *gqlField) (any, error) { return src.(recSrc)[k], nil }}
		}
		for k, t := range lists {
			fields[k] = &fieldDef{kind: kList, typ: t, resolve: func(_ *execCtx, src any, _ *gqlField) (any, error) { return src.(recSrc)[k], nil }}
		}
		def(name, fields, nil)
	}
	rec("UserError", []string{"field", "message"}, nil, nil)
	rec("BulkOperationUserError", []string{"field", "message", "code"}, nil, nil)
	rec("MetafieldsSetUserError", []string{"field", "message", "code", "elementIndex"}, nil, nil)
	rec("BulkOperationRunQueryPayload", nil, map[string]string{"bulkOperation": "BulkOperation"}, map[string]string{"userErrors": "BulkOperationUserError"})
	rec("BulkOperationCancelPayload", nil, map[string]string{"bulkOperation": "BulkOperation"}, map[string]string{"userErrors": "UserError"})
	rec("MetafieldsSetPayload", nil, nil, map[string]string{"metafields": "Metafield", "userErrors": "MetafieldsSetUserError"})
	rec("TagsAddPayload", nil, map[string]string{"node": "Node"}, map[string]string{"userErrors": "UserError"})
	rec("TagsRemovePayload", nil, map[string]string{"node": "Node"}, map[string]string{"userErrors": "UserError"})

	// Node: an interface; only id and __typename may be selected without a fragment.
	def("Node", map[string]*fieldDef{"id": {kind: kScalar, resolve: func(x *execCtx, src any, _ *gqlField) (any, error) {
		return nil, nil // replaced at run time: selectObject resolves typed values on their own type
	}}}, nil)

	def("QueryRoot", queryRoot(), nil)
	def("Mutation", mutationRoot(), nil)
	return types
}

// appNamespace is the app-reserved namespace a metafield gets when none is given.
const appNamespace = "app--580111"

func idKey(id int64) string { return fmt.Sprintf("%020d", id) }
