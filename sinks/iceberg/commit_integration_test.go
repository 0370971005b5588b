package icebergsink

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/testkit"
)

// committer is a Sink reduced to its commit path, on a real catalog and dedup store.
func newCommitter(t *testing.T, cfg Config, pool *pgxpool.Pool) *Sink {
	t.Helper()
	cfg.KafkaOpts = []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")} // never dialled
	s, err := New(cfg, newTestCodec(t, cfg.TopicPrefix), dedup.NewStore(pool), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := OpenCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeCatalog(cat) })
	s.cat = cat
	s.tables, s.pos, s.batch = map[string]*tableState{}, Offsets{}, newBatch()
	return s
}

// batchOf buffers orders from..to-1 as if read from one partition at offsets from..to-1 (the
// partition assigned at from if it was not), and returns the batch.
func batchOf(t *testing.T, s *Sink, partition int32, from, to int) batch {
	t.Helper()
	topic := s.topics[0]
	if _, ok := s.pos.Get(topic, partition); !ok {
		s.pos.Set(topic, partition, int64(from))
	}
	for n := from; n < to; n++ {
		r, err := s.codec.Record(testOrder(int(partition)*1000+n), "")
		if err != nil {
			t.Fatal(err)
		}
		r.Partition, r.Offset, r.Timestamp = partition, int64(n), time.Now()
		if err := s.add(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	b := s.batch
	s.batch = newBatch()
	return b
}

// commitBatch commits b as flush does.
func commitBatch(s *Sink, b *batch) (bool, error) {
	ok, err := s.commit(context.Background(), b, false)
	if ok && err == nil {
		s.pos = s.pos.Overlay(b.next)
	}
	return ok, err
}

func commitCfg(t *testing.T) (Config, *pgxpool.Pool) {
	testkit.Integration(t)
	url := testkit.FreshDatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return Config{Warehouse: t.TempDir(), CatalogURL: url, Group: "g", TopicPrefix: "t.", Topics: []string{events.TopicCommerce}}, pool
}

// TestConcurrentCommitsKeepEachOthersOffsets has two writers (two sink instances owning different
// partitions) commit at the same time, so their compare-and-swaps conflict: every conflict must
// be retried on the new head with a recomputed map, so that no rows and no offsets are lost.
func TestConcurrentCommitsKeepEachOthersOffsets(t *testing.T) {
	cfg, pool := commitCfg(t)
	const rounds, per = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for p := int32(0); p < 2; p++ {
		s := newCommitter(t, cfg, pool)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				s.mu.Lock()
				b := batchOf(t, s, p, r*per, (r+1)*per)
				ok, err := commitBatch(s, &b)
				s.mu.Unlock()
				if err != nil || !ok {
					errs <- fmt.Errorf("partition %d round %d: committed=%v err=%v", p, r, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	cat, err := OpenCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCatalog(cat)
	tbl, err := cat.LoadTable(context.Background(), orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := CommittedOffsets(tbl.Metadata(), "g")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Offsets{"t.commerce": {0: rounds * per, 1: rounds * per}}); offs.Encode() != want.Encode() {
		t.Fatalf("offsets = %s, want %s", offs.Encode(), want.Encode())
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	if at.NumRows() != 2*rounds*per {
		t.Fatalf("table has %d rows, want %d", at.NumRows(), 2*rounds*per)
	}
	if n := len(tbl.Metadata().Snapshots()); n != 2*rounds {
		t.Fatalf("%d snapshots, want one per commit (%d)", n, 2*rounds)
	}
}

// TestCommitDiscardsBatchOfAPartitionCommittedByAnother is the zombie case: a member that lost a
// partition in a rebalance commits the batch it buffered after the new owner committed the same
// records. Its batch must be discarded, not appended.
func TestCommitDiscardsBatchOfAPartitionCommittedByAnother(t *testing.T) {
	cfg, pool := commitCfg(t)
	newOwner := newCommitter(t, cfg, pool)
	zombie := newCommitter(t, cfg, pool)

	b := batchOf(t, newOwner, 0, 0, 10)
	if ok, err := commitBatch(newOwner, &b); !ok || err != nil {
		t.Fatalf("new owner's commit: %v %v", ok, err)
	}
	stale := batchOf(t, zombie, 0, 0, 7) // the zombie also started at the beginning
	ok, err := commitBatch(zombie, &stale)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatal("the zombie's batch was committed")
	}
	tbl, err := zombie.cat.LoadTable(context.Background(), orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	offs, _ := CommittedOffsets(tbl.Metadata(), "g")
	if got, _ := offs.Get("t.commerce", 0); got != 10 {
		t.Fatalf("offset = %d, want the new owner's 10", got)
	}
	if n := len(tbl.Metadata().Snapshots()); n != 1 {
		t.Fatalf("%d snapshots, want 1", n)
	}
}

// TestCommitOfSkippedRecordsAdvancesOffsets: a batch whose records all were skipped (duplicates
// here) still advances the table's offsets, without a snapshot.
func TestCommitOfSkippedRecordsAdvancesOffsets(t *testing.T) {
	cfg, pool := commitCfg(t)
	s := newCommitter(t, cfg, pool)
	b := batchOf(t, s, 0, 0, 3)
	if ok, err := commitBatch(s, &b); !ok || err != nil {
		t.Fatalf("first commit: %v %v", ok, err)
	}
	// The same three events again at later offsets: redeliveries.
	for i, r := range b.tables[identString(orderCreated)].rows {
		rec := &kgo.Record{Topic: r.src.Topic, Partition: 0, Offset: int64(3 + i), Key: r.key, Value: r.value, Timestamp: time.Now(),
			Headers: []kgo.RecordHeader{{Key: events.HeaderEventID, Value: []byte(r.eventID)}}}
		if err := s.add(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	again := s.batch
	s.batch = newBatch()
	if ok, err := commitBatch(s, &again); !ok || err != nil {
		t.Fatalf("second commit: %v %v", ok, err)
	}
	tbl, err := s.cat.LoadTable(context.Background(), orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	offs, _ := CommittedOffsets(tbl.Metadata(), "g")
	if got, _ := offs.Get("t.commerce", 0); got != 6 {
		t.Fatalf("offset = %d, want 6", got)
	}
	if n := len(tbl.Metadata().Snapshots()); n != 1 {
		t.Fatalf("%d snapshots, want only the first commit's", n)
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	if at.NumRows() != 3 {
		t.Fatalf("table has %d rows, want 3", at.NumRows())
	}
}

// TestEvolveRetriesOnConflict: two sink instances add the same new column at the same moment,
// each from the table as it read it; the one whose commit conflicts reloads and finds the
// column there.
func TestEvolveRetriesOnConflict(t *testing.T) {
	cfg, _ := commitCfg(t)
	cat, err := OpenCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCatalog(cat)
	ctx := context.Background()
	codec := newTestCodec(t, "t.")
	k, _ := codec.Catalogue().Kind(events.TypeOrderCreated)
	v1 := k.Schema.(*avro.RecordSchema)
	sc, spec, err := eventSchema(v1)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := createTable(ctx, cat, orderCreated, sc, spec, tableProperties("g", Offsets{}))
	if err != nil {
		t.Fatal(err)
	}
	v2, err := avro.NewRecordSchema(v1.Name(), v1.Namespace(), append(slices.Clone(v1.Fields()),
		mustField(t, "gift_message", avro.NewNullSchema(), avro.NewPrimitiveSchema(avro.String, nil))))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := eventSchema(v2)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := evolve(ctx, cat, tbl, want) // both from the same, older table
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	fresh, err := cat.LoadTable(ctx, orderCreated)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fresh.Schema().FindFieldByName("gift_message"); !ok {
		t.Fatal("no gift_message column")
	}
}

func mustField(t *testing.T, name string, types ...avro.Schema) *avro.Field {
	t.Helper()
	u, err := avro.NewUnionSchema(types)
	if err != nil {
		t.Fatal(err)
	}
	f, err := avro.NewField(name, u, avro.WithDefault(nil))
	if err != nil {
		t.Fatal(err)
	}
	return f
}
