package icebergsink

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go/table"

	"github.com/storeline/storeline/events"
)

func TestToDecimal(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "12.34", want: "123400"},
		{in: "-0.0001", want: "-1"},
		{in: "0", want: "0"},
		{in: "9999999999999999.9999", want: "99999999999999999999"},
		{in: "10000000000000000", wantErr: "exceeds"},
		{in: "0.00001", wantErr: "decimal places"},
	} {
		got, err := toDecimal(rat(tc.in))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("toDecimal(%s) err = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("toDecimal(%s): %v", tc.in, err)
			continue
		}
		if got.BigInt().String() != tc.want {
			t.Errorf("toDecimal(%s) = %s, want %s", tc.in, got.BigInt(), tc.want)
		}
	}
	if _, err := toDecimal(nil); err == nil {
		t.Error("toDecimal(nil) succeeded")
	}
}

// TestOrderCreatedToArrow takes an OrderCreated through the Avro wire format and the codec, as
// the sink consumes it, and checks every column of the Arrow record built in the table's schema.
func TestOrderCreatedToArrow(t *testing.T) {
	codec := newTestCodec(t, "t.")
	ev := testOrder(4)
	wire, err := codec.Encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := codec.Decode(context.Background(), wire)
	if err != nil {
		t.Fatal(err)
	}
	oc := decoded.(*events.OrderCreated)
	kafkaTS := time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC)
	row, err := newOrderRow(oc, source{Topic: "t.commerce", Partition: 2, Offset: 41, Timestamp: kafkaTS, SchemaID: wireSchemaID(wire)})
	if err != nil {
		t.Fatal(err)
	}

	sc, err := table.SchemaToArrowSchema(OrdersSchema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ingested := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	rec, err := buildOrdersRecord(mem, sc, []orderRow{row, row}, ingested)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != 2 || rec.NumCols() != int64(len(OrdersSchema().Fields())) {
		t.Fatalf("record %d rows × %d cols", rec.NumRows(), rec.NumCols())
	}
	col := func(name string) arrow.Array {
		t.Helper()
		idx := sc.FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("no column %s", name)
		}
		return rec.Column(idx[0])
	}
	str := func(name string) string { return col(name).(*array.String).Value(0) }
	i64 := func(name string) int64 { return col(name).(*array.Int64).Value(0) }
	dec := func(name string) string {
		d := col(name).(*array.Decimal128)
		return new(big.Rat).SetFrac(d.Value(0).BigInt(), big.NewInt(10000)).FloatString(4)
	}
	ts := func(name string) time.Time {
		return time.UnixMicro(int64(col(name).(*array.Timestamp).Value(0))).UTC()
	}

	checks := map[string][2]any{
		"event_id":         {str("event_id"), ev.Envelope.EventID},
		"shop":             {str("shop"), "example.myshopify.com"},
		"order_id":         {i64("order_id"), int64(1004)},
		"order_gid":        {str("order_gid"), "gid://shopify/Order/1004"},
		"name":             {str("name"), "#1004"},
		"order_number":     {i64("order_number"), int64(4)},
		"currency":         {str("currency"), "EUR"},
		"total_price":      {dec("total_price"), "4.2500"},
		"subtotal_price":   {dec("subtotal_price"), "4.0000"},
		"total_tax":        {dec("total_tax"), "0.2500"},
		"financial_status": {str("financial_status"), "paid"},
		"created_at":       {ts("created_at"), ev.Order.CreatedAt},
		"updated_at":       {ts("updated_at"), ev.Order.UpdatedAt},
		"_kafka_topic":     {str("_kafka_topic"), "t.commerce"},
		"_kafka_partition": {col("_kafka_partition").(*array.Int32).Value(0), int32(2)},
		"_kafka_offset":    {i64("_kafka_offset"), int64(41)},
		"_kafka_timestamp": {ts("_kafka_timestamp"), kafkaTS},
		"_schema_id":       {col("_schema_id").(*array.Int32).Value(0), int32(codec.SchemaID(events.TypeOrderCreated))},
		"_ingested_at":     {ts("_ingested_at"), ingested},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %v, want %v", name, c[0], c[1])
		}
	}
	if !col("fulfillment_status").IsNull(0) {
		t.Error("fulfillment_status is not null")
	}

	items := col("line_items").(*array.List)
	start, end := items.ValueOffsets(0)
	if end-start != 2 {
		t.Fatalf("order has %d line items, want 2", end-start)
	}
	st := items.ListValues().(*array.Struct)
	field := func(name string) arrow.Array {
		t.Helper()
		idx, ok := st.DataType().(*arrow.StructType).FieldIdx(name)
		if !ok {
			t.Fatalf("no line item field %s", name)
		}
		return st.Field(idx)
	}
	if got := field("line_item_id").(*array.Int64).Value(1); got != 42 {
		t.Errorf("line_item_id[1] = %d", got)
	}
	if got := field("product_id").(*array.Int64).Value(0); got != 7 {
		t.Errorf("product_id[0] = %d", got)
	}
	if !field("product_id").IsNull(1) || !field("variant_id").IsNull(0) || !field("sku").IsNull(0) {
		t.Error("absent optional line item fields are not null")
	}
	if got := field("sku").(*array.String).Value(1); got != "GC" {
		t.Errorf("sku[1] = %q", got)
	}
	if got := field("quantity").(*array.Int32).Value(1); got != 2 {
		t.Errorf("quantity[1] = %d", got)
	}
	if got := field("price").(*array.Decimal128).Value(1).BigInt().Int64(); got != 1 {
		t.Errorf("price[1] = %d ten-thousandths, want 1", got)
	}
	if got := field("title").(*array.String).Value(0); got != "Mug" {
		t.Errorf("title[0] = %q", got)
	}
	// The second order's line items follow the first's.
	if s2, e2 := items.ValueOffsets(1); s2 != 2 || e2 != 4 {
		t.Errorf("second order's line items at [%d,%d), want [2,4)", s2, e2)
	}
}

func TestNewOrderRowRejectsBadRecords(t *testing.T) {
	ev := testOrder(1)
	ev.Order.LineItems[0].Price.Amount = rat("0.00005")
	if _, err := newOrderRow(ev, source{}); err == nil || !strings.Contains(err.Error(), "line item") {
		t.Fatalf("err = %v, want a line item price error", err)
	}
	ev = testOrder(1)
	for _, id := range []string{"", "not-a-uuid"} {
		ev.Envelope.EventID = id
		if _, err := newOrderRow(ev, source{}); err == nil {
			t.Fatalf("an event with id %q was accepted", id)
		}
	}
}

func TestUnknownNullableColumnIsFilledWithNulls(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "event_id", Type: arrow.BinaryTypes.String},
		{Name: "added_later", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rec, err := buildOrdersRecord(memory.DefaultAllocator, sc, []orderRow{{EventID: "e"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if !rec.Column(1).IsNull(0) {
		t.Fatal("unknown column not null")
	}
	sc = arrow.NewSchema([]arrow.Field{{Name: "required_unknown", Type: arrow.BinaryTypes.String}}, nil)
	if _, err := buildOrdersRecord(memory.DefaultAllocator, sc, []orderRow{{}}, time.Now()); err == nil {
		t.Fatal("unknown required column accepted")
	}
}

func TestWireSchemaID(t *testing.T) {
	if got := wireSchemaID([]byte{0, 0, 0, 1, 2, 9}); got != 258 {
		t.Fatalf("id = %d", got)
	}
	if got := wireSchemaID([]byte{1, 2}); got != -1 {
		t.Fatalf("id of garbage = %d", got)
	}
}
