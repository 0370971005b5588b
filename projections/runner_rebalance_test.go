package projections_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/projectiontest"
	"github.com/storeline/storeline/testkit"
)

// tally counts, per event, how often it was applied and by which member.
type tally struct{ member string }

func (tally) Name() string     { return "tallytest" }
func (tally) Topics() []string { return []string{events.TopicCommerce} }
func (p tally) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	time.Sleep(20 * time.Millisecond) // slow batches: the runner polls ahead all the time
	for _, r := range batch {
		if _, err := tx.Exec(ctx, `INSERT INTO tally_seen (event_id, member, n) VALUES ($1, $2, 1)
ON CONFLICT (event_id) DO UPDATE SET n = tally_seen.n + 1`, r.Event.Meta().EventID, p.member); err != nil {
			return err
		}
	}
	return nil
}

// TestRebalancesWhilePollingAhead: members join and leave a projection's group while its runner
// polls the next batch ahead of applying the current one. The rebalances go through (the new
// member gets partitions while the first is busy), and every record is applied exactly once.
func TestRebalancesWhilePollingAhead(t *testing.T) {
	e := projectiontest.Setup(t, tally{"a"})
	ctx := context.Background()
	if _, err := e.Pool.Exec(ctx, `CREATE TABLE tally_seen (event_id text PRIMARY KEY, member text NOT NULL, n int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	kind, _ := cat.Kind(events.TypeOrderCreated)
	var evs []events.Event
	for i := range 1200 {
		evs = append(evs, eventstest.Sample(kind, i+1))
	}
	e.AppendMany(t, evs)
	start := func(member string) (stop func()) {
		runCtx, cancel := context.WithCancel(ctx)
		r := projections.NewRunner(projections.Config{Brokers: e.Brokers, TopicPrefix: e.Prefix, MaxBatch: 10, WatchInterval: time.Second},
			tally{member}, e.Pool, e.Codec, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		done := make(chan error, 1)
		go func() { done <- r.Run(runCtx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("runner %s: %v", member, err)
			}
		}
	}
	applied := func(member string) func() error {
		return func() error {
			var n int
			if err := e.Pool.QueryRow(ctx, `SELECT count(*) FROM tally_seen WHERE member = $1`, member).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return errNone
			}
			return nil
		}
	}
	stopA := start("a")
	testkit.WaitFor(t, 30*time.Second, "a to apply records", applied("a"))
	stopB := start("b")
	defer stopB()
	testkit.WaitFor(t, 30*time.Second, "b, joining, to get partitions and apply records", applied("b"))
	stopA()
	e.WaitApplied(t, 60*time.Second)

	var total, twice int
	if err := e.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE n <> 1) FROM tally_seen`).Scan(&total, &twice); err != nil {
		t.Fatal(err)
	}
	if total != len(evs) || twice != 0 {
		t.Errorf("%d of %d events applied, %d of them more than once", total, len(evs), twice)
	}
}

var errNone = errors.New("none yet")
