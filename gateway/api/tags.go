package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/tags"
	"github.com/storeline/storeline/projections/products"
	readmodel "github.com/storeline/storeline/projections/tags"
)

// TagReader reads the tags read model (projections/tags).
type TagReader interface {
	ListDefinitions(ctx context.Context, shop string) ([]readmodel.Definition, error)
	Definition(ctx context.Context, id string) (*readmodel.Definition, error)
	ListCollections(ctx context.Context, shop string) ([]readmodel.Collection, error)
	Collection(ctx context.Context, id string) (*readmodel.Collection, error)
	ProductTags(ctx context.Context, productID int64) (*readmodel.ProductTags, error)
	Analytics(ctx context.Context, q readmodel.AnalyticsQuery) ([]readmodel.TagStats, error)
}

// tagsProjection is the projection the tag reads wait on.
const tagsProjection = "tags"

// maxAnalyticsYears bounds a tag analytics window: longer ones scan years of orders for one
// answer, which is the Iceberg tables' job.
const maxAnalyticsYears = 2

// ProductIDParam is the path id of a product.
type ProductIDParam struct {
	ID string `path:"id" maxLength:"64" doc:"Shopify product id: numeric or gid://shopify/Product/<id>."`
}

func (a *API) registerTags() {
	a.registerTagDefinitions()
	a.registerTagCollections()
	a.registerProductTags()
	a.registerTagAnalytics()
}

func (a *API) registerTagDefinitions() {
	huma.Register(a.humaAPI, op("list-tag-definitions", http.MethodGet, "/tag-definitions", auth.RoleViewer, "tags",
		"List the shop's tag definitions by name."),
		func(ctx context.Context, in *struct {
			ShopParam
			ConsistencyParam
		}) (*struct {
			Body struct {
				TagDefinitions []readmodel.Definition `json:"tag_definitions"`
			}
		}, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := a.consistent(ctx, in.ConsistencyParam, tagsProjection); err != nil {
				return nil, err
			}
			defs, err := a.d.Tags.ListDefinitions(ctx, shop.Domain)
			if err != nil {
				return nil, a.internal(ctx, "list tag definitions", err)
			}
			out := &struct {
				Body struct {
					TagDefinitions []readmodel.Definition `json:"tag_definitions"`
				}
			}{}
			out.Body.TagDefinitions = defs
			return out, nil
		})

	r := resource[tags.DefinitionSpec, readmodel.Definition]{
		name: "tag definition", path: "/tag-definitions", tag: "tags", aggregate: tags.DefinitionAggregate, projection: tagsProjection,
		validate: tags.ValidateDefinition, get: a.d.Tags.Definition, notFound: readmodel.ErrNotFound,
		shopOf:    func(d *readmodel.Definition) string { return d.Shop },
		versionOf: func(d *readmodel.Definition) int64 { return d.Version },
		idOf:      func(d *readmodel.Definition) string { return d.ID },
	}
	set := func(id string, shop Shop, s tags.DefinitionSpec) decision.Decide {
		return tags.SetDefinition(id, shop.Domain, s, a.now())
	}
	r.create(a, "create-tag-definition", "Define a tag: its name as written on products (unique in the shop, case-insensitively), description and colour.", set)
	r.read(a, "get-tag-definition", "A tag definition (a removed one's tombstone, removed_at set), with its version as ETag.")
	r.update(a, "update-tag-definition", "Save a new version of a tag definition; a new name renames it (products are retagged by the tag sync).", set)
	r.remove(a, "remove-tag-definition", "Remove a tag definition: its name is free again, and it leaves every collection that held it.",
		func(id string, shop Shop) decision.Decide { return tags.RemoveDefinition(id, shop.Domain, a.now()) })
}

func (a *API) registerTagCollections() {
	huma.Register(a.humaAPI, op("list-tag-collections", http.MethodGet, "/tag-collections", auth.RoleViewer, "tags",
		"List the shop's tag collections by name."),
		func(ctx context.Context, in *struct {
			ShopParam
			ConsistencyParam
		}) (*struct {
			Body struct {
				TagCollections []readmodel.Collection `json:"tag_collections"`
			}
		}, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := a.consistent(ctx, in.ConsistencyParam, tagsProjection); err != nil {
				return nil, err
			}
			cs, err := a.d.Tags.ListCollections(ctx, shop.Domain)
			if err != nil {
				return nil, a.internal(ctx, "list tag collections", err)
			}
			out := &struct {
				Body struct {
					TagCollections []readmodel.Collection `json:"tag_collections"`
				}
			}{}
			out.Body.TagCollections = cs
			return out, nil
		})

	r := resource[tags.CollectionSpec, readmodel.Collection]{
		name: "tag collection", path: "/tag-collections", tag: "tags", aggregate: tags.CollectionAggregate, projection: tagsProjection,
		validate: tags.ValidateCollection, get: a.d.Tags.Collection, notFound: readmodel.ErrNotFound,
		shopOf:    func(c *readmodel.Collection) string { return c.Shop },
		versionOf: func(c *readmodel.Collection) int64 { return c.Version },
		idOf:      func(c *readmodel.Collection) string { return c.ID },
	}
	set := func(id string, shop Shop, s tags.CollectionSpec) decision.Decide {
		return tags.SetCollection(id, shop.Domain, s, a.now())
	}
	r.create(a, "create-tag-collection", "Create a tag collection: an ordered group of the shop's tag definitions.", set)
	r.read(a, "get-tag-collection", "A tag collection (a removed one's tombstone, removed_at set), with its version as ETag.")
	r.update(a, "update-tag-collection", "Save a new version of a tag collection (name, description, definitions in order).", set)
	r.remove(a, "remove-tag-collection", "Remove a tag collection; its tag definitions stay.",
		func(id string, shop Shop) decision.Decide { return tags.RemoveCollection(id, shop.Domain, a.now()) })
}

func (a *API) registerProductTags() {
	huma.Register(a.humaAPI, op("get-product-tags", http.MethodGet, "/products/{id}/tags", auth.RoleViewer, "tags",
		"The tags storeline put on a product and that are still on, with the version of the product's tags as ETag (\"0\" when storeline never tagged it)."),
		func(ctx context.Context, in *struct {
			ProductIDParam
			ShopParam
			ConsistencyParam
		}) (*struct {
			ETag string `header:"ETag" doc:"The version of the product's tags; send it in If-Match to change them only if nobody else did."`
			Body readmodel.ProductTags
		}, error) {
			id, err := tags.ParseProductID(in.ID)
			if err != nil {
				return nil, invalid("path.id", err.Error(), in.ID)
			}
			if _, err := a.shop(in.ShopParam); err != nil {
				return nil, err
			}
			if err := a.consistent(ctx, in.ConsistencyParam, tagsProjection); err != nil {
				return nil, err
			}
			if in.Shop != "" {
				if err := a.productOfShop(ctx, id, in.Shop); err != nil {
					return nil, err
				}
			}
			pt, err := a.d.Tags.ProductTags(ctx, id)
			if err != nil {
				return nil, a.internal(ctx, "read product tags", err)
			}
			return &struct {
				ETag string `header:"ETag" doc:"The version of the product's tags; send it in If-Match to change them only if nobody else did."`
				Body readmodel.ProductTags
			}{ETag: etag(pt.Version), Body: *pt}, nil
		})

	huma.Register(a.humaAPI, op("change-product-tags", http.MethodPost, "/products/{id}/tags", auth.RoleEditor, "tags",
		"Put tags on a product and take tags off it (the product tag sync writes them to Shopify). One event per tag that changes; "+
			"when none does, the answer is the product's tags as they are, without a consistency token. If-Match is optional."),
		func(ctx context.Context, in *struct {
			ProductIDParam
			ShopParam
			CommandParams
			Body tags.ProductTagsChange
		}) (*CommandOutput[readmodel.ProductTags], error) {
			id, err := tags.ParseProductID(in.ID)
			if err != nil {
				return nil, invalid("path.id", err.Error(), in.ID)
			}
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			if err := tags.ValidateProductTags(in.Body); err != nil {
				return nil, a.commandError(ctx, err)
			}
			// Another shop's product is not this shop's to tag.
			if err := a.productOfShop(ctx, id, shop.Domain); err != nil {
				return nil, err
			}
			out, err := command[readmodel.ProductTags](a, ctx, "change-product-tags",
				decision.Command{AggregateType: tags.ProductTagsAggregate, AggregateID: tags.ProductAggregateID(id), Shop: shop.Domain, MayCreate: true},
				in.CommandParams, in.Body, false, tags.ApplyProductTags(shop.Domain, id, in.Body, a.now()))
			if err != nil {
				return nil, err
			}
			return out, nil
		})
}

type tagAnalytics struct {
	From time.Time            `json:"from" doc:"Start of the window (inclusive)."`
	To   time.Time            `json:"to" doc:"End of the window (exclusive)."`
	Tags []readmodel.TagStats `json:"tags" doc:"Per tag (and currency): the window's orders, units and revenue of products carrying it now; tags no order bought are absent."`
}

func (a *API) registerTagAnalytics() {
	huma.Register(a.humaAPI, op("get-tag-analytics", http.MethodGet, "/tag-analytics", auth.RoleViewer, "tags",
		"Orders, units and revenue per tag over a window of at most two years: the orders created in [from, to) that bought products carrying the tag "+
			"(in Shopify or put on by storeline), cancelled and test orders left out."),
		func(ctx context.Context, in *struct {
			ShopParam
			ConsistencyParam
			From string   `query:"from" required:"true" maxLength:"40" doc:"Start of the window, inclusive: RFC 3339 time or a date (YYYY-MM-DD, midnight UTC)."`
			To   string   `query:"to" required:"true" maxLength:"40" doc:"End of the window, exclusive: RFC 3339 time or a date (YYYY-MM-DD, midnight UTC)."`
			Tag  []string `query:"tag" maxItems:"100" doc:"Only these tags (compared case-insensitively; comma-separated or repeated); every tag when absent."`
		}) (*struct{ Body tagAnalytics }, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			from, err := windowBound(in.From)
			if err != nil {
				return nil, invalid("query.from", err.Error(), in.From)
			}
			to, err := windowBound(in.To)
			if err != nil {
				return nil, invalid("query.to", err.Error(), in.To)
			}
			if !from.Before(to) {
				return nil, invalid("query.to", "to must be after from", in.To)
			}
			if to.After(from.AddDate(maxAnalyticsYears, 0, 0)) {
				return nil, invalid("query.to", "the window is longer than two years", in.To)
			}
			var only []string
			for _, t := range in.Tag {
				if t = strings.TrimSpace(t); t != "" {
					only = append(only, t)
				}
			}
			if err := a.consistent(ctx, in.ConsistencyParam, tagsProjection); err != nil {
				return nil, err
			}
			stats, err := a.d.Tags.Analytics(ctx, readmodel.AnalyticsQuery{Shop: shop.Domain, From: from, To: to, Tags: only})
			if err != nil {
				return nil, a.internal(ctx, "tag analytics", err)
			}
			return &struct{ Body tagAnalytics }{Body: tagAnalytics{From: from, To: to, Tags: stats}}, nil
		})
}

// windowBound reads an analytics bound: an RFC 3339 time, or a date meaning its midnight UTC.
func windowBound(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("want an RFC 3339 time (2026-01-31T00:00:00Z) or a date (2026-01-31)")
}

// productOfShop refuses (404) a product the read model holds for another shop. A product it does
// not hold yet (its webhook still on the way) passes: it may be tagged ahead.
func (a *API) productOfShop(ctx context.Context, id int64, shop string) error {
	if a.d.Products == nil {
		return nil
	}
	p, err := a.d.Products.Product(ctx, id)
	switch {
	case errors.Is(err, products.ErrNotFound):
		return nil
	case err != nil:
		return a.internal(ctx, "read product", err)
	case p.Shop != strings.ToLower(strings.TrimSpace(shop)):
		return notFound(fmt.Sprintf("product %d in shop %s", id, shop))
	}
	return nil
}
