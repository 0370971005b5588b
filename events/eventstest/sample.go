// Package eventstest builds sample events for tests: every field of any event filled with
// deterministic values that satisfy its schema, so a test can prove each field survives a trip.
package eventstest

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/events"
)

// Sample returns an event of kind k with every field set, optional ones included, from seed:
// the same seed gives the same event. Its envelope is valid for the codec.
func Sample(k *events.Kind, seed int) events.Event {
	ev := k.New()
	f := &filler{seed: seed}
	f.fill(reflect.ValueOf(ev).Elem(), k.Schema, "")
	m := ev.Meta()
	m.EventID = events.DeterministicID("sample", k.Type, fmt.Sprint(seed))
	m.EventType = k.Type
	m.AggregateType = k.Aggregate
	m.Source = events.SourceWebhook
	m.Actor = events.Actor{Type: events.ActorShopify, ID: m.Shop}
	return ev
}

type filler struct {
	seed int
	n    int
}

func (f *filler) next() int {
	f.n++
	return f.seed*1000 + f.n
}

// fill sets v, of the Go type the generator made for schema s, to a value of s.
func (f *filler) fill(v reflect.Value, s avro.Schema, name string) {
	switch t := s.(type) {
	case *avro.RefSchema:
		f.fill(v, t.Schema(), name)
	case *avro.RecordSchema:
		if v.Kind() == reflect.Pointer {
			v.Set(reflect.New(v.Type().Elem()))
			v = v.Elem()
		}
		byTag := map[string]reflect.Value{}
		for i := range v.NumField() {
			byTag[v.Type().Field(i).Tag.Get("avro")] = v.Field(i)
		}
		for _, fld := range t.Fields() {
			fv, ok := byTag[fld.Name()]
			if !ok {
				panic(fmt.Sprintf("eventstest: %s has no Go field for %s", v.Type(), fld.Name()))
			}
			f.fill(fv, fld.Type(), fld.Name())
		}
	case *avro.UnionSchema:
		var member avro.Schema
		for _, m := range t.Types() {
			if m.Type() != avro.Null {
				member = m
				break
			}
		}
		if v.Kind() == reflect.Pointer {
			elem := reflect.New(v.Type().Elem())
			f.fill(elem.Elem(), member, name)
			v.Set(elem)
			return
		}
		f.fill(v, member, name)
	case *avro.ArraySchema:
		sl := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			f.fill(sl.Index(i), t.Items(), name)
		}
		v.Set(sl)
	case *avro.PrimitiveSchema:
		f.primitive(v, t, name)
	default:
		panic(fmt.Sprintf("eventstest: no sample for %s (%s)", s.Type(), name))
	}
}

func (f *filler) primitive(v reflect.Value, s *avro.PrimitiveSchema, name string) {
	n := f.next()
	if l := s.Logical(); l != nil {
		switch l.Type() {
		case avro.UUID:
			v.SetString(uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "%d", n)).String())
		case avro.TimestampMicros, avro.TimestampMillis, avro.LocalTimestampMicros, avro.LocalTimestampMillis:
			v.Set(reflect.ValueOf(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * 1_234_567 * time.Microsecond)))
		case avro.Date:
			v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%300)))
		case avro.Decimal:
			scale := l.(*avro.DecimalLogicalSchema).Scale()
			r := new(big.Rat).SetFrac(big.NewInt(int64(n)*1_000_003+7), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
			v.Set(reflect.ValueOf(r))
		default:
			panic(fmt.Sprintf("eventstest: no sample for logical type %s (%s)", l.Type(), name))
		}
		return
	}
	switch s.Type() {
	case avro.String:
		v.SetString(stringFor(name, n))
	case avro.Bytes:
		v.SetBytes(fmt.Appendf(nil, "\x00bytes-%d\xff", n))
	case avro.Int, avro.Long:
		v.SetInt(int64(n))
	case avro.Float, avro.Double:
		v.SetFloat(float64(n) + 0.25)
	case avro.Boolean:
		v.SetBool(n%2 == 1)
	default:
		panic(fmt.Sprintf("eventstest: no sample for %s (%s)", s.Type(), name))
	}
}

// stringFor returns a plausible string for a field: a GID for *_gid, a JSON object for
// *_json, a domain for shop, text otherwise.
func stringFor(name string, n int) string {
	switch {
	case strings.HasSuffix(name, "_gid"):
		return fmt.Sprintf("gid://shopify/%s/%d", strings.ReplaceAll(strings.Title(strings.TrimSuffix(name, "_gid")), "_", ""), n) //nolint:staticcheck // ASCII field names
	case strings.HasSuffix(name, "_json"):
		return fmt.Sprintf(`{"sample":%d,"text":"é ✓"}`, n)
	case name == "shop" || name == "shop_domain":
		return fmt.Sprintf("shop-%d.myshopify.com", n)
	case strings.HasSuffix(name, "currency_code") || name == "currency":
		return "EUR"
	default:
		return fmt.Sprintf("%s %d é", name, n)
	}
}
