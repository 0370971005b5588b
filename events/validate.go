package events

import (
	"fmt"
	"math/big"
	"reflect"
	"sync"

	"github.com/hamba/avro/v2"
)

// validate checks what Avro encoding would get wrong silently or by panicking: a missing
// decimal, a decimal with more digits than its scale or precision hold (which would be
// rounded away), a nil required value. v is the Go value of the generated type for s.
func validate(v reflect.Value, s avro.Schema, path string) error {
	switch t := s.(type) {
	case *avro.RefSchema:
		return validate(v, t.Schema(), path)
	case *avro.RecordSchema:
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return fmt.Errorf("%s is missing", path)
			}
			v = v.Elem()
		}
		byTag := fieldsByTag(v.Type())
		for _, f := range t.Fields() {
			i, ok := byTag[f.Name()]
			if !ok {
				return fmt.Errorf("%s: Go type %s has no field %s", path, v.Type(), f.Name())
			}
			if err := validate(v.Field(i), f.Type(), path+"."+f.Name()); err != nil {
				return err
			}
		}
	case *avro.UnionSchema:
		if v.Kind() == reflect.Pointer && t.Nullable() {
			if v.IsNil() {
				return nil
			}
			for _, m := range t.Types() {
				if m.Type() != avro.Null {
					if m.Type() == avro.Record {
						return validate(v, m, path)
					}
					return validate(v.Elem(), m, path)
				}
			}
		}
	case *avro.ArraySchema:
		for i := range v.Len() {
			if err := validate(v.Index(i), t.Items(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case *avro.PrimitiveSchema:
		if d, ok := t.Logical().(*avro.DecimalLogicalSchema); ok {
			return validDecimal(v, d, path)
		}
	}
	return nil
}

func validDecimal(v reflect.Value, d *avro.DecimalLogicalSchema, path string) error {
	r, ok := v.Interface().(*big.Rat)
	if !ok || r == nil {
		return fmt.Errorf("%s: the decimal is missing", path)
	}
	scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale())), nil)))
	if !scaled.IsInt() {
		return fmt.Errorf("%s: %s has more than %d decimal places", path, r.RatString(), d.Scale())
	}
	if digits := len(new(big.Int).Abs(scaled.Num()).String()); digits > d.Precision() {
		return fmt.Errorf("%s: %s has more than %d digits", path, r.RatString(), d.Precision())
	}
	return nil
}

var tagCache = map[reflect.Type]map[string]int{}

func fieldsByTag(t reflect.Type) map[string]int {
	if m, ok := tagCacheLoad(t); ok {
		return m
	}
	m := map[string]int{}
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("avro")] = i
	}
	tagCacheStore(t, m)
	return m
}

var tagMu sync.RWMutex

func tagCacheLoad(t reflect.Type) (map[string]int, bool) {
	tagMu.RLock()
	defer tagMu.RUnlock()
	m, ok := tagCache[t]
	return m, ok
}

func tagCacheStore(t reflect.Type, m map[string]int) {
	tagMu.Lock()
	defer tagMu.Unlock()
	tagCache[t] = m
}
