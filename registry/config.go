package registry

import (
	"context"
	"fmt"
)

// Compatibility returns the compatibility level set on subject, or the global one for subject ""
// (DefaultLevel when none was set). A subject without a level of its own is ErrConfigNotFound.
func (s *Store) Compatibility(ctx context.Context, subject string) (Level, error) {
	var level Level
	err := s.read(ctx, func(st *state) error {
		l, ok := st.configs[subject]
		switch {
		case ok:
			level = l
		case subject == "":
			level = DefaultLevel
		default:
			return fmt.Errorf("%w: %q", ErrConfigNotFound, subject)
		}
		return nil
	})
	return level, err
}

// EffectiveCompatibility returns the level registrations under subject are checked with: the
// subject's own, else the global one, else DefaultLevel.
func (s *Store) EffectiveCompatibility(ctx context.Context, subject string) (Level, error) {
	if err := s.running(); err != nil {
		return "", err
	}
	var level Level
	_ = s.view(func(st *state) error { level = st.level(subject); return nil })
	return level, nil
}

// SetCompatibility sets the compatibility level of subject, or the global one for subject "". The
// last change wins. It returns once this store applies the level.
func (s *Store) SetCompatibility(ctx context.Context, subject string, level Level) error {
	if _, err := ParseLevel(string(level)); err != nil {
		return err
	}
	return s.writeConfig(ctx, subject, level)
}

// DeleteCompatibility removes the compatibility level of subject, which falls back to the global
// one, and returns the level it had (ErrConfigNotFound if none). For subject "" it resets the
// global level to DefaultLevel.
func (s *Store) DeleteCompatibility(ctx context.Context, subject string) (Level, error) {
	prev, err := s.Compatibility(ctx, subject)
	if err != nil {
		return "", err
	}
	if err := s.writeConfig(ctx, subject, ""); err != nil {
		return "", err
	}
	return prev, nil
}

// writeConfig records a level ("" deletes it) and waits until it is folded here.
func (s *Store) writeConfig(ctx context.Context, subject string, level Level) error {
	if err := s.running(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	key, value := encodeConfigRecord(subject, level)
	off, err := s.produce(ctx, key, value)
	if err == nil {
		err = s.waitApplied(ctx, off+1, 0)
	}
	if err != nil {
		return fmt.Errorf("set compatibility of subject %q: %w", subject, err)
	}
	return nil
}
