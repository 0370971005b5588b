package icebergsink

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/testkit"
)

// committer is a Sink reduced to its commit path, on a real catalog and dedup store.
func newCommitter(t *testing.T, cfg Config, pool *pgxpool.Pool) *Sink {
	t.Helper()
	cfg.KafkaOpts = []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")} // never dialled
	s, err := New(cfg, newTestCodec(t, "t."), dedup.NewStore(pool), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := OpenCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeCatalog(cat) })
	if _, err := EnsureOrdersTable(context.Background(), cat); err != nil {
		t.Fatal(err)
	}
	s.cat = cat
	s.committed = Offsets{}
	return s
}

// batchOf builds a batch of orders from..to-1 read from one partition at offsets from..to-1.
func batchOf(t *testing.T, topic string, partition int32, from, to int) batch {
	t.Helper()
	b := newBatch()
	for n := from; n < to; n++ {
		row, err := newOrderRow(testOrder(int(partition)*1000+n), source{Topic: topic, Partition: partition, Offset: int64(n), Timestamp: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		b.rows = append(b.rows, row)
		b.next.Set(topic, partition, int64(n+1))
		b.records++
	}
	return b
}

func commitCfg(t *testing.T) (Config, *pgxpool.Pool) {
	testkit.Integration(t)
	url := testkit.FreshDatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return Config{Warehouse: t.TempDir(), CatalogURL: url, Group: "g"}, pool
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
		batches := make([]batch, rounds)
		for r := range batches {
			batches[r] = batchOf(t, "commerce", p, r*per, (r+1)*per)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r, b := range batches {
				s.mu.Lock()
				ok, err := s.commit(context.Background(), &b)
				if ok {
					s.committed = s.committed.Overlay(b.next)
				}
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
	tbl, err := cat.LoadTable(context.Background(), OrdersIdent)
	if err != nil {
		t.Fatal(err)
	}
	offs, err := CommittedOffsets(tbl.Metadata(), "g")
	if err != nil {
		t.Fatal(err)
	}
	if want := (Offsets{"commerce": {0: rounds * per, 1: rounds * per}}); offs.Encode() != want.Encode() {
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

	b := batchOf(t, "commerce", 0, 0, 10)
	if ok, err := newOwner.commit(context.Background(), &b); !ok || err != nil {
		t.Fatalf("new owner's commit: %v %v", ok, err)
	}
	stale := batchOf(t, "commerce", 0, 0, 7) // the zombie also started at the beginning
	ok, err := zombie.commit(context.Background(), &stale)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatal("the zombie's batch was committed")
	}
	tbl, err := zombie.cat.LoadTable(context.Background(), OrdersIdent)
	if err != nil {
		t.Fatal(err)
	}
	offs, _ := CommittedOffsets(tbl.Metadata(), "g")
	if got, _ := offs.Get("commerce", 0); got != 10 {
		t.Fatalf("offset = %d, want the new owner's 10", got)
	}
	if n := len(tbl.Metadata().Snapshots()); n != 1 {
		t.Fatalf("%d snapshots, want 1", n)
	}
}

// TestCommitOfSkippedRecordsAdvancesOffsets: a batch whose records all were skipped (duplicates
// here) still commits its offsets, in a snapshot without files.
func TestCommitOfSkippedRecordsAdvancesOffsets(t *testing.T) {
	cfg, pool := commitCfg(t)
	s := newCommitter(t, cfg, pool)
	b := batchOf(t, "commerce", 0, 0, 3)
	if ok, err := s.commit(context.Background(), &b); !ok || err != nil {
		t.Fatalf("first commit: %v %v", ok, err)
	}
	s.committed = s.committed.Overlay(b.next)
	// The same three events again at later offsets: redeliveries.
	again := newBatch()
	for i, r := range b.rows {
		r.src.Offset = int64(3 + i)
		again.rows = append(again.rows, r)
		again.next.Set("commerce", 0, int64(4+i))
		again.records++
	}
	if ok, err := s.commit(context.Background(), &again); !ok || err != nil {
		t.Fatalf("second commit: %v %v", ok, err)
	}
	tbl, err := s.cat.LoadTable(context.Background(), OrdersIdent)
	if err != nil {
		t.Fatal(err)
	}
	offs, _ := CommittedOffsets(tbl.Metadata(), "g")
	if got, _ := offs.Get("commerce", 0); got != 6 {
		t.Fatalf("offset = %d, want 6", got)
	}
	snap := tbl.CurrentSnapshot()
	if snap.Summary.Properties["added-data-files"] != "" && snap.Summary.Properties["added-data-files"] != "0" {
		t.Fatalf("skip-only snapshot added files: %v", snap.Summary.Properties)
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

// TestEnsureTableAddsMissingColumns: a table created by an older sink, without the metadata
// columns, gains them (as optional columns) and takes the new sink's rows.
func TestEnsureTableAddsMissingColumns(t *testing.T) {
	cfg, pool := commitCfg(t)
	cat, err := OpenCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeCatalog(cat)
	var old []iceberg.NestedField
	for _, f := range OrdersSchema().Fields() {
		if f.Name != colSchemaID && f.Name != colIngestedAt {
			old = append(old, f)
		}
	}
	if err := cat.CreateNamespace(context.Background(), table.Identifier{Namespace}, nil); err != nil {
		t.Fatal(err)
	}
	spec := ordersSpec()
	if _, err := cat.CreateTable(context.Background(), OrdersIdent, iceberg.NewSchema(0, old...), catalog.WithPartitionSpec(&spec)); err != nil {
		t.Fatal(err)
	}

	s := newCommitter(t, cfg, pool) // ensures the table
	tbl, err := s.cat.LoadTable(context.Background(), OrdersIdent)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{colSchemaID, colIngestedAt} {
		f, ok := tbl.Schema().FindFieldByName(name)
		if !ok || f.Required {
			t.Fatalf("column %s after ensure: %+v %v, want an optional column", name, f, ok)
		}
	}
	b := batchOf(t, "commerce", 0, 0, 2)
	if ok, err := s.commit(context.Background(), &b); !ok || err != nil {
		t.Fatalf("commit: %v %v", ok, err)
	}
	if tbl, err = s.cat.LoadTable(context.Background(), OrdersIdent); err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	if at.NumRows() != 2 {
		t.Fatalf("%d rows, want 2", at.NumRows())
	}
	col := at.Column(at.Schema().FieldIndices(colIngestedAt)[0])
	if col.NullN() != 0 {
		t.Fatalf("%s has %d nulls", colIngestedAt, col.NullN())
	}
}
