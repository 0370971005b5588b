package icebergsink

import (
	"fmt"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/storeline/storeline/events"
)

// source is where a record sits in the log.
type source struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	SchemaID  int32
}

// orderRow is one row of commerce.orders, already converted to Arrow's representations, so
// that a record that cannot be converted is rejected when it is consumed, not at commit time.
type orderRow struct {
	src source

	EventID, Shop, OrderGID, Name, Currency string
	OrderID, OrderNumber                    int64
	TotalPrice, SubtotalPrice, TotalTax     decimal128.Num
	FinancialStatus, FulfillmentStatus      *string
	CreatedAt, UpdatedAt                    arrow.Timestamp
	LineItems                               []lineItemRow
}

type lineItemRow struct {
	LineItemID        int64
	ProductID         *int64
	VariantID         *int64
	Title             string
	VariantTitle, SKU *string
	Quantity          int32
	Price             decimal128.Num
}

// moneyScale and moneyPrecision are those of decimal(20,4).
const (
	moneyScale     = 4
	moneyPrecision = 20
)

var (
	scaleFactor = new(big.Int).Exp(big.NewInt(10), big.NewInt(moneyScale), nil)
	moneyLimit  = new(big.Int).Exp(big.NewInt(10), big.NewInt(moneyPrecision), nil)
)

// toDecimal converts an exact amount to decimal(20,4); an amount with more than four decimal
// places or more than twenty digits is an error, never rounded.
func toDecimal(r *big.Rat) (decimal128.Num, error) {
	if r == nil {
		return decimal128.Num{}, fmt.Errorf("missing amount")
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(scaleFactor))
	if !scaled.IsInt() {
		return decimal128.Num{}, fmt.Errorf("amount %s has more than %d decimal places", r.FloatString(8), moneyScale)
	}
	n := scaled.Num()
	if new(big.Int).Abs(n).Cmp(moneyLimit) >= 0 {
		return decimal128.Num{}, fmt.Errorf("amount %s exceeds decimal(%d,%d)", r.FloatString(moneyScale), moneyPrecision, moneyScale)
	}
	return decimal128.FromBigInt(n), nil
}

func micros(t time.Time) arrow.Timestamp { return arrow.Timestamp(t.UnixMicro()) }

// newOrderRow converts a decoded OrderCreated event and its position into a row.
func newOrderRow(ev *events.OrderCreated, src source) (orderRow, error) {
	o := &ev.Order
	r := orderRow{
		src:               src,
		EventID:           ev.Envelope.EventID,
		Shop:              ev.Envelope.Shop,
		OrderID:           o.OrderID,
		OrderGID:          o.OrderGID,
		Name:              o.Name,
		OrderNumber:       o.OrderNumber,
		Currency:          o.Currency,
		FinancialStatus:   o.FinancialStatus,
		FulfillmentStatus: o.FulfillmentStatus,
		CreatedAt:         micros(o.CreatedAt),
		UpdatedAt:         micros(o.UpdatedAt),
	}
	if err := uuid.Validate(r.EventID); err != nil {
		return orderRow{}, fmt.Errorf("order %d: event id %q: %w", o.OrderID, r.EventID, err)
	}
	var err error
	if r.TotalPrice, err = toDecimal(o.TotalPrice.Amount); err != nil {
		return orderRow{}, fmt.Errorf("order %d total_price: %w", o.OrderID, err)
	}
	if r.SubtotalPrice, err = toDecimal(o.SubtotalPrice.Amount); err != nil {
		return orderRow{}, fmt.Errorf("order %d subtotal_price: %w", o.OrderID, err)
	}
	if r.TotalTax, err = toDecimal(o.TotalTax.Amount); err != nil {
		return orderRow{}, fmt.Errorf("order %d total_tax: %w", o.OrderID, err)
	}
	r.LineItems = make([]lineItemRow, len(o.LineItems))
	for i, li := range o.LineItems {
		price, err := toDecimal(li.Price.Amount)
		if err != nil {
			return orderRow{}, fmt.Errorf("order %d line item %d price: %w", o.OrderID, li.LineItemID, err)
		}
		r.LineItems[i] = lineItemRow{
			LineItemID: li.LineItemID, ProductID: li.ProductID, VariantID: li.VariantID,
			Title: li.Title, VariantTitle: li.VariantTitle, SKU: li.SKU,
			Quantity: li.Quantity, Price: price,
		}
	}
	return r, nil
}

// buildOrdersRecord builds one Arrow record batch of rows in the table's Arrow schema sc
// (table.SchemaToArrowSchema of the table's current schema). Columns are matched by name; a
// column this sink does not know (added by someone else) is filled with nulls.
func buildOrdersRecord(mem memory.Allocator, sc *arrow.Schema, rows []orderRow, ingestedAt time.Time) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	b.Reserve(len(rows))
	for i, f := range sc.Fields() {
		fill, err := columnFiller(f.Name, b.Field(i), ingestedAt)
		if err != nil {
			return nil, err
		}
		if fill == nil {
			if !f.Nullable {
				return nil, fmt.Errorf("required column %q is unknown to the sink", f.Name)
			}
			b.Field(i).AppendNulls(len(rows))
			continue
		}
		for j := range rows {
			if err := fill(&rows[j]); err != nil {
				return nil, fmt.Errorf("column %q: %w", f.Name, err)
			}
		}
	}
	return b.NewRecordBatch(), nil
}

// columnFiller returns the function that appends a row's value of column name to bld, or nil for
// a column the sink does not know.
func columnFiller(name string, bld array.Builder, ingestedAt time.Time) (func(*orderRow) error, error) {
	str := func(get func(*orderRow) string) (func(*orderRow) error, error) {
		sb, ok := bld.(*array.StringBuilder)
		if !ok {
			return nil, fmt.Errorf("column %q: want string, table has %T", name, bld)
		}
		return func(r *orderRow) error { sb.Append(get(r)); return nil }, nil
	}
	optStr := func(get func(*orderRow) *string) (func(*orderRow) error, error) {
		sb, ok := bld.(*array.StringBuilder)
		if !ok {
			return nil, fmt.Errorf("column %q: want string, table has %T", name, bld)
		}
		return func(r *orderRow) error { appendOptString(sb, get(r)); return nil }, nil
	}
	i64 := func(get func(*orderRow) int64) (func(*orderRow) error, error) {
		ib, ok := bld.(*array.Int64Builder)
		if !ok {
			return nil, fmt.Errorf("column %q: want long, table has %T", name, bld)
		}
		return func(r *orderRow) error { ib.Append(get(r)); return nil }, nil
	}
	i32 := func(get func(*orderRow) int32) (func(*orderRow) error, error) {
		ib, ok := bld.(*array.Int32Builder)
		if !ok {
			return nil, fmt.Errorf("column %q: want int, table has %T", name, bld)
		}
		return func(r *orderRow) error { ib.Append(get(r)); return nil }, nil
	}
	dec := func(get func(*orderRow) decimal128.Num) (func(*orderRow) error, error) {
		db, ok := bld.(*array.Decimal128Builder)
		if !ok {
			return nil, fmt.Errorf("column %q: want decimal(20,4), table has %T", name, bld)
		}
		return func(r *orderRow) error { db.Append(get(r)); return nil }, nil
	}
	tstamp := func(get func(*orderRow) arrow.Timestamp) (func(*orderRow) error, error) {
		tb, ok := bld.(*array.TimestampBuilder)
		if !ok {
			return nil, fmt.Errorf("column %q: want timestamptz, table has %T", name, bld)
		}
		return func(r *orderRow) error { tb.Append(get(r)); return nil }, nil
	}
	switch name {
	case "event_id":
		return str(func(r *orderRow) string { return r.EventID })
	case "shop":
		return str(func(r *orderRow) string { return r.Shop })
	case "order_id":
		return i64(func(r *orderRow) int64 { return r.OrderID })
	case "order_gid":
		return str(func(r *orderRow) string { return r.OrderGID })
	case "name":
		return str(func(r *orderRow) string { return r.Name })
	case "order_number":
		return i64(func(r *orderRow) int64 { return r.OrderNumber })
	case "currency":
		return str(func(r *orderRow) string { return r.Currency })
	case "total_price":
		return dec(func(r *orderRow) decimal128.Num { return r.TotalPrice })
	case "subtotal_price":
		return dec(func(r *orderRow) decimal128.Num { return r.SubtotalPrice })
	case "total_tax":
		return dec(func(r *orderRow) decimal128.Num { return r.TotalTax })
	case "financial_status":
		return optStr(func(r *orderRow) *string { return r.FinancialStatus })
	case "fulfillment_status":
		return optStr(func(r *orderRow) *string { return r.FulfillmentStatus })
	case colCreatedAt:
		return tstamp(func(r *orderRow) arrow.Timestamp { return r.CreatedAt })
	case "updated_at":
		return tstamp(func(r *orderRow) arrow.Timestamp { return r.UpdatedAt })
	case "line_items":
		return lineItemsFiller(bld)
	case colKafkaTopic:
		return str(func(r *orderRow) string { return r.src.Topic })
	case colKafkaPartition:
		return i32(func(r *orderRow) int32 { return r.src.Partition })
	case colKafkaOffset:
		return i64(func(r *orderRow) int64 { return r.src.Offset })
	case colKafkaTimestamp:
		return tstamp(func(r *orderRow) arrow.Timestamp { return micros(r.src.Timestamp) })
	case colSchemaID:
		return i32(func(r *orderRow) int32 { return r.src.SchemaID })
	case colIngestedAt:
		at := micros(ingestedAt)
		return tstamp(func(*orderRow) arrow.Timestamp { return at })
	}
	return nil, nil
}

// lineItemsFiller appends line_items, a list of structs whose fields are matched by name.
func lineItemsFiller(bld array.Builder) (func(*orderRow) error, error) {
	lb, ok := bld.(*array.ListBuilder)
	if !ok {
		return nil, fmt.Errorf("column line_items: want list, table has %T", bld)
	}
	sb, ok := lb.ValueBuilder().(*array.StructBuilder)
	if !ok {
		return nil, fmt.Errorf("column line_items: want list<struct>, table has list<%T>", lb.ValueBuilder())
	}
	st := sb.Type().(*arrow.StructType)
	fills := make([]func(*lineItemRow), st.NumFields())
	for i, f := range st.Fields() {
		fb := sb.FieldBuilder(i)
		var err error
		fills[i], err = lineItemFieldFiller(f, fb)
		if err != nil {
			return nil, err
		}
	}
	return func(r *orderRow) error {
		lb.Append(true)
		for j := range r.LineItems {
			sb.Append(true)
			for _, fill := range fills {
				fill(&r.LineItems[j])
			}
		}
		return nil
	}, nil
}

func lineItemFieldFiller(f arrow.Field, fb array.Builder) (func(*lineItemRow), error) {
	bad := fmt.Errorf("line_items.%s: unexpected type %T", f.Name, fb)
	switch f.Name {
	case "line_item_id", "product_id", "variant_id":
		ib, ok := fb.(*array.Int64Builder)
		if !ok {
			return nil, bad
		}
		switch f.Name {
		case "line_item_id":
			return func(li *lineItemRow) { ib.Append(li.LineItemID) }, nil
		case "product_id":
			return func(li *lineItemRow) { appendOptInt64(ib, li.ProductID) }, nil
		default:
			return func(li *lineItemRow) { appendOptInt64(ib, li.VariantID) }, nil
		}
	case "title", "variant_title", "sku":
		sb, ok := fb.(*array.StringBuilder)
		if !ok {
			return nil, bad
		}
		switch f.Name {
		case "title":
			return func(li *lineItemRow) { sb.Append(li.Title) }, nil
		case "variant_title":
			return func(li *lineItemRow) { appendOptString(sb, li.VariantTitle) }, nil
		default:
			return func(li *lineItemRow) { appendOptString(sb, li.SKU) }, nil
		}
	case "quantity":
		ib, ok := fb.(*array.Int32Builder)
		if !ok {
			return nil, bad
		}
		return func(li *lineItemRow) { ib.Append(li.Quantity) }, nil
	case "price":
		db, ok := fb.(*array.Decimal128Builder)
		if !ok {
			return nil, bad
		}
		return func(li *lineItemRow) { db.Append(li.Price) }, nil
	}
	if !f.Nullable {
		return nil, fmt.Errorf("required field line_items.%s is unknown to the sink", f.Name)
	}
	return func(*lineItemRow) { fb.AppendNull() }, nil
}

func appendOptString(b *array.StringBuilder, v *string) {
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

func appendOptInt64(b *array.Int64Builder, v *int64) {
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}
