package lakeschema

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/hamba/avro/v2"
)

// Decoder appends Avro binary bodies written with one writer schema straight into a Builder's
// columns, without hamba's generic values: the rows it makes are those Builder.Append makes
// from the same bodies decoded generically (array.RecordEqual), several times faster.
//
// NewDecoder compiles, once per writer schema, a tree of decoders that follows the writer
// schema (records field by field in writer order) and appends to the builder's Arrow column
// builders. AppendAvro reads a body twice: a first pass validates it and appends nothing (every
// length, varint, union index, enum index, boolean, decimal precision, time range, trailing
// bytes, the envelope's event_id and occurred_at), the second appends it, so a body that fails
// leaves the builder unchanged.
//
// A Decoder holds the builder's column builders: use it with its Builder only, and not after
// the Builder's Release. It is not safe for concurrent use (nor with the Builder's Append at the
// same time).
type Decoder struct {
	b       *Builder
	root    *recordNode
	eventID *array.StringBuilder // the _event_id column, to append an id read from the body
	r       reader
	env     envCapture
	m       Meta
}

// envCapture is what the validating pass reads of envelope.event_id and envelope.occurred_at.
type envCapture struct {
	idStart, idEnd int   // event_id: body[idStart:idEnd]
	occurred       int64 // occurred_at in microseconds
	idSet, occSet  bool
}

// NewDecoder returns a decoder of bodies written with writer into b's rows. It fails, naming the
// column path, if records of writer do not fit b's Arrow schema by the rules Append and
// Compatible apply: a writer field the table lacks (evolve the table first), a type the table
// has otherwise (promotions int→long, float→double and decimal precision widening at the same
// scale are accepted), a nullable writer type for a required column, a required column the
// writer lacks. Table columns the writer lacks get nulls.
func (b *Builder) NewDecoder(writer *avro.RecordSchema) (*Decoder, error) {
	if b.err != nil {
		return nil, b.err
	}
	if writer == nil {
		return nil, errors.New("lakeschema: nil writer schema")
	}
	d := &Decoder{b: b}
	fields := b.sc.Fields()
	for i, f := range fields {
		if f.Name == ColEventID {
			sb, ok := b.rb.Field(i).(*array.StringBuilder)
			if !ok {
				return nil, fmt.Errorf("lakeschema: metadata column %s is %s in the table", f.Name, f.Type)
			}
			d.eventID = sb
		}
	}
	c := &dcompiler{d: d}
	root, _, err := c.record(writer, fields, b.rb.Field, "", true, false)
	if err != nil {
		return nil, err
	}
	d.root = root
	return d, nil
}

// AppendAvro appends one row: body is an Avro binary body written with the decoder's writer
// schema (without the 5-byte wire header), m where it came from. EventID and OccurredAt, when
// zero in m, are read from the body's envelope (field envelope, a record with event_id, a
// string, and occurred_at, a timestamp-micros or -millis); it is an error if the envelope lacks
// them. All or nothing: on any error (truncated or corrupt body, trailing bytes, a union or
// enum index out of range, a decimal out of its column's precision, a time of day outside
// [0, 24h), bad metadata) the builder is unchanged.
func (d *Decoder) AppendAvro(body []byte, m Meta) error {
	b := d.b
	if b.err != nil {
		return b.err
	}
	d.r = reader{buf: body}
	d.env = envCapture{}
	if err := d.root.skip(&d.r); err != nil {
		return err
	}
	if d.r.pos != len(body) {
		return fmt.Errorf("lakeschema: %d trailing bytes after the record (body of %d bytes)", len(body)-d.r.pos, len(body))
	}
	var id []byte
	if m.EventID == "" {
		if !d.env.idSet {
			return fmt.Errorf("lakeschema: column %s: %w: no event id in Meta and no envelope.event_id in the body", ColEventID, ErrNotAnEvent)
		}
		if id = body[d.env.idStart:d.env.idEnd]; len(id) == 0 {
			return fmt.Errorf("lakeschema: column %s: %w: empty event id", ColEventID, ErrNotAnEvent)
		}
	}
	if m.OccurredAt.IsZero() {
		if !d.env.occSet {
			return fmt.Errorf("lakeschema: column %s: %w: no occurred_at in Meta and no envelope.occurred_at in the body", ColOccurredAt, ErrNotAnEvent)
		}
		m.OccurredAt = time.UnixMicro(d.env.occurred).UTC()
	}
	d.m = m // a field, so that passing it to the appenders does not move m to the heap
	if id != nil {
		d.m.EventID = "-" // checked as set; the column gets id
	}
	if err := checkMeta(&d.m); err != nil {
		return err
	}
	if b.grow {
		b.reserve()
	}
	for i := range b.cols {
		c := &b.cols[i]
		if c.meta == nil {
			continue
		}
		if id != nil && c.name == ColEventID {
			d.eventID.BinaryBuilder.Append(id)
			continue
		}
		c.meta(&d.m)
	}
	d.r.pos = 0
	d.root.add(&d.r)
	b.n++
	return nil
}

// reader reads the Avro binary encoding from buf. Its methods never read past buf: they return
// an error instead.
type reader struct {
	buf []byte
	pos int
}

// ErrNotAnEvent is what AppendAvro wraps when the body decodes but has no envelope with an event
// id and an occurred_at (and Meta gives none).
var ErrNotAnEvent = errors.New("not an event")

var (
	errTruncated = errors.New("body truncated")
	errVarint    = errors.New("malformed varint")
	errIntRange  = errors.New("int out of range")
	errLength    = errors.New("negative length")
	errBool      = errors.New("boolean byte is neither 0 nor 1")
)

// long reads a zigzag varint of at most 10 bytes.
func (r *reader) long() (int64, error) {
	buf, pos := r.buf, r.pos
	var v uint64
	for s := uint(0); s < 64; s += 7 {
		if pos >= len(buf) {
			r.pos = pos
			return 0, errTruncated
		}
		c := buf[pos]
		pos++
		if s == 63 && c > 1 {
			r.pos = pos
			return 0, errVarint
		}
		v |= uint64(c&0x7f) << s
		if c < 0x80 {
			r.pos = pos
			return int64(v>>1) ^ -int64(v&1), nil
		}
	}
	r.pos = pos
	return 0, errVarint
}

func (r *reader) int() (int32, error) {
	v, err := r.long()
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, errIntRange
	}
	return int32(v), nil
}

// span reads a length-prefixed bytes or string and returns where it lies in buf.
func (r *reader) span() (start, end int, err error) {
	n, err := r.long()
	if err != nil {
		return 0, 0, err
	}
	if n < 0 {
		return 0, 0, errLength
	}
	if n > int64(len(r.buf)-r.pos) {
		return 0, 0, errTruncated
	}
	start = r.pos
	r.pos += int(n)
	return start, r.pos, nil
}

// fixed passes over n bytes and returns where they start.
func (r *reader) fixed(n int) (int, error) {
	if n > len(r.buf)-r.pos {
		return 0, errTruncated
	}
	start := r.pos
	r.pos += n
	return start, nil
}

// blockCount reads the item count of an array or map block; a negative count is followed by
// the block's size in bytes, which is read and ignored (as hamba does). min is the least
// number of bytes an item takes: a count the rest of the body cannot hold is an error, and
// items of size zero are limited to maxZeroSizeItems per array or map.
func (r *reader) blockCount(min int, seen *int) (int, error) {
	n, err := r.long()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		if n == math.MinInt64 {
			return 0, errors.New("malformed block count")
		}
		n = -n
		size, err := r.long()
		if err != nil {
			return 0, err
		}
		if size < 0 {
			return 0, errors.New("negative block size")
		}
	}
	if min > 0 {
		if n > int64(len(r.buf)-r.pos)/int64(min) {
			return 0, fmt.Errorf("block of %d items: %w", n, errTruncated)
		}
	} else if n > int64(maxZeroSizeItems-*seen) {
		return 0, fmt.Errorf("more than %d items of size zero", maxZeroSizeItems)
	}
	*seen += int(n)
	return int(n), nil
}

// maxZeroSizeItems bounds the items of an array or map whose items may take no bytes (records
// without fields, fixed(0)), which a short body could otherwise claim billions of.
const maxZeroSizeItems = 1 << 20

// node decodes values of one writer type into one column (or nested field). skip validates one
// value and passes over it without appending; add appends a value skip accepted.
type node interface {
	skip(r *reader) error
	add(r *reader)
}

// npath is the column path of a node, for its errors.
type npath string

func (p npath) fail(r *reader, err error) error {
	return fmt.Errorf("lakeschema: column %s: %v (at byte %d of %d)", string(p), err, r.pos, len(r.buf))
}

// dcompiler builds a Decoder's node tree.
type dcompiler struct{ d *Decoder }

func mismatch(path string, f arrow.Field, s avro.Schema) error {
	return fmt.Errorf("lakeschema: column %s: table has %s, records have %s", path, f.Type, avroTypeName(s))
}

func avroTypeName(s avro.Schema) string {
	if l, ok := s.(avro.LogicalTypeSchema); ok && l.Logical() != nil {
		if d, ok := l.Logical().(*avro.DecimalLogicalSchema); ok {
			return fmt.Sprintf("%s decimal(%d,%d)", s.Type(), d.Precision(), d.Scale())
		}
		return string(s.Type()) + " " + string(l.Logical().Type())
	}
	if n, ok := s.(avro.NamedSchema); ok {
		return string(s.Type()) + " " + n.FullName()
	}
	return string(s.Type())
}

// record compiles the fields of rec into the fields of a struct (or, top, the table's columns),
// child giving the builder of field i. It returns the node and the least number of bytes a
// value takes.
func (c *dcompiler) record(rec *avro.RecordSchema, fields []arrow.Field, child func(int) array.Builder, prefix string, top, env bool) (*recordNode, int, error) {
	n := &recordNode{}
	used := make([]bool, len(fields))
	size := 0
	for _, wf := range rec.Fields() {
		idx := -1
		for i, f := range fields {
			if f.Name == wf.Name() {
				idx = i
				break
			}
		}
		if idx < 0 || (top && isMetaColumn(wf.Name())) {
			return nil, 0, fmt.Errorf("lakeschema: column %s%s: not in the table (evolve the table first)", prefix, wf.Name())
		}
		if used[idx] {
			return nil, 0, fmt.Errorf("lakeschema: column %s%s: twice in the records", prefix, wf.Name())
		}
		used[idx] = true
		cn, sz, err := c.node(wf.Type(), fields[idx], child(idx), prefix+wf.Name(), top && wf.Name() == "envelope")
		if err != nil {
			return nil, 0, err
		}
		if env {
			c.capture(wf, cn)
		}
		n.fields = append(n.fields, cn)
		size += sz
	}
	for i, f := range fields {
		if used[i] || (top && isMetaColumn(f.Name)) {
			continue
		}
		if !f.Nullable {
			return nil, 0, fmt.Errorf("lakeschema: column %s%s: required in the table, absent from the records", prefix, f.Name)
		}
		n.missing = append(n.missing, child(i))
	}
	return n, size, nil
}

// capture makes the envelope's event_id and occurred_at nodes record what they read.
func (c *dcompiler) capture(wf *avro.Field, cn node) {
	switch wf.Name() {
	case "event_id":
		if sn, ok := cn.(*stringNode); ok {
			sn.env = &c.d.env
		}
	case "occurred_at":
		if tn, ok := cn.(*timestampNode); ok {
			tn.env = &c.d.env
		}
	}
}

func deref(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}

// node compiles writer type s into column f, filled through fb. env is set for the top-level
// envelope field.
func (c *dcompiler) node(s avro.Schema, f arrow.Field, fb array.Builder, path string, env bool) (node, int, error) {
	s = deref(s)
	p := npath(path)
	switch t := s.(type) {
	case *avro.UnionSchema:
		return c.union(t, f, fb, path, env)
	case *avro.RecordSchema:
		sb, ok := fb.(*array.StructBuilder)
		if !ok {
			return nil, 0, mismatch(path, f, s)
		}
		st := f.Type.(*arrow.StructType)
		n, size, err := c.record(t, st.Fields(), sb.FieldBuilder, path+".", false, env)
		if err != nil {
			return nil, 0, err
		}
		n.sb = sb
		return n, size, nil
	case *avro.ArraySchema:
		lb, ok := fb.(*array.ListBuilder)
		if !ok {
			return nil, 0, mismatch(path, f, s)
		}
		lt, ok := f.Type.(*arrow.ListType)
		if !ok {
			return nil, 0, mismatch(path, f, s)
		}
		ef := lt.ElemField()
		item, size, err := c.node(t.Items(), ef, lb.ValueBuilder(), path+".element", false)
		if err != nil {
			return nil, 0, err
		}
		return &arrayNode{npath: p, b: lb, item: item, min: size}, 1, nil
	case *avro.MapSchema:
		mb, ok := fb.(*array.MapBuilder)
		if !ok {
			return nil, 0, mismatch(path, f, s)
		}
		key, ok := mb.KeyBuilder().(*array.StringBuilder)
		if !ok {
			return nil, 0, mismatch(path, f, s)
		}
		mt := f.Type.(*arrow.MapType)
		val, _, err := c.node(t.Values(), mt.ItemField(), mb.ItemBuilder(), path+".value", false)
		if err != nil {
			return nil, 0, err
		}
		return &mapNode{npath: p, b: mb, key: key, val: val}, 1, nil
	case *avro.EnumSchema:
		sb, ok := fb.(*array.StringBuilder)
		if !ok {
			return nil, 0, mismatch(path, f, s)
		}
		return &enumNode{npath: p, b: sb, symbols: t.Symbols()}, 1, nil
	case *avro.FixedSchema:
		if l := t.Logical(); l != nil {
			switch l.Type() {
			case avro.Decimal:
				return c.decimal(l, f, fb, path, s, t.Size())
			case avro.Duration:
				return nil, 0, fmt.Errorf("lakeschema: field %s: Avro duration has no Iceberg equivalent", path)
			}
		}
		xb, ok := fb.(*array.FixedSizeBinaryBuilder)
		if !ok || f.Type.(*arrow.FixedSizeBinaryType).ByteWidth != t.Size() {
			return nil, 0, mismatch(path, f, s)
		}
		return &fixedNode{npath: p, b: xb, size: t.Size()}, t.Size(), nil
	case *avro.PrimitiveSchema:
		n, err := c.primitive(t, f, fb, path)
		if err != nil {
			return nil, 0, err
		}
		size := 1
		switch t.Type() {
		case avro.Float:
			size = 4
		case avro.Double:
			size = 8
		}
		return n, size, nil
	case *avro.NullSchema:
		return nil, 0, fmt.Errorf("lakeschema: field %s: a field of type null has no Iceberg equivalent", path)
	}
	return nil, 0, mismatch(path, f, s)
}

func (c *dcompiler) union(u *avro.UnionSchema, f arrow.Field, fb array.Builder, path string, env bool) (node, int, error) {
	types := u.Types()
	var nonNull []int
	hasNull := false
	for i, b := range types {
		if b.Type() == avro.Null {
			hasNull = true
		} else {
			nonNull = append(nonNull, i)
		}
	}
	if len(nonNull) == 0 {
		return nil, 0, fmt.Errorf("lakeschema: field %s: a union of null alone has no Iceberg equivalent", path)
	}
	if hasNull && !f.Nullable {
		return nil, 0, fmt.Errorf("lakeschema: column %s: required in the table, nullable in the records", path)
	}
	branches := make([]node, len(types)) // nil for null
	if len(nonNull) == 1 {
		inner, _, err := c.node(types[nonNull[0]], f, fb, path, env)
		if err != nil {
			return nil, 0, err
		}
		branches[nonNull[0]] = inner
		return &optNode{npath: npath(path), b: fb, branches: branches}, 1, nil
	}
	sb, ok := fb.(*array.StructBuilder)
	if !ok {
		return nil, 0, mismatch(path, f, u)
	}
	st := f.Type.(*arrow.StructType)
	n := &unionNode{npath: npath(path), b: sb, branches: branches, slots: make([]int, len(types))}
	used := make([]bool, st.NumFields())
	for _, i := range nonNull {
		name := BranchName(types[i])
		idx, ok := st.FieldIdx(name)
		if !ok {
			return nil, 0, fmt.Errorf("lakeschema: column %s.%s: not in the table (evolve the table first)", path, name)
		}
		bf := st.Field(idx)
		if !bf.Nullable {
			return nil, 0, fmt.Errorf("lakeschema: column %s.%s: required in the table, but a union branch", path, name)
		}
		inner, _, err := c.node(types[i], bf, sb.FieldBuilder(idx), path+"."+name, false)
		if err != nil {
			return nil, 0, err
		}
		used[idx] = true
		branches[i], n.slots[i] = inner, idx
	}
	for i, bf := range st.Fields() {
		if !used[i] && !bf.Nullable {
			return nil, 0, fmt.Errorf("lakeschema: column %s.%s: required in the table, absent from the records", path, bf.Name)
		}
		n.children = append(n.children, sb.FieldBuilder(i))
	}
	return n, 1, nil
}

// decimal compiles a bytes (size 0) or fixed decimal: the table's column must have the same
// scale and at least the writer's precision (Compatible).
func (c *dcompiler) decimal(l avro.LogicalSchema, f arrow.Field, fb array.Builder, path string, s avro.Schema, size int) (node, int, error) {
	ds, ok := l.(*avro.DecimalLogicalSchema)
	if !ok {
		return nil, 0, fmt.Errorf("lakeschema: field %s: malformed decimal", path)
	}
	db, ok := fb.(*array.Decimal128Builder)
	if !ok {
		return nil, 0, mismatch(path, f, s)
	}
	dt := f.Type.(*arrow.Decimal128Type)
	if int(dt.Scale) != ds.Scale() || int(dt.Precision) < ds.Precision() || dt.Precision < 1 || dt.Precision > 38 {
		return nil, 0, mismatch(path, f, s)
	}
	min := size
	if size == 0 {
		min = 1
	}
	return &decimalNode{npath: npath(path), b: db, prec: dt.Precision, size: size}, min, nil
}

func (c *dcompiler) primitive(t *avro.PrimitiveSchema, f arrow.Field, fb array.Builder, path string) (node, error) {
	var lt avro.LogicalType
	if l := t.Logical(); l != nil {
		lt = l.Type()
	}
	p := npath(path)
	switch t.Type() {
	case avro.Boolean:
		if bb, ok := fb.(*array.BooleanBuilder); ok {
			return &boolNode{p, bb}, nil
		}
	case avro.Int:
		switch lt {
		case avro.Date:
			if db, ok := fb.(*array.Date32Builder); ok {
				return &dateNode{p, db}, nil
			}
		case avro.TimeMillis:
			if tb, ok := fb.(*array.Time64Builder); ok {
				return &timeNode{npath: p, b: tb, millis: true, nanos: f.Type.(*arrow.Time64Type).Unit == arrow.Nanosecond}, nil
			}
		default:
			switch ib := fb.(type) {
			case *array.Int32Builder:
				return &intNode{p, ib}, nil
			case *array.Int64Builder:
				return &intLongNode{p, ib}, nil
			}
		}
	case avro.Long:
		switch lt {
		case avro.TimeMicros:
			if tb, ok := fb.(*array.Time64Builder); ok {
				return &timeNode{npath: p, b: tb, nanos: f.Type.(*arrow.Time64Type).Unit == arrow.Nanosecond}, nil
			}
		case avro.TimestampMillis, avro.TimestampMicros, avro.LocalTimestampMillis, avro.LocalTimestampMicros:
			tb, ok := fb.(*array.TimestampBuilder)
			if !ok {
				break
			}
			tt := f.Type.(*arrow.TimestampType)
			local := lt == avro.LocalTimestampMillis || lt == avro.LocalTimestampMicros
			if local != (tt.TimeZone == "") {
				break // timestamptz and timestamp without zone do not mix (Compatible)
			}
			millis := lt == avro.TimestampMillis || lt == avro.LocalTimestampMillis
			return &timestampNode{npath: p, b: tb, millis: millis, unit: tt.Unit}, nil
		default:
			if ib, ok := fb.(*array.Int64Builder); ok {
				return &longNode{p, ib}, nil
			}
		}
	case avro.Float:
		switch fb := fb.(type) {
		case *array.Float32Builder:
			return &floatNode{p, fb}, nil
		case *array.Float64Builder:
			return &floatDoubleNode{p, fb}, nil
		}
	case avro.Double:
		if db, ok := fb.(*array.Float64Builder); ok {
			return &doubleNode{p, db}, nil
		}
	case avro.String:
		if sb, ok := fb.(*array.StringBuilder); ok {
			return &stringNode{npath: p, b: sb.BinaryBuilder}, nil
		}
	case avro.Bytes:
		if lt == avro.Decimal {
			n, _, err := c.decimal(t.Logical(), f, fb, path, t, 0)
			return n, err
		}
		if bb, ok := fb.(*array.BinaryBuilder); ok && f.Type.ID() == arrow.BINARY {
			return &bytesNode{p, bb}, nil
		}
	}
	return nil, mismatch(path, f, t)
}

// recordNode decodes a record's fields in writer order; the table's fields the writer lacks get
// nulls. sb is nil for the top-level record, whose fields are the table's columns.
type recordNode struct {
	sb      *array.StructBuilder
	fields  []node
	missing []array.Builder
}

func (n *recordNode) skip(r *reader) error {
	for _, f := range n.fields {
		if err := f.skip(r); err != nil {
			return err
		}
	}
	return nil
}

func (n *recordNode) add(r *reader) {
	if n.sb != nil {
		n.sb.Append(true)
	}
	for _, f := range n.fields {
		f.add(r)
	}
	for _, b := range n.missing {
		b.AppendNull()
	}
}

// optNode is a union of null and one other type: the column of that type, null for the null
// branch.
type optNode struct {
	npath
	b        array.Builder
	branches []node // nil for null
}

func (n *optNode) branch(r *reader) (node, error) {
	i, err := r.long()
	if err != nil {
		return nil, n.fail(r, err)
	}
	if i < 0 || i >= int64(len(n.branches)) {
		return nil, n.fail(r, fmt.Errorf("union index %d out of range", i))
	}
	return n.branches[i], nil
}

func (n *optNode) skip(r *reader) error {
	b, err := n.branch(r)
	if err != nil || b == nil {
		return err
	}
	return b.skip(r)
}

func (n *optNode) add(r *reader) {
	b, _ := n.branch(r)
	if b == nil {
		n.b.AppendNull()
		return
	}
	b.add(r)
}

// unionNode is a union of several non-null types (and maybe null): a struct with one field per
// branch, the branch's set and the others null; the whole struct null for the null branch.
type unionNode struct {
	npath
	b        *array.StructBuilder
	branches []node // by union index; nil for null
	slots    []int  // by union index: the struct field of the branch
	children []array.Builder
}

func (n *unionNode) branch(r *reader) (int, error) {
	i, err := r.long()
	if err != nil {
		return 0, n.fail(r, err)
	}
	if i < 0 || i >= int64(len(n.branches)) {
		return 0, n.fail(r, fmt.Errorf("union index %d out of range", i))
	}
	return int(i), nil
}

func (n *unionNode) skip(r *reader) error {
	i, err := n.branch(r)
	if err != nil || n.branches[i] == nil {
		return err
	}
	return n.branches[i].skip(r)
}

func (n *unionNode) add(r *reader) {
	i, _ := n.branch(r)
	b := n.branches[i]
	if b == nil {
		n.b.AppendNull()
		return
	}
	n.b.Append(true)
	for j, c := range n.children {
		if j != n.slots[i] {
			c.AppendNull()
		}
	}
	b.add(r)
}

type arrayNode struct {
	npath
	b    *array.ListBuilder
	item node
	min  int // least bytes an item takes
}

func (n *arrayNode) skip(r *reader) error {
	seen := 0
	for {
		cnt, err := r.blockCount(n.min, &seen)
		if err != nil {
			return n.fail(r, err)
		}
		if cnt == 0 {
			return nil
		}
		for range cnt {
			if err := n.item.skip(r); err != nil {
				return err
			}
		}
	}
}

func (n *arrayNode) add(r *reader) {
	n.b.Append(true)
	seen := 0
	for {
		cnt, err := r.blockCount(n.min, &seen)
		if err != nil || cnt == 0 {
			return
		}
		for range cnt {
			n.item.add(r)
		}
	}
}

// mapNode appends a map's entries in key order, as Append does; of entries with the same key,
// the last one (which is what a generic decoding into a Go map keeps).
type mapNode struct {
	npath
	b    *array.MapBuilder
	key  *array.StringBuilder
	val  node
	ents []mapEntry // scratch
}

type mapEntry struct{ k0, k1, v0 int }

func (n *mapNode) skip(r *reader) error {
	seen := 0
	for {
		cnt, err := r.blockCount(1, &seen)
		if err != nil {
			return n.fail(r, err)
		}
		if cnt == 0 {
			return nil
		}
		for range cnt {
			if _, _, err := r.span(); err != nil {
				return n.fail(r, fmt.Errorf("key: %w", err))
			}
			if err := n.val.skip(r); err != nil {
				return err
			}
		}
	}
}

func (n *mapNode) add(r *reader) {
	n.b.Append(true)
	ents := n.ents[:0]
	seen := 0
	sorted := true
	buf := r.buf
	for {
		cnt, err := r.blockCount(1, &seen)
		if err != nil || cnt == 0 {
			break
		}
		for range cnt {
			k0, k1, _ := r.span()
			e := mapEntry{k0, k1, r.pos}
			if sorted && len(ents) > 0 {
				last := ents[len(ents)-1]
				sorted = bytes.Compare(buf[last.k0:last.k1], buf[k0:k1]) < 0
			}
			ents = append(ents, e)
			_ = n.val.skip(r)
		}
	}
	end := r.pos
	if !sorted {
		slices.SortStableFunc(ents, func(a, b mapEntry) int { return bytes.Compare(buf[a.k0:a.k1], buf[b.k0:b.k1]) })
	}
	for i, e := range ents {
		if !sorted && i+1 < len(ents) && bytes.Equal(buf[e.k0:e.k1], buf[ents[i+1].k0:ents[i+1].k1]) {
			continue // a later entry has the same key
		}
		n.key.BinaryBuilder.Append(buf[e.k0:e.k1])
		r.pos = e.v0
		n.val.add(r)
	}
	r.pos = end
	n.ents = ents[:0]
}

type boolNode struct {
	npath
	b *array.BooleanBuilder
}

func (n *boolNode) read(r *reader) (bool, error) {
	if r.pos >= len(r.buf) {
		return false, n.fail(r, errTruncated)
	}
	c := r.buf[r.pos]
	r.pos++
	if c > 1 {
		return false, n.fail(r, errBool)
	}
	return c == 1, nil
}

func (n *boolNode) skip(r *reader) error { _, err := n.read(r); return err }
func (n *boolNode) add(r *reader)        { v, _ := n.read(r); n.b.Append(v) }

type intNode struct {
	npath
	b *array.Int32Builder
}

func (n *intNode) skip(r *reader) error {
	if _, err := r.int(); err != nil {
		return n.fail(r, err)
	}
	return nil
}
func (n *intNode) add(r *reader) { v, _ := r.int(); n.b.Append(v) }

// intLongNode is an Avro int in a long column.
type intLongNode struct {
	npath
	b *array.Int64Builder
}

func (n *intLongNode) skip(r *reader) error {
	if _, err := r.int(); err != nil {
		return n.fail(r, err)
	}
	return nil
}
func (n *intLongNode) add(r *reader) { v, _ := r.int(); n.b.Append(int64(v)) }

type longNode struct {
	npath
	b *array.Int64Builder
}

func (n *longNode) skip(r *reader) error {
	if _, err := r.long(); err != nil {
		return n.fail(r, err)
	}
	return nil
}
func (n *longNode) add(r *reader) { v, _ := r.long(); n.b.Append(v) }

func (r *reader) float32() (float32, error) {
	if len(r.buf)-r.pos < 4 {
		return 0, errTruncated
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(r.buf[r.pos:]))
	r.pos += 4
	return v, nil
}

func (r *reader) float64() (float64, error) {
	if len(r.buf)-r.pos < 8 {
		return 0, errTruncated
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.buf[r.pos:]))
	r.pos += 8
	return v, nil
}

type floatNode struct {
	npath
	b *array.Float32Builder
}

func (n *floatNode) skip(r *reader) error {
	if _, err := r.float32(); err != nil {
		return n.fail(r, err)
	}
	return nil
}
func (n *floatNode) add(r *reader) { v, _ := r.float32(); n.b.Append(v) }

// floatDoubleNode is an Avro float in a double column.
type floatDoubleNode struct {
	npath
	b *array.Float64Builder
}

func (n *floatDoubleNode) skip(r *reader) error {
	if _, err := r.float32(); err != nil {
		return n.fail(r, err)
	}
	return nil
}
func (n *floatDoubleNode) add(r *reader) { v, _ := r.float32(); n.b.Append(float64(v)) }

type doubleNode struct {
	npath
	b *array.Float64Builder
}

func (n *doubleNode) skip(r *reader) error {
	if _, err := r.float64(); err != nil {
		return n.fail(r, err)
	}
	return nil
}
func (n *doubleNode) add(r *reader) { v, _ := r.float64(); n.b.Append(v) }

// stringNode appends a string's bytes to a utf8 column (the StringBuilder's BinaryBuilder:
// no conversion to a Go string). Like hamba, it does not check the bytes are UTF-8. env is set
// for envelope.event_id.
type stringNode struct {
	npath
	b   *array.BinaryBuilder
	env *envCapture
}

func (n *stringNode) skip(r *reader) error {
	s, e, err := r.span()
	if err != nil {
		return n.fail(r, err)
	}
	if n.env != nil {
		n.env.idStart, n.env.idEnd, n.env.idSet = s, e, true
	}
	return nil
}

func (n *stringNode) add(r *reader) {
	s, e, _ := r.span()
	n.b.Append(r.buf[s:e])
}

type bytesNode struct {
	npath
	b *array.BinaryBuilder
}

func (n *bytesNode) skip(r *reader) error {
	if _, _, err := r.span(); err != nil {
		return n.fail(r, err)
	}
	return nil
}

func (n *bytesNode) add(r *reader) {
	s, e, _ := r.span()
	n.b.Append(r.buf[s:e])
}

type fixedNode struct {
	npath
	b    *array.FixedSizeBinaryBuilder
	size int
}

func (n *fixedNode) skip(r *reader) error {
	if _, err := r.fixed(n.size); err != nil {
		return n.fail(r, err)
	}
	return nil
}

func (n *fixedNode) add(r *reader) {
	s, _ := r.fixed(n.size)
	n.b.Append(r.buf[s : s+n.size])
}

// enumNode appends the symbol of an enum's index.
type enumNode struct {
	npath
	b       *array.StringBuilder
	symbols []string
}

func (n *enumNode) read(r *reader) (string, error) {
	i, err := r.int()
	if err != nil {
		return "", n.fail(r, err)
	}
	if i < 0 || int(i) >= len(n.symbols) {
		return "", n.fail(r, fmt.Errorf("enum index %d out of range", i))
	}
	return n.symbols[i], nil
}

func (n *enumNode) skip(r *reader) error { _, err := n.read(r); return err }
func (n *enumNode) add(r *reader)        { s, _ := n.read(r); n.b.Append(s) }

// decimalNode reads a bytes (size 0) or fixed decimal, two's-complement big-endian, whose scale
// is the column's, and checks it fits the column's precision.
type decimalNode struct {
	npath
	b    *array.Decimal128Builder
	prec int32
	size int
}

var errDecimalRange = errors.New("does not fit in 128 bits")

func (n *decimalNode) read(r *reader) (decimal128.Num, error) {
	var s, e int
	var err error
	if n.size == 0 {
		s, e, err = r.span()
	} else {
		s, err = r.fixed(n.size)
		e = s + n.size
	}
	if err != nil {
		return decimal128.Num{}, n.fail(r, err)
	}
	v, err := decimalFromBytes(r.buf[s:e])
	if err == nil && !fitsPrecision(v, n.prec) {
		err = errDecimalDigits
	}
	if err != nil {
		return decimal128.Num{}, n.fail(r, fmt.Errorf("decimal %v", err))
	}
	return v, nil
}

func (n *decimalNode) skip(r *reader) error { _, err := n.read(r); return err }
func (n *decimalNode) add(r *reader)        { v, _ := n.read(r); n.b.Append(v) }

// decimalFromBytes reads a two's-complement big-endian integer (empty is zero, as hamba reads
// it) into 128 bits.
func decimalFromBytes(b []byte) (decimal128.Num, error) {
	if len(b) == 0 {
		return decimal128.Num{}, nil
	}
	neg := b[0]&0x80 != 0
	var ext byte
	if neg {
		ext = 0xff
	}
	if len(b) > 16 {
		for _, c := range b[:len(b)-16] {
			if c != ext {
				return decimal128.Num{}, errDecimalRange
			}
		}
		b = b[len(b)-16:]
		if (b[0]&0x80 != 0) != neg {
			return decimal128.Num{}, errDecimalRange
		}
	}
	var hi, lo uint64
	if neg {
		hi, lo = math.MaxUint64, math.MaxUint64
	}
	for _, c := range b {
		hi = hi<<8 | lo>>56
		lo = lo<<8 | uint64(c)
	}
	return decimal128.New(int64(hi), lo), nil
}

// fitsPrecision reports whether |v| < 10^prec.
func fitsPrecision(v decimal128.Num, prec int32) bool {
	if v.HighBits() == math.MinInt64 && v.LowBits() == 0 {
		return false // -2^127, whose absolute value 128 bits do not hold, has 39 digits
	}
	return v.FitsInPrecision(prec)
}

type dateNode struct {
	npath
	b *array.Date32Builder
}

func (n *dateNode) skip(r *reader) error {
	if _, err := r.int(); err != nil {
		return n.fail(r, err)
	}
	return nil
}
func (n *dateNode) add(r *reader) { v, _ := r.int(); n.b.Append(arrow.Date32(v)) }

// timeNode reads time-millis (an int) or time-micros (a long) into a time64 column, in
// microseconds or nanoseconds; a time outside [0, 24h) is an error, as for Append.
type timeNode struct {
	npath
	b      *array.Time64Builder
	millis bool
	nanos  bool
}

func (n *timeNode) read(r *reader) (arrow.Time64, error) {
	var v int64
	var err error
	if n.millis {
		var i int32
		i, err = r.int()
		v = int64(i) * 1000
	} else {
		v, err = r.long()
	}
	if err != nil {
		return 0, n.fail(r, err)
	}
	if v < 0 || v >= 86_400_000_000 {
		return 0, n.fail(r, fmt.Errorf("time of day %s is outside [0, 24h)", time.Duration(v)*time.Microsecond))
	}
	if n.nanos {
		v *= 1000
	}
	return arrow.Time64(v), nil
}

func (n *timeNode) skip(r *reader) error { _, err := n.read(r); return err }
func (n *timeNode) add(r *reader)        { v, _ := n.read(r); n.b.Append(v) }

// timestampNode reads timestamp-* and local-timestamp-* (the stored value is the instant, or
// the wall clock read as UTC, as Append stores both) into a timestamp column of any unit;
// coarser units floor, like time.Time's Unix* methods. env is set for envelope.occurred_at.
type timestampNode struct {
	npath
	b      *array.TimestampBuilder
	millis bool
	unit   arrow.TimeUnit
	env    *envCapture
}

var (
	minNanoMicros = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxNanoMicros = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro() - 1
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (n *timestampNode) read(r *reader) (arrow.Timestamp, error) {
	v, err := r.long()
	if err != nil {
		return 0, n.fail(r, err)
	}
	if n.millis && n.unit == arrow.Millisecond {
		return arrow.Timestamp(v), nil
	}
	if n.millis {
		if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
			return 0, n.fail(r, errors.New("timestamp out of range"))
		}
		v *= 1000
	}
	switch n.unit {
	case arrow.Second:
		return arrow.Timestamp(floorDiv(v, 1_000_000)), nil
	case arrow.Millisecond:
		return arrow.Timestamp(floorDiv(v, 1000)), nil
	case arrow.Nanosecond:
		if v < minNanoMicros || v > maxNanoMicros {
			return 0, n.fail(r, errors.New("timestamp out of the range of nanosecond timestamps"))
		}
		return arrow.Timestamp(v * 1000), nil
	}
	return arrow.Timestamp(v), nil
}

func (n *timestampNode) skip(r *reader) error {
	start := r.pos
	v, err := n.read(r)
	if err != nil || n.env == nil {
		return err
	}
	if n.unit != arrow.Microsecond { // occurred_at in microseconds, whatever the column's unit
		end := r.pos
		r.pos = start
		us, _ := r.long()
		r.pos = end
		if n.millis {
			if us > math.MaxInt64/1000 || us < math.MinInt64/1000 {
				return n.fail(r, errors.New("timestamp out of range"))
			}
			us *= 1000
		}
		v = arrow.Timestamp(us)
	}
	n.env.occurred, n.env.occSet = int64(v), true
	return nil
}

func (n *timestampNode) add(r *reader) { v, _ := n.read(r); n.b.Append(v) }
