package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/shopifysim"
	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/workflows/bulksync"
)

// simulatedShopSecret signs the simulated shop's webhooks.
const simulatedShopSecret = "shpss_simulated_shop"

// simulatedShop starts a simulated Shopify shop's Admin API and configures the deployment for it.
func simulatedShop(t *testing.T, d *deployment, size shopifysim.Size) (*shopifysim.Store, *shopifysim.AdminServer) {
	return simulatedShopOn(t, d, size, nil)
}

// simulatedShopOn is simulatedShop with the Admin API behind wrap (nil: as it is).
func simulatedShopOn(t *testing.T, d *deployment, size shopifysim.Size, wrap func(http.Handler) http.Handler) (*shopifysim.Store, *shopifysim.AdminServer) {
	t.Helper()
	store := shopifysim.Generate(7, size)
	admin := shopifysim.NewAdminServer(store, shopifysim.AdminOptions{
		Bulk: shopifysim.BulkOptions{StartAfter: 20 * time.Millisecond, RunFor: 100 * time.Millisecond},
	})
	var h http.Handler = admin
	if wrap != nil {
		h = wrap(admin)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	shops, err := json.Marshal([]map[string]any{{
		"domain": store.Shop().MyshopifyDomain, "access_token": shopifysim.DefaultAccessToken,
		"admin_url": srv.URL, "currency": store.Shop().Currency, "webhook_secrets": []string{simulatedShopSecret},
	}})
	if err != nil {
		t.Fatal(err)
	}
	d.extraEnv = append(d.extraEnv, "STORELINE_SHOPIFY_SHOPS="+string(shops))
	return store, admin
}

// TestBulkSyncFromTheCommandLine: `storeline sync run` exports a simulated shop through bulk
// operations, and the read models end up holding every order and product of the shop.
func TestBulkSyncFromTheCommandLine(t *testing.T) {
	d := newDeployment(t)
	store, _ := simulatedShop(t, d, shopifysim.Size{Products: 30, Orders: 120})
	d.start()

	cmd := exec.Command(binary(t), "sync", "run", "--shop", store.Shop().MyshopifyDomain)
	cmd.Env = d.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("storeline sync run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "completed") {
		t.Fatalf("storeline sync run said:\n%s", out)
	}

	pool, err := pgxpool.New(context.Background(), d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	count := func(q string) int {
		var n int
		if err := pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	testkit.WaitFor(t, 60*time.Second, "every order and product in the read models", func() error {
		orders, products := count(`SELECT count(*) FROM orders`), count(`SELECT count(*) FROM products WHERE deleted_at IS NULL`)
		if orders != len(store.Orders()) || products != len(store.Products()) {
			return fmt.Errorf("%d orders and %d products, want %d and %d", orders, products, len(store.Orders()), len(store.Products()))
		}
		return nil
	})
}

// TestBulkSyncSurvivesKillNine: `storeline sync run` killed with SIGKILL while it streams the
// orders export, then run again, finishes the same run without submitting another export; every
// exported row's event is on the log once by id, the read models hold the whole shop, and the
// watermark is each export's creation time.
func TestBulkSyncSurvivesKillNine(t *testing.T) {
	d := newDeployment(t)
	// Results come over a slow link (a few hundred KB/s), so the kill lands mid-stream however
	// fast the machine is.
	store, admin := simulatedShopOn(t, d, shopifysim.Size{Products: 40, Orders: 2500}, slowResults)
	shop := store.Shop().MyshopifyDomain
	d.start()
	ctx := context.Background()

	reg, err := registry.NewRemote("http://" + d.addr + "/registry")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(ctx, cat, reg, d.prefix)
	if err != nil {
		t.Fatal(err)
	}
	history := func() *bulksync.History {
		h, err := bulksync.SyncTopic{Brokers: testkit.Brokers(t), Topic: d.prefix + events.TopicSync, Codec: codec,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}.Load(ctx, shop)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	first := exec.Command(binary(t), "sync", "run", "--shop", shop)
	first.Env = d.env()
	var firstOut lockedBuffer
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = first.Wait(); close(exited) }()
	testkit.WaitFor(t, 120*time.Second, "a checkpoint of the orders export", func() error {
		select {
		case <-exited:
			t.Fatalf("the sync ended before it could be killed:\n%s", firstOut.String())
		default:
		}
		for _, r := range history().Runs {
			if o := r.Ops["orders"]; o != nil && o.Checkpoint.RowsEmitted > 0 && !o.Checkpoint.Complete {
				return nil
			}
		}
		return errors.New("no checkpoint yet")
	})
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	if h := history(); h.Unfinished() == nil {
		t.Fatal("after the kill no run is unfinished")
	}

	second := exec.Command(binary(t), "sync", "run", "--shop", shop)
	second.Env = d.env()
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("storeline sync run after the kill: %v\n%s", err, out)
	}

	h := history()
	if len(h.Runs) != 1 {
		t.Fatalf("%d runs, want the one run resumed", len(h.Runs))
	}
	var run *bulksync.Run
	for _, r := range h.Runs {
		run = r
	}
	if !run.Completed {
		t.Fatalf("run %+v did not complete", run)
	}
	ops := admin.BulkOperations()
	if len(ops) != 3 {
		t.Errorf("%d bulk operations submitted, want 3 (products, orders, inventory): the kill must not cause a resubmission", len(ops))
	}
	for _, op := range ops {
		res := "orders"
		switch {
		case strings.Contains(op.Query, "inventoryItems"):
			res = "inventory"
		case strings.Contains(op.Query, "products"):
			res = "products"
		}
		if !h.Watermarks[res].Equal(op.CreatedAt.UTC().Truncate(time.Microsecond)) {
			t.Errorf("%s watermark %s, want the export's creation %s", res, h.Watermarks[res], op.CreatedAt)
		}
	}

	// Every exported row is on the log (some twice: those after the last checkpoint before the
	// kill), each row's event once by id.
	rows := map[string]bool{}
	records := 0
	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(t)...), kgo.ConsumeTopics(d.prefix+events.TopicCommerce),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for {
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if fs.NumRecords() == 0 {
			break
		}
		fs.EachRecord(func(r *kgo.Record) {
			records++
			for _, hd := range r.Headers {
				if hd.Key == events.HeaderEventID {
					rows[string(hd.Value)] = true
				}
			}
		})
	}
	var lines int64
	for _, op := range ops {
		lines += op.ObjectCount
		if strings.Contains(op.Query, "inventoryItems") {
			lines -= op.RootObjectCount // an inventory item row records nothing; its levels do
		}
	}
	lines += int64(len(store.DeletedProducts())) // a ProductDeleted per deletion the events API lists (a full run: every one)
	if int64(len(rows)) != lines {
		t.Errorf("%d distinct events on commerce (%d records), want one per exported line but inventory items, and one per deleted product: %d", len(rows), records, lines)
	}
	if h.Watermarks["product_deletions"].IsZero() {
		t.Error("the product_deletions watermark did not move")
	}

	pool, err := pgxpool.New(ctx, d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	testkit.WaitFor(t, 60*time.Second, "the whole shop in the read models", func() error {
		var orders, lineItems int
		if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_line_items)`).Scan(&orders, &lineItems); err != nil {
			return err
		}
		want := 0
		for _, o := range store.Orders() {
			want += len(o.LineItems)
		}
		if orders != len(store.Orders()) || lineItems != want {
			return fmt.Errorf("%d orders with %d lines, want %d with %d", orders, lineItems, len(store.Orders()), want)
		}
		for _, l := range store.InventoryLevels() {
			var available *int32
			if err := pool.QueryRow(ctx, `SELECT available FROM inventory_levels WHERE inventory_item_id = $1 AND location_id = $2`,
				l.InventoryItemID, l.LocationID).Scan(&available); err != nil {
				return fmt.Errorf("inventory level %d@%d: %w", l.InventoryItemID, l.LocationID, err)
			}
			if available == nil || int(*available) != int(l.Available) {
				return fmt.Errorf("inventory level %d@%d: %v available, want %d", l.InventoryItemID, l.LocationID, available, l.Available)
			}
		}
		return nil
	})
}

// TestBulkSyncRequestedThroughTheAPI: POST /api/v1/sync records the request; the workflows
// role of the running storeline carries it out; an unknown shop is a 404.
func TestBulkSyncRequestedThroughTheAPI(t *testing.T) {
	d := newDeployment(t)
	store, _ := simulatedShop(t, d, shopifysim.Size{Products: 20, Orders: 60})
	d.start()
	post := func(body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "http://"+d.addr+"/api/v1/sync", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "first-sync")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(`{"shop":"unknown.myshopify.com"}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown shop: %d, want 404", resp.StatusCode)
	}
	if resp := post(`{"shop":"` + store.Shop().MyshopifyDomain + `","mode":"full"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("sync request: %d, want 202", resp.StatusCode)
	}
	pool, err := pgxpool.New(context.Background(), d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	testkit.WaitFor(t, 90*time.Second, "the requested sync to fill the orders read model", func() error {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM orders`).Scan(&n); err != nil {
			return err
		}
		if n != len(store.Orders()) {
			return fmt.Errorf("%d orders, want %d", n, len(store.Orders()))
		}
		return nil
	})
}

// slowResults serves bulk results at about 600 KB/s, as a slow link would.
func slowResults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/bulk-operation-outputs/") {
			w = &throttledWriter{ResponseWriter: w}
		}
		next.ServeHTTP(w, r)
	})
}

type throttledWriter struct{ http.ResponseWriter }

func (t *throttledWriter) Write(p []byte) (int, error) {
	const chunk = 16 << 10
	n := 0
	for len(p) > 0 {
		c := min(chunk, len(p))
		m, err := t.ResponseWriter.Write(p[:c])
		n += m
		if err != nil {
			return n, err
		}
		if f, ok := t.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		p = p[c:]
		time.Sleep(25 * time.Millisecond) // the link's speed, not a wait for anything
	}
	return n, nil
}
