package main

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/hamba/avro/v2"

	"github.com/storeline/storeline/schemas"
)

// readme renders schemas/README.md, the partner-facing catalogue: the consumer's guide, one
// table of events per topic, each event's fields, and every record the events share.
func readme(evs []*schemas.Event) ([]byte, error) {
	d := readmeData{}
	seen := map[string]bool{}
	byTopic := map[string]*topicDoc{}
	for _, e := range evs {
		td, ok := byTopic[e.Topic]
		if !ok {
			td = &topicDoc{Name: e.Topic}
			byTopic[e.Topic] = td
			d.Topics = append(d.Topics, td)
		}
		ed := eventDoc{
			Type: e.Type(), Name: e.Name, File: e.File, Anchor: anchor(e.Type()),
			Subject:      e.Topic + "-" + e.Schema.FullName(),
			Doc:          oneLine(e.Schema.Doc()),
			Key:          e.Prop(schemas.PropKey),
			Aggregate:    e.Prop(schemas.PropAggregate),
			PersonalData: e.Prop(schemas.PropPersonalData),
			Fields:       fieldDocs(e.Schema),
		}
		td.Events = append(td.Events, ed)
		collectRecords(e.Schema, e.Schema.FullName(), seen, &d.Records)
	}
	var buf bytes.Buffer
	if err := readmeTemplate.Execute(&buf, d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type readmeData struct {
	Topics  []*topicDoc
	Records []recordDoc
}

type topicDoc struct {
	Name   string
	Events []eventDoc
}

type eventDoc struct {
	Type, Name, File, Anchor, Doc, Key, Aggregate, PersonalData, Subject string
	Fields                                                               []fieldDoc
}

type recordDoc struct {
	FullName, Anchor, Doc string
	Fields                []fieldDoc
}

type fieldDoc struct {
	Name, Type, Doc string
}

func fieldDocs(r *avro.RecordSchema) []fieldDoc {
	var out []fieldDoc
	for _, f := range r.Fields() {
		doc := oneLine(f.Doc())
		if f.HasDefault() && f.Default() != nil {
			doc += fmt.Sprintf(" Default: `%v`.", f.Default())
		}
		out = append(out, fieldDoc{Name: f.Name(), Type: typeName(f.Type()), Doc: strings.TrimSpace(doc)})
	}
	return out
}

// collectRecords adds every record s uses (not s itself) to out, once each, in first-use order.
func collectRecords(s avro.Schema, self string, seen map[string]bool, out *[]recordDoc) {
	switch t := s.(type) {
	case *avro.RefSchema:
		collectRecords(t.Schema(), self, seen, out)
	case *avro.RecordSchema:
		if t.FullName() != self {
			if seen[t.FullName()] {
				return
			}
			seen[t.FullName()] = true
			*out = append(*out, recordDoc{FullName: t.FullName(), Anchor: anchor(t.FullName()), Doc: oneLine(t.Doc()), Fields: fieldDocs(t)})
		}
		for _, f := range t.Fields() {
			collectRecords(f.Type(), self, seen, out)
		}
	case *avro.UnionSchema:
		for _, m := range t.Types() {
			collectRecords(m, self, seen, out)
		}
	case *avro.ArraySchema:
		collectRecords(t.Items(), self, seen, out)
	}
}

// typeName renders an Avro type for a Markdown table: logical types by name, optional types
// with a trailing ?, records as links to their section.
func typeName(s avro.Schema) string {
	switch t := s.(type) {
	case *avro.RefSchema:
		return typeName(t.Schema())
	case *avro.RecordSchema:
		return fmt.Sprintf("[%s](#%s)", t.FullName(), anchor(t.FullName()))
	case *avro.ArraySchema:
		return "array of " + typeName(t.Items())
	case *avro.UnionSchema:
		var parts []string
		for _, m := range t.Types() {
			if m.Type() != avro.Null {
				parts = append(parts, typeName(m))
			}
		}
		name := strings.Join(parts, " \\| ")
		if t.Nullable() {
			name = "null \\| " + name
		}
		return name
	case *avro.PrimitiveSchema:
		if l := t.Logical(); l != nil {
			if d, ok := l.(*avro.DecimalLogicalSchema); ok {
				return fmt.Sprintf("decimal(%d,%d)", d.Precision(), d.Scale())
			}
			return string(l.Type())
		}
		return string(t.Type())
	default:
		return string(s.Type())
	}
}

func anchor(s string) string {
	return strings.ToLower(strings.NewReplacer(".", "", " ", "-").Replace(s))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "|", "\\|")), " ")
}

var readmeTemplate = template.Must(template.New("readme").Parse(readmeText))
