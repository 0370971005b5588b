package events_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
)

func newCodec(t *testing.T) (*events.Codec, *eventstest.Registry) {
	t.Helper()
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	reg := eventstest.NewRegistry()
	codec, err := events.NewCodec(context.Background(), cat, reg, "x.")
	if err != nil {
		t.Fatal(err)
	}
	return codec, reg
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEveryEventRoundTrips encodes an event of every type with every field set and decodes it
// back unchanged, in the Confluent wire format, with its key and headers.
func TestEveryEventRoundTrips(t *testing.T) {
	codec, _ := newCodec(t)
	ctx := context.Background()
	for _, k := range codec.Catalogue().Kinds() {
		t.Run(k.Type, func(t *testing.T) {
			ev := eventstest.Sample(k, 1)
			rec, err := codec.Record(ev, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			if err != nil {
				t.Fatal(err)
			}
			if rec.Topic != "x."+k.Topic || string(rec.Key) != ev.Meta().AggregateID || len(rec.Key) == 0 {
				t.Errorf("topic/key = %s/%s", rec.Topic, rec.Key)
			}
			if rec.Value[0] != 0 || int(binary.BigEndian.Uint32(rec.Value[1:5])) != codec.SchemaID(k.Type) {
				t.Errorf("not the Confluent wire format: % x", rec.Value[:5])
			}
			headers := map[string]string{}
			for _, h := range rec.Headers {
				headers[h.Key] = string(h.Value)
			}
			if headers["event_type"] != k.Type || headers["event_id"] != ev.Meta().EventID || headers["traceparent"] == "" {
				t.Errorf("headers: %v", headers)
			}
			back, err := codec.Decode(ctx, rec.Value)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := asJSON(t, back), asJSON(t, ev); got != want {
				t.Errorf("round trip changed the event:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestEncodeRefusesAnInvalidEvent(t *testing.T) {
	codec, _ := newCodec(t)
	k, _ := codec.Catalogue().Kind(events.TypeOrderCreated)
	for name, tc := range map[string]struct {
		breakIt func(*events.OrderCreated)
		want    string
	}{
		"event id":       {func(e *events.OrderCreated) { e.Envelope.EventID = "not-a-uuid" }, "event_id is not a UUID"},
		"type":           {func(e *events.OrderCreated) { e.Envelope.EventType = "commerce.Nope" }, "not in the catalogue"},
		"shop":           {func(e *events.OrderCreated) { e.Envelope.Shop = "" }, "shop is not set"},
		"key":            {func(e *events.OrderCreated) { e.Envelope.AggregateID = "" }, "aggregate_id"},
		"aggregate type": {func(e *events.OrderCreated) { e.Envelope.AggregateType = "Product" }, "aggregate_type"},
		"source":         {func(e *events.OrderCreated) { e.Envelope.Source = "carrier pigeon" }, "source"},
		"actor":          {func(e *events.OrderCreated) { e.Envelope.Actor.ID = "" }, "actor"},
		"occurred at":    {func(e *events.OrderCreated) { e.Envelope.OccurredAt = e.Envelope.OccurredAt.AddDate(-3000, 0, 0) }, ""},
		"money missing":  {func(e *events.OrderCreated) { e.Order.TotalPrice.Amount = nil }, "invalid event"},
		"decimal scale":  {func(e *events.OrderCreated) { e.Order.TotalPrice.Amount.SetFrac64(1, 3) }, "more than 4 decimal places"},
		"decimal places": {func(e *events.OrderCreated) { e.Order.TotalPrice.Amount.SetFrac64(1, 100000) }, "more than 4 decimal places"},
		"decimal digits": {func(e *events.OrderCreated) { e.Order.TotalPrice.Amount.SetString("-10000000000000000") }, "more than 20 digits"},
		"huge decimal":   {func(e *events.OrderCreated) { e.Order.TotalPrice.Amount.SetString("123456789012345678901234567890.5") }, "more than 20 digits"},
		"line decimal":   {func(e *events.OrderCreated) { e.Order.LineItems[1].Price.Amount.SetFrac64(1, 7) }, "line_items[]"},
	} {
		t.Run(name, func(t *testing.T) {
			ev := eventstest.Sample(k, 2).(*events.OrderCreated)
			tc.breakIt(ev)
			_, err := codec.Encode(ev)
			if tc.want == "" {
				return // a legal, if odd, value: only that it does not panic
			}
			if !errors.Is(err, events.ErrInvalidEvent) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrInvalidEvent mentioning %q", err, tc.want)
			}
		})
	}
}

// TestEncodeTakesDecimalsAtTheirLimits: the largest and smallest amounts decimal(20,4) holds
// encode and decode exactly.
func TestEncodeTakesDecimalsAtTheirLimits(t *testing.T) {
	codec, _ := newCodec(t)
	k, _ := codec.Catalogue().Kind(events.TypeOrderCreated)
	for _, amount := range []string{"9999999999999999.9999", "-9999999999999999.9999", "0.0001", "0", "123456789.5"} {
		ev := eventstest.Sample(k, 5).(*events.OrderCreated)
		ev.Order.TotalPrice.Amount.SetString(amount)
		wire, err := codec.Encode(ev)
		if err != nil {
			t.Errorf("%s: %v", amount, err)
			continue
		}
		back, err := codec.Decode(context.Background(), wire)
		if err != nil {
			t.Fatal(err)
		}
		if got := back.(*events.OrderCreated).Order.TotalPrice.Amount; got.Cmp(ev.Order.TotalPrice.Amount) != 0 {
			t.Errorf("%s came back as %s", amount, got.FloatString(4))
		}
	}
}

func TestDecodeTellsBadRecordsApart(t *testing.T) {
	codec, reg := newCodec(t)
	ctx := context.Background()
	k, _ := codec.Catalogue().Kind(events.TypeOrderCreated)
	good, err := codec.Encode(eventstest.Sample(k, 3))
	if err != nil {
		t.Fatal(err)
	}
	otherRecord, _ := reg.Register(ctx, "commerce-acme.Unrelated", `{"type":"record","name":"Unrelated","namespace":"acme","fields":[]}`)
	withID := func(id int) []byte {
		b := append([]byte(nil), good...)
		binary.BigEndian.PutUint32(b[1:5], uint32(id))
		return b
	}
	for name, tc := range map[string]struct {
		value []byte
		want  error
	}{
		"not wire format": {[]byte(`{"json": true}`), events.ErrUndecodable},
		"too short":       {[]byte{0, 0}, events.ErrUndecodable},
		"unknown id":      {withID(999999), events.ErrUnknownSchema},
		"foreign record":  {withID(otherRecord), events.ErrUnknownSchema},
		"truncated body":  {good[:len(good)/2], events.ErrUndecodable},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := codec.Decode(ctx, tc.value); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// TestUpcastingReadsAnOlderVersion writes an event with an older version of its schema (one
// optional field fewer, as the previous release had) and reads it with this version's: the
// field reads as its default, every other field as written.
func TestUpcastingReadsAnOlderVersion(t *testing.T) {
	codec, reg := newCodec(t)
	ctx := context.Background()
	k, _ := codec.Catalogue().Kind(events.TypeOrderCreated)

	var older map[string]any
	if err := json.Unmarshal([]byte(k.JSON), &older); err != nil {
		t.Fatal(err)
	}
	older["fields"] = dropField(t, older["fields"].([]any), "personal_data")
	olderText := asJSON(t, older)
	olderSchema, err := avro.ParseWithCache(olderText, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	olderID, _ := reg.Register(ctx, k.Subject(), olderText)

	ev := eventstest.Sample(k, 4).(*events.OrderCreated)
	body, err := avro.Marshal(olderSchema, ev) // the older writer knows no personal_data
	if err != nil {
		t.Fatal(err)
	}
	wire := binary.BigEndian.AppendUint32([]byte{0}, uint32(olderID))
	back, err := codec.Decode(ctx, append(wire, body...))
	if err != nil {
		t.Fatal(err)
	}
	got := back.(*events.OrderCreated)
	if got.PersonalData != nil {
		t.Errorf("a field the writer did not have should read as its default (null), got %+v", got.PersonalData)
	}
	ev.PersonalData = nil
	if asJSON(t, got) != asJSON(t, ev) {
		t.Errorf("upcast changed the fields both versions have:\n got %s\nwant %s", asJSON(t, got), asJSON(t, ev))
	}
}

func dropField(t *testing.T, fields []any, name string) []any {
	t.Helper()
	for i, f := range fields {
		if f.(map[string]any)["name"] == name {
			return append(fields[:i:i], fields[i+1:]...)
		}
	}
	t.Fatalf("no field %s", name)
	return nil
}

// TestWriterSchemaIsTheRegisteredOne: WriterSchema returns the schema a record names, as
// registered (an older version is not resolved into this binary's), and tells records that
// have none apart.
func TestWriterSchemaIsTheRegisteredOne(t *testing.T) {
	codec, reg := newCodec(t)
	ctx := context.Background()
	k, _ := codec.Catalogue().Kind(events.TypeOrderCreated)
	current, err := codec.Encode(eventstest.Sample(k, 5))
	if err != nil {
		t.Fatal(err)
	}
	w, id, err := codec.WriterSchema(ctx, current)
	if err != nil || int(id) != codec.SchemaID(events.TypeOrderCreated) || w.FullName() != "storeline.commerce.OrderCreated" {
		t.Fatalf("current: %v %d %v", w, id, err)
	}
	var older map[string]any
	if err := json.Unmarshal([]byte(k.JSON), &older); err != nil {
		t.Fatal(err)
	}
	older["fields"] = dropField(t, older["fields"].([]any), "personal_data")
	olderID, _ := reg.Register(ctx, k.Subject(), asJSON(t, older))
	olderRecord := append([]byte(nil), current...)
	binary.BigEndian.PutUint32(olderRecord[1:5], uint32(olderID))
	w, _, err = codec.WriterSchema(ctx, olderRecord)
	if err != nil || len(w.Fields()) != len(k.Schema.(*avro.RecordSchema).Fields())-1 {
		t.Fatalf("older: %v %v, want the registered version without personal_data", w, err)
	}
	notRecord, _ := reg.Register(ctx, "commerce-acme.Str", `"string"`)
	for name, tc := range map[string]struct {
		value []byte
		want  error
	}{
		"not wire format": {[]byte(`{}`), events.ErrUndecodable},
		"unknown id":      {binary.BigEndian.AppendUint32([]byte{0}, 999999), events.ErrUnknownSchema},
		"not a record":    {binary.BigEndian.AppendUint32([]byte{0}, uint32(notRecord)), events.ErrUnknownSchema},
	} {
		if _, _, err := codec.WriterSchema(ctx, tc.value); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
