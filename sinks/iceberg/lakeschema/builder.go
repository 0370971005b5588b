package lakeschema

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Meta is where a record sits in the log and what the sink knows of it besides its value.
type Meta struct {
	Topic                  string
	Partition              int32
	Offset                 int64
	Timestamp              time.Time // the Kafka record's timestamp
	EventID                string    // envelope.event_id
	SchemaID               int32     // registry id of the writer schema
	OccurredAt, IngestedAt time.Time // envelope.occurred_at; when the sink wrote the row
}

// EnvelopeMeta reads envelope.event_id and envelope.occurred_at from a generically decoded
// storeline event, for Meta.EventID and Meta.OccurredAt.
func EnvelopeMeta(value map[string]any) (eventID string, occurredAt time.Time, err error) {
	env, ok := value["envelope"].(map[string]any)
	if !ok {
		return "", time.Time{}, errors.New("lakeschema: the value has no envelope record")
	}
	if eventID, ok = env["event_id"].(string); !ok || eventID == "" {
		return "", time.Time{}, errors.New("lakeschema: envelope.event_id is not a non-empty string")
	}
	if occurredAt, ok = env["occurred_at"].(time.Time); !ok {
		return "", time.Time{}, errors.New("lakeschema: envelope.occurred_at is not a timestamp")
	}
	return eventID, occurredAt, nil
}

// Builder appends rows to an Arrow record of one table's schema. It compiles, once, one
// appender per column (recursively for structs, lists and maps) that type-switches on the Go
// values hamba/avro's generic decoding returns; see the package doc for which it accepts.
// A Builder is not safe for concurrent use.
type Builder struct {
	rb    *array.RecordBuilder
	sc    *arrow.Schema
	cols  []topCol
	names map[string]struct{} // names of the data (non-metadata) columns
	err   error               // a column the builder cannot fill: every Append fails with it
	n     int
	m     Meta
	sizes []sized // every column builder, nested ones after their parent: see NewRecord
	grow  bool    // the builders were reset by NewRecord: reserve sizes before the next row
}

// sized is a column builder (top-level or nested) and what the last record needed of it.
type sized struct {
	b     array.Builder
	lenOf array.Builder // whose Len is b's: a map's key builder for the map's entries struct
	data  dataBuilder   // b's data buffer, for string and binary builders; nil otherwise
	n     int           // values in the last record
	bytes int           // data bytes in the last record
}

// dataBuilder is a builder of variable-length values with one data buffer (string, binary and
// their large forms).
type dataBuilder interface {
	DataLen() int
	ReserveData(n int)
}

// The most NewRecord's reservations take per column builder, so that one huge record does not
// make every later one as big.
const (
	maxReserveValues = 1 << 22
	maxReserveBytes  = 64 << 20
)

// topCol is one top-level column: a metadata column (meta != nil) or a data column.
type topCol struct {
	name string
	meta func(*Meta)
	data column
}

// NewBuilder returns a builder of records of sc, the Arrow schema of a table's current Iceberg
// schema: table.SchemaToArrowSchema(tbl.Schema(), nil, true, false), the schema
// table.WriteRecords checks records against (field ids in the fields' metadata, small types).
// Columns a value lacks are null. A metadata column whose type differs from the one Schema
// gives, or a required column the builder cannot fill, makes every Append fail.
func NewBuilder(mem memory.Allocator, sc *arrow.Schema) *Builder {
	b := &Builder{rb: array.NewRecordBuilder(mem, sc), sc: sc, names: map[string]struct{}{}}
	for i, f := range sc.Fields() {
		fb := b.rb.Field(i)
		if isMetaColumn(f.Name) {
			m, err := metaAppender(f, fb)
			if err != nil && b.err == nil {
				b.err = err
			}
			b.cols = append(b.cols, topCol{name: f.Name, meta: m})
			continue
		}
		b.names[f.Name] = struct{}{}
		b.cols = append(b.cols, topCol{name: f.Name, data: compile(f.Name, f, fb)})
	}
	for i := range sc.Fields() {
		b.track(b.rb.Field(i), nil)
	}
	return b
}

// track adds fb and the builders nested in it to b.sizes, parents first; lenOf, if not nil, is
// the builder whose Len is fb's.
func (b *Builder) track(fb array.Builder, lenOf array.Builder) {
	s := sized{b: fb, lenOf: lenOf}
	if db, ok := fb.(dataBuilder); ok {
		s.data = db
	}
	b.sizes = append(b.sizes, s)
	switch x := fb.(type) {
	case *array.StructBuilder:
		for i := range x.NumField() {
			b.track(x.FieldBuilder(i), nil)
		}
	case *array.MapBuilder:
		// The entries struct gets its length from the keys only when the map makes its array.
		b.track(x.ValueBuilder(), x.KeyBuilder())
	case array.ListLikeBuilder:
		b.track(x.ValueBuilder(), nil)
	}
}

// metaAppender returns the function that appends metadata column f from a Meta.
func metaAppender(f arrow.Field, fb array.Builder) (func(*Meta), error) {
	bad := func() (func(*Meta), error) {
		return func(*Meta) { fb.AppendNull() }, fmt.Errorf("lakeschema: metadata column %s is %s in the table", f.Name, f.Type)
	}
	switch f.Name {
	case ColKafkaTopic, ColEventID:
		sb, ok := fb.(*array.StringBuilder)
		if !ok {
			return bad()
		}
		if f.Name == ColKafkaTopic {
			return func(m *Meta) { sb.Append(m.Topic) }, nil
		}
		return func(m *Meta) { sb.Append(m.EventID) }, nil
	case ColKafkaPartition, ColSchemaID:
		ib, ok := fb.(*array.Int32Builder)
		if !ok {
			return bad()
		}
		if f.Name == ColKafkaPartition {
			return func(m *Meta) { ib.Append(m.Partition) }, nil
		}
		return func(m *Meta) { ib.Append(m.SchemaID) }, nil
	case ColKafkaOffset:
		ib, ok := fb.(*array.Int64Builder)
		if !ok {
			return bad()
		}
		return func(m *Meta) { ib.Append(m.Offset) }, nil
	default: // the timestamps
		tb, ok := fb.(*array.TimestampBuilder)
		if !ok {
			return bad()
		}
		unit := f.Type.(*arrow.TimestampType).Unit
		get := map[string]func(*Meta) time.Time{
			ColKafkaTimestamp: func(m *Meta) time.Time { return m.Timestamp },
			ColIngestedAt:     func(m *Meta) time.Time { return m.IngestedAt },
			ColOccurredAt:     func(m *Meta) time.Time { return m.OccurredAt },
		}[f.Name]
		return func(m *Meta) {
			ts, _ := toTimestamp(get(m), unit, false) // checked by checkMeta
			tb.Append(ts)
		}, nil
	}
}

// checkMeta validates what the metadata columns get from m.
func checkMeta(m *Meta) error {
	if m.EventID == "" {
		return fmt.Errorf("lakeschema: column %s: empty event id", ColEventID)
	}
	for _, c := range []struct {
		name string
		t    time.Time
	}{{ColOccurredAt, m.OccurredAt}, {ColKafkaTimestamp, m.Timestamp}, {ColIngestedAt, m.IngestedAt}} {
		if c.t.IsZero() {
			return fmt.Errorf("lakeschema: column %s: timestamp not set", c.name)
		}
		if c.t.Year() < 1678 || c.t.Year() > 2261 { // safe for any unit
			return fmt.Errorf("lakeschema: column %s: %s is out of range", c.name, c.t)
		}
	}
	return nil
}

// Append adds one row: value is what hamba/avro's generic decoding returns for a record
// (avro.Unmarshal(writerSchema, data, &v) with v any, then v.(map[string]any)), m where it
// came from. It appends the whole row or nothing: a value that does not fit its column (wrong
// type, decimal out of precision or scale, a field the table has with another type, a field the
// table lacks, null in a required column) returns an error naming the column path, and the
// builder is unchanged. The whole value is checked before anything is appended.
func (b *Builder) Append(value map[string]any, m Meta) error {
	if b.err != nil {
		return b.err
	}
	if err := checkMeta(&m); err != nil {
		return err
	}
	matched := 0
	for i := range b.cols {
		c := &b.cols[i]
		if c.data == nil {
			continue
		}
		v, ok := value[c.name]
		if ok {
			matched++
		}
		if err := c.data.check(v); err != nil {
			return err
		}
	}
	if matched != len(value) {
		for k := range value {
			if _, ok := b.names[k]; !ok {
				return fmt.Errorf("lakeschema: column %s: not in the table (evolve the table first)", k)
			}
		}
	}
	if b.grow {
		b.reserve()
	}
	b.m = m // a field, so that passing it to the appenders does not move m to the heap
	for i := range b.cols {
		c := &b.cols[i]
		if c.meta != nil {
			c.meta(&b.m)
			continue
		}
		c.data.add(value[c.name])
	}
	b.n++
	return nil
}

// Len is the number of rows appended since the last NewRecord.
func (b *Builder) Len() int { return b.n }

// Schema is the Arrow schema of the records the builder makes.
func (b *Builder) Schema() *arrow.Schema { return b.sc }

// NewRecord returns the rows appended so far as a record batch (the caller releases it) and
// resets the builder.
//
// Making the record hands the column builders' buffers to it and leaves the builders without
// any, so the next record's would grow again from nothing, reallocating, copying and zeroing as
// they double: a string column of 6 kB values over 4096 rows (24 MB) is reallocated about 20
// times, which took about 38% of AppendAvro's time on an 8.7 kB order. So NewRecord
// remembers how many values, and for strings and binaries how many data bytes, each column
// builder (nested ones too) held, and the next Append or AppendAvro reserves that much first
// (1/8 more data bytes, as values vary in size; at most maxReserveValues and maxReserveBytes
// per builder). Nothing is reserved until a row comes: a builder idle or released after its
// last record holds no memory.
func (b *Builder) NewRecord() arrow.RecordBatch {
	for i := range b.sizes {
		s := &b.sizes[i]
		if s.lenOf != nil {
			s.n = s.lenOf.Len()
		} else {
			s.n = s.b.Len()
		}
		if s.data != nil {
			s.bytes = s.data.DataLen()
		}
	}
	b.grow = b.n > 0
	b.n = 0
	return b.rb.NewRecordBatch()
}

// reserve reserves in the column builders what the last record needed of them (see
// NewRecord). Parents come first: a struct builder reserves its fields as many values.
func (b *Builder) reserve() {
	b.grow = false
	for i := range b.sizes {
		s := &b.sizes[i]
		if s.n > 0 {
			s.b.Reserve(min(s.n, maxReserveValues))
		}
		if s.bytes > 0 {
			s.data.ReserveData(min(s.bytes+s.bytes/8, maxReserveBytes))
		}
	}
}

// Release releases the builder's memory.
func (b *Builder) Release() { b.rb.Release() }

// column appends values of one column (or nested field). check validates a value without
// touching the builder; add appends a value check accepted (add never fails).
type column interface {
	check(v any) error
	add(v any)
}

// base is what every column knows of itself.
type base struct {
	path     string // dotted path from the top-level column, .element / .value inside lists and maps
	nullable bool
	typ      arrow.DataType
}

func (c *base) errorf(format string, args ...any) error {
	return fmt.Errorf("lakeschema: column %s: %s", c.path, fmt.Sprintf(format, args...))
}

func (c *base) checkNull() error {
	if c.nullable {
		return nil
	}
	return c.errorf("null in a required column")
}

func (c *base) wrongType(v any) error {
	return c.errorf("a %T does not fit the table's %s", v, c.typ)
}

// compile builds the column of field f, filled through fb.
func compile(path string, f arrow.Field, fb array.Builder) column {
	c := compileType(path, f, fb)
	switch c.(type) {
	case *listCol, *mapCol, *structCol, *nullCol:
		return c
	}
	return leaf{c}
}

// leaf unwraps the form hamba gives a value of a union branch it cannot resolve to a Go type
// (an enum, fixed or local-timestamp-* in a union with null): {"x.y.E": "A"} is read as "A".
// Keys that are plain primitive type names are not unwrapped: hamba never names those, and a
// one-entry Avro map must not pass for a primitive.
type leaf struct{ column }

func unwrapLeaf(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for k, x := range m {
			if !primitiveNames[k] {
				return x
			}
		}
	}
	return v
}

func (c leaf) check(v any) error { return c.column.check(unwrapLeaf(v)) }
func (c leaf) add(v any)         { c.column.add(unwrapLeaf(v)) }

func compileType(path string, f arrow.Field, fb array.Builder) column {
	b := base{path: path, nullable: f.Nullable, typ: f.Type}
	switch bb := fb.(type) {
	case *array.BooleanBuilder:
		return &boolCol{b, bb}
	case *array.Int32Builder:
		return &int32Col{b, bb}
	case *array.Int64Builder:
		return &int64Col{b, bb}
	case *array.Float32Builder:
		return &float32Col{b, bb}
	case *array.Float64Builder:
		return &float64Col{b, bb}
	case *array.StringBuilder:
		return &stringCol{b, bb}
	case *array.BinaryBuilder:
		if f.Type.ID() == arrow.BINARY {
			return &binaryCol{b, bb}
		}
	case *array.FixedSizeBinaryBuilder:
		return &fixedCol{b, bb, f.Type.(*arrow.FixedSizeBinaryType).ByteWidth}
	case *array.Decimal128Builder:
		dt := f.Type.(*arrow.Decimal128Type)
		return &decimalCol{b, bb, dt.Precision, dt.Scale}
	case *array.Date32Builder:
		return &dateCol{b, bb}
	case *array.Time64Builder:
		return &timeCol{b, bb, f.Type.(*arrow.Time64Type).Unit}
	case *array.TimestampBuilder:
		dt := f.Type.(*arrow.TimestampType)
		return &timestampCol{b, bb, dt.Unit, dt.TimeZone == ""}
	case *array.ListBuilder:
		ef := f.Type.(*arrow.ListType).ElemField()
		return &listCol{b, bb, compile(path+".element", ef, bb.ValueBuilder())}
	case *array.MapBuilder:
		mt := f.Type.(*arrow.MapType)
		if _, ok := bb.KeyBuilder().(*array.StringBuilder); ok {
			return &mapCol{base: b, b: bb, key: bb.KeyBuilder().(*array.StringBuilder),
				val: compile(path+".value", mt.ItemField(), bb.ItemBuilder())}
		}
	case *array.StructBuilder:
		st := f.Type.(*arrow.StructType)
		c := &structCol{base: b, b: bb, index: map[string]int{}}
		for i, sf := range st.Fields() {
			c.fields = append(c.fields, structField{name: sf.Name, col: compile(path+"."+sf.Name, sf, bb.FieldBuilder(i))})
			c.index[sf.Name] = i
		}
		return c
	}
	return &nullCol{b, fb}
}

// nullCol is a column of a type the builder does not fill: it takes only nulls.
type nullCol struct {
	base
	b array.Builder
}

func (c *nullCol) check(v any) error {
	if v == nil {
		if c.nullable {
			return nil
		}
		return c.errorf("required column of type %s, which the builder cannot fill", c.typ)
	}
	return c.errorf("the builder cannot fill a column of type %s (got a %T)", c.typ, v)
}
func (c *nullCol) add(any) { c.b.AppendNull() }

type boolCol struct {
	base
	b *array.BooleanBuilder
}

func (c *boolCol) check(v any) error {
	switch v.(type) {
	case nil:
		return c.checkNull()
	case bool:
		return nil
	}
	return c.wrongType(v)
}

func (c *boolCol) add(v any) {
	if x, ok := v.(bool); ok {
		c.b.Append(x)
		return
	}
	c.b.AppendNull()
}

// int32Col takes Avro int: hamba decodes it to int.
type int32Col struct {
	base
	b *array.Int32Builder
}

func (c *int32Col) check(v any) error {
	switch x := v.(type) {
	case nil:
		return c.checkNull()
	case int:
		if x < math.MinInt32 || x > math.MaxInt32 {
			return c.errorf("%d is out of the range of int", x)
		}
		return nil
	case int32:
		return nil
	}
	return c.wrongType(v)
}

func (c *int32Col) add(v any) {
	switch x := v.(type) {
	case int:
		c.b.Append(int32(x))
	case int32:
		c.b.Append(x)
	default:
		c.b.AppendNull()
	}
}

// int64Col takes Avro long (int64) and, promoted, Avro int (int).
type int64Col struct {
	base
	b *array.Int64Builder
}

func (c *int64Col) check(v any) error {
	switch v.(type) {
	case nil:
		return c.checkNull()
	case int64, int, int32:
		return nil
	}
	return c.wrongType(v)
}

func (c *int64Col) add(v any) {
	switch x := v.(type) {
	case int64:
		c.b.Append(x)
	case int:
		c.b.Append(int64(x))
	case int32:
		c.b.Append(int64(x))
	default:
		c.b.AppendNull()
	}
}

type float32Col struct {
	base
	b *array.Float32Builder
}

func (c *float32Col) check(v any) error {
	switch v.(type) {
	case nil:
		return c.checkNull()
	case float32:
		return nil
	}
	return c.wrongType(v)
}

func (c *float32Col) add(v any) {
	if x, ok := v.(float32); ok {
		c.b.Append(x)
		return
	}
	c.b.AppendNull()
}

// float64Col takes Avro double (float64) and, promoted, Avro float (float32).
type float64Col struct {
	base
	b *array.Float64Builder
}

func (c *float64Col) check(v any) error {
	switch v.(type) {
	case nil:
		return c.checkNull()
	case float64, float32:
		return nil
	}
	return c.wrongType(v)
}

func (c *float64Col) add(v any) {
	switch x := v.(type) {
	case float64:
		c.b.Append(x)
	case float32:
		c.b.Append(float64(x))
	default:
		c.b.AppendNull()
	}
}

// stringCol takes Avro string, string with logical type uuid, and enum symbols: all string.
type stringCol struct {
	base
	b *array.StringBuilder
}

func (c *stringCol) check(v any) error {
	switch v.(type) {
	case nil:
		return c.checkNull()
	case string:
		return nil
	}
	return c.wrongType(v)
}

func (c *stringCol) add(v any) {
	if x, ok := v.(string); ok {
		c.b.Append(x)
		return
	}
	c.b.AppendNull()
}

// binaryCol takes Avro bytes: []byte.
type binaryCol struct {
	base
	b *array.BinaryBuilder
}

func (c *binaryCol) check(v any) error {
	switch v.(type) {
	case nil:
		return c.checkNull()
	case []byte:
		return nil
	}
	return c.wrongType(v)
}

func (c *binaryCol) add(v any) {
	if x, ok := v.([]byte); ok {
		c.b.Append(x)
		return
	}
	c.b.AppendNull()
}

// fixedCol takes Avro fixed: hamba decodes fixed(n) to a [n]byte array (reflection is needed
// for that, as n varies), or []byte of length n.
type fixedCol struct {
	base
	b     *array.FixedSizeBinaryBuilder
	width int
}

func (c *fixedCol) bytes(v any) ([]byte, bool) {
	if x, ok := v.([]byte); ok {
		return x, len(x) == c.width
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 || rv.Len() != c.width {
		return nil, false
	}
	out := make([]byte, c.width)
	reflect.Copy(reflect.ValueOf(out), rv)
	return out, true
}

func (c *fixedCol) check(v any) error {
	if v == nil {
		return c.checkNull()
	}
	if _, ok := c.bytes(v); !ok {
		return c.wrongType(v)
	}
	return nil
}

func (c *fixedCol) add(v any) {
	if x, ok := c.bytes(v); ok {
		c.b.Append(x)
		return
	}
	c.b.AppendNull()
}

// decimalCol takes Avro bytes or fixed with logical type decimal: *big.Rat.
type decimalCol struct {
	base
	b           *array.Decimal128Builder
	prec, scale int32
}

func (c *decimalCol) check(v any) error {
	switch x := v.(type) {
	case nil:
		return c.checkNull()
	case *big.Rat:
		if x == nil {
			return c.checkNull()
		}
		if _, err := toDecimal128(x, c.prec, c.scale); err != nil {
			return c.errorf("%s %v", x.RatString(), err)
		}
		return nil
	}
	return c.wrongType(v)
}

func (c *decimalCol) add(v any) {
	if x, ok := v.(*big.Rat); ok && x != nil {
		d, _ := toDecimal128(x, c.prec, c.scale)
		c.b.Append(d)
		return
	}
	c.b.AppendNull()
}

// dateCol takes Avro int date: time.Time at midnight UTC.
type dateCol struct {
	base
	b *array.Date32Builder
}

func (c *dateCol) check(v any) error {
	switch x := v.(type) {
	case nil:
		return c.checkNull()
	case time.Time:
		if _, err := toDate(x); err != nil {
			return c.errorf("%v", err)
		}
		return nil
	}
	return c.wrongType(v)
}

func (c *dateCol) add(v any) {
	if x, ok := v.(time.Time); ok {
		d, _ := toDate(x)
		c.b.Append(d)
		return
	}
	c.b.AppendNull()
}

// timeCol takes Avro time-millis and time-micros: time.Duration.
type timeCol struct {
	base
	b    *array.Time64Builder
	unit arrow.TimeUnit
}

func (c *timeCol) check(v any) error {
	switch x := v.(type) {
	case nil:
		return c.checkNull()
	case time.Duration:
		if _, err := toTimeOfDay(x, c.unit); err != nil {
			return c.errorf("%v", err)
		}
		return nil
	}
	return c.wrongType(v)
}

func (c *timeCol) add(v any) {
	if x, ok := v.(time.Duration); ok {
		t, _ := toTimeOfDay(x, c.unit)
		c.b.Append(t)
		return
	}
	c.b.AppendNull()
}

// timestampCol takes Avro timestamp-* (timestamptz) and local-timestamp-* (timestamp without
// zone, wallClock): time.Time.
type timestampCol struct {
	base
	b         *array.TimestampBuilder
	unit      arrow.TimeUnit
	wallClock bool
}

func (c *timestampCol) check(v any) error {
	switch x := v.(type) {
	case nil:
		return c.checkNull()
	case time.Time:
		if _, err := toTimestamp(x, c.unit, c.wallClock); err != nil {
			return c.errorf("%v", err)
		}
		return nil
	}
	return c.wrongType(v)
}

func (c *timestampCol) add(v any) {
	if x, ok := v.(time.Time); ok {
		ts, _ := toTimestamp(x, c.unit, c.wallClock)
		c.b.Append(ts)
		return
	}
	c.b.AppendNull()
}

// listCol takes Avro array: []any, or map[string]any{"array": []any} (an array in a union
// with null: hamba cannot resolve the branch to a Go type, so it names it).
type listCol struct {
	base
	b    *array.ListBuilder
	elem column
}

func unwrapList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case map[string]any:
		if len(x) == 1 {
			inner, ok := x["array"].([]any)
			return inner, ok
		}
	}
	return nil, false
}

func (c *listCol) check(v any) error {
	if v == nil {
		return c.checkNull()
	}
	items, ok := unwrapList(v)
	if !ok {
		return c.wrongType(v)
	}
	for _, it := range items {
		if err := c.elem.check(it); err != nil {
			return err
		}
	}
	return nil
}

func (c *listCol) add(v any) {
	items, ok := unwrapList(v)
	if !ok {
		c.b.AppendNull()
		return
	}
	c.b.Append(true)
	for _, it := range items {
		c.elem.add(it)
	}
}

// mapCol takes Avro map: map[string]any, or map[string]any{"map": map[string]any} for a map
// in a union with null. Entries are appended in key order.
type mapCol struct {
	base
	b    *array.MapBuilder
	key  *array.StringBuilder
	val  column
	keys []string // scratch
}

// entries returns the map a value holds. {"map": m} is read as a map in a union with null when
// m is a map[string]any whose values all fit the column's values, as a one-entry map otherwise.
func (c *mapCol) entries(v any) (map[string]any, bool) {
	x, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	if len(x) == 1 {
		if inner, ok := x["map"].(map[string]any); ok {
			fits := true
			for _, iv := range inner {
				if c.val.check(iv) != nil {
					fits = false
					break
				}
			}
			if fits {
				return inner, true
			}
		}
	}
	return x, true
}

func (c *mapCol) check(v any) error {
	if v == nil {
		return c.checkNull()
	}
	m, ok := c.entries(v)
	if !ok {
		return c.wrongType(v)
	}
	for _, iv := range m {
		if err := c.val.check(iv); err != nil {
			return err
		}
	}
	return nil
}

func (c *mapCol) add(v any) {
	m, ok := c.entries(v)
	if !ok {
		c.b.AppendNull()
		return
	}
	c.b.Append(true)
	keys := c.keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.key.Append(k)
		c.val.add(m[k])
	}
	c.keys = keys[:0]
}

// structCol takes an Avro record (map[string]any by field name) and an Avro union of several
// non-null branches (a struct with one field per branch, see BranchName). hamba gives a union
// value in one of two forms: the value itself when it resolves every branch to a Go type
// (primitives and their logical types), or map[string]any{<branch key>: value} when it cannot
// (a record, enum, fixed, array, map or local-timestamp branch; see unionKey). A record in a
// union with null comes in the second form too: {"storeline.Money": {...}}.
type structCol struct {
	base
	b      *array.StructBuilder
	fields []structField
	index  map[string]int
	keys   map[string]int // union map key → branch field index, -1 for none
}

type structField struct {
	name string
	col  column
}

// How a struct value is read.
const (
	asRecord  = iota // the map is the record: keys are field names
	asWrapped        // {fullname: record}: a record in a union with null
	asBranch         // one field set (a union branch), the others null
)

// resolve tells how v is read: as a record (rec), or as union branch i holding inner.
func (c *structCol) resolve(v any) (mode int, rec map[string]any, i int, inner any, err error) {
	x, ok := v.(map[string]any)
	if !ok {
		i, ok := c.branchOfValue(v)
		if !ok {
			return 0, nil, 0, nil, c.wrongType(v)
		}
		return asBranch, nil, i, v, nil
	}
	if len(x) != 1 {
		return asRecord, x, 0, nil, nil
	}
	var key string
	for k, val := range x {
		key, inner = k, val
	}
	if _, ok := c.index[key]; ok {
		return asRecord, x, 0, nil, nil
	}
	wrapped, isMap := inner.(map[string]any)
	bi, isBranch := c.branchOfKey(key)
	switch {
	case isBranch && isMap:
		// {"ns.Rec": {...}} is branch rec of a union, or a record Rec with a field named rec
		// wrapped for a union with null: the branch if the value fits it.
		if c.fields[bi].col.check(inner) == nil || c.checkRecord(wrapped) != nil {
			return asBranch, nil, bi, inner, nil
		}
		return asWrapped, wrapped, 0, nil, nil
	case isBranch:
		return asBranch, nil, bi, inner, nil
	case isMap:
		return asWrapped, wrapped, 0, nil, nil
	}
	return 0, nil, 0, nil, fmt.Errorf("lakeschema: column %s.%s: not in the table (evolve the table first)", c.path, key)
}

// branchOfKey finds the branch field of a key of hamba's union map, memoised: lower-casing a
// record's name allocates.
func (c *structCol) branchOfKey(key string) (int, bool) {
	i, ok := c.keys[key]
	if !ok {
		i = -1
		if j, found := c.index[branchOfKey(key)]; found {
			i = j
		}
		if c.keys == nil {
			c.keys = map[string]int{}
		}
		if len(c.keys) < 64 { // bound what arbitrary keys can add
			c.keys[key] = i
		}
	}
	return i, i >= 0
}

// goBranches maps the Go type of a value hamba resolved in a union to the branch names that
// can hold it.
func goBranches(v any) []string {
	switch v.(type) {
	case string:
		return []string{"string"}
	case int64:
		return []string{"long"}
	case int:
		return []string{"int"}
	case float32:
		return []string{"float"}
	case float64:
		return []string{"double"}
	case bool:
		return []string{"boolean"}
	case []byte, *big.Rat:
		return []string{"bytes"}
	case time.Time, time.Duration: // timestamp-* and time-micros are long; date and time-millis int
		return []string{"long", "int"}
	}
	return nil
}

// branchOfValue finds the union branch that holds v, a value hamba resolved to a Go type.
func (c *structCol) branchOfValue(v any) (int, bool) {
	for _, name := range goBranches(v) {
		if i, ok := c.index[name]; ok && c.fields[i].col.check(v) == nil {
			return i, true
		}
	}
	return 0, false
}

func (c *structCol) checkRecord(x map[string]any) error {
	matched := 0
	for _, f := range c.fields {
		fv, ok := x[f.name]
		if ok {
			matched++
		}
		if err := f.col.check(fv); err != nil {
			return err
		}
	}
	if matched != len(x) {
		for k := range x {
			if _, ok := c.index[k]; !ok {
				return fmt.Errorf("lakeschema: column %s.%s: not in the table (evolve the table first)", c.path, k)
			}
		}
	}
	return nil
}

func (c *structCol) check(v any) error {
	if v == nil {
		return c.checkNull()
	}
	mode, rec, i, inner, err := c.resolve(v)
	if err != nil {
		return err
	}
	if mode != asBranch {
		return c.checkRecord(rec)
	}
	for j, f := range c.fields {
		if j == i {
			if err := f.col.check(inner); err != nil {
				return err
			}
		} else if err := f.col.check(nil); err != nil {
			return err
		}
	}
	return nil
}

func (c *structCol) add(v any) {
	if v == nil {
		c.b.AppendNull()
		return
	}
	mode, rec, i, inner, err := c.resolve(v)
	if err != nil {
		c.b.AppendNull()
		return
	}
	c.b.Append(true)
	if mode != asBranch {
		for _, f := range c.fields {
			f.col.add(rec[f.name])
		}
		return
	}
	for j, f := range c.fields {
		if j == i {
			f.col.add(inner)
		} else {
			f.col.add(nil)
		}
	}
}
