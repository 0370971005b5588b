package icebergsink

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/testkit"
)

// env is one integration test's world: a fresh topic, database and warehouse.
type env struct {
	t       *testing.T
	prefix  string
	topic   string
	brokers []string
	dbURL   string
	pool    *pgxpool.Pool
	codec   *events.Codec
	reg     *eventstest.Registry
	cfg     Config
	cat     catalog.Catalog
	prod    *kgo.Client
}

func newEnv(t *testing.T, partitions int32) *env {
	t.Helper()
	return newEnvTopics(t, partitions, events.TopicCommerce)
}

// newEnvTopics is an env whose sink consumes topics (the first is e.topic).
func newEnvTopics(t *testing.T, partitions int32, topics ...string) *env {
	t.Helper()
	testkit.Integration(t)
	e := &env{t: t, brokers: testkit.Brokers(t)}
	e.prefix = testkit.FreshTopicPrefix(t, partitions, topics...)
	e.topic = e.prefix + events.TopicCommerce
	e.dbURL = testkit.FreshDatabaseURL(t)
	var err error
	if e.pool, err = pgxpool.New(context.Background(), e.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pool.Close)
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	e.reg = eventstest.NewRegistry()
	if e.codec, err = events.NewCodec(context.Background(), cat, e.reg, e.prefix); err != nil {
		t.Fatal(err)
	}
	e.cfg = Config{
		Warehouse:      t.TempDir(),
		CatalogURL:     e.dbURL,
		CommitInterval: 500 * time.Millisecond,
		Group:          testkit.Unique("sink-"),
		KafkaOpts:      []kgo.Opt{kgo.SeedBrokers(e.brokers...)},
		TopicPrefix:    e.prefix,
		Topics:         topics,
	}
	if e.cat, err = OpenCatalog(context.Background(), e.cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeCatalog(e.cat) })
	if e.prod, err = kgo.NewClient(kgo.SeedBrokers(e.brokers...)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.prod.Close)
	return e
}

// produced is where a produced record landed.
type produced struct {
	partition int32
	offset    int64
	eventID   string
	dup       bool // a later copy of an event already in the log
	garbage   bool // not an event
}

// produce writes the orders from..to-1, then a copy of each order in dups.
func (e *env) produce(from, to int, dups ...int) []produced {
	e.t.Helper()
	var recs []*kgo.Record
	var meta []produced
	add := func(n int, dup bool) {
		r, err := e.codec.Record(testOrder(n), "")
		if err != nil {
			e.t.Fatal(err)
		}
		recs = append(recs, r)
		meta = append(meta, produced{eventID: testOrder(n).Envelope.EventID, dup: dup})
	}
	for n := from; n < to; n++ {
		add(n, false)
	}
	for _, n := range dups {
		add(n, true)
	}
	return e.send(recs, meta)
}

// checkDeadLetter checks the one dead letter the sink should have written to
// commerce._dead_letters: value, with its reason and position.
func (e *env) checkDeadLetter(t *testing.T, value string, at produced) {
	t.Helper()
	tbl, err := e.cat.LoadTable(context.Background(), DeadLetterIdent(events.TopicCommerce))
	if err != nil {
		t.Fatal(err)
	}
	at2, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at2.Release()
	rdr := array.NewTableReader(at2, 1024)
	defer rdr.Release()
	var got []string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		vals, reasons := column(rec, colDeadValue).(*array.Binary), column(rec, colDeadReason).(*array.String)
		parts, offs := column(rec, colKafkaPartition).(*array.Int32), column(rec, colKafkaOffset).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			got = append(got, fmt.Sprintf("%s %s %d/%d", vals.Value(i), reasons.Value(i), parts.Value(i), offs.Value(i)))
		}
	}
	want := fmt.Sprintf("%s %s %d/%d", value, deadletter.ReasonUndecodable, at.partition, at.offset)
	if len(got) != 1 || got[0] != want {
		t.Errorf("dead letters %q, want [%q]", got, want)
	}
}

// column returns the column of rec at path (a top-level name, then struct fields).
func column(rec arrow.RecordBatch, path ...string) arrow.Array {
	idx := rec.Schema().FieldIndices(path[0])
	if len(idx) == 0 {
		panic("no column " + path[0])
	}
	col := rec.Column(idx[0])
	for _, name := range path[1:] {
		st := col.(*array.Struct)
		i, ok := st.DataType().(*arrow.StructType).FieldIdx(name)
		if !ok {
			panic("no field " + name)
		}
		col = st.Field(i)
	}
	return col
}

// produceGarbage writes a record that is not a storeline event.
func (e *env) produceGarbage() []produced {
	e.t.Helper()
	return e.send([]*kgo.Record{{Topic: e.topic, Key: []byte("junk"), Value: []byte("not avro")}}, []produced{{garbage: true}})
}

func (e *env) send(recs []*kgo.Record, meta []produced) []produced {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res := e.prod.ProduceSync(ctx, recs...)
	if err := res.FirstErr(); err != nil {
		e.t.Fatalf("produce: %v", err)
	}
	// Results come in completion order; the records themselves carry their positions.
	for i, r := range recs {
		meta[i].partition, meta[i].offset = r.Partition, r.Offset
	}
	return meta
}

// runningSink is a Sink running in a goroutine.
type runningSink struct {
	cancel context.CancelFunc
	done   chan error
	reg    *prometheus.Registry
}

func (e *env) start(name string) *runningSink {
	e.t.Helper()
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("sink", name)
	s, err := New(e.cfg, e.codec, dedup.NewStore(e.pool), reg, log)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningSink{cancel: cancel, done: make(chan error, 1), reg: reg}
	go func() { rs.done <- s.Run(ctx) }()
	e.t.Cleanup(func() { rs.cancel(); <-rs.done })
	return rs
}

// stop cancels the sink and requires a clean shutdown.
func (rs *runningSink) stop(t *testing.T) {
	t.Helper()
	rs.cancel()
	select {
	case err := <-rs.done:
		rs.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("sink stopped with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("sink did not stop")
	}
}

// counter is the sum of a counter's values, of the table's only if one is given.
func (rs *runningSink) counter(t *testing.T, name string, table ...string) float64 {
	t.Helper()
	mfs, err := rs.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
		metrics:
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if len(table) > 0 && l.GetName() == "table" && l.GetValue() != table[0] {
						continue metrics
					}
				}
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// tableRow is what the tests read back of a row.
type tableRow struct {
	eventID    string
	partition  int32
	offset     int64
	totalPrice *big.Rat
}

// orderCreated is the table of OrderCreated events.
var orderCreated = table.Identifier{events.TopicCommerce, "order_created"}

// scan reads commerce.order_created with iceberg-go, and its offsets marker.
func (e *env) scan(ctx context.Context) ([]tableRow, Offsets, error) {
	tbl, err := e.cat.LoadTable(ctx, orderCreated)
	if err != nil {
		return nil, nil, err
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("scan: %w", err)
	}
	defer at.Release()
	var rows []tableRow
	rdr := array.NewTableReader(at, 1024)
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		ids, parts, offs, prices := column(rec, "_event_id").(*array.String), column(rec, colKafkaPartition).(*array.Int32),
			column(rec, colKafkaOffset).(*array.Int64), column(rec, "order", "total_price", "amount").(*array.Decimal128)
		for i := 0; i < int(rec.NumRows()); i++ {
			rows = append(rows, tableRow{
				eventID: ids.Value(i), partition: parts.Value(i), offset: offs.Value(i),
				totalPrice: new(big.Rat).SetFrac(prices.Value(i).BigInt(), big.NewInt(10000)),
			})
		}
	}
	offsets, err := CommittedOffsets(tbl.Metadata(), e.cfg.Group)
	return rows, offsets, err
}

// endOffsets returns the topic's end offsets of the partitions that hold records.
func (e *env) endOffsets(ctx context.Context) Offsets {
	e.t.Helper()
	lo, err := kadm.NewClient(e.prod).ListEndOffsets(ctx, e.topic)
	if err != nil {
		e.t.Fatal(err)
	}
	out := Offsets{}
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			e.t.Fatalf("end offset of %d: %v", o.Partition, o.Err)
		}
		if o.Offset > 0 {
			out.Set(o.Topic, o.Partition, o.Offset)
		}
	})
	return out
}

// waitCaughtUp waits until the current snapshot's offsets reach the end of the topic.
func (e *env) waitCaughtUp() []tableRow {
	e.t.Helper()
	ctx := context.Background()
	want := e.endOffsets(ctx)
	var rows []tableRow
	testkit.WaitFor(e.t, 90*time.Second, "the table's offsets to reach the end of the topic", func() error {
		var offs Offsets
		var err error
		rows, offs, err = e.scan(ctx)
		if err != nil {
			return err
		}
		if offs.Encode() != want.Encode() {
			return fmt.Errorf("snapshot offsets %s, topic ends at %s", offs.Encode(), want.Encode())
		}
		return nil
	})
	return rows
}

// checkExactlyOnce asserts the table holds exactly one row per produced non-duplicate event, at
// the position it was produced to.
func checkExactlyOnce(t *testing.T, rows []tableRow, all []produced) {
	t.Helper()
	type pos struct {
		p int32
		o int64
	}
	want := map[pos]string{}
	for _, p := range all {
		if !p.dup && !p.garbage {
			want[pos{p.partition, p.offset}] = p.eventID
		}
	}
	seen := map[pos]int{}
	ids := map[string]int{}
	for _, r := range rows {
		k := pos{r.partition, r.offset}
		seen[k]++
		ids[r.eventID]++
		if want[k] != r.eventID {
			t.Errorf("row at %d/%d has event %s, want %q", r.partition, r.offset, r.eventID, want[k])
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("position %d/%d is in the table %d times", k.p, k.o, n)
		}
	}
	for k := range want {
		if seen[k] == 0 {
			t.Errorf("position %d/%d is missing", k.p, k.o)
		}
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s is in the table %d times", id, n)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("table has %d rows, want %d", len(rows), len(want))
	}
}

func sumPrices(rows []tableRow) *big.Rat {
	sum := new(big.Rat)
	for _, r := range rows {
		sum.Add(sum, r.totalPrice)
	}
	return sum
}

// wantSum is the sum of total_price of orders from..to-1 (order n costs n.25).
func wantSum(from, to int) *big.Rat {
	sum := new(big.Rat)
	for n := from; n < to; n++ {
		sum.Add(sum, rat(fmt.Sprintf("%d.25", n)))
	}
	return sum
}

func TestSinkWritesEachEventOnce(t *testing.T) {
	e := newEnv(t, 3)
	const n = 40
	all := e.produce(0, n/2)
	garbage := e.produceGarbage()
	all = append(all, garbage...)
	all = append(all, e.produce(n/2, n, 3, 17)...) // orders 3 and 17 redelivered at later offsets

	s := e.start("a")
	rows := e.waitCaughtUp()

	checkExactlyOnce(t, rows, all)
	if got, want := sumPrices(rows), wantSum(0, n); got.Cmp(want) != 0 {
		t.Errorf("sum(total_price) = %s, want %s", got.FloatString(4), want.FloatString(4))
	}
	if got := s.counter(t, "storeline_sink_dead_lettered_total"); got != 1 {
		t.Errorf("dead letters = %v, want 1", got)
	}
	e.checkDeadLetter(t, "not avro", garbage[0])
	if got := s.counter(t, "storeline_sink_duplicates_dropped_total"); got != 2 {
		t.Errorf("duplicates dropped = %v, want 2", got)
	}
	if got := s.counter(t, "storeline_sink_rows_written_total", "commerce.order_created"); got != n {
		t.Errorf("rows written = %v, want %d", got, n)
	}
	if got := s.counter(t, "storeline_sink_records_consumed_total"); got != float64(len(all)) {
		t.Errorf("records consumed = %v, want %d", got, len(all))
	}

	// The table is partitioned by day(_occurred_at) and the offsets are mirrored in a table property.
	tbl, err := e.cat.LoadTable(context.Background(), orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	if spec := tbl.Spec(); spec.NumFields() != 1 || spec.Field(0).Transform.String() != "day" {
		t.Errorf("partition spec = %v, want day(_occurred_at)", spec)
	}
	if got, want := tbl.Properties()[OffsetsProperty(e.cfg.Group)], e.endOffsets(context.Background()).Encode(); got != want {
		t.Errorf("table property offsets = %s, want %s", got, want)
	}

	// An idle interval makes no snapshot.
	before := tbl.CurrentSnapshot().SnapshotID
	deadline := time.Now().Add(4 * e.cfg.CommitInterval)
	testkit.WaitFor(t, 10*time.Second, "four idle commit intervals", func() error {
		if time.Now().Before(deadline) {
			return errors.New("not yet")
		}
		return nil
	})
	tbl, err = e.cat.LoadTable(context.Background(), orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	if after := tbl.CurrentSnapshot().SnapshotID; after != before {
		t.Errorf("idle sink committed snapshot %d after %d", after, before)
	}
	s.stop(t)
}

func TestSinkResumesFromSnapshotOffsets(t *testing.T) {
	e := newEnv(t, 3)
	all := e.produce(0, 30, 5)
	a := e.start("first")
	e.waitCaughtUp()
	a.stop(t)

	// While no sink runs: more orders, a redelivery of an order the first run wrote, and
	// Kafka group offsets rewound to zero, which the sink must ignore.
	all = append(all, e.produce(30, 50, 7, 35)...)
	adm := kadm.NewClient(e.prod)
	rewind := kadm.Offsets{}
	for p := int32(0); p < 3; p++ {
		rewind.AddOffset(e.topic, p, 0, -1)
	}
	if _, err := adm.CommitOffsets(context.Background(), e.cfg.Group, rewind); err != nil {
		t.Fatalf("rewind group offsets: %v", err)
	}

	b := e.start("second")
	rows := e.waitCaughtUp()
	checkExactlyOnce(t, rows, all)
	if got, want := sumPrices(rows), wantSum(0, 50); got.Cmp(want) != 0 {
		t.Errorf("sum(total_price) = %s, want %s", got.FloatString(4), want.FloatString(4))
	}
	if got := b.counter(t, "storeline_sink_records_consumed_total"); got != float64(len(all)-31) {
		t.Errorf("second sink consumed %v records, want only the %d new ones", got, len(all)-31)
	}
	b.stop(t)
}

// TestSinkExactlyOnceAcrossRebalances runs two sinks in one group while records keep arriving,
// stops one, then the other, restarts one, and checks every record is in the table once.
func TestSinkExactlyOnceAcrossRebalances(t *testing.T) {
	e := newEnv(t, 4)
	all := e.produce(0, 20)
	a := e.start("a")
	b := e.start("b")
	// Until both own partitions and consume (the first to join may read everything before the
	// second's assignment), keep producing.
	next := 500
	testkit.WaitFor(t, time.Minute, "both sinks to consume", func() error {
		if a.counter(t, "storeline_sink_records_consumed_total") > 0 && b.counter(t, "storeline_sink_records_consumed_total") > 0 {
			return nil
		}
		all = append(all, e.produce(next, next+4)...)
		next += 4
		return errors.New("one sink has consumed nothing yet")
	})
	for i := 1; i <= 4; i++ {
		all = append(all, e.produce(i*20, i*20+20, i*20-3)...)
		if i == 2 {
			a.stop(t) // b takes over a's partitions mid-stream
		}
	}
	e.waitCaughtUp()
	b.stop(t)
	all = append(all, e.produce(100, 120, 1)...)
	c := e.start("c")
	rows := e.waitCaughtUp()
	checkExactlyOnce(t, rows, all)
	c.stop(t)
}

// TestSinkFollowsANewSchemaVersion: a producer starts writing OrderCreated with a second version
// of its schema that has a new optional field; the running sink adds the column, rows written
// before read it as null. Then a version that changes a column's type: its record goes to the
// dead-letter table and the sink goes on.
func TestSinkFollowsANewSchemaVersion(t *testing.T) {
	e := newEnv(t, 1)
	all := e.produce(0, 5)
	s := e.start("a")
	e.waitCaughtUp()

	k, _ := e.codec.Catalogue().Kind(events.TypeOrderCreated)
	v2 := e.schemaVersion(t, k, func(fields []any) []any {
		return append(fields, map[string]any{"name": "gift_message", "type": []any{"null", "string"}, "default": nil})
	})
	v3 := e.schemaVersion(t, k, func(fields []any) []any {
		for _, f := range fields {
			if f := f.(map[string]any); f["name"] == "payload_json" {
				f["type"] = "long"
			}
		}
		return fields
	})
	var recs []*kgo.Record
	var meta []produced
	for n := 5; n < 8; n++ {
		recs = append(recs, e.recordAs(t, testOrder(n), v2, func(m map[string]any) { m["gift_message"] = fmt.Sprint("for ", n) }))
		meta = append(meta, produced{eventID: testOrder(n).Envelope.EventID})
	}
	recs = append(recs, e.recordAs(t, testOrder(8), v3, func(m map[string]any) { m["payload_json"] = int64(42) }))
	meta = append(meta, produced{garbage: true})
	all = append(all, e.send(recs, meta)...)
	all = append(all, e.produce(9, 10)...)
	rows := e.waitCaughtUp()
	checkExactlyOnce(t, rows, all)

	tbl, err := e.cat.LoadTable(context.Background(), orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	gifts := map[int64]string{}
	rdr := array.NewTableReader(at, 1024)
	defer rdr.Release()
	for rdr.Next() {
		rec := rdr.RecordBatch()
		offs, gm := column(rec, colKafkaOffset).(*array.Int64), column(rec, "gift_message").(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			if gm.IsNull(i) {
				gifts[offs.Value(i)] = "null"
			} else {
				gifts[offs.Value(i)] = gm.Value(i)
			}
		}
	}
	want := map[int64]string{0: "null", 1: "null", 2: "null", 3: "null", 4: "null", 5: "for 5", 6: "for 6", 7: "for 7", 9: "null"}
	if fmt.Sprint(gifts) != fmt.Sprint(want) {
		t.Errorf("gift_message by offset %v, want %v", gifts, want)
	}
	if got := s.counter(t, "storeline_sink_dead_lettered_total"); got != 1 {
		t.Errorf("dead letters = %v, want the v3 record", got)
	}
	s.stop(t)
}

// schemaVersion registers another version of k's schema, its fields changed by edit, and
// returns it with its id.
func (e *env) schemaVersion(t *testing.T, k *events.Kind, edit func(fields []any) []any) registered {
	t.Helper()
	var sc map[string]any
	if err := json.Unmarshal([]byte(k.JSON), &sc); err != nil {
		t.Fatal(err)
	}
	sc["fields"] = edit(sc["fields"].([]any))
	text, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := avro.ParseWithCache(string(text), "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.reg.Register(context.Background(), k.Subject(), string(text))
	if err != nil {
		t.Fatal(err)
	}
	return registered{schema: parsed, id: id}
}

type registered struct {
	schema avro.Schema
	id     int
}

// recordAs is ev's record written with another version of its schema: ev as this binary
// writes it, read generically, changed by edit, written with v.
func (e *env) recordAs(t *testing.T, ev events.Event, v registered, edit func(map[string]any)) *kgo.Record {
	t.Helper()
	r, err := e.codec.Record(ev, "")
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := e.codec.WriterSchema(context.Background(), r.Value)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := avro.Unmarshal(w, r.Value[5:], &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	body, err := avro.Marshal(v.schema, m)
	if err != nil {
		t.Fatal(err)
	}
	r.Value = append(binary.BigEndian.AppendUint32([]byte{0}, uint32(v.id)), body...)
	return r
}

// TestSinkCommitsAtItsThresholds: with a commit interval of an hour, a sink still commits when
// it holds MaxBufferedRows rows, or MaxBufferedBytes bytes of records.
func TestSinkCommitsAtItsThresholds(t *testing.T) {
	for name, set := range map[string]func(*Config){
		"rows":  func(c *Config) { c.MaxBufferedRows = 3 },
		"bytes": func(c *Config) { c.MaxBufferedBytes = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, 1)
			e.cfg.CommitInterval = time.Hour
			set(&e.cfg)
			all := e.produce(0, 9)
			s := e.start(name)
			rows := e.waitCaughtUp()
			checkExactlyOnce(t, rows, all)
			s.stop(t)
		})
	}
}
