package orders_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/testkit"
)

// orderEvent is an OrderCreated of order id at a given update time, totalling <id>.50, with one
// line of 2 × 5.25.
func orderEvent(t *testing.T, id int64, eventID string, updated time.Time) events.Event {
	t.Helper()
	o := newOrder(id, updated, newLine(id*10, 2, "5.25"))
	o.TotalPrice = money(fmt.Sprintf("%d.50", id))
	return webhook(events.TypeOrderCreated, o, eventID)
}

func (e *env) waitCount(t *testing.T, want int64) {
	t.Helper()
	reader := orders.NewReader(e.Pool)
	testkit.WaitFor(t, 30*time.Second, fmt.Sprintf("%d orders", want), func() error {
		n, err := reader.Count(context.Background())
		if err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("have %d orders", n)
		}
		return nil
	})
}

func TestProjectionFoldsOrdersIdempotentlyAndNewestWins(t *testing.T) {
	e := setup(t)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	newer := orderEvent(t, 1001, "e-new", t0.Add(time.Hour))
	older := orderEvent(t, 1001, "e-old", t0) // arrives late: must not win
	e.Append(t, newer, newer, older, orderEvent(t, 1002, "e-2", t0))
	e.Start(t, 0, nil)
	e.waitCount(t, 2)
	// The checkpoint passing the last record proves every record (duplicate, late) was applied.
	testkit.WaitFor(t, 30*time.Second, "checkpoints to cover the 4 records", func() error {
		var sum int64
		if err := e.Pool.QueryRow(context.Background(), `SELECT COALESCE(SUM(next_offset),0) FROM projection_checkpoints WHERE projection='orders'`).Scan(&sum); err != nil {
			return err
		}
		if sum != 4 {
			return fmt.Errorf("checkpoints sum to %d", sum)
		}
		return nil
	})
	o, err := orders.NewReader(e.Pool).Order(context.Background(), 1001)
	if err != nil {
		t.Fatal(err)
	}
	if !o.UpdatedAt.Equal(t0.Add(time.Hour)) || o.TotalPrice != "1001.5" || len(o.LineItems) != 1 || o.LineItems[0].Price != "5.25" || o.LineItems[0].Quantity != 2 {
		t.Errorf("order 1001 = %+v", o)
	}
	want := new(big.Rat).SetFrac64(10015, 10)
	if got, _ := new(big.Rat).SetString(o.TotalPrice); got.Cmp(want) != 0 {
		t.Errorf("total %s", o.TotalPrice)
	}
}

func TestProjectionResumesFromItsCheckpoints(t *testing.T) {
	e := setup(t)
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range int64(20) {
		e.Append(t, orderEvent(t, 2000+i, fmt.Sprint("a", i), t0))
	}
	stop := e.Start(t, 0, nil)
	e.waitCount(t, 20)
	stop()
	for i := range int64(10) {
		e.Append(t, orderEvent(t, 3000+i, fmt.Sprint("b", i), t0))
	}
	// The read model alone cannot show a replay (replayed upserts change nothing), so count the
	// records the second run applied: exactly the 10 new ones.
	reg := prometheus.NewRegistry()
	e.Start(t, 0, reg)
	e.waitCount(t, 30)
	// The counter moves just after the commit that made the rows visible.
	testkit.WaitFor(t, 10*time.Second, "the applied-records counter", func() error {
		if n := counterValue(t, reg, "storeline_projection_events_total"); n < 10 {
			return fmt.Errorf("counter at %v", n)
		}
		return nil
	})
	if applied := counterValue(t, reg, "storeline_projection_events_total"); applied != 10 {
		t.Errorf("the restarted projection applied %v records, want the 10 new ones", applied)
	}
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestPoisonRecordsAreDeadLetteredAndTheProjectionGoesOn: bytes that are not our wire format and
// a record naming a schema id the registry does not have land in commerce.dlq with the reason
// and their origin; the orders around them are applied.
func TestPoisonRecordsAreDeadLetteredAndTheProjectionGoesOn(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	first := orderEvent(t, 4001, "p-1", t0)
	good, err := e.Codec.Encode(first)
	if err != nil {
		t.Fatal(err)
	}
	unknownID := append([]byte{0, 0x7f, 0xff, 0xff, 0x00}, good[5:]...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...), kgo.DefaultProduceTopic(e.Prefix+events.TopicCommerce),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(v []byte) {
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("k"), Value: v, Partition: 0}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(good)
	produce([]byte(`{"not": "avro"}`))
	produce(unknownID)
	second, err := e.Codec.Encode(orderEvent(t, 4002, "p-2", t0))
	if err != nil {
		t.Fatal(err)
	}
	produce(second)
	e.Start(t, 0, nil)
	e.waitCount(t, 2)

	dlq, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeTopics(e.Prefix+events.TopicCommerce+deadletter.Suffix),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	var letters []map[string]string
	testkit.WaitFor(t, 30*time.Second, "two dead letters", func() error {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		dlq.PollFetches(fctx).EachRecord(func(r *kgo.Record) {
			h := map[string]string{"value": string(r.Value)}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			letters = append(letters, h)
		})
		if len(letters) < 2 {
			return fmt.Errorf("%d dead letters", len(letters))
		}
		return nil
	})
	want := []struct{ reason, offset string }{{deadletter.ReasonUndecodable, "1"}, {deadletter.ReasonUnknownSchema, "2"}}
	for i, w := range want {
		l := letters[i]
		if l[deadletter.HeaderReason] != w.reason || l[deadletter.HeaderOriginalOffset] != w.offset ||
			l[deadletter.HeaderConsumer] != "projection:orders" || l[deadletter.HeaderOriginalTopic] != e.Prefix+events.TopicCommerce ||
			l[deadletter.HeaderError] == "" {
			t.Errorf("dead letter %d = %v, want reason %s from offset %s", i, l, w.reason, w.offset)
		}
	}
	if letters[0]["value"] != `{"not": "avro"}` {
		t.Errorf("the dead letter must keep the original bytes, got %q", letters[0]["value"])
	}

	// Each dead letter is also a sync.RecordDeadLettered event naming its copy.
	syncTopic, err := kgo.NewClient(kgo.SeedBrokers(e.Brokers...), kgo.ConsumeTopics(e.Prefix+events.TopicSync),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer syncTopic.Close()
	var recorded []*events.RecordDeadLettered
	testkit.WaitFor(t, 30*time.Second, "two RecordDeadLettered events", func() error {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		var decodeErr error
		syncTopic.PollFetches(fctx).EachRecord(func(r *kgo.Record) {
			ev, err := e.Codec.Decode(ctx, r.Value)
			if err != nil {
				decodeErr = err
				return
			}
			recorded = append(recorded, ev.(*events.RecordDeadLettered))
		})
		if decodeErr != nil {
			t.Fatalf("a RecordDeadLettered event does not decode: %v", decodeErr)
		}
		if len(recorded) < 2 {
			return fmt.Errorf("%d events", len(recorded))
		}
		return nil
	})
	for i, w := range want {
		ev := recorded[i]
		if ev.Reason != w.reason || fmt.Sprint(ev.OriginalOffset) != w.offset || ev.Consumer != "projection:orders" ||
			ev.DeadLetterTopic == nil || *ev.DeadLetterTopic != e.Prefix+events.TopicCommerce+deadletter.Suffix || ev.DeadLetterOffset == nil {
			t.Errorf("RecordDeadLettered %d = %+v", i, ev)
		}
	}
	if recorded[1].SchemaID == nil || *recorded[1].SchemaID != 0x7fffff00 {
		t.Errorf("the unknown schema id is not recorded: %v", recorded[1].SchemaID)
	}
}
