package api

// Placeholders until the read models land.
type (
	OrderReader     interface{}
	ProductReader   interface{}
	TagReader       interface{}
	ObjectiveReader interface{}
	PlanReader      interface{}
	Check           struct{}
)

func (a *API) registerHealth()     {}
func (a *API) registerOrders()     {}
func (a *API) registerProducts()   {}
func (a *API) registerTags()       {}
func (a *API) registerPlans()      {}
func (a *API) registerObjectives() { a.registerObjectiveCommands() }
