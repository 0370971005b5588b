package inventory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/inventory"
	"github.com/storeline/storeline/projections/projectiontest"
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
// env is the shared harness on the inventory projection.
type env struct{ *projectiontest.Env }

func setup(t testing.TB) *env { return &env{projectiontest.Setup(t, inventory.Projection{})} }

func (e *env) level(t testing.TB, item, location int64) *inventory.Level {
	t.Helper()
	l, err := inventory.NewReader(e.Pool).Level(context.Background(), item, location)
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
