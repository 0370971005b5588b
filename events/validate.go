package events

import (
	"fmt"
	"math/big"
	"math/bits"
	"reflect"

	"github.com/hamba/avro/v2"
)

// validator checks what Avro encoding would get wrong silently or by panicking: a missing
// decimal, a decimal with more digits than its scale or precision hold (which would be rounded
// away), a missing required record. It is compiled once per event type from the schema and the
// generated Go type, so checking an event costs a walk of its decimals, not of its schema.
type validator func(v reflect.Value) error

// compileValidator returns the validator of Go type t for schema s, nil when there is nothing
// to check.
func compileValidator(t reflect.Type, s avro.Schema, path string) validator {
	switch sc := s.(type) {
	case *avro.RefSchema:
		return compileValidator(t, sc.Schema(), path)
	case *avro.RecordSchema:
		if t.Kind() == reflect.Pointer {
			inner := compileValidator(t.Elem(), sc, path)
			return func(v reflect.Value) error {
				if v.IsNil() {
					return fmt.Errorf("%s is missing", path)
				}
				if inner == nil {
					return nil
				}
				return inner(v.Elem())
			}
		}
		type fieldCheck struct {
			index int
			check validator
		}
		var checks []fieldCheck
		for _, f := range sc.Fields() {
			i, ok := fieldIndex(t, f.Name())
			if !ok {
				panic(fmt.Sprintf("events: Go type %s has no field %s: run go generate ./events", t, f.Name()))
			}
			if c := compileValidator(t.Field(i).Type, f.Type(), path+"."+f.Name()); c != nil {
				checks = append(checks, fieldCheck{i, c})
			}
		}
		if len(checks) == 0 {
			return nil
		}
		return func(v reflect.Value) error {
			for _, c := range checks {
				if err := c.check(v.Field(c.index)); err != nil {
					return err
				}
			}
			return nil
		}
	case *avro.UnionSchema:
		var member avro.Schema
		for _, m := range sc.Types() {
			if m.Type() != avro.Null {
				member = m
			}
		}
		if !sc.Nullable() || len(sc.Types()) != 2 || t.Kind() != reflect.Pointer {
			return nil // not a generated optional: nothing this validator knows to check
		}
		inner := compileValidator(t.Elem(), member, path)
		if inner == nil {
			return nil
		}
		return func(v reflect.Value) error {
			if v.IsNil() {
				return nil
			}
			return inner(v.Elem())
		}
	case *avro.ArraySchema:
		inner := compileValidator(t.Elem(), sc.Items(), path+"[]")
		if inner == nil {
			return nil
		}
		return func(v reflect.Value) error {
			for i := range v.Len() {
				if err := inner(v.Index(i)); err != nil {
					return err
				}
			}
			return nil
		}
	case *avro.PrimitiveSchema:
		if d, ok := sc.Logical().(*avro.DecimalLogicalSchema); ok {
			return decimalValidator(d.Precision(), d.Scale(), path)
		}
	}
	return nil
}

func fieldIndex(t reflect.Type, avroName string) (int, bool) {
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("avro") == avroName {
			return i, true
		}
	}
	return 0, false
}

var pow10u64 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// decimalValidator checks that a *big.Rat holds exactly in decimal(precision, scale).
func decimalValidator(precision, scale int, path string) validator {
	pow := func(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
	scaleP, precP := pow(scale), pow(precision)
	tooLong := func(r *big.Rat, what string) error {
		return fmt.Errorf("%s: %s has more than %d %s", path, r.RatString(), map[string]int{"decimal places": scale, "digits": precision}[what], what)
	}
	return func(v reflect.Value) error {
		r, _ := v.Interface().(*big.Rat)
		if r == nil {
			return fmt.Errorf("%s: the decimal is missing", path)
		}
		num, den := r.Num(), r.Denom()
		// Fast path: small amounts, the common case.
		if scale < len(pow10u64) && num.IsInt64() && den.IsUint64() {
			p, d := pow10u64[scale], den.Uint64()
			if p%d != 0 {
				return tooLong(r, "decimal places")
			}
			n := num.Int64()
			abs := uint64(n)
			if n < 0 {
				abs = uint64(-n)
			}
			hi, lo := bits.Mul64(abs, p/d)
			if hi == 0 && (precision >= len(pow10u64) || lo < pow10u64[precision]) {
				return nil
			}
			if hi == 0 && precision < len(pow10u64) {
				return tooLong(r, "digits")
			}
		}
		q, m := new(big.Int).QuoRem(scaleP, den, new(big.Int))
		if m.Sign() != 0 {
			return tooLong(r, "decimal places")
		}
		if new(big.Int).Abs(q.Mul(q, num)).Cmp(precP) >= 0 {
			return tooLong(r, "digits")
		}
		return nil
	}
}
