package projectiontest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/testkit"
)

// Suite is what a projection gives the conformance suite every projection passes.
type Suite struct {
	Projection projections.Projection
	// History returns a history of events to fold, in the order they happened; the same call
	// returns the same events.
	History func() []events.Event
	// Snapshot renders the whole read model as text in a stable order, leaving out what may
	// differ between runs of the same history (projected_at, ...).
	Snapshot func(ctx context.Context, pool *pgxpool.Pool) (string, error)
	// OrderedPerKey says the projection relies on the order Kafka keeps: the events of one
	// record key (one aggregate) in the order they were produced. Events storeline decides
	// itself (the publication topic, written through the outbox) come so; Shopify's webhooks do
	// not, and a projection of them must fold a history shuffled whole. With it, "out of order"
	// interleaves the keys at random but keeps each key's events in order.
	OrderedPerKey bool
}

// Conformance checks that s's projection folds the same history into the same read model
// however the log delivers it and whatever happens to the projector: in order; with every
// event twice; out of order; stopped and restarted at random moments; with a poison record in
// the middle (dead-lettered, the rest applied); and rebuilt from the log in one go after being
// folded in chunks.
func Conformance(t *testing.T, s Suite) {
	testkit.Integration(t)
	history := s.History()
	if len(history) < 10 {
		t.Fatalf("the suite needs a history of at least 10 events, got %d", len(history))
	}
	reference := func() string {
		e := Setup(t, s.Projection)
		e.AppendMany(t, history)
		stop := e.Start(t, 0, nil)
		e.WaitApplied(t, time.Minute)
		stop()
		return e.snapshot(t, s)
	}()

	t.Run("duplicates", func(t *testing.T) {
		e := Setup(t, s.Projection)
		e.AppendMany(t, append(slices.Clone(history), history...))
		e.Start(t, 7, nil)
		e.WaitApplied(t, time.Minute)
		e.same(t, s, reference)
	})
	t.Run("out of order", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		e := Setup(t, s.Projection)
		shuffled := slices.Clone(history)
		if s.OrderedPerKey {
			shuffled = interleave(t, e, history, rng)
		} else {
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		}
		e.AppendMany(t, shuffled)
		e.Start(t, 5, nil)
		e.WaitApplied(t, time.Minute)
		e.same(t, s, reference)
	})
	t.Run("resume after crash", func(t *testing.T) {
		e := Setup(t, s.Projection)
		e.AppendMany(t, history)
		rng := rand.New(rand.NewPCG(3, 4))
		// Stopped (its batch in hand abandoned mid-way, as a crash would) and started again,
		// at random points of the fold.
		for range 5 {
			stop := e.Start(t, 3, nil)
			testkit.WaitFor(t, time.Minute, "some progress", func() error {
				if e.applied(t) == 0 {
					return fmt.Errorf("nothing applied yet")
				}
				return nil
			})
			time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // a random moment, not a synchronisation
			stop()
		}
		e.Start(t, 3, nil)
		e.WaitApplied(t, time.Minute)
		e.same(t, s, reference)
	})
	t.Run("poison record", func(t *testing.T) {
		e := Setup(t, s.Projection)
		half := len(history) / 2
		e.AppendMany(t, history[:half])
		e.AppendRaw(t, s.Projection.Topics()[0], []byte("not an event"))
		e.AppendMany(t, history[half:])
		e.Start(t, 4, nil)
		e.WaitApplied(t, time.Minute)
		e.same(t, s, reference)
		var dead int
		if err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM dead_letters WHERE consumer = $1 AND reason = 'undecodable'`,
			"projection:"+s.Projection.Name()).Scan(&dead); err != nil || dead != 1 {
			t.Fatalf("%d dead letters (%v), want the poison record", dead, err)
		}
	})
	t.Run("rebuild", func(t *testing.T) {
		// Folded as the log grew, in three chunks, then rebuilt from the log into an empty
		// read model: the same.
		e := Setup(t, s.Projection)
		stop := e.Start(t, 0, nil)
		for _, chunk := range [][]events.Event{history[:len(history)/3], history[len(history)/3 : 2*len(history)/3], history[2*len(history)/3:]} {
			e.AppendMany(t, chunk)
			e.WaitApplied(t, time.Minute)
		}
		stop()
		e.same(t, s, reference)
		rebuilt := &Env{Pool: testkit.FreshDatabase(t), Codec: e.Codec, Producer: e.Producer, Brokers: e.Brokers, Prefix: e.Prefix, Produced: e.Produced, proj: e.proj}
		rebuilt.Start(t, 0, nil)
		rebuilt.WaitApplied(t, time.Minute)
		rebuilt.same(t, s, reference)
	})
}

// interleave is history with its keys' events interleaved at random, each key's in order.
func interleave(t testing.TB, e *Env, history []events.Event, rng *rand.Rand) []events.Event {
	var keys []string
	byKey := map[string][]events.Event{}
	for _, ev := range history {
		rec, err := e.Codec.Record(ev, "")
		if err != nil {
			t.Fatal(err)
		}
		k := string(rec.Key)
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], ev)
	}
	out := make([]events.Event, 0, len(history))
	for len(keys) > 0 {
		i := rng.IntN(len(keys))
		out = append(out, byKey[keys[i]][0])
		if byKey[keys[i]] = byKey[keys[i]][1:]; len(byKey[keys[i]]) == 0 {
			keys = slices.Delete(keys, i, i+1)
		}
	}
	if slices.Equal(out, history) {
		t.Fatal("the interleaving is the history itself: the history needs more keys")
	}
	return out
}

// AppendRaw writes a record that is not an event (a poison record) to the unprefixed topic.
func (e *Env) AppendRaw(t testing.TB, topic string, value []byte) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: e.Prefix + topic, Key: []byte("poison"), Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	e.Produced++
}

func (e *Env) applied(t testing.TB) int64 {
	var sum int64
	if err := e.Pool.QueryRow(context.Background(), `SELECT COALESCE(SUM(next_offset),0) FROM projection_checkpoints WHERE projection = $1`,
		e.proj.Name()).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

func (e *Env) snapshot(t testing.TB, s Suite) string {
	t.Helper()
	snap, err := s.Snapshot(context.Background(), e.Pool)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func (e *Env) same(t testing.TB, s Suite, reference string) {
	t.Helper()
	got := e.snapshot(t, s)
	if got == reference {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(reference, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("the read model differs from the in-order fold at line %d:\n got  %s\n want %s", i+1, gl, wl)
		}
	}
}

// Tables is a Snapshot of whole tables: every row as JSON (without projected_at, the time of the
// fold, and without the columns in ignore), each table in the order given by its ORDER BY.
func Tables(orderBy map[string]string, ignore ...string) func(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	drop := " - 'projected_at'"
	for _, c := range ignore {
		drop += " - '" + strings.ReplaceAll(c, "'", "") + "'"
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range orderBy {
			if !yield(k) {
				return
			}
		}
	})
	return func(ctx context.Context, pool *pgxpool.Pool) (string, error) {
		var out string
		for _, table := range names {
			var rows string
			// The names come from the test's own map, never from input.
			err := pool.QueryRow(ctx, `SELECT coalesce(string_agg((to_jsonb(t)`+drop+`)::text, E'\n' ORDER BY `+orderBy[table]+`), '')
FROM `+table+` t`).Scan(&rows)
			if err != nil {
				return "", fmt.Errorf("snapshot %s: %w", table, err)
			}
			out += "== " + table + "\n" + rows + "\n"
		}
		return out, nil
	}
}
