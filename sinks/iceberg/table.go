package icebergsink

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

// Namespace and table the sink writes OrderCreated events to.
const (
	Namespace   = "commerce"
	OrdersTable = "orders"
)

// OrdersIdent is the identifier of commerce.orders.
var OrdersIdent = table.Identifier{Namespace, OrdersTable}

// Column names of commerce.orders that the conversion refers to.
const (
	colCreatedAt      = "created_at"
	colKafkaTopic     = "_kafka_topic"
	colKafkaPartition = "_kafka_partition"
	colKafkaOffset    = "_kafka_offset"
	colKafkaTimestamp = "_kafka_timestamp"
	colSchemaID       = "_schema_id"
	colIngestedAt     = "_ingested_at"
)

func money() iceberg.DecimalType { return iceberg.DecimalTypeOf(20, 4) }

// OrdersSchema is the Iceberg schema of commerce.orders: the OrderCreated fields (schemas/
// commerce/order_created.avsc) plus where each row came from in the log. Field ids are
// reassigned by the catalog when the table is created; writers match columns by name.
func OrdersSchema() *iceberg.Schema {
	str, long, i32, ts := iceberg.PrimitiveTypes.String, iceberg.PrimitiveTypes.Int64,
		iceberg.PrimitiveTypes.Int32, iceberg.PrimitiveTypes.TimestampTz
	lineItem := &iceberg.StructType{FieldList: []iceberg.NestedField{
		{ID: 101, Name: "line_item_id", Type: long, Required: true},
		{ID: 102, Name: "product_id", Type: long},
		{ID: 103, Name: "variant_id", Type: long},
		{ID: 104, Name: "title", Type: str, Required: true},
		{ID: 105, Name: "variant_title", Type: str},
		{ID: 106, Name: "sku", Type: str},
		{ID: 107, Name: "quantity", Type: i32, Required: true},
		{ID: 108, Name: "price", Type: money(), Required: true},
	}}
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "event_id", Type: str, Required: true, Doc: "Deterministic event id: one row per id."},
		iceberg.NestedField{ID: 2, Name: "shop", Type: str, Required: true, Doc: "The shop's myshopify domain."},
		iceberg.NestedField{ID: 3, Name: "order_id", Type: long, Required: true},
		iceberg.NestedField{ID: 4, Name: "order_gid", Type: str, Required: true},
		iceberg.NestedField{ID: 5, Name: "name", Type: str, Required: true},
		iceberg.NestedField{ID: 6, Name: "order_number", Type: long, Required: true},
		iceberg.NestedField{ID: 7, Name: "currency", Type: str, Required: true},
		iceberg.NestedField{ID: 8, Name: "total_price", Type: money(), Required: true},
		iceberg.NestedField{ID: 9, Name: "subtotal_price", Type: money(), Required: true},
		iceberg.NestedField{ID: 10, Name: "total_tax", Type: money(), Required: true},
		iceberg.NestedField{ID: 11, Name: "financial_status", Type: str},
		iceberg.NestedField{ID: 12, Name: "fulfillment_status", Type: str},
		iceberg.NestedField{ID: 13, Name: colCreatedAt, Type: ts, Required: true},
		iceberg.NestedField{ID: 14, Name: "updated_at", Type: ts, Required: true},
		iceberg.NestedField{ID: 15, Name: "line_items", Required: true, Type: &iceberg.ListType{
			ElementID: 100, Element: lineItem, ElementRequired: true}},
		iceberg.NestedField{ID: 16, Name: colKafkaTopic, Type: str, Required: true},
		iceberg.NestedField{ID: 17, Name: colKafkaPartition, Type: i32, Required: true},
		iceberg.NestedField{ID: 18, Name: colKafkaOffset, Type: long, Required: true},
		iceberg.NestedField{ID: 19, Name: colKafkaTimestamp, Type: ts, Required: true},
		iceberg.NestedField{ID: 20, Name: colSchemaID, Type: i32, Required: true, Doc: "Schema-registry id of the event's Avro schema."},
		iceberg.NestedField{ID: 21, Name: colIngestedAt, Type: ts, Required: true, Doc: "When the sink wrote the row."},
	)
}

// ordersSpec partitions commerce.orders by the day the order was created.
func ordersSpec() iceberg.PartitionSpec {
	return iceberg.NewPartitionSpec(iceberg.PartitionField{
		SourceIDs: []int{13}, FieldID: 1000, Name: "created_at_day", Transform: iceberg.DayTransform{},
	})
}

// tableProperties are set when the sink creates a table.
func tableProperties() iceberg.Properties {
	return iceberg.Properties{
		table.PropertyFormatVersion:               "2",
		table.ParquetCompressionKey:               "zstd",
		table.MetadataDeleteAfterCommitEnabledKey: "true",
		table.MetadataPreviousVersionsMaxKey:      "100",
		table.CommitNumRetriesKey:                 "0", // the sink retries itself, with a recomputed offsets map
		"storeline.writer":                        "sinks/iceberg",
	}
}

// EnsureOrdersTable creates the commerce namespace and the commerce.orders table if they are
// missing, adds columns the table lacks (new optional fields), and returns the table.
func EnsureOrdersTable(ctx context.Context, cat catalog.Catalog) (*table.Table, error) {
	return ensureTable(ctx, cat, OrdersIdent, OrdersSchema(), ordersSpec())
}

func ensureTable(ctx context.Context, cat catalog.Catalog, ident table.Identifier, sc *iceberg.Schema, spec iceberg.PartitionSpec) (*table.Table, error) {
	ns := catalog.NamespaceFromIdent(ident)
	if err := cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil, fmt.Errorf("create namespace %v: %w", ns, err)
	}
	tbl, err := cat.LoadTable(ctx, ident)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		tbl, err = cat.CreateTable(ctx, ident, sc,
			catalog.WithPartitionSpec(&spec), catalog.WithProperties(tableProperties()))
		if errors.Is(err, catalog.ErrTableAlreadyExists) { // another instance was first
			tbl, err = cat.LoadTable(ctx, ident)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load or create table %v: %w", ident, err)
	}
	return evolveSchema(ctx, tbl, sc)
}

// evolveSchema adds to the table the top-level columns of want it lacks (as optional columns,
// by name), so a newer sink can write to a table an older one created.
func evolveSchema(ctx context.Context, tbl *table.Table, want *iceberg.Schema) (*table.Table, error) {
	have := tbl.Schema()
	missing := false
	for _, f := range want.Fields() {
		if _, ok := have.FindFieldByName(f.Name); !ok {
			missing = true
			break
		}
	}
	if !missing {
		return tbl, nil
	}
	txn := tbl.NewTransaction()
	if err := txn.UpdateSchema(true, false).UnionByNameWith(want).Commit(); err != nil {
		return nil, fmt.Errorf("evolve schema of %v: %w", tbl.Identifier(), err)
	}
	evolved, err := txn.Commit(ctx)
	if err != nil {
		return nil, fmt.Errorf("commit schema of %v: %w", tbl.Identifier(), err)
	}
	return evolved, nil
}
