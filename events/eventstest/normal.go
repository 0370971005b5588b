package eventstest

import (
	"encoding/base64"
	"fmt"
	"math/big"
	"reflect"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/events"
)

// Normal returns ev as plain JSON-able values, the way any Avro reader can state it: records as
// objects by field name, null as nil, decimals as strings with the schema's scale, timestamps
// as microseconds since the epoch, dates as YYYY-MM-DD, bytes as base64. A non-Go reader that
// normalises its decoded values the same way must get an equal value.
func Normal(k *events.Kind, ev events.Event) any {
	return normal(reflect.ValueOf(ev).Elem(), k.Schema)
}

func normal(v reflect.Value, s avro.Schema) any {
	switch t := s.(type) {
	case *avro.RefSchema:
		return normal(v, t.Schema())
	case *avro.RecordSchema:
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		byTag := map[string]reflect.Value{}
		for i := range v.NumField() {
			byTag[v.Type().Field(i).Tag.Get("avro")] = v.Field(i)
		}
		out := map[string]any{}
		for _, f := range t.Fields() {
			out[f.Name()] = normal(byTag[f.Name()], f.Type())
		}
		return out
	case *avro.UnionSchema:
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return nil
		}
		for _, m := range t.Types() {
			if m.Type() == avro.Null {
				continue
			}
			if v.Kind() == reflect.Pointer && m.Type() != avro.Record {
				return normal(v.Elem(), m)
			}
			return normal(v, m)
		}
		return nil
	case *avro.ArraySchema:
		out := make([]any, v.Len())
		for i := range v.Len() {
			out[i] = normal(v.Index(i), t.Items())
		}
		return out
	case *avro.PrimitiveSchema:
		return normalPrimitive(v, t)
	default:
		panic(fmt.Sprintf("eventstest: cannot normalise %s", s.Type()))
	}
}

func normalPrimitive(v reflect.Value, s *avro.PrimitiveSchema) any {
	if l := s.Logical(); l != nil {
		switch l.Type() {
		case avro.Decimal:
			return v.Interface().(*big.Rat).FloatString(l.(*avro.DecimalLogicalSchema).Scale())
		case avro.TimestampMicros:
			return v.Interface().(time.Time).UnixMicro()
		case avro.TimestampMillis:
			return v.Interface().(time.Time).UnixMilli() * 1000
		case avro.Date:
			return v.Interface().(time.Time).Format(time.DateOnly)
		case avro.UUID:
			return v.String()
		}
	}
	switch s.Type() {
	case avro.Bytes:
		return base64.StdEncoding.EncodeToString(v.Bytes())
	case avro.Int, avro.Long:
		return v.Int()
	case avro.Float, avro.Double:
		return v.Float()
	case avro.Boolean:
		return v.Bool()
	default:
		return v.String()
	}
}
