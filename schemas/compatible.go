package schemas

import (
	"fmt"

	"github.com/hamba/avro/v2"
)

// Compatible reports whether reader can read data written with writer: Avro's schema
// resolution rules (as hamba/avro implements them), and stricter than them about logical
// types. Avro resolves on the underlying type only, so a decimal whose scale changed, or a
// timestamp-millis that became timestamp-micros, "resolves" and then reads wrong values
// (1.2345 as 123.4500, 2026 as 1970). Where money is decimal and time is an instant, storeline
// refuses such changes.
func Compatible(reader, writer avro.Schema) error {
	if err := avro.NewSchemaCompatibility().Compatible(reader, writer); err != nil {
		return err
	}
	return logicalTypesAgree(reader, writer, "", map[[2]string]bool{})
}

func logicalTypesAgree(r, w avro.Schema, path string, seen map[[2]string]bool) error {
	if ref, ok := r.(*avro.RefSchema); ok {
		r = ref.Schema()
	}
	if ref, ok := w.(*avro.RefSchema); ok {
		w = ref.Schema()
	}
	switch rs := r.(type) {
	case *avro.RecordSchema:
		ws, ok := w.(*avro.RecordSchema)
		if !ok {
			return nil
		}
		pair := [2]string{rs.FullName(), ws.FullName()}
		if seen[pair] {
			return nil
		}
		seen[pair] = true
		for _, rf := range rs.Fields() {
			for _, wf := range ws.Fields() {
				if wf.Name() == rf.Name() || contains(rf.Aliases(), wf.Name()) {
					if err := logicalTypesAgree(rf.Type(), wf.Type(), path+"."+rf.Name(), seen); err != nil {
						return err
					}
				}
			}
		}
		return nil
	case *avro.ArraySchema:
		if ws, ok := w.(*avro.ArraySchema); ok {
			return logicalTypesAgree(rs.Items(), ws.Items(), path+"[]", seen)
		}
		return nil
	case *avro.MapSchema:
		if ws, ok := w.(*avro.MapSchema); ok {
			return logicalTypesAgree(rs.Values(), ws.Values(), path+"{}", seen)
		}
		return nil
	case *avro.UnionSchema:
		writers := []avro.Schema{w}
		if wu, ok := w.(*avro.UnionSchema); ok {
			writers = wu.Types()
		}
		for _, wm := range writers {
			for _, rm := range rs.Types() {
				if sameBranch(rm, wm) {
					if err := logicalTypesAgree(rm, wm, path, seen); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if wu, ok := w.(*avro.UnionSchema); ok { // a union writer read by a plain reader
		for _, wm := range wu.Types() {
			if sameBranch(r, wm) {
				if err := logicalTypesAgree(r, wm, path, seen); err != nil {
					return err
				}
			}
		}
		return nil
	}
	rl, wl := logicalOf(r), logicalOf(w)
	switch {
	case rl == nil && wl == nil:
		return nil
	case rl == nil || wl == nil || rl.Type() != wl.Type():
		return fmt.Errorf("%s: logical type %s cannot be read as %s", fieldPath(path), name(wl), name(rl))
	}
	if rd, ok := rl.(*avro.DecimalLogicalSchema); ok {
		wd := wl.(*avro.DecimalLogicalSchema)
		if rd.Scale() != wd.Scale() || rd.Precision() < wd.Precision() {
			return fmt.Errorf("%s: decimal(%d,%d) cannot be read as decimal(%d,%d)", fieldPath(path), wd.Precision(), wd.Scale(), rd.Precision(), rd.Scale())
		}
	}
	return nil
}

// sameBranch pairs union members the way resolution does: same type, same name when named.
func sameBranch(a, b avro.Schema) bool {
	if ref, ok := a.(*avro.RefSchema); ok {
		a = ref.Schema()
	}
	if ref, ok := b.(*avro.RefSchema); ok {
		b = ref.Schema()
	}
	if a.Type() != b.Type() {
		return false
	}
	an, aok := a.(avro.NamedSchema)
	bn, bok := b.(avro.NamedSchema)
	return !aok || !bok || an.FullName() == bn.FullName()
}

func logicalOf(s avro.Schema) avro.LogicalSchema {
	if l, ok := s.(avro.LogicalTypeSchema); ok {
		return l.Logical()
	}
	return nil
}

func name(l avro.LogicalSchema) string {
	if l == nil {
		return "no logical type"
	}
	return string(l.Type())
}

func fieldPath(p string) string {
	if p == "" {
		return "the value"
	}
	return p[1:]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
