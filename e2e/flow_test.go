package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/testkit"
)

// pgState is what the read model holds.
type pgState struct {
	orders, lineItems int
	sumTotal          *big.Rat
	ids               []int64
}

func (d *deployment) readPostgres() (*pgState, error) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, d.dbURL)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	s := &pgState{sumTotal: new(big.Rat)}
	var sum string
	if err := c.QueryRow(ctx, `SELECT count(*), COALESCE(sum(total_price),0)::text, (SELECT count(*) FROM order_line_items) FROM orders`).Scan(&s.orders, &sum, &s.lineItems); err != nil {
		return nil, err
	}
	s.sumTotal.SetString(sum)
	rows, err := c.Query(ctx, `SELECT order_id FROM orders ORDER BY order_id`)
	if err != nil {
		return nil, err
	}
	s.ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	return s, err
}

// endOffsets sums the high watermarks of the deployment's commerce topic.
func (d *deployment) endOffsets() int64 {
	d.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(d.t)...))
	if err != nil {
		d.t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), d.prefix+"commerce")
	if err != nil {
		d.t.Fatal(err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
	return n
}

// waitConverged waits until Postgres and the lake (read by PyIceberg and DuckDB) both hold
// exactly the orders in want, and checks the engines agree with Postgres.
func (d *deployment) waitConverged(want []int64) (*pgState, *lake) {
	d.t.Helper()
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	var pg *pgState
	testkit.WaitFor(d.t, 60*time.Second, fmt.Sprintf("%d orders in postgres", len(want)), func() error {
		var err error
		if pg, err = d.readPostgres(); err != nil {
			return err
		}
		if pg.orders != len(want) {
			return fmt.Errorf("%d orders", pg.orders)
		}
		return nil
	})
	if fmt.Sprint(pg.ids) != fmt.Sprint(want) {
		d.t.Fatalf("postgres holds orders %v, want %v", pg.ids, want)
	}
	if pg.lineItems != len(want) {
		d.t.Errorf("postgres holds %d line items, want %d", pg.lineItems, len(want))
	}
	var lk *lake
	testkit.WaitFor(d.t, 90*time.Second, fmt.Sprintf("%d rows in commerce.orders", len(want)), func() error {
		var err error
		if lk, err = d.readLake(); err != nil {
			return err
		}
		if lk.PyIceberg.Rows < len(want) {
			return fmt.Errorf("%d rows", lk.PyIceberg.Rows)
		}
		return nil
	})
	if lk.PyIceberg.Rows != len(want) || lk.PyIceberg.DistinctOrderIDs != len(want) || lk.PyIceberg.DistinctEventIDs != len(want) {
		d.t.Errorf("pyiceberg: %d rows, %d distinct orders, %d distinct events; want %d of each",
			lk.PyIceberg.Rows, lk.PyIceberg.DistinctOrderIDs, lk.PyIceberg.DistinctEventIDs, len(want))
	}
	if fmt.Sprint(lk.PyIceberg.OrderIDs) != fmt.Sprint(want) {
		d.t.Errorf("lake holds orders %v, want %v", lk.PyIceberg.OrderIDs, want)
	}
	if lk.DuckDB.Rows != len(want) || lk.DuckDB.DistinctOrderIDs != len(want) {
		d.t.Errorf("duckdb: %d rows, %d distinct orders; want %d", lk.DuckDB.Rows, lk.DuckDB.DistinctOrderIDs, len(want))
	}
	for engine, sum := range map[string]string{"pyiceberg": lk.PyIceberg.SumTotalPrice, "duckdb": lk.DuckDB.SumTotalPrice} {
		r, ok := new(big.Rat).SetString(sum)
		if !ok || r.Cmp(pg.sumTotal) != 0 {
			d.t.Errorf("%s sums total_price to %s, postgres to %s", engine, sum, pg.sumTotal.FloatString(4))
		}
	}
	return pg, lk
}

func TestForgedSignatureIsRefusedAndProducesNothing(t *testing.T) {
	d := newDeployment(t)
	d.start()
	status, err := d.send(orderDelivery(1, "forged-1"), "not-the-secret")
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusUnauthorized {
		t.Fatalf("forged webhook answered %d, want 401", status)
	}
	// A signed one afterwards lands, so an empty topic means the forged one was not produced
	// rather than that nothing could be.
	if status, err := d.send(orderDelivery(2, "real-2"), secret); err != nil || status != 200 {
		t.Fatalf("signed webhook: %d %v", status, err)
	}
	if n := d.endOffsets(); n != 1 {
		t.Fatalf("commerce holds %d records, want only the signed one", n)
	}
}

func TestSameDeliveryTwiceIsOneOrderAndOneLakeRow(t *testing.T) {
	d := newDeployment(t)
	d.start()
	dl := orderDelivery(4242, "evt-4242")
	for i := range 2 {
		dl.webhookID = fmt.Sprint("attempt-", i) // Shopify's retry: new delivery id, same event id
		if status, err := d.send(dl, secret); err != nil || status != 200 {
			t.Fatalf("delivery %d: %d %v", i, status, err)
		}
	}
	resp, err := http.Get("http://" + d.addr + "/api/v1/orders/4242")
	if err != nil {
		t.Fatal(err)
	}
	var order struct {
		ID        string `json:"id"`
		LineItems []any  `json:"line_items"`
	}
	testkit.WaitFor(t, time.Second*5, "the order in the API", func() error {
		resp, err = http.Get("http://" + d.addr + "/api/v1/orders/4242")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return json.NewDecoder(resp.Body).Decode(&order)
	})
	if order.ID != "4242" || len(order.LineItems) != 1 {
		t.Errorf("order = %+v", order)
	}
	d.waitConverged([]int64{4242})
	if n := d.endOffsets(); n != 2 {
		t.Errorf("commerce holds %d records; the test meant to put the event in the log twice", n)
	}
	miss, _ := http.Get("http://" + d.addr + "/api/v1/orders/999")
	if miss.StatusCode != 404 || miss.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown order: %d %s", miss.StatusCode, miss.Header.Get("Content-Type"))
	}
}

// TestKillNineMidStreamLosesAndDuplicatesNothing sends orders the way Shopify does (retrying
// until it gets a 200) while the process is killed with SIGKILL at random moments and restarted.
func TestKillNineMidStreamLosesAndDuplicatesNothing(t *testing.T) {
	d := newDeployment(t)
	d.start()
	const orders, kills = 240, 4
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 42))
	killAt := map[int]bool{}
	for len(killAt) < kills {
		killAt[20+rng.IntN(orders-40)] = true
	}
	want := make([]int64, 0, orders)
	for i := range orders {
		id := int64(10_000 + i)
		want = append(want, id)
		dl := orderDelivery(id, fmt.Sprint("evt-", id))
		if killAt[i] {
			// Kill once this delivery's request is on the wire: the process is then somewhere
			// between reading it and answering it (its fate is unknown on purpose; the retry
			// below is what Shopify would do).
			wrote := make(chan struct{})
			go d.sendTraced(dl, secret, wrote) //nolint:errcheck
			<-wrote
			d.kill()
			d.start()
		}
		deadline := time.Now().Add(30 * time.Second)
		for attempt := 0; ; attempt++ {
			dl.webhookID = fmt.Sprintf("wh-%d-%d", id, attempt)
			status, err := d.send(dl, secret)
			if err == nil && status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("order %d never acknowledged: %d %v", id, status, err)
			}
		}
	}
	pg, lk := d.waitConverged(want)
	t.Logf("%d orders, %d records in the log after %d kills; lake summary %v", pg.orders, d.endOffsets(), kills, lk.Summary)
	d.stop()
	if os.Getenv("STORELINE_E2E_KEEP") != "" {
		t.Logf("database %s warehouse %s", d.dbURL, d.warehouse)
	}
}
