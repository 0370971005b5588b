package schemas

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/hamba/avro/v2"
)

var (
	pascalCase = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	snakeCase  = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	// moneyName matches field names that hold money, which must be storeline.Money.
	moneyName = regexp.MustCompile(`(^|_)(amount|price|prices|total|subtotal|tax|taxes|discount|discounts|cost|revenue|refund|refunded|balance|fee|fees|spent)(_|$)`)
)

// Lint checks evs against the rules of CONVENTIONS.md and returns every violation.
func Lint(evs []*Event) []error {
	l := &linter{shortNames: map[string]string{}}
	for _, e := range evs {
		l.event(e)
	}
	return l.errs
}

type linter struct {
	errs       []error
	shortNames map[string]string // record short name → full name, across the catalogue
}

func (l *linter) failf(e *Event, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("%s: %s", e.File, fmt.Sprintf(format, args...)))
}

func (l *linter) event(e *Event) {
	s := e.Schema
	if s.Namespace() != "storeline."+e.Topic {
		l.failf(e, "namespace is %q, want storeline.%s", s.Namespace(), e.Topic)
	}
	if !pascalCase.MatchString(e.Name) {
		l.failf(e, "record name %q is not PascalCase", e.Name)
	}
	if want := toSnake(e.Name) + ".avsc"; path.Base(e.File) != want {
		l.failf(e, "file of %s should be named %s", e.Name, want)
	}
	if strings.TrimSpace(s.Doc()) == "" {
		l.failf(e, "the record has no doc")
	}
	for _, p := range []string{PropAggregate, PropKey, PropPersonalData} {
		if strings.TrimSpace(e.Prop(p)) == "" {
			l.failf(e, "attribute %q is missing", p)
		}
	}
	fields := s.Fields()
	if len(fields) == 0 || fields[0].Name() != "envelope" || fullName(fields[0].Type()) != "storeline.Envelope" {
		l.failf(e, `the first field must be {"name": "envelope", "type": "storeline.Envelope"}`)
	}
	l.record(e, s, map[string]bool{})
}

func (l *linter) record(e *Event, s *avro.RecordSchema, seen map[string]bool) {
	if seen[s.FullName()] {
		return
	}
	seen[s.FullName()] = true
	if prev, ok := l.shortNames[s.Name()]; ok && prev != s.FullName() {
		l.failf(e, "record %s has the short name of %s: short names must be unique", s.FullName(), prev)
	}
	l.shortNames[s.Name()] = s.FullName()
	for _, f := range s.Fields() {
		where := s.FullName() + "." + f.Name()
		if !snakeCase.MatchString(f.Name()) {
			l.failf(e, "%s: field name is not snake_case", where)
		}
		if strings.TrimSpace(f.Doc()) == "" {
			l.failf(e, "%s has no doc", where)
		}
		if u, ok := f.Type().(*avro.UnionSchema); ok && u.Nullable() {
			if u.Types()[0].Type() != avro.Null || !f.HasDefault() || f.Default() != nil {
				l.failf(e, `%s: an optional field is ["null", T] with "default": null`, where)
			}
		}
		l.fieldType(e, where, f.Name(), f.Type(), seen)
	}
}

func (l *linter) fieldType(e *Event, where, name string, t avro.Schema, seen map[string]bool) {
	switch s := t.(type) {
	case *avro.RefSchema:
		l.fieldType(e, where, name, s.Schema(), seen)
	case *avro.RecordSchema:
		l.record(e, s, seen)
	case *avro.UnionSchema:
		for _, m := range s.Types() {
			l.fieldType(e, where, name, m, seen)
		}
	case *avro.ArraySchema:
		l.fieldType(e, where, name, s.Items(), seen)
	case *avro.EnumSchema:
		l.failf(e, "%s: no Avro enums, use a string and list the values in its doc", where)
	case *avro.MapSchema:
		l.failf(e, "%s: no maps, use a record (or payload_json for Shopify's raw data)", where)
	case *avro.PrimitiveSchema:
		if (s.Type() == avro.Float || s.Type() == avro.Double) && moneyName.MatchString(name) {
			l.failf(e, "%s looks like money: use storeline.Money, never a float", where)
		}
	}
}

func fullName(t avro.Schema) string {
	if n, ok := t.(avro.NamedSchema); ok {
		return n.FullName()
	}
	return ""
}

// toSnake turns a PascalCase name into snake_case: OrderCreated → order_created,
// CSVExportRequested → csv_export_requested.
func toSnake(s string) string {
	var b strings.Builder
	r := []rune(s)
	for i, c := range r {
		upper := c >= 'A' && c <= 'Z'
		if upper && i > 0 {
			prevLower := r[i-1] >= 'a' && r[i-1] <= 'z' || r[i-1] >= '0' && r[i-1] <= '9'
			nextLower := i+1 < len(r) && r[i+1] >= 'a' && r[i+1] <= 'z'
			if prevLower || (nextLower && r[i-1] >= 'A' && r[i-1] <= 'Z') {
				b.WriteByte('_')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}
