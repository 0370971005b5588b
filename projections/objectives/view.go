package objectives

import "github.com/storeline/storeline/events"

// FromEvent is the objective as the read model will show it once e is applied: the command that
// emits e answers with it, so a command's answer and a later read have one shape.
func FromEvent(e *events.ObjectiveSpecificationSet) Objective { return newObjective(e) }
