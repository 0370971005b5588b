package api

// Placeholders until the read routes land.
type (
	OrderReader   interface{}
	ProductReader interface{}
)

func (a *API) registerOrders()   {}
func (a *API) registerProducts() {}
