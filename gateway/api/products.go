package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/shopifyid"
	"github.com/storeline/storeline/gateway/problem"
	"github.com/storeline/storeline/projections/products"
)

// ProductReader reads the products read model (with variants and their inventory).
type ProductReader interface {
	Product(ctx context.Context, id int64) (*products.Product, error)
	List(ctx context.Context, q products.ListQuery) (products.ListPage, error)
}

const productsProjection = "products"

type productList struct {
	Products   []products.Product `json:"products"`
	NextCursor *string            `json:"next_cursor" doc:"Cursor of the next page; null on the last page."`
}

func (a *API) registerProducts() {
	huma.Register(a.humaAPI, op("list-products", http.MethodGet, "/products", auth.RoleViewer, "products",
		"List a shop's products with their variants and inventory, with filters, a sort, and cursor pagination."),
		func(ctx context.Context, in *struct {
			ShopParam
			ConsistencyParam
			PageParams
			Status         []string  `query:"status" maxItems:"3" enum:"active,draft,archived,unlisted" doc:"Any of these statuses (comma-separated)."`
			Vendor         string    `query:"vendor" maxLength:"255"`
			ProductType    string    `query:"product_type" maxLength:"255"`
			Tag            string    `query:"tag" maxLength:"255" doc:"Products carrying this tag in Shopify."`
			Q              string    `query:"q" maxLength:"100" doc:"Free text: a substring of the title."`
			UpdatedFrom    time.Time `query:"updated_from" doc:"Products updated at or after (RFC 3339)."`
			UpdatedTo      time.Time `query:"updated_to" doc:"Products updated before (RFC 3339)."`
			IncludeDeleted bool      `query:"include_deleted" doc:"Add deleted products (tombstones, without variants)."`
			Sort           string    `query:"sort" enum:"title,-title,updated_at,-updated_at,created_at,-created_at" default:"-updated_at" doc:"Sort key; a leading - is descending."`
		}) (*struct{ Body productList }, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			q := products.ListQuery{Shop: shop.Domain, Status: in.Status, Vendor: in.Vendor, ProductType: in.ProductType, Tag: in.Tag,
				Q: in.Q, UpdatedFrom: optTime(in.UpdatedFrom), UpdatedTo: optTime(in.UpdatedTo), IncludeDeleted: in.IncludeDeleted,
				Sort: in.Sort, Limit: in.Limit}
			scope := listScope("products", shop.Domain, q.Sort, strings.Join(q.Status, ","), q.Vendor, q.ProductType, q.Tag, q.Q,
				q.UpdatedFrom, q.UpdatedTo, q.IncludeDeleted)
			if in.Cursor != "" {
				q.After = &products.ListPosition{}
				if err := a.cursors.Decode(in.Cursor, scope, q.After); err != nil {
					return nil, cursorProblem(err)
				}
			}
			if err := a.consistent(ctx, in.ConsistencyParam, productsProjection); err != nil {
				return nil, err
			}
			page, err := a.d.Products.List(ctx, q)
			if errors.Is(err, products.ErrInvalidQuery) {
				return nil, problem.New(http.StatusBadRequest, problem.InvalidRequest, err.Error())
			}
			if err != nil {
				return nil, a.internal(ctx, "list products", err)
			}
			out := &struct{ Body productList }{Body: productList{Products: page.Products}}
			if page.Next != nil {
				next, err := a.cursors.Encode(scope, page.Next)
				if err != nil {
					return nil, a.internal(ctx, "encode cursor", err)
				}
				out.Body.NextCursor = &next
			}
			return out, nil
		})

	huma.Register(a.humaAPI, op("get-product", http.MethodGet, "/products/{id}", auth.RoleViewer, "products",
		"A product with its variants and their inventory; a deleted product's tombstone."),
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64" doc:"Shopify product id: numeric or gid://shopify/Product/<id>."`
			ShopParam
			ConsistencyParam
		}) (*struct{ Body *products.Product }, error) {
			id, err := shopifyid.Parse(in.ID, "Product")
			if err != nil {
				return nil, problem.New(http.StatusBadRequest, problem.InvalidID, err.Error())
			}
			if err := a.consistent(ctx, in.ConsistencyParam, productsProjection); err != nil {
				return nil, err
			}
			p, err := a.d.Products.Product(ctx, id)
			if errors.Is(err, products.ErrNotFound) {
				return nil, notFound("product " + in.ID)
			}
			if err != nil {
				return nil, a.internal(ctx, "read product", err)
			}
			if err := a.shopOf(in.ShopParam, p.Shop); err != nil {
				return nil, err
			}
			return &struct{ Body *products.Product }{Body: p}, nil
		})
}
