// Package orderstest fills the orders read model with synthetic orders for benchmarks and
// planner checks: a million orders in well under a minute, straight into the tables with COPY
// (no events, no projection), every column the projection fills given a plausible value.
package orderstest

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"
)

// Products is how many products the orders' lines are spread over; ProductID(k) for k in
// [0, Products) are their ids. A few are far more popular than the rest, as in a real shop.
const Products = 2000

// ProductID is the id of the k-th product the loaded lines refer to.
func ProductID(k int) int64 { return 8_000_000_000_000 + int64(k) }

// Span is the time the orders' creation dates cover, ending at End.
const Span = 2 * 365 * 24 * time.Hour

// End is when the last loaded order was created.
var End = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Tags are the tags orders get (zero to three each).
var Tags = []string{"vip", "wholesale", "gift", "repeat", "subscription", "promo", "b2b", "instagram"}

// chunk is the orders one transaction loads; workers load chunks in parallel.
const chunk = 50_000

var orderColumns = []string{
	"order_id", "order_gid", "shop", "name", "order_number", "currency", "total_price", "subtotal_price", "total_tax",
	"financial_status", "fulfillment_status", "created_at", "updated_at", "last_event_id", "total_discounts",
	"total_shipping", "total_line_items_price", "current_total_price", "current_subtotal_price", "current_total_tax",
	"current_total_discounts", "processed_at", "cancelled_at", "cancel_reason", "closed_at", "taxes_included", "test",
	"customer_id", "customer_gid", "source_name", "tags", "discount_codes", "payment_gateway_names", "fulfillments",
	"line_count", "units",
}

var lineColumns = []string{
	"order_id", "line_item_id", "position", "product_id", "variant_id", "title", "variant_title", "sku", "quantity",
	"price", "line_item_gid", "product_gid", "variant_gid", "vendor", "current_quantity", "currency", "total_discount",
	"total_tax", "requires_shipping", "taxable", "gift_card", "fulfillable_quantity", "fulfillment_status",
}

// LoadOrders adds n orders of shop, numbered #1001 onwards and created over Span up to End,
// with one to four lines each over Products products. The same shop, n and seed give the same
// orders; their ids are derived from shop and seed, so two loads with different ones do not
// collide (loading the same twice fails on the primary key).
func LoadOrders(ctx context.Context, pool *pgxpool.Pool, n int, shop string, seed int64) error {
	g := &generator{shop: shop, seed: uint64(seed), n: n, base: idBase(shop, seed)}
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(max(2, min(int(pool.Config().MaxConns)-1, 4)))
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n)
		eg.Go(func() error { return g.load(ctx, pool, from, to) })
	}
	if err := eg.Wait(); err != nil {
		return fmt.Errorf("load %d orders of %s: %w", n, shop, err)
	}
	return nil
}

func idBase(shop string, seed int64) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%d", shop, seed)
	return 5_000_000_000_000 + int64(h.Sum64()%1000)*1_000_000_000
}

type generator struct {
	shop string
	seed uint64
	n    int
	base int64
}

// load copies orders [from, to) and then their lines, in one transaction.
func (g *generator) load(ctx context.Context, pool *pgxpool.Pool, from, to int) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		i := from
		var o order
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"orders"}, orderColumns, pgx.CopyFromFunc(func() ([]any, error) {
			if i == to {
				return nil, nil
			}
			g.order(i, &o)
			i++
			return o.row(g.shop), nil
		})); err != nil {
			return fmt.Errorf("copy orders %d..%d: %w", from, to, err)
		}
		i, k := from, 0
		g.order(i, &o)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"order_line_items"}, lineColumns, pgx.CopyFromFunc(func() ([]any, error) {
			for k == len(o.lines) {
				if i++; i == to {
					return nil, nil
				}
				g.order(i, &o)
				k = 0
			}
			k++
			return o.lineRow(k - 1), nil
		})); err != nil {
			return fmt.Errorf("copy lines of orders %d..%d: %w", from, to, err)
		}
		return nil
	})
}

type order struct {
	id, number, customer              int64
	created, updated                  time.Time
	processed, cancelled, closed      *time.Time
	financial, fulfillment, reason    *string
	subtotal, discount, shipping, tax int64 // cents
	total, current                    int64
	tags                              []string
	eventID                           [16]byte
	lines                             []line
}

type line struct {
	product, quantity int
	price, discount   int64
	fulfilled         bool
}

var (
	financial   = []string{"paid", "paid", "paid", "paid", "paid", "paid", "paid", "pending", "refunded", "partially_refunded", "authorized", "voided"}
	fulfillment = []string{"fulfilled", "fulfilled", "fulfilled", "fulfilled", "fulfilled", "fulfilled", "", "", "", "partial"}
)

// order fills o with the i-th order: a generator of its own per order, so the lines' pass
// regenerates exactly the orders' pass.
func (g *generator) order(i int, o *order) {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	o.id, o.number = g.base+int64(i), 1001+int64(i)
	step := Span / time.Duration(max(g.n, 1))
	o.created = End.Add(-Span + time.Duration(i)*step + time.Duration(r.Int64N(int64(step)+1))).Truncate(time.Microsecond)
	o.updated = o.created.Add(time.Duration(r.ExpFloat64() * float64(72*time.Hour))).Truncate(time.Microsecond)
	o.processed, o.cancelled, o.closed, o.reason = &o.created, nil, nil, nil
	o.customer = 7_000_000_000_000 + r.Int64N(max(int64(g.n)/3, 1))
	o.financial = &financial[r.IntN(len(financial))]
	o.fulfillment = nil
	if f := fulfillment[r.IntN(len(fulfillment))]; f != "" {
		o.fulfillment = &f
	}
	if r.IntN(100) < 3 {
		o.cancelled, o.reason, o.financial = &o.updated, ptr("customer"), ptr("voided")
		o.fulfillment = nil
	} else if o.fulfillment != nil && *o.fulfillment == "fulfilled" {
		o.closed = &o.updated
	}
	if o.tags = o.tags[:0]; o.tags == nil {
		o.tags = []string{} // a nil slice would be NULL, and tags is NOT NULL
	}
	for _, t := range r.Perm(len(Tags))[:r.IntN(4)] {
		o.tags = append(o.tags, Tags[t])
	}
	binaryID(r, &o.eventID)

	o.lines = o.lines[:0]
	o.subtotal, o.discount = 0, 0
	discounted := r.IntN(100) < 15
	for range 1 + r.IntN(4) {
		// Popularity falls off with the product's index: a square of a uniform draw.
		u := r.Float64()
		l := line{product: int(u * u * Products), quantity: 1 + r.IntN(3)/2, price: 500 + r.Int64N(14500)}
		l.fulfilled = o.fulfillment != nil && (*o.fulfillment == "fulfilled" || r.IntN(2) == 0)
		if discounted {
			l.discount = l.price * int64(l.quantity) / 10
		}
		o.subtotal += l.price * int64(l.quantity)
		o.discount += l.discount
		o.lines = append(o.lines, l)
	}
	o.shipping = 0
	if o.subtotal < 5000 {
		o.shipping = 490
	}
	o.total = o.subtotal - o.discount + o.shipping
	o.tax = o.total / 6 // 20% VAT included in the prices
	o.current = o.total
	switch *o.financial {
	case "refunded", "voided":
		o.current = 0
	case "partially_refunded":
		o.current = o.total - o.lines[0].price
	}
}

func (o *order) row(shop string) []any {
	return []any{
		o.id, fmt.Sprintf("gid://shopify/Order/%d", o.id), shop, fmt.Sprintf("#%d", o.number), o.number, "EUR",
		cents(o.total), cents(o.subtotal - o.discount), cents(o.tax), o.financial, o.fulfillment, o.created, o.updated,
		pgtype.UUID{Bytes: o.eventID, Valid: true}, cents(o.discount), cents(o.shipping), cents(o.subtotal),
		cents(o.current), cents(o.current - o.shipping), cents(o.current / 6), cents(o.discount),
		o.processed, o.cancelled, o.reason, o.closed, true, false,
		o.customer, fmt.Sprintf("gid://shopify/Customer/%d", o.customer), "web", o.tags, discountCodes(o.discount),
		[]string{"shopify_payments"}, "[]", int32(len(o.lines)), o.units(),
	}
}

// units is the sum of the order's lines' quantities.
func (o *order) units() int64 {
	var n int64
	for _, l := range o.lines {
		n += int64(l.quantity)
	}
	return n
}

func (o *order) lineRow(k int) []any {
	l := o.lines[k]
	id := o.id*10 + int64(k)
	product := ProductID(l.product)
	variant := 9_000_000_000_000 + int64(l.product)*4 + id%3
	var status *string
	fulfillable := l.quantity
	if l.fulfilled {
		status, fulfillable = ptr("fulfilled"), 0
	}
	return []any{
		o.id, id, k, product, variant, fmt.Sprintf("Product %d", l.product), fmt.Sprintf("Size %d", variant%3+1),
		fmt.Sprintf("SKU-%d-%d", l.product, variant%3), l.quantity, cents(l.price),
		fmt.Sprintf("gid://shopify/LineItem/%d", id), fmt.Sprintf("gid://shopify/Product/%d", product),
		fmt.Sprintf("gid://shopify/ProductVariant/%d", variant), "ACME", l.quantity, "EUR", cents(l.discount),
		cents((l.price*int64(l.quantity) - l.discount) / 6), true, true, false, fulfillable, status,
	}
}

func discountCodes(discount int64) []string {
	if discount > 0 {
		return []string{"WELCOME10"}
	}
	return []string{}
}

// cents is an amount of cents as numeric(20,4), exactly.
func cents(c int64) pgtype.Numeric { return pgtype.Numeric{Int: big.NewInt(c), Exp: -2, Valid: true} }

func binaryID(r *rand.Rand, b *[16]byte) {
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80 // version 4, RFC 4122 variant
}

func ptr[T any](v T) *T { return &v }
