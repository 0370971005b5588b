package icebergsink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/sinks/iceberg/lakeschema"
)

// DeadLetterTable is the table of each namespace that holds the records of its topic the sink
// could not write to their event's table.
const DeadLetterTable = "_dead_letters"

// TableFor is the table records of an event schema go to: the namespace is the topic the event
// is published on (without the deployment's prefix), the table the event type in snake case
// (storeline.commerce.OrderCreated on commerce: commerce.order_created).
func TableFor(topic string, rec *avro.RecordSchema) table.Identifier {
	return table.Identifier{topic, snakeCase(rec.Name())}
}

// DeadLetterIdent is the dead-letter table of a topic's namespace.
func DeadLetterIdent(topic string) table.Identifier { return table.Identifier{topic, DeadLetterTable} }

// snakeCase turns an Avro record name into a table name: OrderCreated → order_created,
// CSVExportFailed → csv_export_failed.
func snakeCase(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			acronymEnd := i > 0 && unicode.IsUpper(rs[i-1]) && i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if prevLower || acronymEnd {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func identString(ident table.Identifier) string { return strings.Join(ident, ".") }

// tableProperties are set when the sink creates a table; initial is the offsets marker it
// starts with (see tableState).
func tableProperties(group string, initial Offsets) iceberg.Properties {
	return iceberg.Properties{
		table.PropertyFormatVersion:               "2",
		table.ParquetCompressionKey:               "zstd",
		table.MetadataDeleteAfterCommitEnabledKey: "true",
		table.MetadataPreviousVersionsMaxKey:      "100",
		table.CommitNumRetriesKey:                 "0", // the sink retries itself, with a recomputed offsets map
		"storeline.writer":                        "sinks/iceberg",
		OffsetsProperty(group):                    initial.Encode(),
	}
}

// createTable creates ident (and its namespace) with schema sc partitioned by spec, unless it
// exists; either way it returns the table as the catalog has it.
func createTable(ctx context.Context, cat catalog.Catalog, ident table.Identifier, sc *iceberg.Schema, spec iceberg.PartitionSpec, props iceberg.Properties) (*table.Table, error) {
	ns := catalog.NamespaceFromIdent(ident)
	if err := cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil, fmt.Errorf("create namespace %v: %w", ns, err)
	}
	tbl, err := cat.CreateTable(ctx, ident, sc, catalog.WithPartitionSpec(&spec), catalog.WithProperties(props))
	if errors.Is(err, catalog.ErrTableAlreadyExists) { // another instance was first
		tbl, err = cat.LoadTable(ctx, ident)
	}
	if err != nil {
		return nil, fmt.Errorf("create table %v: %w", ident, err)
	}
	return tbl, nil
}

// evolve adds to tbl the columns of want it lacks (optional, by name), in one commit; a table
// that has them all is returned as it is. Another writer changing the table meanwhile (a sink
// instance adding the same columns, a compaction) fails the commit: it is tried again on the
// reloaded table.
func evolve(ctx context.Context, cat catalog.Catalog, tbl *table.Table, want *iceberg.Schema) (*table.Table, error) {
	for attempt := 1; ; attempt++ {
		if !lacksColumns(tbl.Schema(), want) {
			return tbl, nil
		}
		txn := tbl.NewTransaction()
		if err := txn.UpdateSchema(true, false).UnionByNameWith(want).Commit(); err != nil {
			return nil, fmt.Errorf("evolve schema of %v: %w", tbl.Identifier(), err)
		}
		evolved, err := txn.Commit(ctx)
		if err == nil {
			return evolved, nil
		}
		ident := tbl.Identifier()
		if !isConflict(err) || attempt >= maxCommitAttempts {
			return nil, fmt.Errorf("commit schema of %v: %w", ident, err)
		}
		if tbl, err = cat.LoadTable(ctx, ident); err != nil {
			return nil, fmt.Errorf("reload %v: %w", ident, err)
		}
	}
}

// lacksColumns reports whether want has a column, at any depth, that have has not.
func lacksColumns(have, want *iceberg.Schema) bool {
	for _, name := range columnPaths(want) {
		if _, ok := have.FindFieldByName(name); !ok {
			return true
		}
	}
	return false
}

// columnPaths lists the dotted names of every field of sc, nested ones included (list elements
// and map values by their parent's path, as FindFieldByName names them).
func columnPaths(sc *iceberg.Schema) []string {
	var out []string
	var walk func(prefix string, t iceberg.Type)
	walk = func(prefix string, t iceberg.Type) {
		switch t := t.(type) {
		case *iceberg.StructType:
			for _, f := range t.FieldList {
				name := f.Name
				if prefix != "" {
					name = prefix + "." + f.Name
				}
				out = append(out, name)
				walk(name, f.Type)
			}
		case *iceberg.ListType:
			walk(prefix+".element", t.Element)
		case *iceberg.MapType:
			walk(prefix+".value", t.ValueType)
		}
	}
	st := sc.AsStruct()
	walk("", &st)
	return out
}

// eventSchema is the table schema and spec of an event schema.
func eventSchema(rec *avro.RecordSchema) (*iceberg.Schema, iceberg.PartitionSpec, error) {
	sc, err := lakeschema.Schema(rec)
	if err != nil {
		return nil, iceberg.PartitionSpec{}, fmt.Errorf("table schema of %s: %w", rec.FullName(), err)
	}
	spec, err := lakeschema.PartitionSpec(sc)
	if err != nil {
		return nil, iceberg.PartitionSpec{}, fmt.Errorf("partition spec of %s: %w", rec.FullName(), err)
	}
	return sc, spec, nil
}
