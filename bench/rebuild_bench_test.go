package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/testkit"
)

// Environment of BenchmarkRebuildOrders.
const (
	// envRebuildEvents is how many events the log holds (default 1,000,000); smaller for a quick try.
	envRebuildEvents = "STORELINE_BENCH_REBUILD_EVENTS"
	// envRebuildBatch is the runner's MaxBatch (default rebuildBatch).
	envRebuildBatch = "STORELINE_BENCH_REBUILD_BATCH"
	// envRebuildCPUProfile, when set, is a file the CPU profile of the rebuild alone goes to.
	envRebuildCPUProfile = "STORELINE_BENCH_REBUILD_CPUPROFILE"
)

const (
	rebuildDefaultEvents = 1_000_000
	rebuildBatch         = 2000
	// rebuildUpdateShare is the share of events that are an OrderUpdated of an earlier order;
	// rebuildLateShare the share of those that are late: a version a few seconds after the
	// order's creation, older than any timely update of it (it loses to those, wins over the
	// creation).
	rebuildUpdateShare = 0.15
	rebuildLateShare   = 0.2
)

// rebuildResult is what one run of the benchmark measured; the benchmark runs once per process
// (see BenchmarkRebuildOrders), later calls report the same figures.
type rebuildResult struct {
	events, orders, lines     int
	produce, rebuild, copy    time.Duration
	peakRSS, peakHeap         uint64
	applySeconds, batches     float64
	recordBytes, copyBytesRaw int64
	// pgCPURebuild and pgCPUCopy are the CPU seconds of the Postgres backends of each database
	// (0 when Postgres runs elsewhere): the work each asked of Postgres, which a busy machine
	// distorts far less than wall times. The rebuild's include the polling of its progress.
	pgCPURebuild, pgCPUCopy float64
}

var (
	rebuildOnce sync.Once
	rebuildRes  *rebuildResult
)

// BenchmarkRebuildOrders replays a log of order events (default 1,000,000; STORELINE_BENCH_REBUILD_EVENTS)
// into the orders read model with the projection runner, as a rebuild does (from the earliest
// offset, into empty tables), and in the same run COPYs the very rows the rebuild produced into
// the same tables of another empty database: the fastest Postgres can take them. It reports the
// rebuild's events/s, the COPY's rows/s and events/s (events the copied rows stand for, per
// second) and the ratio of the two rates; the aim is a rebuild at least half as fast as the COPY.
//
// The log: OrderCreated webhooks of distinct orders with one to four lines each, as the intake
// records orders/create (a real payload translated once, with its sealed personal data and its
// payload_json, then given each order's ids, dates, amounts and lines), and 15% OrderUpdated of
// earlier orders, a fifth of them late (older than the order's newest version, so they lose),
// changing status, tags and lines. Keys as in production (the order GID), three partitions.
//
// The work is fixed (one rebuild, one COPY), so it runs once whatever b.N: run it with
// -benchtime 1x. ns/op is the rebuild's wall time.
func BenchmarkRebuildOrders(b *testing.B) {
	testkit.Integration(b)
	rebuildOnce.Do(func() { rebuildRes = runRebuildBench(b) })
	r := rebuildRes
	if r == nil {
		b.Fatal("the rebuild benchmark failed in an earlier call")
	}
	rebuildRate := float64(r.events) / r.rebuild.Seconds()
	copyRows := float64(r.orders + r.lines)
	copyRowRate := copyRows / r.copy.Seconds()
	copyEventRate := float64(r.events) / r.copy.Seconds()
	ratio := rebuildRate / copyEventRate
	b.ReportMetric(float64(r.rebuild.Nanoseconds()), "ns/op")
	b.ReportMetric(rebuildRate, "rebuild-events/s")
	b.ReportMetric(copyRowRate, "copy-rows/s")
	b.ReportMetric(copyEventRate, "copy-events/s")
	b.ReportMetric(ratio, "rebuild/copy")
	b.ReportMetric(mib(r.peakRSS), "rebuild-peak-rss-MB")
	if r.pgCPURebuild > 0 && r.pgCPUCopy > 0 {
		b.ReportMetric(r.pgCPUCopy/r.pgCPURebuild, "pg-cpu-copy/rebuild")
	}
	b.ReportMetric(r.produce.Seconds(), "produce-s")
	if b.N == 1 || testing.Verbose() {
		fmt.Printf("rebuild orders: %d events (%d orders, %d lines; %.0f B/record) produced in %.1fs (%.0f events/s)\n",
			r.events, r.orders, r.lines, float64(r.recordBytes)/float64(r.events), r.produce.Seconds(), float64(r.events)/r.produce.Seconds())
		fmt.Printf("rebuild orders: rebuild %.1fs = %.0f events/s (peak RSS %.0f MB, peak heap %.0f MB; %0.f batches, %.1fs of them applying = %.0f%% of the wall time)\n",
			r.rebuild.Seconds(), rebuildRate, mib(r.peakRSS), mib(r.peakHeap), r.batches, r.applySeconds, 100*r.applySeconds/r.rebuild.Seconds())
		fmt.Printf("rebuild orders: bare COPY of the same %d rows (%.0f MB binary) %.1fs = %.0f rows/s = %.0f events/s\n",
			r.orders+r.lines, mib(uint64(r.copyBytesRaw)), r.copy.Seconds(), copyRowRate, copyEventRate)
		if r.pgCPURebuild > 0 && r.pgCPUCopy > 0 {
			fmt.Printf("rebuild orders: Postgres backends' CPU: rebuild %.1fs, bare COPY %.1fs (bare COPY / rebuild = %.2f)\n",
				r.pgCPURebuild, r.pgCPUCopy, r.pgCPUCopy/r.pgCPURebuild)
		}
		fmt.Printf("rebuild orders: rebuild / bare COPY = %.2f (aim: at least 0.5)\n", ratio)
	}
}

func runRebuildBench(b *testing.B) *rebuildResult {
	n := envInt(b, envRebuildEvents, rebuildDefaultEvents)
	maxBatch := envInt(b, envRebuildBatch, rebuildBatch)
	ctx := context.Background()
	brokers := testkit.Brokers(b)
	prefix := testkit.FreshTopicPrefix(b, 3, events.TopicCommerce, events.TopicCommerce+".dlq")
	cat, err := events.LoadCatalogue()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := events.NewCodec(ctx, cat, testkit.Registry(b, prefix), prefix)
	if err != nil {
		b.Fatal(err)
	}
	res := &rebuildResult{events: n}

	// The log (untimed).
	g := newRebuildLog(b, n)
	res.orders, res.lines = g.expectOrders, g.expectLines
	start := time.Now()
	res.recordBytes = g.produce(b, brokers, codec)
	res.produce = time.Since(start)
	total := endOffsets(b, brokers, codec.Topic(events.TopicCommerce))
	if total != int64(n) {
		b.Fatalf("the log holds %d records, want %d", total, n)
	}
	fmt.Printf("rebuild orders: produced %d events in %.1fs\n", n, res.produce.Seconds())

	// A: the rebuild.
	poolA := testkit.FreshDatabase(b)
	checkpoint(ctx, poolA)
	reg := prometheus.NewRegistry()
	runner := projections.NewRunner(projections.Config{Brokers: brokers, TopicPrefix: prefix, MaxBatch: maxBatch},
		orders.Projection{}, poolA, codec, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if path := os.Getenv(envRebuildCPUProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	hwmReset := settleMemory()
	mem := startMemorySampler(10 * time.Millisecond)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start = time.Now()
	go func() { done <- runner.Run(runCtx) }()
	err = waitCheckpoints(ctx, poolA, total, done)
	res.rebuild = time.Since(start)
	pprof.StopCPUProfile()
	mem.finish()
	stop()
	if err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatalf("runner: %v", err)
	}
	res.peakRSS, res.peakHeap = mem.rssPeak, mem.heapPeak
	if hwmReset {
		res.peakRSS = max(res.peakRSS, procStatus()["VmHWM"])
	}
	res.applySeconds, res.batches = batchSeconds(b, reg)
	res.pgCPURebuild = backendCPU(ctx, poolA)
	var gotOrders, gotLines, lineCounts int64
	if err := poolA.QueryRow(ctx, `SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM order_line_items),
       (SELECT COALESCE(sum(line_count), 0) FROM orders)`).Scan(&gotOrders, &gotLines, &lineCounts); err != nil {
		b.Fatal(err)
	}
	if gotOrders != int64(res.orders) || gotLines != int64(res.lines) || lineCounts != gotLines {
		b.Fatalf("rebuild made %d orders and %d lines (line_count sums to %d); want %d and %d",
			gotOrders, gotLines, lineCounts, res.orders, res.lines)
	}

	// B: a bare COPY of the rebuild's rows into the same tables of another empty database. The
	// rows are read out of A in COPY's binary format, the format pgx's CopyFrom sends, and
	// replayed as they are: no client-side encoding is measured, only Postgres taking the rows.
	tables := []string{"orders", "order_line_items"} // the lines' foreign key wants the orders first
	dumps := make([][]byte, len(tables))
	cols := make([]string, len(tables))
	for i, t := range tables {
		cols[i] = columnList(b, poolA, t)
		dumps[i] = copyOut(b, poolA, fmt.Sprintf("COPY %s (%s) TO STDOUT (FORMAT binary)", t, cols[i]))
		res.copyBytesRaw += int64(len(dumps[i]))
	}
	poolB := testkit.FreshDatabase(b)
	checkpoint(ctx, poolA)
	checkpoint(ctx, poolB)
	start = time.Now()
	err = pgx.BeginFunc(ctx, poolB, func(tx pgx.Tx) error {
		for i, t := range tables {
			tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(dumps[i]), fmt.Sprintf("COPY %s (%s) FROM STDIN (FORMAT binary)", t, cols[i]))
			if err != nil {
				return fmt.Errorf("copy %s: %w", t, err)
			}
			if want := []int64{gotOrders, gotLines}[i]; tag.RowsAffected() != want {
				return fmt.Errorf("copy %s: %d rows, want %d", t, tag.RowsAffected(), want)
			}
		}
		return nil
	})
	res.copy = time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	res.pgCPUCopy = backendCPU(ctx, poolB)
	return res
}

// envInt reads a positive integer from the environment, def when unset.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		b.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return v
}

// checkpoint asks Postgres to write its dirty pages now, so that neither timed run pays for
// the writes of what came before it (needs superuser, as the test database has; else nothing).
func checkpoint(ctx context.Context, pool *pgxpool.Pool) { _, _ = pool.Exec(ctx, "CHECKPOINT") }

// waitCheckpoints polls the orders projection's checkpoints every 20 ms until they cover total
// records, or the runner stops.
func waitCheckpoints(ctx context.Context, pool *pgxpool.Pool, total int64, done <-chan error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	deadline := time.Now().Add(25 * time.Minute)
	for {
		var sum int64
		if err := conn.QueryRow(ctx, `SELECT COALESCE(sum(next_offset), 0) FROM projection_checkpoints WHERE projection = 'orders'`).Scan(&sum); err != nil {
			return err
		}
		if sum >= total {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("checkpoints cover %d of %d records after 25 minutes", sum, total)
		}
		select {
		case err := <-done:
			return fmt.Errorf("runner stopped at %d of %d records: %v", sum, total, err)
		case <-t.C:
		}
	}
}

// batchSeconds returns the time the runner spent applying and committing batches, and how many.
func batchSeconds(b *testing.B, reg *prometheus.Registry) (seconds, batches float64) {
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "storeline_projection_batch_seconds" {
			for _, m := range mf.GetMetric() {
				seconds += m.GetHistogram().GetSampleSum()
				batches += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return seconds, batches
}

// endOffsets sums the end offsets of topic's partitions: the records the log holds.
func endOffsets(b *testing.B, brokers []string, topic string) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		b.Fatal(err)
	}
	var sum int64
	ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
	return sum
}

// columnList is table's columns, in order, quoted.
func columnList(b *testing.B, pool *pgxpool.Pool, table string) string {
	rows, _ := pool.Query(context.Background(), `SELECT quote_ident(column_name) FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		b.Fatal(err)
	}
	return strings.Join(cols, ", ")
}

// copyOut runs a COPY ... TO STDOUT and returns what it wrote.
func copyOut(b *testing.B, pool *pgxpool.Pool, sql string) []byte {
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Release()
	var buf bytes.Buffer
	if _, err := conn.Conn().PgConn().CopyTo(context.Background(), &buf, sql); err != nil {
		b.Fatalf("%s: %v", sql, err)
	}
	return buf.Bytes()
}

// rebuildLog is the plan of the log: which event each offset-to-be is, and the read model it
// must fold to.
type rebuildLog struct {
	steps        []rebuildStep
	createdAt    []int32 // per order: the step that created it
	expectOrders int
	expectLines  int
	tmpl         *events.OrderCreated
}

// rebuildStep is one event: the creation of an order (version 0) or its version-th update.
type rebuildStep struct {
	order   int32
	version int32
	late    bool
}

// rebuildEpoch is when the first order of the log was created; step i happens 10 s after step i-1.
var rebuildEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const rebuildStepTime = 10 * time.Second

func newRebuildLog(b *testing.B, n int) *rebuildLog {
	sealer, _ := piitest.NewSealer()
	ev, err := shopify.OrderCreated(context.Background(), shopify.Delivery{
		Shop: benchShop, Topic: "orders/create", EventID: "tmpl", WebhookID: "tmpl", APIVersion: "2025-10",
		Body: samples.OrdersCreateWithCustomer, ReceivedAt: rebuildEpoch,
	}, shopify.PersonalData{Sealer: sealer})
	if err != nil {
		b.Fatal(err)
	}
	g := &rebuildLog{steps: make([]rebuildStep, n), tmpl: ev}
	r := rand.New(rand.NewPCG(1, 2))
	versions := []int32{}
	best := []time.Time{} // per order: updated_at of the winning version so far
	bestVersion := []int32{}
	for i := range g.steps {
		if len(versions) > 100 && r.Float64() < rebuildUpdateShare {
			// an earlier order, mostly a recent one
			j := int32(len(versions) - 1 - min(int(r.ExpFloat64()*5000), len(versions)-1))
			versions[j]++
			s := rebuildStep{order: j, version: versions[j], late: r.Float64() < rebuildLateShare}
			g.steps[i] = s
			if at := g.updatedAt(s, i); at.After(best[j]) {
				best[j], bestVersion[j] = at, s.version
			}
			continue
		}
		j := int32(len(versions))
		versions = append(versions, 0)
		g.createdAt = append(g.createdAt, int32(i))
		g.steps[i] = rebuildStep{order: j}
		best = append(best, g.updatedAt(g.steps[i], i))
		bestVersion = append(bestVersion, 0)
	}
	g.expectOrders = len(versions)
	for j, v := range bestVersion {
		g.expectLines += lineCount(int32(j), v)
	}
	return g
}

// updatedAt is the version's updated_at: its step's time, or for a late update a time between
// the order's creation and its next step, older than any timely update of it.
func (g *rebuildLog) updatedAt(s rebuildStep, i int) time.Time {
	if s.version > 0 && s.late {
		return rebuildEpoch.Add(time.Duration(g.createdAt[s.order])*rebuildStepTime + time.Duration(s.version)*time.Second)
	}
	return rebuildEpoch.Add(time.Duration(i) * rebuildStepTime)
}

// lineCount is how many lines an order has at a version: one to four.
func lineCount(order, version int32) int {
	return 1 + int((uint32(order)*2654435761>>7)+uint32(version))%4
}

const rebuildFirstOrderID = 6_100_000_000_000

var (
	rebuildFinancial = []string{"paid", "paid", "paid", "pending", "authorized", "partially_refunded", "refunded"}
	rebuildTags      = []string{"vip", "wholesale", "gift", "repeat", "subscription", "promo", "b2b", "instagram"}
	rebuildSources   = []string{"web", "web", "web", "pos", "iphone", "android", "shopify_draft_order"}
)

// event builds step i's event from the template: the intake's translation of a real
// orders/create payload, given this order's ids, dates, amounts and lines. payload_json and
// the sealed personal data stay the template's (same size as a real one).
func (g *rebuildLog) event(i int) events.Event {
	s := g.steps[i]
	r := rand.New(rand.NewPCG(uint64(s.order), uint64(s.version)))
	id := rebuildFirstOrderID + int64(s.order)
	created := rebuildEpoch.Add(time.Duration(g.createdAt[s.order]) * rebuildStepTime)
	updated := g.updatedAt(s, i)
	o := g.tmpl.Order
	o.OrderID, o.OrderGID = id, fmt.Sprintf("gid://shopify/Order/%d", id)
	o.OrderNumber = 1001 + int64(s.order)
	o.Name = fmt.Sprintf("#%d", o.OrderNumber)
	o.CreatedAt, o.UpdatedAt, o.ProcessedAt = created, updated, &created
	fin := rebuildFinancial[r.IntN(len(rebuildFinancial))]
	o.FinancialStatus = &fin
	src := rebuildSources[r.IntN(len(rebuildSources))]
	o.SourceName = &src
	if o.CustomerID != nil {
		cust := 7_000_000_000_000 + int64(r.IntN(200_000))
		gid := fmt.Sprintf("gid://shopify/Customer/%d", cust)
		o.CustomerID, o.CustomerGID = &cust, &gid
	}
	o.Tags = nil
	for k := range r.IntN(3) {
		o.Tags = append(o.Tags, rebuildTags[(int(s.order)+k+int(s.version))%len(rebuildTags)])
	}
	var subtotal int64
	o.LineItems = make([]events.OrderLineItem, lineCount(s.order, s.version))
	for k := range o.LineItems {
		li := g.tmpl.Order.LineItems[k%len(g.tmpl.Order.LineItems)]
		li.LineItemID = id*10 + int64(k)
		li.LineItemGID = fmt.Sprintf("gid://shopify/LineItem/%d", li.LineItemID)
		product := 8_000_000_000_000 + int64(r.IntN(2000))
		variant := product*10 + int64(r.IntN(3))
		pgid, vgid := fmt.Sprintf("gid://shopify/Product/%d", product), fmt.Sprintf("gid://shopify/ProductVariant/%d", variant)
		sku := fmt.Sprintf("SKU-%d", variant)
		li.ProductID, li.ProductGID, li.VariantID, li.VariantGID, li.SKU = &product, &pgid, &variant, &vgid, &sku
		li.Title = fmt.Sprintf("Product %d", product%2000)
		qty := int32(1 + r.IntN(3))
		li.Quantity, li.CurrentQuantity, li.FulfillableQuantity = qty, &qty, &qty
		cents := 500 + r.Int64N(20000)
		li.Price = cents2money(cents, li.Price.CurrencyCode)
		subtotal += cents * int64(qty)
		o.LineItems[k] = li
	}
	cur := o.Currency
	o.SubtotalPrice = cents2money(subtotal, cur)
	o.TotalLineItemsPrice = ptrTo(cents2money(subtotal, cur))
	o.TotalTax = cents2money(subtotal/5, cur)
	o.TotalPrice = cents2money(subtotal+subtotal/5+490, cur)
	o.CurrentTotalPrice = ptrTo(o.TotalPrice)

	env := g.tmpl.Envelope
	eventType, topic := events.TypeOrderCreated, "orders/create"
	env.OccurredAt = created
	if s.version > 0 {
		eventType, topic = events.TypeOrderUpdated, "orders/updated"
		env.OccurredAt = updated
	}
	env.EventType, env.AggregateID = eventType, o.OrderGID
	env.EventID = events.DeterministicID("bench-rebuild", strconv.Itoa(i))
	env.RecordedAt = rebuildEpoch.Add(time.Duration(i)*rebuildStepTime + time.Second)
	sourceEvent, webhook := strconv.Itoa(i), fmt.Sprintf("wh-%d", i)
	env.SourceTopic, env.SourceEventID, env.WebhookID = &topic, &sourceEvent, &webhook
	if s.version > 0 {
		return &events.OrderUpdated{Envelope: env, Order: o, PayloadJSON: g.tmpl.PayloadJSON, PersonalData: g.tmpl.PersonalData}
	}
	return &events.OrderCreated{Envelope: env, Order: o, PayloadJSON: g.tmpl.PayloadJSON, PersonalData: g.tmpl.PersonalData}
}

func cents2money(cents int64, currency string) events.Money {
	return events.Money{Amount: big.NewRat(cents, 100), CurrencyCode: currency}
}

func ptrTo[T any](v T) *T { return &v }

// produce encodes the events on every core and produces them in log order with many records in
// flight; it returns the bytes of the records' values.
func (g *rebuildLog) produce(b *testing.B, brokers []string, codec *events.Codec) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(20*time.Millisecond), kgo.MaxBufferedRecords(100_000), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	const chunk = 2000
	chunks := (len(g.steps) + chunk - 1) / chunk
	ready := make([]chan []*kgo.Record, chunks)
	for c := range ready {
		ready[c] = make(chan []*kgo.Record, 1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var failed atomic.Pointer[error]
	ahead := make(chan struct{}, 8) // chunks encoded ahead of the producer
	go func() {
		for c := range chunks {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				from, to := c*chunk, min((c+1)*chunk, len(g.steps))
				recs := make([]*kgo.Record, 0, to-from)
				for i := from; i < to; i++ {
					rec, err := codec.Record(g.event(i), "")
					if err != nil {
						failed.CompareAndSwap(nil, &err)
						break
					}
					recs = append(recs, rec)
				}
				ready[c] <- recs
			}()
		}
	}()
	var size int64
	for c := range chunks {
		recs := <-ready[c]
		<-ahead
		if p := failed.Load(); p != nil {
			b.Fatalf("encode: %v", *p)
		}
		for _, rec := range recs {
			size += int64(len(rec.Value))
			cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			})
		}
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if p := failed.Load(); p != nil {
		b.Fatalf("produce: %v", *p)
	}
	return size
}

// backendCPU is the CPU seconds the client backends of pool's database have used so far, read
// from /proc (Linux, Postgres on this machine); 0 when they cannot be read.
func backendCPU(ctx context.Context, pool *pgxpool.Pool) float64 {
	rows, _ := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return 0
	}
	const ticks = 100 // USER_HZ, the unit of /proc/<pid>/stat's times on Linux
	var sum float64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0
		}
		// After "pid (comm) ": state is field 0, utime field 11, stime field 12.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			return 0
		}
		u, err1 := strconv.ParseInt(f[11], 10, 64)
		st, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			return 0
		}
		sum += float64(u+st) / ticks
	}
	return sum
}
