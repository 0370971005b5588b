package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/storeline/storeline/events"
)

// Both registries serve the events codec.
var (
	_ events.Registry = (*Store)(nil)
	_ events.Registry = (*Remote)(nil)
)

// ErrInvalidSubject is returned for an empty subject name.
var ErrInvalidSubject = errors.New("invalid subject name")

// Register implements events.Registry: it returns the id of schema under subject, adding it as
// the subject's next version if it is new (see RegisterVersion).
func (s *Store) Register(ctx context.Context, subject, schema string) (int, error) {
	v, err := s.RegisterVersion(ctx, subject, schema)
	if err != nil {
		return 0, err
	}
	return v.ID, nil
}

// RegisterVersion adds schema to subject as its next version, if the subject's compatibility
// level allows it (*IncompatibleError otherwise), and returns that version. A schema the subject
// already holds (the same schema, whatever its formatting) returns the existing version without
// writing anything.
//
// Writers agree through the log alone. A writer reads the topic to its end, checks the schema
// against what it read, proposes version latest+1 by producing it (acks=all), and reads until its
// own record is folded. The first record for a (subject, version) wins (see state); a writer whose
// proposal lost re-produces the winner's value under the same key, so that compaction, which keeps
// the last record of a key, keeps the winner, then retries with the next version against the
// winner.
//
// Remaining windows:
//   - A writer that stops after losing and before repairing leaves its losing value last for that
//     key. The next Store to Start on the topic repairs it; compaction cannot drop the winner
//     before the segment holding both rolls (segment.ms, 7 days by default), so a restart within
//     that time is enough.
//   - A write that times out may still land: the caller got an error, yet the version may be
//     registered (and, had it lost, stays unrepaired until the next Start).
//   - A compatibility change racing with a registration may not apply to it.
//   - Two different schemas whose ids collide, registered at the same moment by two processes,
//     both land; the id then serves the first and the fold logs an error. Sequentially, the
//     second is refused with ErrIDCollision.
//   - The same schema registered under several subjects with different formatting is one id; the
//     text GET /schemas/ids/{id} serves is the first record's, which compaction may change to
//     another of those texts (same schema, same id).
func (s *Store) RegisterVersion(ctx context.Context, subject, schema string) (SchemaVersion, error) {
	if subject == "" {
		return SchemaVersion{}, ErrInvalidSubject
	}
	p, err := parseSchema(schema)
	if err != nil {
		return SchemaVersion{}, err
	}
	if err := s.running(); err != nil {
		return SchemaVersion{}, err
	}
	var known *version
	_ = s.view(func(st *state) error { known = st.find(subject, p); return nil })
	if known != nil { // decided versions never change, so no need to read further
		return known.public(), nil
	}

	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	// Writers of one process take turns: only writers in different processes race through the log.
	select {
	case s.writing <- struct{}{}:
		defer func() { <-s.writing }()
	case <-ctx.Done():
		return SchemaVersion{}, fmt.Errorf("register %s: wait for another registration: %w", subject, ctx.Err())
	}
	if err := s.catchUp(ctx); err != nil {
		return SchemaVersion{}, fmt.Errorf("register %s: catch up: %w", subject, err)
	}
	for race := 1; ; race++ {
		proposal, existing, err := s.propose(subject, p)
		if err != nil {
			return SchemaVersion{}, err
		}
		if existing != nil {
			return existing.public(), nil
		}
		if s.beforePropose != nil {
			s.beforePropose(proposal)
		}
		key, value := encodeSchemaRecord(proposal)
		off, err := s.produce(ctx, key, value)
		if err != nil {
			return SchemaVersion{}, fmt.Errorf("register %s version %d: %w", subject, proposal.Version, err)
		}
		// Once the record is in the log, finish reading it and repairing a lost race even if the
		// caller gives up: a losing record left last for its key is what compaction would keep.
		finish, cancelFinish := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		defer cancelFinish()
		if err := s.waitApplied(finish, off+1, 0); err != nil {
			return SchemaVersion{}, fmt.Errorf("register %s version %d: %w", subject, proposal.Version, err)
		}
		var winner *version
		_ = s.view(func(st *state) error { winner = st.byKey[versionKey{subject, proposal.Version}]; return nil })
		if winner == nil { // cannot happen: the record at off decides the version if nothing did before
			return SchemaVersion{}, fmt.Errorf("register %s version %d: the version is still undecided after reading its record", subject, proposal.Version)
		}
		if winner.schemaValue != proposal {
			if err := s.repair(finish, winner.schemaValue); err != nil {
				return SchemaVersion{}, fmt.Errorf("register %s version %d: %w", subject, proposal.Version, err)
			}
		}
		if winner.parsed != nil && winner.parsed.identity == p.identity {
			return winner.public(), nil // the same schema won, registered by another writer
		}
		if race == maxRaces {
			return SchemaVersion{}, fmt.Errorf("register %s: lost the race for a version %d times", subject, race)
		}
		s.log.Info("schema registry: another writer took the version; retrying with the next",
			"subject", subject, "version", proposal.Version, "winner_id", winner.ID)
	}
}

// propose decides, against the folded state, what registering p under subject means: the version
// already holding it, or the record proposing the next version.
func (s *Store) propose(subject string, p *parsedSchema) (proposal schemaValue, existing *version, err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	if v := st.find(subject, p); v != nil {
		return schemaValue{}, v, nil
	}
	id := p.id()
	if holder := st.ids[id]; holder != nil && (holder.parsed == nil || holder.parsed.identity != p.identity) {
		return schemaValue{}, nil, fmt.Errorf("register %s: %w: id %d is %s version %d", subject, ErrIDCollision, id, holder.Subject, holder.Version)
	}
	level := st.level(subject)
	if msgs := level.check(p, level.against(st.subjects[subject])); len(msgs) > 0 {
		return schemaValue{}, nil, &IncompatibleError{Subject: subject, Level: level, Messages: msgs}
	}
	next := 1
	if l := st.latest(subject); l != nil {
		next = l.Version + 1
	}
	return schemaValue{Subject: subject, Version: next, ID: id, Schema: p.text, SchemaType: schemaTypeAvro}, nil, nil
}

// repair writes the winner's value of a version again, after a losing value for the same key.
func (s *Store) repair(ctx context.Context, winner schemaValue) error {
	key, value := encodeSchemaRecord(winner)
	if _, err := s.produce(ctx, key, value); err != nil {
		return fmt.Errorf("repair %s version %d after a lost race: %w", winner.Subject, winner.Version, err)
	}
	return nil
}

// healConflicts repairs every version whose last record is a loser's, left by a writer that
// stopped between losing a race and repairing it. Several processes starting at once may all
// repair the same version; the duplicates are identical and compact away.
func (s *Store) healConflicts(ctx context.Context) {
	var winners []schemaValue
	_ = s.view(func(st *state) error {
		for k := range st.conflicts {
			winners = append(winners, st.byKey[k].schemaValue)
		}
		return nil
	})
	for _, w := range winners {
		if err := s.repair(ctx, w); err != nil {
			s.log.Error("schema registry: repair", "err", err)
			continue
		}
		s.log.Warn("schema registry: repaired a version left with a losing record last", "subject", w.Subject, "version", w.Version)
	}
}
