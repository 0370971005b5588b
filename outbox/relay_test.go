package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/outbox"
	"github.com/storeline/storeline/testkit"
)

// writeRows writes n single-record commands concurrently from several writers; each record's
// value is its writer and sequence, its key one of a few aggregates.
func writeRows(t *testing.T, pool *pgxpool.Pool, prefix string, writers, perWriter int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				tx, err := pool.Begin(context.Background())
				if err != nil {
					errs <- err
					return
				}
				key := "agg-" + strconv.Itoa((w*perWriter+i)%7)
				rec := &kgo.Record{Topic: prefix + "publication", Key: []byte(key), Value: fmt.Appendf(nil, "%d/%d", w, i),
					Headers: []kgo.RecordHeader{{Key: "event_id", Value: fmt.Appendf(nil, "%d/%d", w, i)}}}
				if _, _, err := outbox.Write(context.Background(), tx, prefix, []*kgo.Record{rec}); err != nil {
					errs <- err
					return
				}
				if err := tx.Commit(context.Background()); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// readAll reads the topic (read committed) until it holds want records or the deadline passes.
func readAll(t *testing.T, brokers []string, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(out) < want && ctx.Err() == nil {
		f := cl.PollFetches(ctx)
		out = append(out, f.Records()...)
	}
	// Anything beyond want would be a duplicate: give it a moment to show.
	extra, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel2()
	out = append(out, cl.PollFetches(extra).Records()...)
	return out
}

// TestRelayPublishesEveryRowOnceInOrderAcrossRestarts stops the relay at random moments while
// commands keep committing, and checks the log: every row exactly once, each key's rows in the
// order they committed, and every row's position recorded in the outbox.
func TestRelayPublishesEveryRowOnceInOrderAcrossRestarts(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	brokers := testkit.Brokers(t)
	prefix := testkit.FreshTopicPrefix(t, 3, "publication") // the relay makes its checkpoint topic
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	const writers, perWriter = 4, 150
	done := make(chan struct{})
	go func() {
		defer close(done)
		writeRows(t, pool, prefix, writers, perWriter)
	}()
	// Ten relay terms of random length while the writers write, then one until the end.
	for term := 0; term < 10; term++ {
		ctx, cancel := context.WithCancel(context.Background())
		relay := outbox.NewRelay(outbox.RelayConfig{Brokers: brokers, TopicPrefix: prefix, BatchSize: 25, Poll: 50 * time.Millisecond}, pool, nil, log)
		stopped := make(chan struct{})
		go func() { defer close(stopped); _ = relay.Run(ctx) }()
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond) // a random moment to stop at, not a synchronisation
		cancel()
		<-stopped
	}
	<-done
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay := outbox.NewRelay(outbox.RelayConfig{Brokers: brokers, TopicPrefix: prefix, BatchSize: 25, Poll: 50 * time.Millisecond}, pool, nil, log)
	go func() { _ = relay.Run(ctx) }()

	total := writers * perWriter
	testkit.WaitFor(t, 60*time.Second, "every outbox row published", func() error {
		n, err := outbox.Unpublished(context.Background(), pool)
		if err != nil || n > 0 {
			return fmt.Errorf("%d unpublished (%v)", n, err)
		}
		return nil
	})
	recs := readAll(t, brokers, prefix+"publication", total)
	if len(recs) != total {
		t.Fatalf("log holds %d records, want %d", len(recs), total)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[string(r.Value)] {
			t.Fatalf("record %s twice", r.Value)
		}
		seen[string(r.Value)] = true
	}
	// Per key, the log's order is the outbox's id order, and the recorded positions match.
	rows, err := pool.Query(context.Background(), `SELECT id, record_value, published_partition, published_offset FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	at := map[string][2]int64{}
	for _, r := range recs {
		at[string(r.Value)] = [2]int64{int64(r.Partition), r.Offset}
	}
	lastOffset := map[int64]int64{}
	for rows.Next() {
		var id, offset int64
		var part int32
		var value []byte
		if err := rows.Scan(&id, &value, &part, &offset); err != nil {
			t.Fatal(err)
		}
		got := at[string(value)]
		if got != [2]int64{int64(part), offset} {
			t.Fatalf("row %d recorded at %d/%d, the log has it at %d/%d", id, part, offset, got[0], got[1])
		}
		if prev, ok := lastOffset[int64(part)]; ok && offset <= prev {
			t.Fatalf("row %d at offset %d of partition %d, before an earlier row's %d", id, offset, part, prev)
		}
		lastOffset[int64(part)] = offset
	}
}

// TestRelayTakesWhatIsPublishedFromTheLog: a relay that committed a batch to Kafka but died
// before recording it in Postgres must not publish it again: the checkpoint committed with the
// batch says it is out, and the next relay fills in where its records landed.
func TestRelayTakesWhatIsPublishedFromTheLog(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	brokers := testkit.Brokers(t)
	prefix := testkit.FreshTopicPrefix(t, 3, "publication")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := outbox.RelayConfig{Brokers: brokers, TopicPrefix: prefix, Poll: 50 * time.Millisecond}
	run := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = outbox.NewRelay(cfg, pool, nil, log).Run(ctx) }()
		return func() { cancel(); <-done }
	}
	published := func() error {
		n, err := outbox.Unpublished(context.Background(), pool)
		if err != nil || n > 0 {
			return fmt.Errorf("%d unpublished (%v)", n, err)
		}
		return nil
	}

	writeRows(t, pool, prefix, 1, 30)
	stop := run()
	testkit.WaitFor(t, 30*time.Second, "the first rows published", published)
	stop()
	// As if the relay had died between its Kafka commit and its Postgres update.
	if _, err := pool.Exec(context.Background(), `UPDATE outbox SET published_at = NULL, published_partition = NULL, published_offset = NULL WHERE id > 10`); err != nil {
		t.Fatal(err)
	}
	writeRows(t, pool, prefix, 1, 5)
	stop = run()
	defer stop()
	testkit.WaitFor(t, 30*time.Second, "every row published", published)
	recs := readAll(t, brokers, prefix+"publication", 35)
	if len(recs) != 35 {
		t.Fatalf("log holds %d records, want 35 (30 + 5, none again)", len(recs))
	}
	var unplaced int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE published_offset IS NULL`).Scan(&unplaced); err != nil || unplaced != 0 {
		t.Fatalf("%d rows without their place in the log (%v)", unplaced, err)
	}
}

// TestRelayRefusesACheckpointTopicOfSeveralPartitions: a checkpoint written to a partition the
// relay does not read would be lost, and its batches published again.
func TestRelayRefusesACheckpointTopicOfSeveralPartitions(t *testing.T) {
	testkit.Integration(t)
	pool := testkit.FreshDatabase(t)
	prefix := testkit.FreshTopicPrefix(t, 3, "publication", "_storeline_outbox")
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = outbox.NewRelay(outbox.RelayConfig{Brokers: testkit.Brokers(t), TopicPrefix: prefix}, pool, nil, log).Run(ctx)
	}()
	defer func() { cancel(); <-done }()
	testkit.WaitFor(t, 30*time.Second, "the relay to refuse the topic", func() error {
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(logs.String(), "must have exactly 1") {
			return fmt.Errorf("logs: %s", logs.String())
		}
		return nil
	})
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
