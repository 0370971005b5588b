package api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/commands/shopifyid"
	"github.com/storeline/storeline/cursor"
	"github.com/storeline/storeline/gateway/problem"
	"github.com/storeline/storeline/projections/orders"
)

// OrderReader reads the orders read model.
type OrderReader interface {
	Order(ctx context.Context, id int64) (*orders.Order, error)
	OrderByName(ctx context.Context, shop, name string) (*orders.Order, error)
	List(ctx context.Context, q orders.ListQuery) (orders.ListPage, error)
}

const ordersProjection = "orders"

// PageParams are a list's pagination parameters.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Rows per page."`
	Cursor string `query:"cursor" maxLength:"4096" doc:"next_cursor of the previous page; opaque, signed, and only valid with the same filters and sort."`
}

type orderListParams struct {
	ShopParam
	ConsistencyParam
	PageParams
	CreatedFrom       time.Time `query:"created_from" doc:"Orders created at or after (RFC 3339)."`
	CreatedTo         time.Time `query:"created_to" doc:"Orders created before (RFC 3339)."`
	UpdatedFrom       time.Time `query:"updated_from" doc:"Orders updated at or after (RFC 3339)."`
	UpdatedTo         time.Time `query:"updated_to" doc:"Orders updated before (RFC 3339)."`
	FinancialStatus   []string  `query:"financial_status" maxItems:"10" enum:"pending,authorized,partially_paid,paid,partially_refunded,refunded,voided,expired" doc:"Any of these financial statuses (comma-separated)."`
	FulfillmentStatus []string  `query:"fulfillment_status" maxItems:"10" enum:"unfulfilled,partial,fulfilled,restocked,scheduled,on_hold,in_progress" doc:"Any of these fulfillment statuses (comma-separated); unfulfilled is an order nothing of which has shipped."`
	Tag               string    `query:"tag" maxLength:"255" doc:"Orders carrying this tag."`
	ProductID         string    `query:"product_id" maxLength:"64" doc:"Orders with a line of this product (numeric id or GID)."`
	Q                 string    `query:"q" maxLength:"100" doc:"Free text: a substring of the order name (1001 finds #1001). Customer emails are sealed personal data and are not searchable."`
	Sort              string    `query:"sort" enum:"created_at,-created_at,updated_at,-updated_at,total_price,-total_price,order_number,-order_number" default:"-created_at" doc:"Sort key; a leading - is descending."`
}

type orderList struct {
	Orders     []orders.OrderSummary `json:"orders"`
	NextCursor *string               `json:"next_cursor" doc:"Cursor of the next page; null on the last page."`
}

type OrderIDParam struct {
	ID string `path:"id" maxLength:"64" doc:"Shopify order id: numeric or gid://shopify/Order/<id>."`
}

func (a *API) registerOrders() {
	huma.Register(a.humaAPI, op("list-orders", http.MethodGet, "/orders", auth.RoleViewer, "orders",
		"List a shop's orders with filters, a sort, and cursor pagination."),
		func(ctx context.Context, in *orderListParams) (*struct{ Body orderList }, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			q := orders.ListQuery{Shop: shop.Domain, FinancialStatus: in.FinancialStatus, FulfillmentStatus: in.FulfillmentStatus,
				Tag: in.Tag, Q: in.Q, Sort: in.Sort, Limit: in.Limit,
				CreatedFrom: optTime(in.CreatedFrom), CreatedTo: optTime(in.CreatedTo), UpdatedFrom: optTime(in.UpdatedFrom), UpdatedTo: optTime(in.UpdatedTo)}
			if in.ProductID != "" {
				if q.ProductID, err = shopifyid.Parse(in.ProductID, "Product"); err != nil {
					return nil, invalid("query.product_id", err.Error(), in.ProductID)
				}
			}
			scope := listScope("orders", shop.Domain, q.Sort, q.CreatedFrom, q.CreatedTo, q.UpdatedFrom, q.UpdatedTo,
				strings.Join(q.FinancialStatus, ","), strings.Join(q.FulfillmentStatus, ","), q.Tag, q.ProductID, q.Q)
			if in.Cursor != "" {
				q.After = &orders.ListPosition{}
				if err := a.cursors.Decode(in.Cursor, scope, q.After); err != nil {
					return nil, cursorProblem(err)
				}
			}
			if err := a.consistent(ctx, in.ConsistencyParam, ordersProjection); err != nil {
				return nil, err
			}
			page, err := a.d.Orders.List(ctx, q)
			if errors.Is(err, orders.ErrInvalidQuery) {
				return nil, problem.New(http.StatusBadRequest, problem.InvalidRequest, err.Error())
			}
			if err != nil {
				return nil, a.internal(ctx, "list orders", err)
			}
			out := &struct{ Body orderList }{Body: orderList{Orders: page.Orders}}
			if page.Next != nil {
				next, err := a.cursors.Encode(scope, page.Next)
				if err != nil {
					return nil, a.internal(ctx, "encode cursor", err)
				}
				out.Body.NextCursor = &next
			}
			return out, nil
		})

	huma.Register(a.humaAPI, op("get-order", http.MethodGet, "/orders/{id}", auth.RoleViewer, "orders",
		"An order with its lines, fulfillments and refunds."),
		func(ctx context.Context, in *struct {
			OrderIDParam
			ShopParam
			ConsistencyParam
		}) (*struct{ Body *orders.Order }, error) {
			id, err := shopifyid.Parse(in.ID, "Order")
			if err != nil {
				return nil, problem.New(http.StatusBadRequest, problem.InvalidID, "an order id is a positive integer or gid://shopify/Order/<id>")
			}
			if err := a.consistent(ctx, in.ConsistencyParam, ordersProjection); err != nil {
				return nil, err
			}
			return a.orderAnswer(ctx, in.ShopParam, "order "+in.ID)(a.d.Orders.Order(ctx, id))
		})

	huma.Register(a.humaAPI, op("get-order-by-name", http.MethodGet, "/orders/by-name/{name}", auth.RoleViewer, "orders",
		"An order by its name in the shop (#1001; the # may be left out)."),
		func(ctx context.Context, in *struct {
			Name string `path:"name" minLength:"1" maxLength:"64" doc:"Order name, e.g. 1001 or %231001."`
			ShopParam
			ConsistencyParam
		}) (*struct{ Body *orders.Order }, error) {
			shop, err := a.shop(in.ShopParam)
			if err != nil {
				return nil, err
			}
			name := in.Name
			if !strings.HasPrefix(name, "#") {
				name = "#" + name
			}
			if err := a.consistent(ctx, in.ConsistencyParam, ordersProjection); err != nil {
				return nil, err
			}
			return a.orderAnswer(ctx, in.ShopParam, "order "+name)(a.d.Orders.OrderByName(ctx, shop.Domain, name))
		})
}

func (a *API) orderAnswer(ctx context.Context, sp ShopParam, what string) func(*orders.Order, error) (*struct{ Body *orders.Order }, error) {
	return func(o *orders.Order, err error) (*struct{ Body *orders.Order }, error) {
		if errors.Is(err, orders.ErrNotFound) {
			return nil, notFound(what)
		}
		if err != nil {
			return nil, a.internal(ctx, "read order", err)
		}
		if err := a.shopOf(sp, o.Shop); err != nil {
			return nil, err
		}
		return &struct{ Body *orders.Order }{Body: o}, nil
	}
}

// listScope binds a cursor to its list and every filter and the sort: a cursor from another
// query is refused instead of silently skipping rows.
func listScope(list string, parts ...any) string {
	v := url.Values{}
	for i, p := range parts {
		var s string
		switch x := p.(type) {
		case *time.Time:
			if x != nil {
				s = x.UTC().Format(time.RFC3339Nano)
			}
		case string:
			s = x
		case int64:
			s = strconv.FormatInt(x, 10)
		case bool:
			s = strconv.FormatBool(x)
		}
		v.Set(strconv.Itoa(i), s)
	}
	return list + "?" + v.Encode()
}

func cursorProblem(err error) error {
	d := problem.New(http.StatusBadRequest, problem.InvalidCursor, "the cursor is not one this list issued for these filters and sort: start again without it")
	if !errors.Is(err, cursor.ErrInvalid) {
		d.Detail = err.Error()
	}
	return d
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
