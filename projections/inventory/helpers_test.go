package inventory_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections"
	"github.com/storeline/storeline/projections/inventory"
	"github.com/storeline/storeline/testkit"
)

const testShop = "demo.myshopify.com"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// level is an InventoryLevelUpdated of item at location, at updated, with available units
// (nil: untracked); tag tells apart two Shopify events of one level and time.
func level(item, location int64, updated time.Time, available *int32, tag string) *events.InventoryLevelUpdated {
	key := fmt.Sprintf("gid://shopify/InventoryLevel/%d?inventory_item_id=%d", location, item)
	return &events.InventoryLevelUpdated{
		Envelope: events.Envelope{
			EventID:   events.DeterministicID("inventory-test", fmt.Sprint(item, location), updated.String(), tag),
			EventType: events.TypeInventoryLevelUpdated, OccurredAt: updated, RecordedAt: updated.Add(time.Minute), Shop: testShop,
			AggregateType: "InventoryLevel", AggregateID: key, Actor: events.Actor{Type: events.ActorShopify, ID: testShop},
			Source: events.SourceWebhook,
		},
		InventoryItemID: item, InventoryItemGID: fmt.Sprintf("gid://shopify/InventoryItem/%d", item),
		LocationID: location, LocationGID: fmt.Sprintf("gid://shopify/Location/%d", location),
		Available: available, UpdatedAt: updated, InventoryLevelGID: ptr(key), PayloadJSON: "{}",
	}
}

// env is a fresh database and fresh topics on the shared Kafka, with a producer.
type env struct {
	pool     *pgxpool.Pool
	codec    *events.Codec
	producer *eventlog.Producer
	brokers  []string
	prefix   string
	produced int64
}

func setup(t testing.TB) *env {
	testkit.Integration(t)
	e := &env{pool: testkit.FreshDatabase(t), brokers: testkit.Brokers(t)}
	e.prefix = testkit.FreshTopicPrefix(t, 3, events.TopicCommerce, events.TopicCommerce+deadletter.Suffix, events.TopicSync)
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	if e.codec, err = events.NewCodec(context.Background(), cat, testkit.Registry(t, e.prefix), e.prefix); err != nil {
		t.Fatal(err)
	}
	if e.producer, err = eventlog.NewProducer(e.brokers, e.codec, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.producer.Close)
	return e
}

// append writes events to the log in the order given, one at a time.
func (e *env) append(t testing.TB, evs ...events.Event) {
	t.Helper()
	for _, ev := range evs {
		if _, err := e.producer.Append(context.Background(), ev, ""); err != nil {
			t.Fatal(err)
		}
		e.produced++
	}
}

// appendMany writes events in one go (per key in the order given): for large volumes.
func (e *env) appendMany(t testing.TB, evs []events.Event) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.MaxBufferedRecords(len(evs)+1), kgo.ProducerBatchMaxBytes(4<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(evs))
	for i, ev := range evs {
		if recs[i], err = e.codec.Record(ev, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	e.produced += int64(len(evs))
}

// start runs the projection with at most maxBatch records per transaction (0: the default)
// until the returned stop is called; its metrics go to reg.
func (e *env) start(t testing.TB, maxBatch int, reg prometheus.Registerer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	r := projections.NewRunner(projections.Config{Brokers: e.brokers, TopicPrefix: e.prefix, MaxBatch: maxBatch},
		inventory.Projection{}, e.pool, e.codec, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
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

// waitApplied waits until the projection's checkpoints cover every record appended so far.
func (e *env) waitApplied(t testing.TB, timeout time.Duration) {
	t.Helper()
	testkit.WaitFor(t, timeout, fmt.Sprintf("checkpoints to cover %d records", e.produced), func() error {
		var sum int64
		if err := e.pool.QueryRow(context.Background(),
			`SELECT COALESCE(SUM(next_offset),0) FROM projection_checkpoints WHERE projection='inventory'`).Scan(&sum); err != nil {
			return err
		}
		if sum != e.produced {
			return fmt.Errorf("checkpoints sum to %d", sum)
		}
		return nil
	})
}

func (e *env) level(t testing.TB, item, location int64) *inventory.Level {
	t.Helper()
	l, err := inventory.NewReader(e.pool).Level(context.Background(), item, location)
	if err != nil {
		t.Fatalf("level %d@%d: %v", item, location, err)
	}
	return l
}

func available(l *inventory.Level) string {
	if l.Available == nil {
		return "untracked"
	}
	return fmt.Sprint(*l.Available)
}

// snapshot is an InventoryLevelSnapshotted of item at location, at updated, read by the bulk
// operation op at row.
func snapshot(item, location int64, updated time.Time, available *int32, op, row int64) *events.InventoryLevelSnapshotted {
	key := fmt.Sprintf("gid://shopify/InventoryLevel/%d?inventory_item_id=%d", location, item)
	opGID := fmt.Sprintf("gid://shopify/BulkOperation/%d", op)
	return &events.InventoryLevelSnapshotted{
		Envelope: events.Envelope{
			EventID:   events.DeterministicID("shopify-bulk", testShop, opGID, fmt.Sprint(row)),
			EventType: events.TypeInventoryLevelSnapshotted, OccurredAt: updated, RecordedAt: updated.Add(time.Hour), Shop: testShop,
			AggregateType: "InventoryLevel", AggregateID: key, Actor: events.Actor{Type: events.ActorShopify, ID: testShop},
			Source: events.SourceBulkSync, SourceTopic: ptr("inventory"),
		},
		BulkOperationID: op, BulkOperationGID: opGID, Row: row,
		InventoryItemID: item, InventoryItemGID: fmt.Sprintf("gid://shopify/InventoryItem/%d", item),
		LocationID: location, LocationGID: fmt.Sprintf("gid://shopify/Location/%d", location),
		Available: available, UpdatedAt: updated, InventoryLevelGID: ptr(key), PayloadJSON: "{}",
	}
}
