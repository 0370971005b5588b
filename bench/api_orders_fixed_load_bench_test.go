package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/storeline/storeline/gateway"
	"github.com/storeline/storeline/projections/orders/orderstest"
	"github.com/storeline/storeline/testkit"
)

const (
	// apiOrders is how many orders the read model holds while the API is measured.
	apiOrders = 1_000_000
	// apiRate is the offered load of BenchmarkOrdersAPIAtFixedLoad, in requests per second.
	apiRate = 2000
	// Of the list requests, a page 2 and a page 3 (following next_cursor) make these fractions;
	// the rest ask for a first page.
	apiPage2, apiPage3 = 0.20, 0.10
)

// BenchmarkOrdersAPIAtFixedLoad offers dashboard reads at apiRate requests per second, open-loop
// (openLoop: on schedule, whatever the answers take), over real HTTP to the real gateway and API
// with real JWT checks, on a read model of a million orders (orderstest.LoadOrders: two years of
// a shop's orders, then VACUUM and ANALYZE):
//   - lookup: GET /orders/{id} of an order drawn at random from all of them;
//   - list: GET /orders?financial_status=paid&created_from&created_to&limit=50 of a random window
//     of 1 to 30 days, a first page or (apiPage2, apiPage3 of them) a page 2 or 3 through a
//     next_cursor fetched before the run.
//
// It reports, for each, the rate achieved and the latency percentiles from when each request was
// due. One op is one offered request, so -benchtime is how long the load is offered (1.2 × it in
// the reported run; ns/op is the schedule's interval, not a cost): make bench gives it 8s. The
// load takes about a minute before the first request.
func BenchmarkOrdersAPIAtFixedLoad(b *testing.B) {
	ctx := context.Background()
	pool := testkit.FreshDatabase(b)
	started := time.Now()
	if err := orderstest.LoadOrders(ctx, pool, apiOrders, benchShop, 1); err != nil {
		b.Fatal(err)
	}
	// VACUUM as well as ANALYZE: a read model that has been serving for a while has been vacuumed
	// (its rows' hint bits set, its pages all-visible); rows just copied in are not, and the first
	// reads of each page would write it, or autovacuum would start on them in the middle of a run.
	if _, err := pool.Exec(ctx, "VACUUM (ANALYZE) orders, order_line_items"); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d orders in %s", apiOrders, time.Since(started).Round(time.Second))
	// LoadOrders numbers a load's orders from one base id: every id in [first, first+count) is an order.
	var first, count int64
	if err := pool.QueryRow(ctx, "SELECT min(order_id), count(*) FROM orders WHERE shop = $1", benchShop).Scan(&first, &count); err != nil {
		b.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	issuer := newBenchIssuer(b)
	handler, openAPI := newOrdersAPI(b, pool, benchShop, issuer, log)
	srv := httptest.NewServer(gateway.New(gateway.Config{}, gateway.Deps{API: handler, OpenAPI: openAPI, Log: log}))
	b.Cleanup(srv.Close)
	// Enough keep-alive connections for every request in flight up to a ~250 ms backlog.
	c := newAPIClient(b, srv.URL, issuer.viewerToken(b), 512)

	lookup := func() error {
		return c.getOK("/orders/" + strconv.FormatInt(first+rand.Int64N(count), 10))
	}
	page2, page3 := prefetchPages(b, c, 400)
	list := func() error {
		switch u := rand.Float64(); {
		case u < apiPage2:
			return c.getOK(page2[rand.IntN(len(page2))])
		case u < apiPage2+apiPage3:
			return c.getOK(page3[rand.IntN(len(page3))])
		default:
			return c.getOK(randomPaidWindow())
		}
	}
	// Warm the caches a production server would have warm (JWKS, connections, the planner's, the
	// buffer pool's hot index pages) without timing it.
	for range 200 {
		if err := lookup(); err != nil {
			b.Fatal(err)
		}
		if err := list(); err != nil {
			b.Fatal(err)
		}
	}

	var lookups, lists loadResult
	b.Run(fmt.Sprintf("rate=%d", apiRate), func(b *testing.B) {
		b.Run("lookup", func(b *testing.B) { lookups = fixedLoad(b, apiRate, lookup) })
		b.Run("list", func(b *testing.B) { lists = fixedLoad(b, apiRate, list) })
	})
	if lookups.p99 > 0 && lists.p99 > 0 {
		fmt.Printf("\n%d orders, offered %d/s: lookup %.0f/s p50 %s p95 %s p99 %s max %s (%d errors, start lag p99 %s)\n"+
			"  list %.0f/s p50 %s p95 %s p99 %s max %s (%d errors, start lag p99 %s)\n\n",
			count, apiRate, lookups.achieved, ms(lookups.p50), ms(lookups.p95), ms(lookups.p99), ms(lookups.max), lookups.errors, ms(lookups.lagP99),
			lists.achieved, ms(lists.p50), ms(lists.p95), ms(lists.p99), ms(lists.max), lists.errors, ms(lists.lagP99))
	}
}

// randomPaidWindow is the path of the first page of the paid orders created in a random window
// of 1 to 30 days within the loaded orders' span.
func randomPaidWindow() string {
	days := 1 + rand.IntN(30)
	window := time.Duration(days) * 24 * time.Hour
	from := orderstest.End.Add(-orderstest.Span + time.Duration(rand.Int64N(int64(orderstest.Span-window)))).Truncate(time.Second)
	return "/orders?financial_status=paid&created_from=" + from.Format(time.RFC3339) +
		"&created_to=" + from.Add(window).Format(time.RFC3339) + "&limit=50"
}

// prefetchPages follows next_cursor from n random first pages: the paths of their second and
// third pages.
func prefetchPages(b *testing.B, c *apiClient, n int) (page2, page3 []string) {
	b.Helper()
	// next is the path of the page after path's, or "" after the last page.
	next := func(first, path string) string {
		var body []byte
		status, err := c.get(path, &body)
		if err != nil || status != 200 {
			b.Fatalf("GET %s: %d %v %s", path, status, err, body)
		}
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			b.Fatal(err)
		}
		if page.NextCursor == nil {
			return ""
		}
		return first + "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	for range n {
		first := randomPaidWindow()
		p2 := next(first, first)
		if p2 == "" {
			continue
		}
		page2 = append(page2, p2)
		if p3 := next(first, p2); p3 != "" {
			page3 = append(page3, p3)
		}
	}
	if len(page2) == 0 || len(page3) == 0 {
		b.Fatalf("%d random windows gave %d second and %d third pages", n, len(page2), len(page3))
	}
	return page2, page3
}
