// Command eventgen generates storeline's event code and catalogue from schemas/: the Go types
// of every event (events/zz_types.go), the catalogue wiring of every event type
// (events/zz_catalogue.go) and the partner-facing catalogue (schemas/README.md). Run it with
// `go generate ./events`; a test fails when the generated files are not up to date.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"text/template"

	"github.com/ettle/strcase"
	"github.com/hamba/avro/v2/gen"

	"github.com/storeline/storeline/schemas"
)

// Generated files, relative to the module root.
const (
	typesFile     = "events/zz_types.go"
	catalogueFile = "events/zz_catalogue.go"
	readmeFile    = "schemas/README.md"
)

func main() {
	root := flag.String("root", "", "module root (default: found from the working directory)")
	release := flag.Bool("release", false, "record every schema that changed since the last release in schemas/released/")
	flag.Parse()
	run := generateFiles
	if *release {
		run = releaseSchemas
	}
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "eventgen:", err)
		os.Exit(1)
	}
}

func generateFiles(root string) error {
	if root == "" {
		var err error
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	files, err := generate()
	if err != nil {
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), content, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// releaseSchemas writes a new released version of every event schema that changed since its
// newest released one, after checking that the current schemas can read every released version.
func releaseSchemas(root string) error {
	if root == "" {
		var err error
		if root, err = moduleRoot(); err != nil {
			return err
		}
	}
	current, err := schemas.Load(schemas.FS)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "schemas")
	released, err := schemas.LoadReleased(os.DirFS(dir))
	if err != nil {
		return err
	}
	if errs := schemas.CheckReleased(current, released); len(errs) > 0 {
		return fmt.Errorf("the current schemas break released ones: %v", errs)
	}
	files, err := schemas.Unreleased(current, released)
	if err != nil {
		return err
	}
	for name, text := range files {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, []byte(text), "", "  "); err != nil {
			return fmt.Errorf("format %s: %w", name, err)
		}
		pretty.WriteByte('\n')
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		fmt.Println("released", name)
	}
	if len(files) == 0 {
		fmt.Println("no schema changed since the last release")
	}
	return nil
}

// generate returns the content of every generated file by its path from the module root.
func generate() (map[string][]byte, error) {
	evs, err := schemas.Load(schemas.FS)
	if err != nil {
		return nil, err
	}
	if errs := schemas.Lint(evs); len(errs) > 0 {
		return nil, fmt.Errorf("schemas break CONVENTIONS.md: %v", errs)
	}
	types, err := goTypes(evs)
	if err != nil {
		return nil, err
	}
	cat, err := render(catalogueTemplate, catalogueData(evs), true)
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	readme, err := readme(evs)
	if err != nil {
		return nil, fmt.Errorf("README: %w", err)
	}
	return map[string][]byte{typesFile: types, catalogueFile: cat, readmeFile: readme}, nil
}

// goTypes generates one Go struct per Avro record of the catalogue.
func goTypes(evs []*schemas.Event) ([]byte, error) {
	g := gen.NewGenerator("events", nil,
		gen.WithStrictTypes(true),
		gen.WithInitialisms(initialisms),
		gen.WithPackageDoc(""),
	)
	for _, e := range evs {
		g.Parse(e.Schema)
	}
	var buf bytes.Buffer
	if err := g.Write(&buf); err != nil {
		return nil, fmt.Errorf("generate Go types: %w", err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format Go types: %w", err)
	}
	return out, nil
}

// initialisms are kept upper case in Go names, beside golint's (ID, URL, JSON, ...).
var initialisms = []string{"GID", "SKU", "CSV", "URI", "SHA256"}

// goName is the Go name the generator gives a record: PascalCase with initialisms.
func goName(record string) string {
	m := map[string]bool{}
	for _, i := range initialisms {
		m[i] = true
	}
	return strcase.NewCaser(true, m, nil).ToPascal(record)
}

type catalogueEntry struct {
	*schemas.Event
	GoName string
}

func catalogueData(evs []*schemas.Event) []catalogueEntry {
	out := make([]catalogueEntry, len(evs))
	for i, e := range evs {
		out[i] = catalogueEntry{Event: e, GoName: goName(e.Name)}
	}
	return out
}

func render(t *template.Template, data any, goSource bool) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return nil, err
	}
	if !goSource {
		return buf.Bytes(), nil
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("format: %w\n%s", err, buf.Bytes())
	}
	return out, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

var catalogueTemplate = template.Must(template.New("catalogue").Parse(`// Code generated by events/internal/eventgen from schemas/. DO NOT EDIT.

package events

// Event types: <topic>.<RecordName>.
const (
{{- range . }}
	// Type{{ .GoName }} is the event type of {{ .GoName }} ({{ .File }}).
	Type{{ .GoName }} = "{{ .Type }}"
{{- end }}
)
{{ range . }}
// Meta implements Event.
func (e *{{ .GoName }}) Meta() *Envelope { return &e.Envelope }
{{ end }}
// generated lists every event of schemas/ with its Go type.
var generated = []struct {
	eventType string
	topic     string
	file      string
	newEvent  func() Event
}{
{{- range . }}
	{Type{{ .GoName }}, "{{ .Topic }}", "{{ .File }}", func() Event { return new({{ .GoName }}) }},
{{- end }}
}
`))
