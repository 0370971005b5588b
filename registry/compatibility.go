package registry

import (
	"fmt"
	"strings"

	"github.com/storeline/storeline/schemas"
)

// Level is a compatibility level, as Confluent's registry names them.
type Level string

// Compatibility levels. BACKWARD: consumers using the new schema can read data written with the
// latest version. FORWARD: consumers using the latest version can read data written with the new
// schema. FULL: both. The TRANSITIVE variants check against every version instead of the latest.
const (
	LevelNone               Level = "NONE"
	LevelBackward           Level = "BACKWARD"
	LevelBackwardTransitive Level = "BACKWARD_TRANSITIVE"
	LevelForward            Level = "FORWARD"
	LevelForwardTransitive  Level = "FORWARD_TRANSITIVE"
	LevelFull               Level = "FULL"
	LevelFullTransitive     Level = "FULL_TRANSITIVE"
)

// DefaultLevel applies when neither the subject nor the global configuration sets one.
const DefaultLevel = LevelBackward

// ParseLevel accepts a level name, case-insensitively.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToUpper(strings.TrimSpace(s)))
	switch l {
	case LevelNone, LevelBackward, LevelBackwardTransitive, LevelForward, LevelForwardTransitive, LevelFull, LevelFullTransitive:
		return l, nil
	}
	return "", fmt.Errorf("invalid compatibility level %q", s)
}

func (l Level) transitive() bool { return strings.HasSuffix(string(l), "_TRANSITIVE") }

func (l Level) backward() bool {
	return l == LevelBackward || l == LevelBackwardTransitive || l == LevelFull || l == LevelFullTransitive
}

func (l Level) forward() bool {
	return l == LevelForward || l == LevelForwardTransitive || l == LevelFull || l == LevelFullTransitive
}

// against returns the versions a new schema must be reconciled with at this level: none, the
// latest, or all of them. versions is ordered oldest first.
func (l Level) against(versions []*version) []*version {
	switch {
	case l == LevelNone || len(versions) == 0:
		return nil
	case l.transitive():
		return versions
	default:
		return versions[len(versions)-1:]
	}
}

// check reconciles candidate with each of the given versions in the level's directions, using
// Avro's schema resolution rules as hamba/avro implements them, and returns one message per
// failure (none: compatible).
func (l Level) check(candidate *parsedSchema, versions []*version) []string {
	var msgs []string
	for _, v := range versions {
		if v.parsed == nil {
			msgs = append(msgs, fmt.Sprintf("version %d: stored schema does not parse, cannot check against it", v.Version))
			continue
		}
		// schemas.Compatible uses a fresh checker per pair: SchemaCompatibility caches results under
		// the schemas' canonical fingerprints (which ignore defaults) and marks pairs in progress
		// for recursion, so a shared one would answer for the wrong schema or for a check still
		// running in another goroutine. It also refuses changed logical types (decimal scale,
		// timestamp unit), which Avro's rules let through and then misread.
		if l.backward() {
			if err := schemas.Compatible(candidate.schema, v.parsed.schema); err != nil {
				msgs = append(msgs, fmt.Sprintf("the new schema cannot read data written with version %d: %v", v.Version, err))
			}
		}
		if l.forward() {
			if err := schemas.Compatible(v.parsed.schema, candidate.schema); err != nil {
				msgs = append(msgs, fmt.Sprintf("version %d cannot read data written with the new schema: %v", v.Version, err))
			}
		}
	}
	return msgs
}
