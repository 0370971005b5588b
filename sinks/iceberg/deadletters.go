package icebergsink

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
)

// Columns of a dead-letter table (DeadLetterTable) beyond the metadata columns.
const (
	colDeadKey       = "record_key"
	colDeadValue     = "record_value"
	colDeadHeaders   = "record_headers"
	colDeadReason    = "reason"
	colDeadError     = "error"
	colDeadEventType = "event_type"
)

// deadLetterSchema is the schema of a dead-letter table: where the record was, its raw bytes,
// why it is here (reason: one of deadletter's reasons, or incompatible_schema), the error, and
// what could be read of it.
func deadLetterSchema() *iceberg.Schema {
	str, i32, i64, ts, bin := iceberg.PrimitiveTypes.String, iceberg.PrimitiveTypes.Int32, iceberg.PrimitiveTypes.Int64,
		iceberg.PrimitiveTypes.TimestampTz, iceberg.PrimitiveTypes.Binary
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: colKafkaTopic, Type: str, Required: true},
		iceberg.NestedField{ID: 2, Name: colKafkaPartition, Type: i32, Required: true},
		iceberg.NestedField{ID: 3, Name: colKafkaOffset, Type: i64, Required: true},
		iceberg.NestedField{ID: 4, Name: colKafkaTimestamp, Type: ts, Required: true},
		iceberg.NestedField{ID: 5, Name: colDeadKey, Type: bin},
		iceberg.NestedField{ID: 6, Name: colDeadValue, Type: bin, Doc: "The record's value as it is in the log."},
		iceberg.NestedField{ID: 7, Name: colDeadHeaders, Type: &iceberg.MapType{
			KeyID: 100, KeyType: str, ValueID: 101, ValueType: bin, ValueRequired: false}},
		iceberg.NestedField{ID: 8, Name: colDeadReason, Type: str, Required: true,
			Doc: "undecodable, unknown_schema, incompatible_schema or invalid_event."},
		iceberg.NestedField{ID: 9, Name: colDeadError, Type: str, Required: true},
		iceberg.NestedField{ID: 10, Name: colDeadEventType, Type: str, Doc: "The writer schema's full name, when it could be read."},
		iceberg.NestedField{ID: 11, Name: colSchemaID, Type: i32, Doc: "Schema-registry id the record names, when it is in the wire format."},
		iceberg.NestedField{ID: 12, Name: colIngestedAt, Type: ts, Required: true},
	)
}

// deadLetterSpec partitions a dead-letter table by the day of the record's Kafka timestamp.
func deadLetterSpec() iceberg.PartitionSpec {
	return iceberg.NewPartitionSpec(iceberg.PartitionField{
		SourceIDs: []int{4}, FieldID: 1000, Name: colKafkaTimestamp + "_day", Transform: iceberg.DayTransform{},
	})
}

// deadRow is a record going to the dead-letter table.
type deadRow struct {
	src       source
	key       []byte
	value     []byte
	headers   map[string][]byte
	reason    string
	err       string
	eventType string // "" when unknown
	schemaID  int32  // -1 when not in the wire format
}

// buildDeadLetters builds the Arrow record of rows for a dead-letter table of Arrow schema sc.
func buildDeadLetters(mem memory.Allocator, sc *arrow.Schema, rows []deadRow, now time.Time) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for i, f := range sc.Fields() {
		fb := b.Field(i)
		for _, r := range rows {
			if err := appendDeadField(fb, f.Name, r, now); err != nil {
				return nil, err
			}
		}
	}
	return b.NewRecordBatch(), nil
}

func appendDeadField(fb array.Builder, name string, r deadRow, now time.Time) error {
	micros := func(t time.Time) arrow.Timestamp { return arrow.Timestamp(t.UnixMicro()) }
	switch name {
	case colKafkaTopic:
		fb.(*array.StringBuilder).Append(r.src.Topic)
	case colKafkaPartition:
		fb.(*array.Int32Builder).Append(r.src.Partition)
	case colKafkaOffset:
		fb.(*array.Int64Builder).Append(r.src.Offset)
	case colKafkaTimestamp:
		fb.(*array.TimestampBuilder).Append(micros(r.src.Timestamp))
	case colDeadKey:
		appendBytes(fb, r.key)
	case colDeadValue:
		appendBytes(fb, r.value)
	case colDeadHeaders:
		mb := fb.(*array.MapBuilder)
		mb.Append(true)
		kb, vb := mb.KeyBuilder().(*array.StringBuilder), mb.ItemBuilder()
		for k, v := range r.headers {
			kb.Append(k)
			appendBytes(vb, v)
		}
	case colDeadReason:
		fb.(*array.StringBuilder).Append(r.reason)
	case colDeadError:
		fb.(*array.StringBuilder).Append(r.err)
	case colDeadEventType:
		if r.eventType == "" {
			fb.AppendNull()
		} else {
			fb.(*array.StringBuilder).Append(r.eventType)
		}
	case colSchemaID:
		if r.schemaID < 0 {
			fb.AppendNull()
		} else {
			fb.(*array.Int32Builder).Append(r.schemaID)
		}
	case colIngestedAt:
		fb.(*array.TimestampBuilder).Append(micros(now))
	default:
		// A column a later version added: null for rows this version writes.
		fb.AppendNull()
	}
	return nil
}

func appendBytes(fb array.Builder, v []byte) {
	if v == nil {
		fb.AppendNull()
		return
	}
	switch b := fb.(type) {
	case *array.BinaryBuilder:
		b.Append(v)
	case *array.BinaryViewBuilder:
		b.Append(v)
	default:
		panic(fmt.Sprintf("dead-letter column of %T", fb))
	}
}
