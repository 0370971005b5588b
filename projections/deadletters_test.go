package projections_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// poisonable records every event it applies, and refuses (as bad data) the events whose ids
// are poisoned, until they are cured.
type poisonable struct {
	mu       sync.Mutex
	poisoned map[string]bool
}

func (*poisonable) Name() string     { return "poisontest" }
func (*poisonable) Topics() []string { return []string{events.TopicCommerce} }
func (p *poisonable) Apply(ctx context.Context, tx pgx.Tx, batch []projections.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range batch {
		id := r.Event.Meta().EventID
		if p.poisoned[id] {
			return projections.Permanent(fmt.Errorf("event %s is poison", id))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO poison_seen (event_id, "offset") VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, r.Offset); err != nil {
			return err
		}
	}
	return nil
}

func (p *poisonable) cure() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.poisoned)
}

// TestAPoisonRecordIsDeadLetteredAndReplayedAfterTheFix: a record whose handler keeps failing in
// the middle of the topic goes to the dead-letter topic with its reason, the projection applies
// every other record, and after the fix `dlq replay` applies it.
func TestAPoisonRecordIsDeadLetteredAndReplayedAfterTheFix(t *testing.T) {
	proj := &poisonable{poisoned: map[string]bool{}}
	e := projectiontest.Setup(t, proj)
	if _, err := e.Pool.Exec(context.Background(), `CREATE TABLE poison_seen (event_id text PRIMARY KEY, "offset" bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	kind, _ := cat.Kind(events.TypeOrderCreated)
	var evs []events.Event
	for i := range 60 {
		evs = append(evs, eventstest.Sample(kind, i+1))
	}
	poison := evs[31].Meta().EventID
	proj.poisoned[poison] = true
	e.AppendMany(t, evs)
	reg := prometheus.NewRegistry()
	e.Start(t, 25, reg)
	e.WaitApplied(t, 60*time.Second)
	testkit.WaitFor(t, 10*time.Second, "the dead-letter depth and a lag of 0", func() error {
		if v := gauge(t, reg, "storeline_projection_dead_letters_pending", nil); v != 1 {
			return fmt.Errorf("dead letters pending %v", v)
		}
		if v := gauge(t, reg, "storeline_projection_lag", map[string]string{"partition": "0"}); v != 0 {
			return fmt.Errorf("lag %v", v)
		}
		if v := gauge(t, reg, "storeline_projection_oldest_unprocessed_seconds", nil); v != 0 {
			return fmt.Errorf("oldest unprocessed %v s while caught up", v)
		}
		return nil
	})

	var seen int
	if err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM poison_seen`).Scan(&seen); err != nil || seen != 59 {
		t.Fatalf("%d events applied (%v), want the 59 healthy ones", seen, err)
	}
	dead, err := projections.ListDeadLetters(context.Background(), e.Pool, projections.DeadLetterFilter{Consumer: "projection:poisontest"})
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].EventID == nil || *dead[0].EventID != poison || dead[0].Reason != "handler_failed" ||
		dead[0].State != "pending" || dead[0].DLQTopic != e.Prefix+"commerce.dlq" {
		t.Fatalf("dead letters %+v, want the poison record, pending", dead)
	}

	// Not fixed yet: the replay fails and the dead letter stays pending.
	id := dead[0].ID()
	if err := projections.ReplayDeadLetter(context.Background(), e.Pool, e.Brokers, e.Codec, proj, e.Prefix, id, "test"); err == nil {
		t.Fatal("a replay before the fix succeeded")
	}
	proj.cure()
	if err := projections.ReplayDeadLetter(context.Background(), e.Pool, e.Brokers, e.Codec, proj, e.Prefix, id, "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM poison_seen WHERE event_id = $1`, poison).Scan(&seen); err != nil || seen != 1 {
		t.Fatalf("the replayed event applied %d times (%v)", seen, err)
	}
	d, err := projections.GetDeadLetter(context.Background(), e.Pool, id)
	if err != nil || d.State != "replayed" || d.ResolvedBy == nil || *d.ResolvedBy != "test" {
		t.Fatalf("after replay: %+v, %v", d, err)
	}
	if err := projections.ReplayDeadLetter(context.Background(), e.Pool, e.Brokers, e.Codec, proj, e.Prefix, id, "test"); err == nil {
		t.Error("a dead letter was replayed twice")
	}
	if err := projections.DiscardDeadLetter(context.Background(), e.Pool, id, "test", ""); !errors.Is(err, projections.ErrNoDeadLetter) {
		t.Errorf("discarding a replayed dead letter: %v", err)
	}
}

// TestAnOutageStallsInsteadOfDeadLettering: a failure that is not the records' fault (here a
// missing table, as a broken deployment would have) is retried; nothing is dead-lettered, and
// once it is repaired every record is applied.
func TestAnOutageStallsInsteadOfDeadLettering(t *testing.T) {
	testkit.Integration(t)
	proj := &poisonable{poisoned: map[string]bool{}}
	e := projectiontest.Setup(t, proj)
	cat, _ := events.LoadCatalogue()
	kind, _ := cat.Kind(events.TypeOrderCreated)
	var evs []events.Event
	for i := range 10 {
		evs = append(evs, eventstest.Sample(kind, i+1))
	}
	e.AppendMany(t, evs)
	reg := prometheus.NewRegistry()
	e.Start(t, 5, reg)
	// The table appears only later: until then every batch fails with "undefined table", more
	// often than a record's fault would be tried before dead-lettering.
	testkit.WaitFor(t, 60*time.Second, "failed attempts", func() error {
		mfs, err := reg.Gather()
		if err != nil {
			return err
		}
		for _, mf := range mfs {
			if mf.GetName() == "storeline_projection_batch_failures_total" && mf.GetMetric()[0].GetCounter().GetValue() > 4 {
				return nil
			}
		}
		return fmt.Errorf("not enough failed attempts yet")
	})
	var n int
	if err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM projection_checkpoints WHERE projection = 'poisontest'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("checkpoints %d (%v): the projection went on while its table was missing", n, err)
	}
	if v := gauge(t, reg, "storeline_projection_oldest_unprocessed_seconds", nil); v <= 0 {
		t.Errorf("oldest unprocessed %v s while stalled, want the waiting records' age", v)
	}
	if _, err := e.Pool.Exec(context.Background(), `CREATE TABLE poison_seen (event_id text PRIMARY KEY, "offset" bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	e.WaitApplied(t, 60*time.Second)
	var seen, dead int
	_ = e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM poison_seen`).Scan(&seen)
	_ = e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM dead_letters`).Scan(&dead)
	if seen != 10 || dead != 0 {
		t.Fatalf("%d applied, %d dead-lettered; want 10 and 0", seen, dead)
	}
}

// gauge reads a gauge of reg whose labels include labels.
func gauge(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == k && l.GetValue() == v
				}
				if !found {
					continue metric
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
