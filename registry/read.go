package registry

import (
	"context"
	"fmt"
)

// SchemaByID returns the text of the schema with id, as first registered: what a consumer needs
// to decode a record written with it. An id unknown here is looked for in records other processes
// may have written since (ErrSchemaNotFound if it is nowhere).
func (s *Store) SchemaByID(ctx context.Context, id int) (string, error) {
	var text string
	err := s.read(ctx, func(st *state) error {
		v, ok := st.ids[id]
		if !ok {
			return fmt.Errorf("%w: id %d", ErrSchemaNotFound, id)
		}
		text = v.Schema
		return nil
	})
	return text, err
}

// VersionsByID returns every subject version registered with the schema id, by subject then
// version.
func (s *Store) VersionsByID(ctx context.Context, id int) ([]SchemaVersion, error) {
	var out []SchemaVersion
	err := s.read(ctx, func(st *state) error {
		uses := st.usages[id]
		if len(uses) == 0 {
			return fmt.Errorf("%w: id %d", ErrSchemaNotFound, id)
		}
		out = make([]SchemaVersion, 0, len(uses))
		for _, name := range st.subjectNames() {
			for _, v := range st.subjects[name] {
				if v.ID == id {
					out = append(out, v.public())
				}
			}
		}
		return nil
	})
	return out, err
}

// Subjects lists every subject with at least one version, sorted.
func (s *Store) Subjects(ctx context.Context) ([]string, error) {
	if err := s.running(); err != nil {
		return nil, err
	}
	var names []string
	_ = s.view(func(st *state) error { names = st.subjectNames(); return nil })
	return names, nil
}

// Versions lists the version numbers of a subject, ascending.
func (s *Store) Versions(ctx context.Context, subject string) ([]int, error) {
	var out []int
	err := s.read(ctx, func(st *state) error {
		vs := st.subjects[subject]
		if len(vs) == 0 {
			return fmt.Errorf("%w: %q", ErrSubjectNotFound, subject)
		}
		out = make([]int, len(vs))
		for i, v := range vs {
			out[i] = v.Version
		}
		return nil
	})
	return out, err
}

// Version returns one version of a subject; Latest for the newest.
func (s *Store) Version(ctx context.Context, subject string, version int) (SchemaVersion, error) {
	var out SchemaVersion
	err := s.read(ctx, func(st *state) error {
		v, err := st.get(subject, version)
		if err != nil {
			return err
		}
		out = v.public()
		return nil
	})
	return out, err
}

// Lookup returns the version of subject that holds schema (the same schema, whatever its
// formatting): ErrSubjectNotFound or ErrSchemaNotFound when there is none.
func (s *Store) Lookup(ctx context.Context, subject, schema string) (SchemaVersion, error) {
	p, err := parseSchema(schema)
	if err != nil {
		return SchemaVersion{}, err
	}
	var out SchemaVersion
	err = s.read(ctx, func(st *state) error {
		if len(st.subjects[subject]) == 0 {
			return fmt.Errorf("%w: %q", ErrSubjectNotFound, subject)
		}
		v := st.find(subject, p)
		if v == nil {
			return fmt.Errorf("%w in subject %q", ErrSchemaNotFound, subject)
		}
		out = v.public()
		return nil
	})
	return out, err
}

// CheckCompatibility tells whether schema could be registered under subject as far as
// compatibility goes, checking in the directions of the subject's level against one version
// (against: a number, or Latest) or every version (AllVersions). It returns the reasons it is
// incompatible; none means compatible. A subject without versions accepts anything.
func (s *Store) CheckCompatibility(ctx context.Context, subject string, against int, schema string) ([]string, error) {
	p, err := parseSchema(schema)
	if err != nil {
		return nil, err
	}
	var msgs []string
	err = s.read(ctx, func(st *state) error {
		level := st.level(subject)
		var versions []*version
		switch {
		case against == AllVersions: // every version the level reconciles with, as registering would
			versions = level.against(st.subjects[subject])
		case against == Latest && len(st.subjects[subject]) == 0:
		default:
			v, err := st.get(subject, against)
			if err != nil {
				return err
			}
			versions = []*version{v}
		}
		if level != LevelNone {
			msgs = level.check(p, versions)
		}
		return nil
	})
	return msgs, err
}
