package shopifyapi

import (
	"strconv"
	"strings"
)

// GID is a Shopify global id, gid://shopify/<Type>/<ID>[?params].
type GID struct {
	Type string // e.g. Product, ProductVariant, LineItem
	ID   string // the part after the type, without parameters; usually an integer
}

const gidPrefix = "gid://shopify/"

// ParseGID splits a Shopify global id; false if s is not one.
func ParseGID(s string) (GID, bool) {
	rest, ok := strings.CutPrefix(s, gidPrefix)
	if !ok {
		return GID{}, false
	}
	typ, id, ok := strings.Cut(rest, "/")
	if !ok || typ == "" {
		return GID{}, false
	}
	if i := strings.IndexByte(id, '?'); i >= 0 {
		id = id[:i]
	}
	if id == "" {
		return GID{}, false
	}
	return GID{Type: typ, ID: id}, true
}

// Int64 is the id as an integer, for the resources whose ids are (nearly all of them).
func (g GID) Int64() (int64, bool) {
	n, err := strconv.ParseInt(g.ID, 10, 64)
	return n, err == nil
}

// String is the GID's canonical form (parameters dropped).
func (g GID) String() string { return gidPrefix + g.Type + "/" + g.ID }
