package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	icebergsink "github.com/storeline/storeline/sinks/iceberg"
	"github.com/storeline/storeline/testkit"
)

// TestSinkSurvivesTwentyKillNines is issue 7's kill test: while the test produces a steady
// stream of events of every type to commerce, publication and sync (with redeliveries of earlier
// event ids and the odd record that is not an event), a process running only the Iceberg sink
// (commit interval 1 s) is killed with SIGKILL 20 times at random moments and restarted. Then the
// stream stops, the sink runs once more until it has caught up, and an independent checker reads
// the three topics with a plain consumer, derives per table the (topic, partition, offset) of
// every record that belongs in it (the first copy of each event id in its event type's table, a
// record that is not an event in its namespace's _dead_letters), scans every table of the
// catalog with iceberg-go and finds each position exactly once: none twice, none missing, none
// extra, in no table that should not exist.
func TestSinkSurvivesTwentyKillNines(t *testing.T) {
	const (
		kills = 20
		rate  = 200 // records per second
	)
	d := newDeployment(t)
	ctx := context.Background()
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	// Registers every schema in the deployment's registry before the sink starts.
	codec, err := events.NewCodec(ctx, cat, testkit.Registry(t, d.prefix), d.prefix)
	if err != nil {
		t.Fatal(err)
	}
	sink := newRoleProcess(d, "sink", "STORELINE_ROLES=sink", "STORELINE_LOG_LEVEL=info", "STORELINE_SINK_COMMIT_INTERVAL=1s")
	topics := icebergsink.DefaultTopics()
	t.Cleanup(func() { // every run's logs, for the evidence of a failure (the harness shows the last lines)
		if t.Failed() {
			if f, err := os.CreateTemp("", "storeline-sink-kill-*.log"); err == nil {
				_, _ = f.WriteString(sink.logs.String())
				f.Close()
				t.Logf("the sink's logs, every run: %s", f.Name())
			}
		}
	})

	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	prodCtx, stopProducing := context.WithCancel(ctx)
	defer stopProducing()
	stream := &killStream{codec: codec, kinds: cat.Kinds(), topics: topics, rng: rand.New(rand.NewPCG(uint64(seed), 1))}
	produced := make(chan error, 1)
	brokers := testkit.Brokers(t)
	go func() { produced <- stream.produce(prodCtx, brokers, rate) }()

	sinkStart(t, sink, len(topics)*3)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	started := time.Now()
	var committing int
	for i := range kills {
		time.Sleep(300*time.Millisecond + time.Duration(rng.Int64N(int64(2700*time.Millisecond)))) // the random moment: the point of the test
		run := sink.run.String()
		snaps := strings.Count(run, `msg="committed snapshot"`)
		if snaps > 0 {
			committing++
		}
		sink.kill()
		t.Logf("kill %d after %s: %d records produced, %d snapshots committed by this run", i+1, time.Since(started).Round(time.Millisecond),
			stream.count(), snaps)
		sinkStart(t, sink, len(topics)*3)
	}
	stopProducing()
	if err := <-produced; err != nil {
		t.Fatalf("producer: %v", err)
	}
	t.Logf("%d kills in %s (%d runs committed a snapshot); %d records produced (%d redeliveries, %d not events)",
		kills, time.Since(started).Round(time.Millisecond), committing, stream.count(), stream.redelivered, stream.junk)
	if n := stream.count(); n < kills*rate/2 {
		t.Fatalf("only %d records produced: the stream was not steady", n)
	}

	// The independent checker: what each table must hold, from the topics alone.
	adm, closeAdm := kafkaAdmin(t)
	defer closeAdm()
	prefixed := make([]string, len(topics))
	for i, tp := range topics {
		prefixed[i] = d.prefix + tp
	}
	ends, err := adm.ListEndOffsets(ctx, prefixed...)
	if err != nil {
		t.Fatal(err)
	}
	end := map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		if end[o.Topic] == nil {
			end[o.Topic] = map[int32]int64{}
		}
		end[o.Topic][o.Partition] = o.Offset
	})
	want := expectedTables(ctx, t, d.prefix, cat, end)
	var wantRows int
	for _, ps := range want {
		wantRows += len(ps)
	}
	t.Logf("the topics: %d rows expected in %d tables", wantRows, len(want))

	lake, err := icebergsink.OpenCatalog(ctx, icebergsink.Config{Warehouse: d.warehouse, CatalogName: icebergsink.DefaultCatalogName, CatalogURL: d.dbURL})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := lake.(catalog.Closer); ok {
		defer c.Close()
	}
	group := d.prefix + icebergsink.DefaultGroup

	// Catch up: every table's marker at the end of its topic, or (a table that got no rows lately
	// keeps an older marker) as many rows as it should hold. No failure here if it never does:
	// the scan below says what is missing.
	catchUp := time.Now()
	var lastWait error
	for deadline := time.Now().Add(60 * time.Second); ; {
		lastWait = caughtUp(ctx, lake, want, end, group)
		if lastWait == nil || time.Now().After(deadline) {
			break
		}
		select {
		case <-sink.exited:
			t.Fatalf("the sink exited:\n%s", lastLines(sink.run.String(), 50))
		case <-time.After(250 * time.Millisecond):
		}
	}
	if lastWait != nil {
		t.Errorf("waited 60s for the sink to catch up: %v", lastWait)
	} else {
		t.Logf("caught up in %s", time.Since(catchUp).Round(time.Millisecond))
	}
	sink.stop()

	// Every table of the three namespaces, those that should not exist included.
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < 60 {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	got := map[string]bool{}
	var scanned int
	for _, ns := range topics {
		for ident, err := range lake.ListTables(ctx, table.Identifier{ns}) {
			if err != nil {
				t.Fatalf("list tables of %s: %v", ns, err)
			}
			key := strings.Join(ident, ".")
			got[key] = true
			tbl, err := lake.LoadTable(ctx, ident)
			if err != nil {
				t.Fatalf("load %s: %v", key, err)
			}
			rows := scanPositions(ctx, t, tbl)
			scanned += len(rows)
			exp := want[key]
			if exp == nil {
				add("%s: a table that should not exist, with %d rows", key, len(rows))
				continue
			}
			seen := map[killPos]int{}
			for _, p := range rows {
				seen[p]++
			}
			var dup, extra, missing []killPos
			for p, n := range seen {
				if n > 1 {
					dup = append(dup, p)
				}
				if !exp[p] {
					extra = append(extra, p)
				}
			}
			for p := range exp {
				if seen[p] == 0 {
					missing = append(missing, p)
				}
			}
			if len(dup) > 0 {
				add("%s: %d positions more than once: %s", key, len(dup), describePositions(dup, seen))
			}
			if len(missing) > 0 {
				add("%s: %d positions missing: %s; %s", key, len(missing), describePositions(missing, nil), describeMarkers(tbl, group))
			}
			if len(extra) > 0 {
				add("%s: %d positions that do not belong in it: %s", key, len(extra), describePositions(extra, nil))
			}
		}
	}
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}) {
		if !got[key] {
			add("%s: missing (should hold %d rows)", key, len(want[key]))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("%d differences between the tables and the topics:\n%s", len(diffs), strings.Join(diffs, "\n"))
	}
	t.Logf("scanned %d rows in %d tables; expected %d rows in %d tables", scanned, len(got), wantRows, len(want))
}

// sinkStart runs p (a sink-only process) and waits until its partitions (all of them, as the
// only member of its group) are assigned.
func sinkStart(t *testing.T, p *roleProcess, partitions int) {
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
	testkit.WaitFor(t, 60*time.Second, p.name+" to take its partitions", func() error {
		select {
		case <-p.exited:
			t.Fatalf("%s exited during start:\n%s", p.name, p.run.String())
		default:
		}
		if n := strings.Count(p.run.String(), `msg="partition assigned"`); n < partitions {
			return fmt.Errorf("%d partitions assigned", n)
		}
		return nil
	})
}

// killStream produces the kill test's stream: sample events of every kind with increasing
// seeds, some redelivered (the same record again, later in its partition), a few records that
// are not events.
type killStream struct {
	codec  *events.Codec
	kinds  []*events.Kind
	topics []string
	rng    *rand.Rand

	mu                sync.Mutex
	n                 int
	redelivered, junk int
	history           []*kgo.Record
}

func (s *killStream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *killStream) next(seq int) (*kgo.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch x := s.rng.Float64(); {
	case x < 0.01:
		s.junk++
		topic := s.topics[s.rng.IntN(len(s.topics))]
		return &kgo.Record{Topic: s.codec.Topic(topic), Key: fmt.Appendf(nil, "junk-%d", seq), Value: fmt.Appendf(nil, "not an event %d", seq)}, nil
	case x < 0.06 && len(s.history) > 0:
		s.redelivered++
		r := s.history[s.rng.IntN(len(s.history))]
		return &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: slices.Clone(r.Headers)}, nil
	}
	k := s.kinds[s.rng.IntN(len(s.kinds))]
	ev := eventstest.Sample(k, seq)
	// Now, not the sample's date: a live stream's rows fall on a day or two of the tables' spec.
	ev.Meta().OccurredAt = time.Now().UTC().Truncate(time.Millisecond)
	r, err := s.codec.Record(ev, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.Type, err)
	}
	s.history = append(s.history, r)
	return &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: slices.Clone(r.Headers)}, nil
}

// produce writes rate records per second until ctx is done.
func (s *killStream) produce(ctx context.Context, brokers []string, rate int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0))
	if err != nil {
		return err
	}
	defer cl.Close()
	const tick = 20 * time.Millisecond
	per := max(rate*int(tick)/int(time.Second), 1)
	tk := time.NewTicker(tick)
	defer tk.Stop()
	seq := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
		recs := make([]*kgo.Record, 0, per)
		for range per {
			seq++
			r, err := s.next(seq)
			if err != nil {
				return err
			}
			recs = append(recs, r)
		}
		// Not ctx: a batch begun is written whole, so the log holds what was counted.
		pctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := cl.ProduceSync(pctx, recs...).FirstErr()
		cancel()
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.n += len(recs)
		s.mu.Unlock()
	}
}

// killPos is where a record is in the log.
type killPos struct {
	topic     string
	partition int32
	offset    int64
}

// expectedTables reads the topics up to end with a plain consumer and returns, per table
// (namespace.table), the positions it must hold: the first copy of each event id in its event
// type's table, a record that is not an event in the namespace's dead-letter table.
func expectedTables(ctx context.Context, t *testing.T, prefix string, cat *events.Catalogue, end map[string]map[int32]int64) map[string]map[killPos]bool {
	t.Helper()
	start := map[string]map[int32]kgo.Offset{}
	for topic, ps := range end {
		start[topic] = map[int32]kgo.Offset{}
		for p := range ps {
			start[topic][p] = kgo.NewOffset().AtStart()
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(testkit.Brokers(t)...), kgo.ConsumePartitions(start),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	want := map[string]map[killPos]bool{}
	firstSeen := map[string]bool{}
	next := map[string]map[int32]int64{}
	for topic := range end {
		next[topic] = map[int32]int64{}
	}
	done := func() bool {
		for topic, ps := range end {
			for p, e := range ps {
				if next[topic][p] < e {
					return false
				}
			}
		}
		return true
	}
	// Records are in offset order per partition, so the first copy of an event id (its copies
	// share a key, hence a partition) is the first one seen.
	deadline := time.Now().Add(60 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("reading the topics: at %v, end %v", next, end)
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("fetch %s/%d: %v", topic, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end[r.Topic][r.Partition] {
				return
			}
			next[r.Topic][r.Partition] = r.Offset + 1
			if r.Attrs.IsControl() {
				return
			}
			ns := strings.TrimPrefix(r.Topic, prefix)
			key := ns + "." + icebergsink.DeadLetterTable
			if isWireFormat(r.Value) {
				id := string(killHeader(r.Headers, events.HeaderEventID))
				if firstSeen[id] {
					return
				}
				firstSeen[id] = true
				eventType := string(killHeader(r.Headers, events.HeaderEventType))
				k, ok := cat.Kind(eventType)
				if !ok {
					t.Fatalf("%s/%d@%d: unknown event type %q", r.Topic, r.Partition, r.Offset, eventType)
				}
				key = strings.Join(icebergsink.TableFor(ns, k.Schema.(*avro.RecordSchema)), ".")
			}
			if want[key] == nil {
				want[key] = map[killPos]bool{}
			}
			want[key][killPos{r.Topic, r.Partition, r.Offset}] = true
		})
	}
	return want
}

// isWireFormat reports whether v is in the Confluent wire format (magic byte 0, schema id).
func isWireFormat(v []byte) bool { return len(v) >= 5 && v[0] == 0 }

func killHeader(hs []kgo.RecordHeader, key string) []byte {
	for _, h := range hs {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}

// caughtUp is nil once every expected table has its marker at end or holds at least as many
// rows as expected.
func caughtUp(ctx context.Context, lake catalog.Catalog, want map[string]map[killPos]bool, end map[string]map[int32]int64, group string) error {
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}) {
		tbl, err := lake.LoadTable(ctx, table.Identifier(strings.SplitN(key, ".", 2)))
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		var rows int
		if snap := tbl.CurrentSnapshot(); snap != nil && snap.Summary != nil {
			fmt.Sscan(snap.Summary.Properties["total-records"], &rows)
		}
		if rows >= len(want[key]) {
			continue
		}
		marker, err := icebergsink.CommittedOffsets(tbl.Metadata(), group)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		topic := ""
		for p := range want[key] {
			topic = p.topic
			break
		}
		for p, e := range end[topic] {
			if next, _ := marker.Get(topic, p); next < e {
				return fmt.Errorf("%s: %d rows of %d, marker %s behind the end %v", key, rows, len(want[key]), marker.Encode(), end[topic])
			}
		}
	}
	return nil
}

// scanPositions reads the (topic, partition, offset) of every row of tbl.
func scanPositions(ctx context.Context, t *testing.T, tbl *table.Table) []killPos {
	t.Helper()
	if tbl.CurrentSnapshot() == nil {
		return nil
	}
	at, err := tbl.Scan(table.WithSelectedFields("_kafka_topic", "_kafka_partition", "_kafka_offset")).ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scan %v: %v", tbl.Identifier(), err)
	}
	defer at.Release()
	tr := array.NewTableReader(at, 0)
	defer tr.Release()
	var out []killPos
	for tr.Next() {
		rec := tr.RecordBatch()
		col := func(name string) arrow.Array {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) != 1 {
				t.Fatalf("scan %v: no column %s in %s", tbl.Identifier(), name, rec.Schema())
			}
			return rec.Column(idx[0])
		}
		topics, parts, offs := col("_kafka_topic"), col("_kafka_partition"), col("_kafka_offset")
		for i := range int(rec.NumRows()) {
			var p killPos
			switch c := topics.(type) {
			case *array.String:
				p.topic = c.Value(i)
			case *array.LargeString:
				p.topic = c.Value(i)
			case *array.StringView:
				p.topic = c.Value(i)
			default:
				t.Fatalf("_kafka_topic is %s", topics.DataType())
			}
			switch c := parts.(type) {
			case *array.Int32:
				p.partition = c.Value(i)
			default:
				t.Fatalf("_kafka_partition is %s", parts.DataType())
			}
			switch c := offs.(type) {
			case *array.Int64:
				p.offset = c.Value(i)
			default:
				t.Fatalf("_kafka_offset is %s", offs.DataType())
			}
			out = append(out, p)
		}
	}
	return out
}

// describeMarkers gives the offsets marker of tbl's first and last snapshots and its property.
func describeMarkers(tbl *table.Table, group string) string {
	meta := tbl.Metadata()
	snaps := meta.Snapshots()
	prop := icebergsink.OffsetsProperty(group)
	var first, last string
	if len(snaps) > 0 {
		first, last = snaps[0].Summary.Properties[prop], snaps[len(snaps)-1].Summary.Properties[prop]
	}
	return fmt.Sprintf("%d snapshots, the first's marker %s, the last's %s, the table property %s", len(snaps), first, last, meta.Properties()[prop])
}

// describePositions lists up to 20 positions, sorted, with their counts if counts is given.
func describePositions(ps []killPos, counts map[killPos]int) string {
	slices.SortFunc(ps, func(a, b killPos) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		if a.partition != b.partition {
			return int(a.partition - b.partition)
		}
		return int(a.offset - b.offset)
	})
	var b strings.Builder
	for i, p := range ps {
		if i == 20 {
			fmt.Fprintf(&b, " ... (%d more)", len(ps)-20)
			break
		}
		fmt.Fprintf(&b, " %s/%d@%d", p.topic, p.partition, p.offset)
		if counts != nil {
			fmt.Fprintf(&b, "×%d", counts[p])
		}
	}
	return b.String()
}
