package api

// TagReader reads the tags read model (projections/tags).
type TagReader interface{}

func (a *API) registerTags() {}
