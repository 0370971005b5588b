package lakeschema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/hamba/avro/v2"
)

// Metadata columns every table has after the Avro fields, in this order.
const (
	ColKafkaTopic     = "_kafka_topic"     // string, required
	ColKafkaPartition = "_kafka_partition" // int, required
	ColKafkaOffset    = "_kafka_offset"    // long, required
	ColKafkaTimestamp = "_kafka_timestamp" // timestamptz, required
	ColEventID        = "_event_id"        // string, required (envelope.event_id)
	ColSchemaID       = "_schema_id"       // int, required (registry id of the writer schema)
	ColIngestedAt     = "_ingested_at"     // timestamptz, required
	ColOccurredAt     = "_occurred_at"     // timestamptz, required: envelope.occurred_at, the day-partition source
)

// PartitionFieldName is the name of the partition field PartitionSpec makes: day(_occurred_at).
const PartitionFieldName = "_occurred_at_day"

// metaColumns are the metadata columns in table order, with their types and docs.
var metaColumns = []struct {
	name string
	typ  iceberg.Type
	doc  string
}{
	{ColKafkaTopic, iceberg.PrimitiveTypes.String, "Kafka topic the record was read from."},
	{ColKafkaPartition, iceberg.PrimitiveTypes.Int32, "Kafka partition of the record."},
	{ColKafkaOffset, iceberg.PrimitiveTypes.Int64, "Kafka offset of the record: with topic and partition, the row's position in the log."},
	{ColKafkaTimestamp, iceberg.PrimitiveTypes.TimestampTz, "Kafka timestamp of the record."},
	{ColEventID, iceberg.PrimitiveTypes.String, "envelope.event_id: one event per id, rows with the same id are redeliveries."},
	{ColSchemaID, iceberg.PrimitiveTypes.Int32, "Schema-registry id of the writer's Avro schema."},
	{ColIngestedAt, iceberg.PrimitiveTypes.TimestampTz, "When the sink wrote the row."},
	{ColOccurredAt, iceberg.PrimitiveTypes.TimestampTz, "envelope.occurred_at: the table is partitioned by its day."},
}

func isMetaColumn(name string) bool {
	for _, m := range metaColumns {
		if m.name == name {
			return true
		}
	}
	return false
}

// Schema is the Iceberg schema of the table holding records of rec: one optional column per
// Avro field (all Avro-derived columns optional, so evolution by adding/removing fields never
// breaks a required column), then the metadata columns. Field ids are assigned 1.. in order:
// the top-level columns first, then each struct's, list's or map's children (the catalog
// reassigns them at create; evolution matches by name). An Avro type with no Iceberg
// equivalent is an error naming the field path. See the package doc for the type mapping.
func Schema(rec *avro.RecordSchema) (*iceberg.Schema, error) {
	return schemaOf(rec, true)
}

// schemaOf converts rec; allOptional false keeps Avro's nullability (a field is required unless
// its type is a union with null), which Compatible needs.
func schemaOf(rec *avro.RecordSchema, allOptional bool) (*iceberg.Schema, error) {
	if rec == nil {
		return nil, errors.New("lakeschema: nil record schema")
	}
	c := &converter{allOptional: allOptional, stack: []string{rec.FullName()}}
	avroFields := rec.Fields()
	fields := make([]iceberg.NestedField, 0, len(avroFields)+len(metaColumns))
	for _, f := range avroFields {
		if isMetaColumn(f.Name()) {
			return nil, fmt.Errorf("lakeschema: field %s of %s has the name of a metadata column", f.Name(), rec.FullName())
		}
		fields = append(fields, iceberg.NestedField{ID: c.id(), Name: f.Name(), Doc: f.Doc()})
	}
	for _, m := range metaColumns {
		fields = append(fields, iceberg.NestedField{ID: c.id(), Name: m.name, Type: m.typ, Required: true, Doc: m.doc})
	}
	for i, f := range avroFields {
		t, nullable, err := c.typeOf(f.Type(), f.Name())
		if err != nil {
			return nil, err
		}
		fields[i].Type = t
		fields[i].Required = !c.allOptional && !nullable
	}
	return iceberg.NewSchema(0, fields...), nil
}

type converter struct {
	allOptional bool
	next        int
	stack       []string // full names of the records being converted, to refuse recursive types
}

func (c *converter) id() int {
	c.next++
	return c.next
}

func (c *converter) required(nullable bool) bool { return !c.allOptional && !nullable }

// typeOf returns the Iceberg type of s and whether s admits null (a union with a null branch).
// path names the field for errors.
func (c *converter) typeOf(s avro.Schema, path string) (iceberg.Type, bool, error) {
	switch t := s.(type) {
	case *avro.RefSchema:
		return c.typeOf(t.Schema(), path)
	case *avro.RecordSchema:
		st, err := c.record(t, path)
		return st, false, err
	case *avro.UnionSchema:
		return c.union(t, path)
	case *avro.ArraySchema:
		elemID := c.id()
		elem, nullable, err := c.typeOf(t.Items(), path+".element")
		if err != nil {
			return nil, false, err
		}
		return &iceberg.ListType{ElementID: elemID, Element: elem, ElementRequired: c.required(nullable)}, false, nil
	case *avro.MapSchema:
		keyID, valueID := c.id(), c.id()
		val, nullable, err := c.typeOf(t.Values(), path+".value")
		if err != nil {
			return nil, false, err
		}
		return &iceberg.MapType{KeyID: keyID, KeyType: iceberg.PrimitiveTypes.String,
			ValueID: valueID, ValueType: val, ValueRequired: c.required(nullable)}, false, nil
	case *avro.EnumSchema:
		return iceberg.PrimitiveTypes.String, false, nil
	case *avro.FixedSchema:
		if l := t.Logical(); l != nil {
			switch l.Type() {
			case avro.Decimal:
				d, err := decimalType(l, path)
				return d, false, err
			case avro.Duration:
				return nil, false, fmt.Errorf("lakeschema: field %s: Avro duration has no Iceberg equivalent", path)
			}
		}
		return iceberg.FixedTypeOf(t.Size()), false, nil
	case *avro.PrimitiveSchema:
		pt, err := primitiveType(t, path)
		return pt, false, err
	case *avro.NullSchema:
		return nil, false, fmt.Errorf("lakeschema: field %s: a field of type null has no Iceberg equivalent", path)
	}
	return nil, false, fmt.Errorf("lakeschema: field %s: Avro type %s has no Iceberg equivalent", path, s.Type())
}

func (c *converter) record(r *avro.RecordSchema, path string) (*iceberg.StructType, error) {
	for _, name := range c.stack {
		if name == r.FullName() {
			return nil, fmt.Errorf("lakeschema: field %s: recursive record %s has no Iceberg equivalent", path, name)
		}
	}
	c.stack = append(c.stack, r.FullName())
	defer func() { c.stack = c.stack[:len(c.stack)-1] }()
	fields := make([]iceberg.NestedField, len(r.Fields()))
	for i, f := range r.Fields() {
		fields[i] = iceberg.NestedField{ID: c.id(), Name: f.Name(), Doc: f.Doc()}
	}
	for i, f := range r.Fields() {
		t, nullable, err := c.typeOf(f.Type(), path+"."+f.Name())
		if err != nil {
			return nil, err
		}
		fields[i].Type, fields[i].Required = t, c.required(nullable)
	}
	return &iceberg.StructType{FieldList: fields}, nil
}

// union maps ["null", X] (either order) to X, nullable, and a union of several non-null branches
// to a struct with one optional field per branch, named by BranchName.
func (c *converter) union(u *avro.UnionSchema, path string) (iceberg.Type, bool, error) {
	var branches []avro.Schema
	nullable := false
	for _, b := range u.Types() {
		if b.Type() == avro.Null {
			nullable = true
			continue
		}
		branches = append(branches, b)
	}
	switch len(branches) {
	case 0:
		return nil, false, fmt.Errorf("lakeschema: field %s: a union of null alone has no Iceberg equivalent", path)
	case 1:
		t, _, err := c.typeOf(branches[0], path)
		return t, nullable, err
	}
	fields := make([]iceberg.NestedField, len(branches))
	seen := map[string]string{}
	for i, b := range branches {
		name := BranchName(b)
		if other, dup := seen[name]; dup {
			return nil, false, fmt.Errorf("lakeschema: field %s: union branches %s and %s would both be column %s", path, other, unionKey(b), name)
		}
		seen[name] = unionKey(b)
		fields[i] = iceberg.NestedField{ID: c.id(), Name: name, Doc: "Set when the Avro union holds a " + unionKey(b) + "."}
	}
	for i, b := range branches {
		t, _, err := c.typeOf(b, path+"."+fields[i].Name)
		if err != nil {
			return nil, false, err
		}
		fields[i].Type = t // branches are always optional: exactly one is set
	}
	return &iceberg.StructType{FieldList: fields}, nullable, nil
}

// BranchName is the name of the struct field that holds union branch s: the Avro type name
// lower-cased for unnamed types (boolean, int, long, float, double, bytes, string, array, map;
// a logical type keeps its underlying type's name, e.g. long for timestamp-micros), and the short
// name lower-cased for records, enums and fixed (storeline.Money → money).
func BranchName(s avro.Schema) string {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	if n, ok := s.(avro.NamedSchema); ok {
		return strings.ToLower(n.Name())
	}
	return string(s.Type())
}

// unionKey is the name hamba/avro gives a union branch: the key of the single-entry map its
// generic decoding returns for a branch it cannot resolve to a Go type (full name for named
// types, type.logicalType for logical types, array, map).
func unionKey(s avro.Schema) string {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	if l, ok := s.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		return string(s.Type()) + "." + string(l.Logical().Type())
	}
	return string(s.Type())
}

var primitiveNames = map[string]bool{
	"null": true, "boolean": true, "int": true, "long": true, "float": true, "double": true,
	"bytes": true, "string": true, "array": true, "map": true,
}

// branchOfKey maps a key of hamba's union map (see unionKey) to the struct field name BranchName
// gives the branch.
func branchOfKey(key string) string {
	i := strings.IndexByte(key, '.')
	if i < 0 {
		if primitiveNames[key] {
			return key
		}
		return strings.ToLower(key)
	}
	if primitiveNames[key[:i]] {
		return key[:i]
	}
	return strings.ToLower(key[strings.LastIndexByte(key, '.')+1:])
}

func decimalType(l avro.LogicalSchema, path string) (iceberg.Type, error) {
	d, ok := l.(*avro.DecimalLogicalSchema)
	if !ok {
		return nil, fmt.Errorf("lakeschema: field %s: malformed decimal", path)
	}
	if d.Precision() < 1 || d.Precision() > 38 {
		return nil, fmt.Errorf("lakeschema: field %s: decimal(%d,%d) has no Iceberg equivalent (precision 1 to 38)", path, d.Precision(), d.Scale())
	}
	if d.Scale() < 0 || d.Scale() > d.Precision() {
		return nil, fmt.Errorf("lakeschema: field %s: decimal(%d,%d) has a scale outside 0..precision", path, d.Precision(), d.Scale())
	}
	return iceberg.DecimalTypeOf(d.Precision(), d.Scale()), nil
}

func primitiveType(p *avro.PrimitiveSchema, path string) (iceberg.Type, error) {
	var lt avro.LogicalType
	if l := p.Logical(); l != nil {
		lt = l.Type()
	}
	switch p.Type() {
	case avro.Boolean:
		return iceberg.PrimitiveTypes.Bool, nil
	case avro.Int:
		switch lt {
		case avro.Date:
			return iceberg.PrimitiveTypes.Date, nil
		case avro.TimeMillis:
			return iceberg.PrimitiveTypes.Time, nil
		}
		return iceberg.PrimitiveTypes.Int32, nil
	case avro.Long:
		switch lt {
		case avro.TimeMicros:
			return iceberg.PrimitiveTypes.Time, nil
		case avro.TimestampMillis, avro.TimestampMicros:
			return iceberg.PrimitiveTypes.TimestampTz, nil
		case avro.LocalTimestampMillis, avro.LocalTimestampMicros:
			return iceberg.PrimitiveTypes.Timestamp, nil
		}
		return iceberg.PrimitiveTypes.Int64, nil
	case avro.Float:
		return iceberg.PrimitiveTypes.Float32, nil
	case avro.Double:
		return iceberg.PrimitiveTypes.Float64, nil
	case avro.String:
		// uuid stays a string: Iceberg's uuid is fixed[16] in Parquet and engines disagree on it.
		return iceberg.PrimitiveTypes.String, nil
	case avro.Bytes:
		if lt == avro.Decimal {
			return decimalType(p.Logical(), path)
		}
		return iceberg.PrimitiveTypes.Binary, nil
	}
	return nil, fmt.Errorf("lakeschema: field %s: Avro type %s has no Iceberg equivalent", path, p.Type())
}

// PartitionSpec is day(_occurred_at), partition field _occurred_at_day, for a schema made by
// Schema (the column is looked up by name, so it works on a table's current schema too).
func PartitionSpec(sc *iceberg.Schema) (iceberg.PartitionSpec, error) {
	f, ok := sc.FindFieldByName(ColOccurredAt)
	if !ok {
		return iceberg.PartitionSpec{}, fmt.Errorf("lakeschema: schema has no column %s", ColOccurredAt)
	}
	switch f.Type.(type) {
	case iceberg.TimestampTzType, iceberg.TimestampType, iceberg.DateType:
	default:
		return iceberg.PartitionSpec{}, fmt.Errorf("lakeschema: column %s is %s, want timestamptz", ColOccurredAt, f.Type)
	}
	return iceberg.NewPartitionSpec(iceberg.PartitionField{
		SourceIDs: []int{f.ID}, FieldID: 1000, Name: PartitionFieldName, Transform: iceberg.DayTransform{},
	}), nil
}

// Compatible reports whether records of rec can be written to a table whose current schema is
// have (after adding rec's missing columns as optional): an error naming the first column whose
// type differs incompatibly. Type promotions Iceberg allows (int→long, float→double, decimal
// precision widening at the same scale) count as compatible only if the table already has the
// wider type. A column the table requires is incompatible if rec may leave it null (its Avro
// type is nullable, or rec lacks it and it is not a metadata column).
func Compatible(have *iceberg.Schema, rec *avro.RecordSchema) error {
	want, err := schemaOf(rec, false)
	if err != nil {
		return err
	}
	return compatStruct("", have.AsStruct(), want.AsStruct())
}

func compatStruct(prefix string, have, want iceberg.StructType) error {
	for _, w := range want.FieldList {
		h, ok := fieldByName(have, w.Name)
		if !ok {
			continue // added as an optional column
		}
		if err := compatField(prefix+w.Name, h.Required, w.Required, h.Type, w.Type); err != nil {
			return err
		}
	}
	for _, h := range have.FieldList {
		if _, ok := fieldByName(want, h.Name); !ok && h.Required && h.WriteDefault == nil {
			return fmt.Errorf("lakeschema: column %s%s: required in the table, absent from the records", prefix, h.Name)
		}
	}
	return nil
}

func fieldByName(st iceberg.StructType, name string) (iceberg.NestedField, bool) {
	for _, f := range st.FieldList {
		if f.Name == name {
			return f, true
		}
	}
	return iceberg.NestedField{}, false
}

func compatField(path string, haveRequired, wantRequired bool, have, want iceberg.Type) error {
	if haveRequired && !wantRequired {
		return fmt.Errorf("lakeschema: column %s: required in the table, nullable in the records", path)
	}
	switch w := want.(type) {
	case *iceberg.StructType:
		h, ok := have.(*iceberg.StructType)
		if !ok {
			return typeMismatch(path, have, want)
		}
		return compatStruct(path+".", *h, *w)
	case *iceberg.ListType:
		h, ok := have.(*iceberg.ListType)
		if !ok {
			return typeMismatch(path, have, want)
		}
		return compatField(path+".element", h.ElementRequired, w.ElementRequired, h.Element, w.Element)
	case *iceberg.MapType:
		h, ok := have.(*iceberg.MapType)
		if !ok {
			return typeMismatch(path, have, want)
		}
		if err := compatField(path+".key", true, true, h.KeyType, w.KeyType); err != nil {
			return err
		}
		return compatField(path+".value", h.ValueRequired, w.ValueRequired, h.ValueType, w.ValueType)
	}
	if have.Equals(want) {
		return nil
	}
	switch w := want.(type) {
	case iceberg.Int32Type:
		if _, ok := have.(iceberg.Int64Type); ok {
			return nil
		}
	case iceberg.Float32Type:
		if _, ok := have.(iceberg.Float64Type); ok {
			return nil
		}
	case iceberg.DecimalType:
		if h, ok := have.(iceberg.DecimalType); ok && h.Scale() == w.Scale() && h.Precision() >= w.Precision() {
			return nil
		}
	}
	return typeMismatch(path, have, want)
}

func typeMismatch(path string, have, want iceberg.Type) error {
	return fmt.Errorf("lakeschema: column %s: table has %s, records have %s", path, have, want)
}
