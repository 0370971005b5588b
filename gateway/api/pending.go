package api

// Placeholders until the read routes land.
type (
	OrderReader     interface{}
	ProductReader   interface{}
	ObjectiveReader interface{}
	Check           struct{}
)

func (a *API) registerHealth()     {}
func (a *API) registerOrders()     {}
func (a *API) registerProducts()   {}
func (a *API) registerObjectives() { a.registerObjectiveCommands() }
