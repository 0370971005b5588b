package schemas

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"

	"github.com/hamba/avro/v2"
)

// Record attributes every event schema carries (see CONVENTIONS.md).
const (
	PropAggregate    = "storeline.aggregate"
	PropKey          = "storeline.key"
	PropPersonalData = "storeline.personal_data"
)

// sharedDir holds the records every topic shares (namespace storeline).
const sharedDir = "types"

// Event is one event schema of the catalogue.
type Event struct {
	Topic  string             // topic folder, e.g. commerce
	Name   string             // record name, e.g. OrderCreated
	File   string             // path in the FS, e.g. commerce/order_created.avsc
	Schema *avro.RecordSchema // parsed, with every named type it uses resolved
}

// Type returns the event type, <topic>.<RecordName>.
func (e *Event) Type() string { return e.Topic + "." + e.Name }

// Prop returns a string attribute of the event's record ("" when absent).
func (e *Event) Prop(name string) string {
	s, _ := e.Schema.Prop(name).(string)
	return s
}

// JSON returns the event's schema as self-contained JSON: every named type it uses is inlined
// at its first use, and docs, defaults and attributes are kept. This is the text registered in
// the schema registry.
func (e *Event) JSON() (string, error) {
	b, err := e.Schema.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("marshal schema of %s: %w", e.Type(), err)
	}
	return string(b), nil
}

// Topics returns the topic folders of fsys in name order: every top-level folder but types/
// and released/.
func Topics(fsys fs.FS) ([]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list schema folders: %w", err)
	}
	var topics []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != sharedDir && e.Name() != ReleasedDir {
			topics = append(topics, e.Name())
		}
	}
	return topics, nil
}

// Load parses every event schema of fsys (use FS), topic by topic, in topic and file order.
func Load(fsys fs.FS) ([]*Event, error) {
	topics, err := Topics(fsys)
	if err != nil {
		return nil, err
	}
	var all []*Event
	for _, t := range topics {
		evs, err := LoadTopic(fsys, t)
		if err != nil {
			return nil, err
		}
		all = append(all, evs...)
	}
	return all, nil
}

// LoadTopic parses the event schemas of one topic: the shared records of types/, the topic's
// own records of <topic>/types/, then one event per <topic>/*.avsc.
func LoadTopic(fsys fs.FS, topic string) ([]*Event, error) {
	files, err := fs.Glob(fsys, path.Join(topic, "*.avsc"))
	if err != nil {
		return nil, fmt.Errorf("list schemas of %s: %w", topic, err)
	}
	slices.Sort(files)
	var evs []*Event
	for _, f := range files {
		// Each event gets its own parse of the shared records: a cache shared between events
		// would let one event's parse change how another's named types print.
		cache := &avro.SchemaCache{}
		for _, dir := range []string{sharedDir, path.Join(topic, sharedDir)} {
			if err := parseTypes(fsys, dir, cache); err != nil {
				return nil, err
			}
		}
		s, err := parseFile(fsys, f, cache)
		if err != nil {
			return nil, err
		}
		rec, ok := s.(*avro.RecordSchema)
		if !ok {
			return nil, fmt.Errorf("schema %s: an event must be a record, not %s", f, s.Type())
		}
		evs = append(evs, &Event{Topic: topic, Name: rec.Name(), File: f, Schema: rec})
	}
	return evs, nil
}

// parseTypes parses the record files of dir into cache. A record may use another of the same
// folder, so files whose types are not known yet are retried until a round makes no progress.
func parseTypes(fsys fs.FS, dir string, cache *avro.SchemaCache) error {
	pending, err := fs.Glob(fsys, path.Join(dir, "*.avsc"))
	if err != nil {
		return fmt.Errorf("list schemas of %s: %w", dir, err)
	}
	slices.Sort(pending)
	for len(pending) > 0 {
		var retry []string
		var errs []error
		for _, f := range pending {
			if _, err := parseFile(fsys, f, cache); err != nil {
				retry = append(retry, f)
				errs = append(errs, err)
			}
		}
		if len(retry) == len(pending) {
			return errors.Join(errs...)
		}
		pending = retry
	}
	return nil
}

func parseFile(fsys fs.FS, file string, cache *avro.SchemaCache) (avro.Schema, error) {
	text, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("read schema %s: %w", file, err)
	}
	s, err := avro.ParseBytesWithCache(text, "", cache)
	if err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", file, err)
	}
	return s, nil
}
