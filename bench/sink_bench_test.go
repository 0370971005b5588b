package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/events"
	icebergsink "github.com/storeline/storeline/sinks/iceberg"
	"github.com/storeline/storeline/sinks/iceberg/lakeschema"
	"github.com/storeline/storeline/testkit"
)

// Environment of BenchmarkSinkThroughput and BenchmarkSinkFreshness.
const (
	// envSinkEvents is how many OrderCreated events the throughput run's topic holds (default
	// 200,000).
	envSinkEvents = "STORELINE_BENCH_SINK_EVENTS"
	// envSinkCPUProfile, when set, is a file the CPU profile of the sink's run alone goes to.
	envSinkCPUProfile = "STORELINE_BENCH_SINK_CPUPROFILE"
	// envSinkFreshSeconds is how long the freshness run produces (default 60).
	envSinkFreshSeconds = "STORELINE_BENCH_SINK_FRESHNESS_SECONDS"
	// envSinkFreshRate is the freshness run's produce rate in events/s (default 200).
	envSinkFreshRate = "STORELINE_BENCH_SINK_FRESHNESS_RATE"
)

const (
	sinkDefaultEvents = 200_000
	// The throughput run commits in large batches: while the backlog drains, a batch is cut by
	// the byte threshold (the default 128 MiB, some 15,000 of these records) long before the
	// interval elapses (polling that much takes well under a second). The interval only decides
	// when the last, partial batch commits once the topic is drained: it is kept short, as that
	// wait is part of the time measured.
	sinkBenchCommitInterval  = 2 * time.Second
	sinkBenchMaxBufferedRows = 100_000
	sinkPartitions           = 3
	// sinkPollInterval is how often the benchmarks load the table to see its offsets marker.
	sinkPollInterval  = 100 * time.Millisecond
	sinkFreshDefaultS = 60
	sinkFreshDefaultR = 200
)

// orderCreatedIdent is the table the sink writes OrderCreated of the commerce topic to.
var orderCreatedIdent = table.Identifier{events.TopicCommerce, "order_created"}

// sinkResult is what one throughput run measured; it runs once per process, later calls report
// the same figures.
type sinkResult struct {
	events                int
	recordBytes           int64
	produce               time.Duration
	sink, sinkStartup     time.Duration // start → marker at the end; start → first record consumed
	sinkCommits           float64
	raw                   time.Duration // write + commit only
	rawBatches, rawFiles  int
	rawDecode             time.Duration // untimed: decoding the rows into Arrow for the raw run
	peakRSS, peakHeap     uint64
	loadBefore, loadAfter string
}

var (
	sinkOnce sync.Once
	sinkRes  *sinkResult
)

// BenchmarkSinkThroughput measures the Iceberg sink from a full topic to a committed table:
// N realistic OrderCreated events (default 200,000; STORELINE_BENCH_SINK_EVENTS) are produced to
// a fresh three-partition topic beforehand, then a sink (a generous commit interval and
// MaxBufferedRows, so it commits in large batches; a fresh catalog database and local warehouse)
// is started and timed until its table's offsets marker reaches the end of the topic:
// records/s from topic to committed table, group join and table creation included.
//
// In the same run, beside it: the very same records, decoded beforehand (untimed) with the
// writer's schema, hamba's generic decoding and lakeschema.Builder into Arrow records, appended
// with plain iceberg-go (table.WriteRecords, AddDataFiles, commit) to a fresh table of the same
// schema, spec and properties in another catalog database and warehouse, in as many batches as
// the sink made snapshots: the rate iceberg-go itself can write these rows at. It reports both
// rates and sink/raw (aim: at least 0.5), and the sink's peak RSS and heap.
//
// The work is fixed, so it runs once whatever b.N: run it with -benchtime 1x. ns/op is the
// sink's wall time.
func BenchmarkSinkThroughput(b *testing.B) {
	testkit.Integration(b)
	sinkOnce.Do(func() { sinkRes = runSinkThroughput(b) })
	r := sinkRes
	if r == nil {
		b.Fatal("the sink throughput benchmark failed in an earlier call")
	}
	sinkRate := float64(r.events) / r.sink.Seconds()
	rawRate := float64(r.events) / r.raw.Seconds()
	b.ReportMetric(float64(r.sink.Nanoseconds()), "ns/op")
	b.ReportMetric(sinkRate, "sink-records/s")
	b.ReportMetric(rawRate, "raw-records/s")
	b.ReportMetric(sinkRate/rawRate, "sink/raw")
	b.ReportMetric(mib(r.peakRSS), "sink-peak-rss-MB")
	b.ReportMetric(mib(r.peakHeap), "sink-peak-heap-MB")
	b.ReportMetric(loadAvg1(r.loadBefore), "load1-before")
	if b.N == 1 || testing.Verbose() {
		fmt.Printf("sink throughput: %d OrderCreated (%.0f B/record, %.0f MB) produced in %.1fs; load before the sink: %s\n",
			r.events, float64(r.recordBytes)/float64(r.events), mib(uint64(r.recordBytes)), r.produce.Seconds(), r.loadBefore)
		fmt.Printf("sink throughput: sink %.1fs = %.0f records/s topic → committed table (%.0f snapshots of %.0f rows on average; first record consumed after %.1fs; peak RSS %.0f MB, peak heap %.0f MB)\n",
			r.sink.Seconds(), sinkRate, r.sinkCommits, float64(r.events)/max(r.sinkCommits, 1), r.sinkStartup.Seconds(), mib(r.peakRSS), mib(r.peakHeap))
		fmt.Printf("sink throughput: raw iceberg-go append of the same rows prebuilt as Arrow %.1fs = %.0f records/s (%d commits, %d data files; decoding them, untimed, took %.1fs)\n",
			r.raw.Seconds(), rawRate, r.rawBatches, r.rawFiles, r.rawDecode.Seconds())
		fmt.Printf("sink throughput: sink / raw = %.2f (aim: at least 0.5); load after: %s\n", sinkRate/rawRate, r.loadAfter)
	}
}

func runSinkThroughput(b *testing.B) *sinkResult {
	n := envInt(b, envSinkEvents, sinkDefaultEvents)
	ctx := context.Background()
	brokers := testkit.Brokers(b)
	prefix := testkit.FreshTopicPrefix(b, sinkPartitions, events.TopicCommerce)
	cat, err := events.LoadCatalogue()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := events.NewCodec(ctx, cat, testkit.Registry(b, prefix), prefix)
	if err != nil {
		b.Fatal(err)
	}
	topic := codec.Topic(events.TopicCommerce)
	res := &sinkResult{events: n}

	// The topic (untimed): a backlog of orders created 0.3 s apart (a day and a half at the
	// default 200,000: the batches span two days, two partitions of the table).
	g := newOrderCreatedLog(b)
	epoch := time.Now().Add(-time.Duration(n) * 300 * time.Millisecond).Truncate(time.Second)
	start := time.Now()
	res.recordBytes = produceOrders(b, brokers, codec, g, n, func(i int) time.Time {
		return epoch.Add(time.Duration(i) * 300 * time.Millisecond)
	})
	res.produce = time.Since(start)
	ends := topicEnds(b, brokers, topic)
	if total := ends.total(); total != int64(n) {
		b.Fatalf("the topic holds %d records, want %d", total, n)
	}
	fmt.Printf("sink throughput: produced %d events in %.1fs\n", n, res.produce.Seconds())

	// A: the sink.
	dbURL := testkit.FreshDatabaseURL(b)
	cfg := icebergsink.Config{
		Warehouse:       b.TempDir(),
		CatalogURL:      dbURL,
		CommitInterval:  sinkBenchCommitInterval,
		MaxBufferedRows: sinkBenchMaxBufferedRows,
		Group:           testkit.Unique("bench-sink-"),
		KafkaOpts:       []kgo.Opt{kgo.SeedBrokers(brokers...)},
		TopicPrefix:     prefix,
		Topics:          []string{events.TopicCommerce},
	}
	watch := openCatalog(b, cfg)
	if path := os.Getenv(envSinkCPUProfile); path != "" {
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
	res.loadBefore = loadAvg()
	hwmReset := settleMemory()
	mem := startMemorySampler(10 * time.Millisecond)
	start = time.Now()
	rs := startSink(b, cfg, codec, dbURL)
	err = waitMarker(ctx, watch, cfg.Group, topic, ends, rs, 30*time.Minute, func() {
		if res.sinkStartup == 0 && rs.consumed() > 0 {
			res.sinkStartup = time.Since(start)
		}
	})
	res.sink = time.Since(start)
	pprof.StopCPUProfile()
	mem.finish()
	res.loadAfter = loadAvg()
	if err != nil {
		b.Fatal(err)
	}
	rs.stop(b)
	res.peakRSS, res.peakHeap = mem.rssPeak, mem.heapPeak
	if hwmReset {
		res.peakRSS = max(res.peakRSS, procStatus()["VmHWM"])
	}
	res.sinkCommits = rs.counter(b, "storeline_sink_commits_total")
	sinkTbl, err := watch.LoadTable(ctx, orderCreatedIdent)
	if err != nil {
		b.Fatal(err)
	}
	if got := totalRecords(sinkTbl); got != int64(n) {
		b.Fatalf("the sink's table holds %d rows, want %d", got, n)
	}
	if dl := rs.counter(b, "storeline_sink_dead_lettered_total"); dl != 0 {
		b.Fatalf("the sink dead-lettered %v records", dl)
	}
	fmt.Printf("sink throughput: sink done in %.1fs, %.0f snapshots\n", res.sink.Seconds(), res.sinkCommits)

	// B: raw iceberg-go, same rows, same schema, spec and properties, as many commits.
	batches := max(1, int(res.sinkCommits))
	res.rawBatches = batches
	res.raw, res.rawDecode, res.rawFiles = runRawAppend(b, brokers, codec, topic, sinkTbl, n, batches)
	return res
}

// runRawAppend reads the topic's n records, and in batches (n/batches rows each) decodes them
// into Arrow exactly as the sink does (untimed), then writes and commits each batch with plain
// iceberg-go to a new table shaped like like (timed). It returns the time writing and
// committing took, the time decoding took, and the number of data files.
func runRawAppend(b *testing.B, brokers []string, codec *events.Codec, topic string, like *table.Table, n, batches int) (timed, decode time.Duration, files int) {
	ctx := context.Background()
	cfg := icebergsink.Config{Warehouse: b.TempDir(), CatalogURL: testkit.FreshDatabaseURL(b)}
	cat := openCatalog(b, cfg)
	props := iceberg.Properties{}
	for k, v := range like.Properties() {
		if !strings.HasPrefix(k, "storeline.") {
			props[k] = v
		}
	}
	ident := table.Identifier{"raw", "order_created"}
	if err := cat.CreateNamespace(ctx, catalog.NamespaceFromIdent(ident), nil); err != nil {
		b.Fatal(err)
	}
	spec := like.Spec()
	tbl, err := cat.CreateTable(ctx, ident, like.Schema(), catalog.WithPartitionSpec(&spec), catalog.WithProperties(props))
	if err != nil {
		b.Fatal(err)
	}
	sc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		b.Fatal(err)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	per := (n + batches - 1) / batches
	read := 0
	var pending []*kgo.Record
	for read < n {
		pctx, cancel := context.WithTimeout(ctx, time.Minute)
		fs := cl.PollRecords(pctx, per-len(pending))
		cancel()
		if err := fs.Err0(); err != nil {
			b.Fatalf("read the topic back: %v", err)
		}
		recs := fs.Records()
		read += len(recs)
		pending = append(pending, recs...)
		if len(pending) < per && read < n {
			continue
		}
		t0 := time.Now()
		rec := decodeToArrow(b, codec, sc, pending)
		pending = pending[:0]
		runtime.GC() // the decoding's garbage is not the writer's to collect
		decode += time.Since(t0)

		t0 = time.Now()
		var dfs []iceberg.DataFile
		for df, err := range table.WriteRecords(ctx, tbl, sc, func(yield func(arrow.RecordBatch, error) bool) { yield(rec, nil) }) {
			if err != nil {
				b.Fatalf("write data files: %v", err)
			}
			dfs = append(dfs, df)
		}
		txn := tbl.NewTransaction()
		if err := txn.AddDataFiles(ctx, dfs, nil, table.WithoutDuplicateCheck()); err != nil {
			b.Fatalf("add data files: %v", err)
		}
		if tbl, err = txn.Commit(ctx); err != nil {
			b.Fatalf("commit: %v", err)
		}
		timed += time.Since(t0)
		files += len(dfs)
	}
	if got := totalRecords(tbl); got != int64(n) {
		b.Fatalf("the raw table holds %d rows, want %d", got, n)
	}
	return timed, decode, files
}

// decodeToArrow decodes records as the sink does: the writer's schema, hamba's generic
// decoding, lakeschema.Builder with the metadata columns.
func decodeToArrow(b *testing.B, codec *events.Codec, sc *arrow.Schema, recs []*kgo.Record) arrow.RecordBatch {
	ctx := context.Background()
	bld := lakeschema.NewBuilder(memory.DefaultAllocator, sc)
	defer bld.Release()
	now := time.Now()
	for _, r := range recs {
		w, id, err := codec.WriterSchema(ctx, r.Value)
		if err != nil {
			b.Fatal(err)
		}
		var v any
		if err := avro.Unmarshal(w, r.Value[5:], &v); err != nil {
			b.Fatal(err)
		}
		value := v.(map[string]any)
		eventID, occurredAt, err := lakeschema.EnvelopeMeta(value)
		if err != nil {
			b.Fatal(err)
		}
		if err := bld.Append(value, lakeschema.Meta{
			Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp,
			EventID: eventID, SchemaID: int32(id), OccurredAt: occurredAt, IngestedAt: now,
		}); err != nil {
			b.Fatal(err)
		}
	}
	return bld.NewRecord()
}

// BenchmarkSinkFreshness measures how long an event takes from being produced to being
// visible in a scan of its table, with the sink's default commit interval (10 s): after a
// warm-up record (the table exists, the group is joined), a producer writes realistic
// OrderCreated at a steady rate (default 200/s; STORELINE_BENCH_SINK_FRESHNESS_RATE) for a while
// (default 60 s; STORELINE_BENCH_SINK_FRESHNESS_SECONDS), while the table is loaded every
// 100 ms: a record is visible at the first load whose offsets marker is past its offset (the
// marker is committed with the snapshot that holds it). It reports the p50, p95 and max of
// produce → visible in seconds (aim: p95 at most 15 s).
//
// It runs once whatever b.N: run it with -benchtime 1x.
func BenchmarkSinkFreshness(b *testing.B) {
	testkit.Integration(b)
	seconds := envInt(b, envSinkFreshSeconds, sinkFreshDefaultS)
	rate := envInt(b, envSinkFreshRate, sinkFreshDefaultR)
	ctx := context.Background()
	brokers := testkit.Brokers(b)
	prefix := testkit.FreshTopicPrefix(b, sinkPartitions, events.TopicCommerce)
	cat, err := events.LoadCatalogue()
	if err != nil {
		b.Fatal(err)
	}
	codec, err := events.NewCodec(ctx, cat, testkit.Registry(b, prefix), prefix)
	if err != nil {
		b.Fatal(err)
	}
	topic := codec.Topic(events.TopicCommerce)
	dbURL := testkit.FreshDatabaseURL(b)
	cfg := icebergsink.Config{ // the default commit interval, row and byte thresholds
		Warehouse:   b.TempDir(),
		CatalogURL:  dbURL,
		Group:       testkit.Unique("bench-fresh-"),
		KafkaOpts:   []kgo.Opt{kgo.SeedBrokers(brokers...)},
		TopicPrefix: prefix,
		Topics:      []string{events.TopicCommerce},
	}
	watch := openCatalog(b, cfg)
	g := newOrderCreatedLog(b)
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	event := func(i int, at time.Time) (*kgo.Record, error) { return codec.Record(orderCreatedAt(g, i, at), "") }

	rs := startSink(b, cfg, codec, dbURL)
	// Warm-up: one record, until it is in the table (group joined, table created).
	warm, err := event(0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if err := prod.ProduceSync(ctx, warm).FirstErr(); err != nil {
		b.Fatal(err)
	}
	if err := waitMarker(ctx, watch, cfg.Group, topic, topicEnds(b, brokers, topic), rs, 2*time.Minute, nil); err != nil {
		b.Fatal(err)
	}
	loadBefore := loadAvg()

	// The steady stream, and the watcher.
	type sent struct {
		at        time.Time
		partition int32
		offset    int64 // -1 until acknowledged
		seen      time.Duration
	}
	total := seconds * rate
	recs := make([]sent, total)
	for i := range recs {
		recs[i].offset = -1
	}
	var mu sync.Mutex
	var failed atomic.Pointer[error]
	b.ResetTimer()
	go func() {
		interval := time.Second / time.Duration(rate)
		begin := time.Now()
		for i := range total {
			if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			now := time.Now()
			rec, err := event(1+i, now)
			if err != nil {
				failed.CompareAndSwap(nil, &err)
				return
			}
			mu.Lock()
			recs[i].at = now
			mu.Unlock()
			prod.Produce(ctx, rec, func(r *kgo.Record, err error) {
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				mu.Lock()
				recs[i].partition, recs[i].offset = r.Partition, r.Offset
				mu.Unlock()
			})
		}
	}()
	begin, timeout := time.Now(), time.Duration(seconds)*time.Second+2*time.Minute
	visible, polls := 0, 0
	for visible < total {
		if p := failed.Load(); p != nil {
			b.Fatalf("produce: %v", *p)
		}
		if time.Since(begin) > timeout {
			b.Fatalf("%d of %d records visible after %s", visible, total, timeout)
		}
		time.Sleep(sinkPollInterval)
		tbl, err := watch.LoadTable(ctx, orderCreatedIdent)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		polls++
		marker, err := icebergsink.CommittedOffsets(tbl.Metadata(), cfg.Group)
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		for i := range recs {
			r := &recs[i]
			if r.seen != 0 || r.offset < 0 {
				continue
			}
			if next, ok := marker.Get(topic, r.partition); ok && r.offset < next {
				r.seen = now.Sub(r.at)
				visible++
			}
		}
		mu.Unlock()
		select {
		case err := <-rs.done:
			b.Fatalf("the sink stopped: %v", err)
		default:
		}
	}
	b.StopTimer()
	loadAfter := loadAvg()
	commits := rs.counter(b, "storeline_sink_commits_total")
	rs.stop(b)

	lat := make([]time.Duration, total)
	for i, r := range recs {
		lat[i] = r.seen
	}
	slices.Sort(lat)
	p50, p95, mx := quantile(lat, 0.5).Seconds(), quantile(lat, 0.95).Seconds(), lat[len(lat)-1].Seconds()
	b.ReportMetric(p50, "p50-s")
	b.ReportMetric(p95, "p95-s")
	b.ReportMetric(mx, "max-s")
	b.ReportMetric(loadAvg1(loadBefore), "load1-before")
	fmt.Printf("sink freshness: %d OrderCreated at %d/s for %ds, default commit interval %s: produce → visible p50 %.1fs, p95 %.1fs, max %.1fs, min %.1fs (%.0f snapshots, %d table loads); load before: %s, after: %s\n",
		total, rate, seconds, icebergsink.DefaultCommitInterval, p50, p95, mx, lat[0].Seconds(), commits, polls, loadBefore, loadAfter)
	compactAndReport(b, watch, orderCreatedIdent)
}

// compactAndReport compacts a table the sink wrote at its default interval, as the scheduled
// maintenance does, and reports its data files per partition-day before and after.
func compactAndReport(b *testing.B, cat catalog.Catalog, ident table.Identifier) {
	ctx := context.Background()
	status := func() icebergsink.LakeTableStatus {
		tbl, err := cat.LoadTable(ctx, ident)
		if err != nil {
			b.Fatal(err)
		}
		st, err := icebergsink.TableStatus(ctx, tbl)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	before := status()
	res, err := icebergsink.CompactTable(ctx, cat, ident, icebergsink.MaintenanceOptions{})
	if err != nil {
		b.Fatal(err)
	}
	after := status()
	if after.Rows != before.Rows {
		b.Fatalf("compaction changed the rows: %d → %d", before.Rows, after.Rows)
	}
	b.ReportMetric(before.AvgFilesPerPartition, "files/day-before")
	b.ReportMetric(after.AvgFilesPerPartition, "files/day-after")
	fmt.Printf("lake compaction: %s, %d rows in %d days: data files per day max %d avg %.1f before, max %d avg %.1f after (%d files → %d, %d → %d bytes)\n",
		strings.Join(ident, "."), after.Rows, after.Partitions, before.MaxFilesPerPartition, before.AvgFilesPerPartition,
		after.MaxFilesPerPartition, after.AvgFilesPerPartition, before.DataFiles, after.DataFiles, res.BytesBefore, res.BytesAfter)
}

// newOrderCreatedLog is the rebuild benchmark's generator of realistic orders (a real
// orders/create payload translated by the intake, given each order's ids, amounts and one to
// four lines), made to create order i at step i: only OrderCreated.
func newOrderCreatedLog(b *testing.B) *rebuildLog { return newRebuildLog(b, 0) }

// orderCreatedAt is order i's OrderCreated, created (and occurred) at at.
func orderCreatedAt(g *rebuildLog, i int, at time.Time) *events.OrderCreated {
	if i >= len(g.steps) {
		grow := max(i+1, 2*len(g.steps))
		for j := len(g.steps); j < grow; j++ {
			g.steps = append(g.steps, rebuildStep{order: int32(j)})
			g.createdAt = append(g.createdAt, int32(j))
		}
	}
	ev := g.event(i).(*events.OrderCreated)
	at = at.UTC().Truncate(time.Microsecond)
	ev.Envelope.OccurredAt, ev.Envelope.RecordedAt = at, at.Add(time.Second)
	ev.Order.CreatedAt, ev.Order.UpdatedAt, ev.Order.ProcessedAt = at, at, &at
	return ev
}

// produceOrders encodes orders 0..n-1 (order i created at at(i)) and produces them with many
// records in flight; it returns the bytes of the records' values.
func produceOrders(b *testing.B, brokers []string, codec *events.Codec, g *rebuildLog, n int, at func(int) time.Time) int64 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(20*time.Millisecond),
		kgo.MaxBufferedRecords(50_000), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	var failed atomic.Pointer[error]
	var size int64
	for i := range n {
		rec, err := codec.Record(orderCreatedAt(g, i, at(i)), "")
		if err != nil {
			b.Fatalf("encode: %v", err)
		}
		size += int64(len(rec.Value))
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.CompareAndSwap(nil, &err)
			}
		})
		if p := failed.Load(); p != nil {
			b.Fatalf("produce: %v", *p)
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

// partitionEnds are a topic's end offsets by partition.
type partitionEnds map[int32]int64

func (e partitionEnds) total() int64 {
	var sum int64
	for _, o := range e {
		sum += o
	}
	return sum
}

func topicEnds(b *testing.B, brokers []string, topic string) partitionEnds {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	lo, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		b.Fatal(err)
	}
	out := partitionEnds{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func openCatalog(b *testing.B, cfg icebergsink.Config) catalog.Catalog {
	cat, err := icebergsink.OpenCatalog(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if c, ok := cat.(catalog.Closer); ok {
			_ = c.Close()
		}
	})
	return cat
}

// benchSink is a sink running in a goroutine.
type benchSink struct {
	cancel context.CancelFunc
	done   chan error
	reg    *prometheus.Registry
}

func startSink(b *testing.B, cfg icebergsink.Config, codec *events.Codec, dbURL string) *benchSink {
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	reg := prometheus.NewRegistry()
	s, err := icebergsink.New(cfg, codec, dedup.NewStore(pool), reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &benchSink{cancel: cancel, done: make(chan error, 1), reg: reg}
	go func() { rs.done <- s.Run(ctx) }()
	b.Cleanup(func() {
		rs.cancel()
		select {
		case <-rs.done:
		case <-time.After(time.Minute):
		}
	})
	return rs
}

// stop cancels the sink and requires a clean shutdown.
func (rs *benchSink) stop(b *testing.B) {
	rs.cancel()
	select {
	case err := <-rs.done:
		rs.done <- err // for the cleanup
		if err != nil {
			b.Fatalf("sink stopped with %v", err)
		}
	case <-time.After(2 * time.Minute):
		b.Fatal("sink did not stop")
	}
}

func (rs *benchSink) consumed() float64 {
	v, _ := rs.sum("storeline_sink_records_consumed_total")
	return v
}

func (rs *benchSink) counter(b *testing.B, name string) float64 {
	v, err := rs.sum(name)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// sum is the sum of a counter's values (0 if it has none yet).
func (rs *benchSink) sum(name string) (float64, error) {
	mfs, err := rs.reg.Gather()
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum, nil
}

// waitMarker loads the sink's OrderCreated table every sinkPollInterval until its offsets
// marker reaches ends on every partition, the sink stops, or timeout passes; tick (if any) runs
// at every poll.
func waitMarker(ctx context.Context, cat catalog.Catalog, group, topic string, ends partitionEnds, rs *benchSink,
	timeout time.Duration, tick func()) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(sinkPollInterval)
	defer t.Stop()
	last := "no table yet"
	for {
		if tick != nil {
			tick()
		}
		tbl, err := cat.LoadTable(ctx, orderCreatedIdent)
		switch {
		case errors.Is(err, catalog.ErrNoSuchTable):
		case err != nil:
			return err
		default:
			marker, err := icebergsink.CommittedOffsets(tbl.Metadata(), group)
			if err != nil {
				return err
			}
			caught := true
			for p, end := range ends {
				if next, _ := marker.Get(topic, p); next < end {
					caught = false
				}
			}
			if caught {
				return nil
			}
			last = marker.Encode()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the table's marker is at %s after %s, the topic ends at %v", last, timeout, ends)
		}
		select {
		case err := <-rs.done:
			rs.done <- err
			return fmt.Errorf("the sink stopped with %v; marker at %s", err, last)
		case <-t.C:
		}
	}
}

// totalRecords is the row count of a table's current snapshot, from its summary.
func totalRecords(tbl *table.Table) int64 {
	snap := tbl.CurrentSnapshot()
	if snap == nil || snap.Summary == nil {
		return 0
	}
	n, _ := strconv.ParseInt(snap.Summary.Properties["total-records"], 10, 64)
	return n
}

// loadAvg is the machine's load averages (1, 5, 15 min), as /proc/loadavg has them.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// loadAvg1 is the 1-minute load of a loadAvg string (0 if unknown).
func loadAvg1(s string) float64 {
	f, _ := strconv.ParseFloat(strings.Fields(s + " 0")[0], 64)
	return f
}
