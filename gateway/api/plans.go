package api

// PlanReader reads the combo plans read model (projections/plans).
type PlanReader interface{}

func (a *API) registerPlans() {}
