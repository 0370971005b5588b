// Package projectiontest is the harness the read-model projections' integration tests share: a
// fresh database and fresh topics on the test Kafka, a producer, the projection's runner, and a
// wait for its checkpoints to cover what was produced.
package projectiontest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/testkit"
)

// Env is one projection under test with its database, topics and producer.
type Env struct {
	Pool     *pgxpool.Pool
	Codec    *events.Codec
	Producer *eventlog.Producer
	Brokers  []string
	Prefix   string
	Produced int64 // records appended so far
	proj     projections.Projection
}

// Setup returns a fresh Env for proj (skipped outside the integration tier).
func Setup(t testing.TB, proj projections.Projection) *Env {
	testkit.Integration(t)
	e := &Env{Pool: testkit.FreshDatabase(t), Brokers: testkit.Brokers(t), proj: proj}
	e.Prefix = testkit.FreshTopicPrefix(t, 3, topics(proj)...)
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	if e.Codec, err = events.NewCodec(context.Background(), cat, testkit.Registry(t, e.Prefix), e.Prefix); err != nil {
		t.Fatal(err)
	}
	if e.Producer, err = eventlog.NewProducer(e.Brokers, e.Codec, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Producer.Close)
	return e
}

// topics are the topics a test of proj needs: commerce and sync (which every test so far
// appends to), and proj's own topics, each with its dead-letter topic.
func topics(proj projections.Projection) []string {
	out := []string{events.TopicCommerce, events.TopicCommerce + deadletter.Suffix, events.TopicSync}
	for _, t := range proj.Topics() {
		for _, name := range []string{t, t + deadletter.Suffix} {
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// Append writes events to the log in the order given, one at a time.
func (e *Env) Append(t testing.TB, evs ...events.Event) {
	t.Helper()
	for _, ev := range evs {
		if _, err := e.Producer.Append(context.Background(), ev, ""); err != nil {
			t.Fatal(err)
		}
		e.Produced++
	}
}

// AppendMany writes events in one go (per key in the order given): for large volumes.
func (e *Env) AppendMany(t testing.TB, evs []events.Event) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.MaxBufferedRecords(len(evs)+1), kgo.ProducerBatchMaxBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(evs))
	for i, ev := range evs {
		if recs[i], err = e.Codec.Record(ev, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	e.Produced += int64(len(evs))
}

// Start runs the projection with at most maxBatch records per transaction (0: the default)
// until the returned stop is called; its metrics go to reg.
func (e *Env) Start(t testing.TB, maxBatch int, reg prometheus.Registerer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	r := projections.NewRunner(projections.Config{Brokers: e.Brokers, TopicPrefix: e.Prefix, MaxBatch: maxBatch, WatchInterval: 200 * time.Millisecond},
		e.proj, e.Pool, e.Codec, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runner: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// WaitApplied waits until the projection's checkpoints cover every record appended so far.
func (e *Env) WaitApplied(t testing.TB, timeout time.Duration) {
	t.Helper()
	testkit.WaitFor(t, timeout, fmt.Sprintf("checkpoints to cover %d records", e.Produced), func() error {
		var sum int64
		if err := e.Pool.QueryRow(context.Background(),
			`SELECT COALESCE(SUM(next_offset),0) FROM projection_checkpoints WHERE projection = $1`, e.proj.Name()).Scan(&sum); err != nil {
			return err
		}
		if sum != e.Produced {
			return fmt.Errorf("checkpoints sum to %d", sum)
		}
		return nil
	})
}
