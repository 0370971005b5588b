package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// version is one version of a subject in the folded log.
type version struct {
	schemaValue
	parsed *parsedSchema // nil when the stored text does not parse (a record another tool wrote)
	offset int64         // of the record that decided it
}

type versionKey struct {
	subject string
	version int
}

// state is the registry's log folded in offset order. It is deterministic: every process folding
// the same records reaches the same state. The rules:
//
//   - The first record of a (subject, version) decides it; later records for that key are losers
//     of a race between writers and are ignored.
//   - A schema id means the schema of the first record that carries it.
//   - Compatibility configuration is last-writer-wins, a tombstone deleting it.
//
// Compaction keeps only the last record of each key, so a losing record must never stay last: the
// loser re-produces the winner's value after it (see Store.repair). conflicts tracks the keys whose
// last record is, for now, a loser's.
type state struct {
	subjects  map[string][]*version // versions of each subject, ascending
	byKey     map[versionKey]*version
	ids       map[int]*version   // first version recorded with each id
	usages    map[int][]*version // every version with each id
	configs   map[string]Level   // "" is the global level
	conflicts map[versionKey]struct{}
	parsed    map[string]*parsedSchema // by text; nil value: the text does not parse
}

func newState() *state {
	return &state{
		subjects:  map[string][]*version{},
		byKey:     map[versionKey]*version{},
		ids:       map[int]*version{},
		usages:    map[int][]*version{},
		configs:   map[string]Level{},
		conflicts: map[versionKey]struct{}{},
		parsed:    map[string]*parsedSchema{},
	}
}

// errIDCollision reports, while folding, a record whose id another schema already holds.
var errIDCollision = errors.New("schema id collision")

// apply folds one record. An error means the record was ignored or is suspicious; the state stays
// consistent either way and the caller only logs it.
func (st *state) apply(key, value []byte, offset int64) error {
	var k anyKey
	if err := json.Unmarshal(key, &k); err != nil {
		return fmt.Errorf("undecodable key %q: %w", key, err)
	}
	switch k.KeyType {
	case keyTypeSchema:
		return st.applySchema(k, value, offset)
	case keyTypeConfig:
		return st.applyConfig(k, value)
	case keyTypeNoop:
		return nil
	default:
		return fmt.Errorf("unsupported keytype %q", k.KeyType)
	}
}

func (st *state) applySchema(k anyKey, value []byte, offset int64) error {
	if k.Subject == nil || k.Version < 1 {
		return fmt.Errorf("schema key without subject or version")
	}
	if value == nil {
		return fmt.Errorf("schema tombstone for %s version %d: deleting versions is not supported", *k.Subject, k.Version)
	}
	var v schemaValue
	if err := json.Unmarshal(value, &v); err != nil {
		return fmt.Errorf("undecodable schema value of %s version %d: %w", *k.Subject, k.Version, err)
	}
	if v.Subject != *k.Subject || v.Version != k.Version || v.ID < 1 || (v.SchemaType != "" && v.SchemaType != schemaTypeAvro) {
		return fmt.Errorf("schema value %+v does not match its key %s version %d", v, *k.Subject, k.Version)
	}
	if v.SchemaType == "" {
		v.SchemaType = schemaTypeAvro
	}
	vk := versionKey{v.Subject, v.Version}
	if winner, ok := st.byKey[vk]; ok {
		if winner.schemaValue == v {
			delete(st.conflicts, vk)
		} else {
			st.conflicts[vk] = struct{}{}
		}
		return nil
	}

	ver := &version{schemaValue: v, parsed: st.parse(v.Schema), offset: offset}
	st.byKey[vk] = ver
	vs := st.subjects[v.Subject]
	i := sort.Search(len(vs), func(i int) bool { return vs[i].Version > v.Version })
	st.subjects[v.Subject] = slices.Insert(vs, i, ver)
	st.usages[v.ID] = append(st.usages[v.ID], ver)
	holder, held := st.ids[v.ID]
	if !held {
		st.ids[v.ID] = ver
		return nil
	}
	if holder.parsed != nil && ver.parsed != nil && holder.parsed.identity != ver.parsed.identity {
		return fmt.Errorf("%w: id %d of %s version %d is also %s version %d, a different schema; the id serves the first",
			errIDCollision, v.ID, v.Subject, v.Version, holder.Subject, holder.Version)
	}
	return nil
}

func (st *state) applyConfig(k anyKey, value []byte) error {
	if k.Subject == nil {
		return fmt.Errorf("config key without subject")
	}
	if value == nil {
		delete(st.configs, *k.Subject)
		return nil
	}
	var c configValue
	if err := json.Unmarshal(value, &c); err != nil {
		return fmt.Errorf("undecodable config of subject %q: %w", *k.Subject, err)
	}
	level, err := ParseLevel(string(c.CompatibilityLevel))
	if err != nil {
		return fmt.Errorf("config of subject %q: %w", *k.Subject, err)
	}
	st.configs[*k.Subject] = level
	return nil
}

// parse parses a stored text once, however many subjects hold it.
func (st *state) parse(text string) *parsedSchema {
	if p, ok := st.parsed[text]; ok {
		return p
	}
	p, err := parseSchema(text)
	if err != nil {
		p = nil
	}
	st.parsed[text] = p
	return p
}

// find returns the version of subject holding the same schema as p, if any.
func (st *state) find(subject string, p *parsedSchema) *version {
	for _, v := range st.subjects[subject] {
		if v.parsed != nil && v.parsed.identity == p.identity {
			return v
		}
	}
	return nil
}

func (st *state) latest(subject string) *version {
	vs := st.subjects[subject]
	if len(vs) == 0 {
		return nil
	}
	return vs[len(vs)-1]
}

// get returns a version of subject, Latest for the newest.
func (st *state) get(subject string, v int) (*version, error) {
	vs := st.subjects[subject]
	if len(vs) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrSubjectNotFound, subject)
	}
	if v == Latest {
		return vs[len(vs)-1], nil
	}
	if ver, ok := st.byKey[versionKey{subject, v}]; ok {
		return ver, nil
	}
	return nil, fmt.Errorf("%w: %q version %d", ErrVersionNotFound, subject, v)
}

// level is the compatibility level that applies to subject.
func (st *state) level(subject string) Level {
	if l, ok := st.configs[subject]; ok {
		return l
	}
	if l, ok := st.configs[""]; ok {
		return l
	}
	return DefaultLevel
}

func (st *state) subjectNames() []string {
	names := make([]string, 0, len(st.subjects))
	for s := range st.subjects {
		names = append(names, s)
	}
	sort.Strings(names)
	return names
}
