package schemas

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"
)

// ReleasedDir holds every released version of every event schema, as
// released/<event type>/v<N>.avsc (self-contained JSON, as registered). A release adds the
// versions that changed; nothing is ever removed, so partners' records stay readable.
const ReleasedDir = "released"

// Released is one released version of an event's schema.
type Released struct {
	EventType string
	Version   int
	File      string
	Schema    avro.Schema
}

// LoadReleased reads every released version in fsys (a view of the schemas folder), by event
// type and version.
func LoadReleased(fsys fs.FS) ([]Released, error) {
	files, err := fs.Glob(fsys, path.Join(ReleasedDir, "*", "v*.avsc"))
	if err != nil {
		return nil, fmt.Errorf("list released schemas: %w", err)
	}
	var out []Released
	for _, f := range files {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(path.Base(f), "v"), ".avsc"))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("released schema %s: the name must be v<N>.avsc", f)
		}
		s, err := parseFile(fsys, f, &avro.SchemaCache{})
		if err != nil {
			return nil, err
		}
		out = append(out, Released{EventType: path.Base(path.Dir(f)), Version: n, File: f, Schema: s})
	}
	slices.SortFunc(out, func(a, b Released) int {
		if c := strings.Compare(a.EventType, b.EventType); c != 0 {
			return c
		}
		return a.Version - b.Version
	})
	return out, nil
}

// CheckReleased returns an error for every released version the current schema of its event
// cannot read (BACKWARD, transitively over all released versions), and for every released
// event that no longer exists.
func CheckReleased(current []*Event, released []Released) []error {
	byType := map[string]*Event{}
	for _, e := range current {
		byType[e.Type()] = e
	}
	var errs []error
	for _, r := range released {
		e, ok := byType[r.EventType]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: released event %s has no schema any more: an event type is never removed", r.File, r.EventType))
			continue
		}
		if err := Compatible(e.Schema, r.Schema); err != nil {
			errs = append(errs, fmt.Errorf("%s cannot read records written with %s (BACKWARD): %w", e.File, r.File, err))
		}
	}
	return errs
}

// Unreleased returns, for each current event whose schema differs from its newest released
// version (or that has none), the file the next release writes and the schema text.
func Unreleased(current []*Event, released []Released) (map[string]string, error) {
	newest := map[string]Released{}
	for _, r := range released {
		newest[r.EventType] = r // sorted by version
	}
	out := map[string]string{}
	for _, e := range current {
		r, ok := newest[e.Type()]
		if ok && r.Schema.Fingerprint() == e.Schema.Fingerprint() && sameText(r.Schema, e.Schema) {
			continue
		}
		text, err := e.JSON()
		if err != nil {
			return nil, err
		}
		out[path.Join(ReleasedDir, e.Type(), fmt.Sprintf("v%d.avsc", r.Version+1))] = text
	}
	return out, nil
}

// sameText reports whether two schemas are the same including docs and defaults, which the
// fingerprint (of the canonical form) ignores.
func sameText(a, b avro.Schema) bool {
	ja, errA := a.(*avro.RecordSchema).MarshalJSON()
	jb, errB := b.(*avro.RecordSchema).MarshalJSON()
	return errA == nil && errB == nil && string(ja) == string(jb)
}
