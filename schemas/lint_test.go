package schemas

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hamba/avro/v2"
)

// TestLint checks every topic's schemas against CONVENTIONS.md. Run one topic with
// go test ./schemas -run 'TestLint/commerce'.
func TestLint(t *testing.T) {
	topics, err := Topics(FS)
	if err != nil {
		t.Fatal(err)
	}
	var all []*Event
	for _, topic := range topics {
		t.Run(topic, func(t *testing.T) {
			evs, err := LoadTopic(FS, topic)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				t.Fatalf("topic %s has no event schema", topic)
			}
			for _, err := range Lint(evs) {
				t.Error(err)
			}
			all = append(all, evs...)
		})
	}
	t.Run("catalogue", func(t *testing.T) {
		for _, err := range Lint(all) {
			t.Error(err)
		}
	})
}

func TestToSnake(t *testing.T) {
	for in, want := range map[string]string{
		"OrderCreated":          "order_created",
		"CSVExportRequested":    "csv_export_requested",
		"CsvExportRequested":    "csv_export_requested",
		"ShopUninstalled":       "shop_uninstalled",
		"InventoryLevelUpdated": "inventory_level_updated",
	} {
		if got := toSnake(in); got != want {
			t.Errorf("toSnake(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLintCatches proves the linter fails a schema that breaks each rule.
func TestLintCatches(t *testing.T) {
	shared, err := fs.ReadFile(FS, "types/envelope.avsc")
	if err != nil {
		t.Fatal(err)
	}
	actor, _ := fs.ReadFile(FS, "types/actor.avsc")
	fsys := fstest.MapFS{
		"types/envelope.avsc": {Data: shared},
		"types/actor.avsc":    {Data: actor},
		"demo/thing_made.avsc": {Data: []byte(`{"type": "record", "name": "ThingMade", "namespace": "storeline.demo",
			"fields": [
				{"name": "envelope", "type": "storeline.Envelope", "doc": "x"},
				{"name": "unitPrice", "type": "double", "doc": "x"},
				{"name": "total_price", "type": "double", "doc": "x"},
				{"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["A"]}, "doc": "x"},
				{"name": "note", "type": ["null", "string"]},
				{"name": "extra", "type": {"type": "map", "values": "string"}, "doc": "x"}
			]}`)},
	}
	evs, err := LoadTopic(fsys, "demo")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, err := range Lint(evs) {
		got = append(got, err.Error())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"the record has no doc",
		`attribute "storeline.key" is missing`,
		"unitPrice: field name is not snake_case",
		"total_price looks like money",
		"no Avro enums",
		"note has no doc",
		`note: an optional field is ["null", T] with "default": null`,
		"no maps",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("lint did not report %q; it reported:\n%s", want, all)
		}
	}
}

// TestEventJSONIsSelfContained parses every event's registered text with nothing else known,
// as a partner's deserializer does, and checks it is the same schema.
func TestEventJSONIsSelfContained(t *testing.T) {
	evs, err := Load(FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		text, err := e.JSON()
		if err != nil {
			t.Fatal(err)
		}
		s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
		if err != nil {
			t.Errorf("%s: the registered schema does not parse on its own: %v", e.File, err)
			continue
		}
		if s.Fingerprint() != e.Schema.Fingerprint() {
			t.Errorf("%s: the registered schema is not the event's schema", e.File)
		}
	}
}
