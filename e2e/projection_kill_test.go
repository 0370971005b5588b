package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/shopifysim"
	"github.com/storeline/storeline/testkit"
)

// killTestProjections are the projections the kill test checks (all read commerce).
var killTestProjections = []string{"orders", "products", "inventory"}

// TestProjectorSurvivesTwentyKillNines is issue 6's first acceptance: under a steady stream of
// webhooks (with duplicates and out-of-order deliveries) into one process (gateway and the other
// roles), a second process running only the projector is killed with SIGKILL 20 times at random
// moments and restarted. Then the stream stops, the projector catches up with the log, and an
// independent checker reads the commerce topic itself, folds it by the documented rules (newest
// updated_at wins; a tie keeps the first; refunds once per id; a deletion is final) and finds
// the orders, products and inventory read models equal to the fold: no missing row, no extra
// row, no duplicate line, no stale version.
func TestProjectorSurvivesTwentyKillNines(t *testing.T) {
	const (
		kills = 20
		rate  = 80 // webhooks per second
	)
	d := newDeployment(t)
	// More product updates and deletions than a default shop, so products see stale versions too.
	mix := shopifysim.DefaultMix()
	mix.ProductUpdateRate, mix.ProductDeleteRate = 2, 0.1
	store := shopifysim.Generate(23, shopifysim.Size{Products: 100, Orders: 1500, Mix: &mix})
	// The shop is configured for its webhook secret and currency only: without an access token
	// the scheduler never syncs it, so the log holds webhook events only.
	shops, err := json.Marshal([]map[string]any{{"domain": store.Shop().MyshopifyDomain, "currency": store.Shop().Currency,
		"webhook_secrets": []string{simulatedShopSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	d.extraEnv = append(d.extraEnv, "STORELINE_SHOPIFY_SHOPS="+string(shops), "STORELINE_ROLES=gateway,relay,sink,scheduler,workflows")
	d.start()
	projector := newRoleProcess(d, "projector", "STORELINE_ROLES=projector", "STORELINE_LOG_LEVEL=info")
	projector.start()

	ctx := context.Background()
	pool, err := pgxpool.New(ctx, d.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	adm, closeAdm := kafkaAdmin(t)
	defer closeAdm()
	commerce := d.prefix + events.TopicCommerce

	// The steady stream: the whole history enqueued at once (so faults reorder across it),
	// paced by the transport to rate requests per second.
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	sender := shopifysim.NewWebhookSender(store, shopifysim.SenderOptions{
		URL: "http://" + d.addr + "/webhooks/shopify", Secret: simulatedShopSecret, Concurrency: 8, Seed: 29,
		Topics: []string{"orders/create", "orders/updated", "orders/paid", "orders/fulfilled", "orders/cancelled", "refunds/create",
			"products/create", "products/update", "products/delete", "inventory_levels/update"},
		Client:  &http.Client{Timeout: 10 * time.Second, Transport: pacedTransport{tick: tick.C, base: &http.Transport{MaxIdleConnsPerHost: 9}}},
		Retries: 3, RetryWindow: 3 * time.Second, KeepSubscription: true,
		Faults: shopifysim.Faults{Duplicate: 0.10, DuplicateNewWebhookID: 0.5, OutOfOrder: 0.20, OutOfOrderWindow: 200},
	})
	defer sender.Close()
	history := store.History()
	sender.Enqueue(history...)

	// 20 kills at random moments, each followed by a restart that waits for the partitions.
	seed := time.Now().UnixNano()
	t.Logf("kill schedule seed %d; %d changes in the shop's history", seed, len(history))
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	started := time.Now()
	var behind int
	for i := range kills {
		time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(1700*time.Millisecond)))) // the random moment: the point of the test
		// At 80 webhooks/s the projector is idle most of the time: from the random moment on,
		// look (for at most 200 ms) for one when it has records in hand, to kill it mid-batch.
		var lag int64
		for look := time.Now(); time.Since(look) < 200*time.Millisecond; {
			if lag = projectionLag(ctx, t, pool, adm, commerce, "orders"); lag > 0 {
				behind++
				break
			}
		}
		projector.kill()
		t.Logf("kill %d after %s: orders projection %d records behind", i+1, time.Since(started).Round(time.Millisecond), lag)
		projector.start()
	}
	report := sender.Report()
	sender.Close()
	d.stop() // nothing more reaches the log
	var notOK int
	for _, a := range report.Attempts {
		if !a.OK {
			notOK++
		}
	}
	t.Logf("%d kills in %s (%d with the projector behind the log); %d webhook deliveries (%d not accepted, retried), %d changes delivered of %d",
		kills, time.Since(started).Round(time.Millisecond), behind, len(report.Attempts), notOK, len(report.Delivered), len(history))
	if len(report.Delivered) >= len(history) {
		t.Fatalf("the stream ran dry before the kills ended: make the shop bigger")
	}
	if len(report.Delivered) < kills*rate/2 {
		t.Fatalf("only %d changes delivered: the stream was not steady", len(report.Delivered))
	}

	ends, err := adm.ListEndOffsets(ctx, commerce)
	if err != nil {
		t.Fatal(err)
	}
	end := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		end[o.Partition] = o.Offset
	})
	catchUp := time.Now()
	testkit.WaitFor(t, 120*time.Second, "the projections to catch up with the log", func() error {
		for _, name := range killTestProjections {
			if lag := projectionLagTo(ctx, t, pool, end, name); lag > 0 {
				return fmt.Errorf("%s is %d records behind", name, lag)
			}
		}
		return nil
	})
	t.Logf("caught up in %s", time.Since(catchUp).Round(time.Millisecond))

	want := foldCommerceLog(ctx, t, d.prefix, end)
	t.Logf("the log: %d events (%v), %d of them repeats and %d versions after a newer one; %d orders, %d refunds, %d products, %d inventory levels",
		want.events, want.types, want.repeats, want.late, len(want.orders), len(want.refunds), len(want.products), len(want.levels))
	if diffs := want.compare(ctx, t, pool); len(diffs) > 0 {
		t.Errorf("%d differences between the read models and the fold of the log:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
	projector.stop()
}

// pacedTransport lets one request through per tick: a steady rate, whatever the concurrency.
type pacedTransport struct {
	tick <-chan time.Time
	base http.RoundTripper
}

func (p pacedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	select {
	case <-p.tick:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return p.base.RoundTrip(r)
}

// roleProcess is a second process of a deployment: the deployment's settings with some
// overridden (roles, its own HTTP address and static member id), started, killed and stopped
// on its own.
type roleProcess struct {
	d      *deployment
	name   string
	env    []string
	logs   *lockedBuffer // every run's
	run    *lockedBuffer // the current run's
	cmd    *exec.Cmd
	exited chan struct{}
}

func newRoleProcess(d *deployment, name string, overrides ...string) *roleProcess {
	p := &roleProcess{d: d, name: name, logs: &lockedBuffer{}}
	// Later entries win in exec's environment, so these replace the deployment's.
	p.env = append(append(d.env(), "STORELINE_HTTP_ADDR="+freeAddr(d.t), "STORELINE_INSTANCE_ID=e2e-"+d.prefix+name), overrides...)
	d.t.Cleanup(func() {
		if p.cmd != nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
		if d.t.Failed() {
			d.t.Logf("%s logs (last 150 lines):\n%s", name, lastLines(p.logs.String(), 150))
		}
	})
	return p
}

// start runs `storeline run` and waits until every checked projection has its commerce
// partitions assigned (the projector serves no HTTP).
func (p *roleProcess) start() {
	t := p.d.t
	t.Helper()
	p.run = &lockedBuffer{}
	cmd := exec.Command(binary(t), "run")
	cmd.Env = p.env
	out := io.MultiWriter(p.logs, p.run)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) { _ = cmd.Wait(); close(exited) }(p.exited)
	partitions := 3 // newDeployment's topics
	testkit.WaitFor(t, 60*time.Second, p.name+" to take its partitions", func() error {
		select {
		case <-p.exited:
			t.Fatalf("%s exited during start:\n%s", p.name, p.run.String())
		default:
		}
		logs := p.run.String()
		for _, name := range killTestProjections {
			n := 0
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, `msg="partition assigned"`) && strings.Contains(line, "projection="+name+" ") {
					n++
				}
			}
			if n < partitions {
				return fmt.Errorf("%s: %d partitions assigned", name, n)
			}
		}
		return nil
	})
}

// kill sends SIGKILL: no drain, no commit.
func (p *roleProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// stop sends SIGTERM and expects a clean exit.
func (p *roleProcess) stop() {
	t := p.d.t
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(45 * time.Second):
		t.Errorf("%s did not stop within 45s of SIGTERM", p.name)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("%s exited %d after SIGTERM", p.name, code)
	}
	p.cmd = nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func kafkaAdmin(t *testing.T) (*kadm.Client, func()) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	return kadm.NewClient(cl), cl.Close
}

// projectionLag is how many records of topic the projection's checkpoints are behind its end.
func projectionLag(ctx context.Context, t *testing.T, pool *pgxpool.Pool, adm *kadm.Client, topic, projection string) int64 {
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	return projectionLagTo(ctx, t, pool, end, projection)
}

// projectionLagTo is how many records the projection's commerce checkpoints are behind end.
func projectionLagTo(ctx context.Context, t *testing.T, pool *pgxpool.Pool, end map[int32]int64, projection string) int64 {
	rows, err := pool.Query(ctx, `SELECT partition, next_offset FROM projection_checkpoints WHERE projection = $1 AND topic = $2`,
		projection, events.TopicCommerce)
	if err != nil {
		t.Fatal(err)
	}
	next := map[int32]int64{}
	for rows.Next() {
		var p int32
		var off int64
		if err := rows.Scan(&p, &off); err != nil {
			t.Fatal(err)
		}
		next[p] = off
	}
	rows.Close()
	var lag int64
	for p, e := range end {
		lag += max(e-next[p], 0)
	}
	return lag
}

// The independent fold of the commerce log: the documented winning rules, written plainly.

type orderVersion struct {
	eventID string
	order   *events.Order
}

type productFold struct {
	eventID   string
	version   *events.Product // nil: only a deletion seen
	deletedAt *time.Time
}

type levelFold struct {
	eventID   string
	available *int32
	updatedAt time.Time
}

type commerceFold struct {
	events   int
	types    map[string]int
	seen     map[string]bool // event ids
	repeats  int             // events on the log more than once (a redelivery)
	late     int             // versions older than one before them on the log (an out-of-order delivery)
	orders   map[int64]orderVersion
	refunds  map[int64]*events.Refund
	products map[int64]*productFold
	levels   map[[2]int64]levelFold
}

// foldCommerceLog reads the commerce topic from the start up to end (read committed) and folds it.
func foldCommerceLog(ctx context.Context, t *testing.T, prefix string, end map[int32]int64) *commerceFold {
	t.Helper()
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(ctx, cat, testkit.Registry(t, prefix), prefix)
	if err != nil {
		t.Fatal(err)
	}
	topic := prefix + events.TopicCommerce
	start := map[int32]kgo.Offset{}
	for p := range end {
		start[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(t)...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	f := &commerceFold{types: map[string]int{}, seen: map[string]bool{}, orders: map[int64]orderVersion{}, refunds: map[int64]*events.Refund{},
		products: map[int64]*productFold{}, levels: map[[2]int64]levelFold{}}
	next := map[int32]int64{}
	done := func() bool {
		for p, e := range end {
			if next[p] < e {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(90 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("reading %s: at %v, end %v", topic, next, end)
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachError(func(_ string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end[r.Partition] {
				return
			}
			next[r.Partition] = r.Offset + 1
			if r.Attrs.IsControl() {
				return
			}
			ev, err := codec.Decode(ctx, r.Value)
			if err != nil {
				t.Fatalf("decode %s/%d@%d: %v", topic, r.Partition, r.Offset, err)
			}
			f.add(t, ev)
		})
	}
	return f
}

func (f *commerceFold) add(t *testing.T, ev events.Event) {
	f.events++
	f.types[strings.TrimPrefix(ev.Meta().EventType, "commerce.")]++
	if f.seen[ev.Meta().EventID] {
		f.repeats++
	}
	f.seen[ev.Meta().EventID] = true
	switch e := ev.(type) {
	case *events.OrderCreated:
		f.order(&e.Envelope, &e.Order)
	case *events.OrderUpdated:
		f.order(&e.Envelope, &e.Order)
	case *events.OrderPaid:
		f.order(&e.Envelope, &e.Order)
	case *events.OrderFulfilled:
		f.order(&e.Envelope, &e.Order)
	case *events.OrderCancelled:
		f.order(&e.Envelope, &e.Order)
	case *events.RefundCreated:
		if _, ok := f.refunds[e.Refund.RefundID]; !ok { // immutable: the first is the refund
			f.refunds[e.Refund.RefundID] = &e.Refund
		}
	case *events.ProductCreated:
		f.product(&e.Envelope, &e.Product)
	case *events.ProductUpdated:
		f.product(&e.Envelope, &e.Product)
	case *events.ProductDeleted:
		p := f.products[e.ProductID]
		if p == nil {
			p = &productFold{}
			f.products[e.ProductID] = p
		}
		if p.deletedAt == nil || e.DeletedAt.Before(*p.deletedAt) { // the earliest deletion
			at := e.DeletedAt
			p.deletedAt = &at
		}
	case *events.InventoryLevelUpdated:
		k := [2]int64{e.InventoryItemID, e.LocationID}
		cur, ok := f.levels[k]
		switch { // the newest; a tie keeps the first
		case !ok || e.UpdatedAt.After(cur.updatedAt):
			f.levels[k] = levelFold{eventID: e.Envelope.EventID, available: e.Available, updatedAt: e.UpdatedAt}
		case e.UpdatedAt.Before(cur.updatedAt):
			f.late++
		}
	case *events.OrderSnapshotted, *events.OrderLineItemSnapshotted, *events.ProductSnapshotted,
		*events.ProductVariantSnapshotted, *events.InventoryLevelSnapshotted:
		t.Fatalf("a %s on the log: this fold covers webhook events only", ev.Meta().EventType)
	}
}

// order keeps the newest updated_at; at an equal one the first stays (all are webhooks here).
func (f *commerceFold) order(env *events.Envelope, o *events.Order) {
	cur, ok := f.orders[o.OrderID]
	switch {
	case !ok || o.UpdatedAt.After(cur.order.UpdatedAt):
		f.orders[o.OrderID] = orderVersion{eventID: env.EventID, order: o}
	case o.UpdatedAt.Before(cur.order.UpdatedAt):
		f.late++
	}
}

// product keeps the newest updated_at; at an equal one the first stays (all are webhooks here).
func (f *commerceFold) product(env *events.Envelope, p *events.Product) {
	cur := f.products[p.ProductID]
	if cur == nil {
		cur = &productFold{}
		f.products[p.ProductID] = cur
	}
	switch {
	case cur.version == nil || p.UpdatedAt.After(cur.version.UpdatedAt):
		cur.eventID, cur.version = env.EventID, p
	case p.UpdatedAt.Before(cur.version.UpdatedAt):
		f.late++
	}
}

// compare lists every difference between the read models and the fold.
func (f *commerceFold) compare(ctx context.Context, t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < 50 {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	query := func(q string, scan func(pgxRows) error) {
		rows, err := pool.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}

	// Orders and their lines.
	lines := map[int64][]int64{}
	units := map[int64]int64{}
	query(`SELECT order_id, line_item_id, quantity FROM order_line_items`, func(r pgxRows) error {
		var order, line int64
		var qty int32
		err := r.Scan(&order, &line, &qty)
		lines[order] = append(lines[order], line)
		units[order] += int64(qty)
		return err
	})
	type orderRow struct {
		updatedAt                 time.Time
		total, current, financial *string
		fulfillment, eventID      *string
		cancelled                 bool
		lineCount                 int32
		units                     int64
	}
	orders := map[int64]orderRow{}
	query(`SELECT order_id, updated_at, total_price::text, current_total_price::text, financial_status, fulfillment_status,
       cancelled_at IS NOT NULL, last_event_id::text, line_count, units FROM orders`, func(r pgxRows) error {
		var id int64
		var o orderRow
		err := r.Scan(&id, &o.updatedAt, &o.total, &o.current, &o.financial, &o.fulfillment, &o.cancelled, &o.eventID, &o.lineCount, &o.units)
		orders[id] = o
		return err
	})
	for id := range orders {
		if _, ok := f.orders[id]; !ok {
			add("order %d is in the read model, not on the log", id)
		}
	}
	for id := range lines {
		if _, ok := f.orders[id]; !ok {
			add("order %d has lines in the read model, is not on the log", id)
		}
	}
	for _, id := range sortedKeys(f.orders) {
		v := f.orders[id]
		o, ok := orders[id]
		if !ok {
			add("order %d missing", id)
			continue
		}
		var wantLines []int64
		var wantUnits int64
		for _, li := range v.order.LineItems {
			wantLines = append(wantLines, li.LineItemID)
			wantUnits += int64(li.Quantity)
		}
		slices.Sort(wantLines)
		gotLines := slices.Sorted(slices.Values(lines[id]))
		switch {
		case !o.updatedAt.Equal(v.order.UpdatedAt.Truncate(time.Microsecond)):
			add("order %d is stale: updated_at %s, the log's newest %s", id, o.updatedAt.UTC(), v.order.UpdatedAt.UTC())
		case !strings.EqualFold(deref(o.eventID), v.eventID):
			add("order %d: last_event_id %s, the winning event %s", id, deref(o.eventID), v.eventID)
		case !sameMoney(o.total, &v.order.TotalPrice):
			add("order %d: total %s, the log %s", id, deref(o.total), v.order.TotalPrice.Amount.FloatString(4))
		case !sameMoney(o.current, v.order.CurrentTotalPrice):
			add("order %d: current total %s, the log %v", id, deref(o.current), v.order.CurrentTotalPrice)
		case deref(o.financial) != deref(v.order.FinancialStatus):
			add("order %d: financial status %q, the log %q", id, deref(o.financial), deref(v.order.FinancialStatus))
		case deref(o.fulfillment) != deref(v.order.FulfillmentStatus):
			add("order %d: fulfillment status %q, the log %q", id, deref(o.fulfillment), deref(v.order.FulfillmentStatus))
		case o.cancelled != (v.order.CancelledAt != nil):
			add("order %d: cancelled %t, the log %t", id, o.cancelled, v.order.CancelledAt != nil)
		case !slices.Equal(gotLines, wantLines) || units[id] != wantUnits:
			add("order %d: lines %v (%d units), the winning version's %v (%d)", id, gotLines, units[id], wantLines, wantUnits)
		case int(o.lineCount) != len(wantLines) || o.units != wantUnits:
			add("order %d: line_count %d, units %d on the row, the winning version %d, %d", id, o.lineCount, o.units, len(wantLines), wantUnits)
		}
	}

	// Refunds and their lines.
	refundLines := map[int64]int{}
	query(`SELECT refund_id, count(*) FROM refund_line_items GROUP BY refund_id`, func(r pgxRows) error {
		var id int64
		var n int
		err := r.Scan(&id, &n)
		refundLines[id] = n
		return err
	})
	refunds := map[int64]int64{}
	query(`SELECT refund_id, order_id FROM refunds`, func(r pgxRows) error {
		var id, order int64
		err := r.Scan(&id, &order)
		refunds[id] = order
		return err
	})
	for id := range refunds {
		if _, ok := f.refunds[id]; !ok {
			add("refund %d is in the read model, not on the log", id)
		}
	}
	for _, id := range sortedKeys(f.refunds) {
		want := f.refunds[id]
		order, ok := refunds[id]
		switch {
		case !ok:
			add("refund %d missing", id)
		case order != want.OrderID:
			add("refund %d: order %d, the log %d", id, order, want.OrderID)
		case refundLines[id] != len(want.RefundLineItems):
			add("refund %d: %d lines, the log %d", id, refundLines[id], len(want.RefundLineItems))
		}
	}

	// Products and their variants.
	variants := map[int64][]int64{}
	query(`SELECT product_id, variant_id FROM product_variants`, func(r pgxRows) error {
		var p, v int64
		err := r.Scan(&p, &v)
		variants[p] = append(variants[p], v)
		return err
	})
	type productRow struct {
		title, eventID       *string
		updatedAt, deletedAt *time.Time
	}
	products := map[int64]productRow{}
	query(`SELECT product_id, title, updated_at, deleted_at, last_event_id::text FROM products`, func(r pgxRows) error {
		var id int64
		var p productRow
		err := r.Scan(&id, &p.title, &p.updatedAt, &p.deletedAt, &p.eventID)
		products[id] = p
		return err
	})
	for id := range products {
		if _, ok := f.products[id]; !ok {
			add("product %d is in the read model, not on the log", id)
		}
	}
	for _, id := range sortedKeys(f.products) {
		want := f.products[id]
		p, ok := products[id]
		if !ok {
			add("product %d missing", id)
			continue
		}
		var wantVariants []int64
		if want.version != nil && want.deletedAt == nil {
			for _, v := range want.version.Variants {
				wantVariants = append(wantVariants, v.VariantID)
			}
		}
		slices.Sort(wantVariants)
		gotVariants := slices.Sorted(slices.Values(variants[id]))
		switch {
		case (p.deletedAt != nil) != (want.deletedAt != nil):
			add("product %d: deleted_at %v, the log's earliest deletion %v", id, p.deletedAt, want.deletedAt)
		case want.deletedAt != nil && !p.deletedAt.Equal(want.deletedAt.Truncate(time.Microsecond)):
			add("product %d: deleted_at %s, the log's earliest deletion %s", id, p.deletedAt.UTC(), want.deletedAt.UTC())
		case want.version == nil && (p.updatedAt != nil || p.title != nil):
			add("product %d: a version in the read model, only a deletion on the log", id)
		case want.version == nil:
		case p.updatedAt == nil || !p.updatedAt.Equal(want.version.UpdatedAt.Truncate(time.Microsecond)):
			add("product %d is stale: updated_at %v, the log's newest %s", id, p.updatedAt, want.version.UpdatedAt.UTC())
		case deref(p.title) != want.version.Title:
			add("product %d: title %q, the log %q", id, deref(p.title), want.version.Title)
		case want.deletedAt == nil && !strings.EqualFold(deref(p.eventID), want.eventID):
			add("product %d: last_event_id %s, the winning event %s", id, deref(p.eventID), want.eventID)
		}
		if !slices.Equal(gotVariants, wantVariants) {
			add("product %d: variants %v, the winning version's %v", id, gotVariants, wantVariants)
		}
	}
	for id := range variants {
		if _, ok := f.products[id]; !ok {
			add("product %d has variants in the read model, is not on the log", id)
		}
	}

	// Inventory levels.
	type levelRow struct {
		available *int32
		updatedAt time.Time
		eventID   string
	}
	levels := map[[2]int64]levelRow{}
	query(`SELECT inventory_item_id, location_id, available, updated_at, last_event_id::text FROM inventory_levels`, func(r pgxRows) error {
		var k [2]int64
		var l levelRow
		err := r.Scan(&k[0], &k[1], &l.available, &l.updatedAt, &l.eventID)
		levels[k] = l
		return err
	})
	for k := range levels {
		if _, ok := f.levels[k]; !ok {
			add("inventory level %d@%d is in the read model, not on the log", k[0], k[1])
		}
	}
	for k, want := range f.levels {
		l, ok := levels[k]
		switch {
		case !ok:
			add("inventory level %d@%d missing", k[0], k[1])
		case !l.updatedAt.Equal(want.updatedAt.Truncate(time.Microsecond)):
			add("inventory level %d@%d is stale: updated_at %s, the log's newest %s", k[0], k[1], l.updatedAt.UTC(), want.updatedAt.UTC())
		case (l.available == nil) != (want.available == nil) || l.available != nil && *l.available != *want.available:
			add("inventory level %d@%d: available %v, the log %v", k[0], k[1], derefInt(l.available), derefInt(want.available))
		case !strings.EqualFold(l.eventID, want.eventID):
			add("inventory level %d@%d: last_event_id %s, the winning event %s", k[0], k[1], l.eventID, want.eventID)
		}
	}
	return diffs
}

// pgxRows is what compare's scans need of pgx.Rows.
type pgxRows interface{ Scan(dest ...any) error }

func sameMoney(got *string, want *events.Money) bool {
	if got == nil || want == nil || want.Amount == nil {
		return got == nil && (want == nil || want.Amount == nil)
	}
	x, ok := new(big.Rat).SetString(*got)
	return ok && x.Cmp(want.Amount) == 0
}

func derefInt(p *int32) any {
	if p == nil {
		return nil
	}
	return *p
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
