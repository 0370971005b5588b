// Package shopifyid reads the Shopify ids the dashboard's commands are given: a resource's
// numeric id or its GID (gid://shopify/<Resource>/<id>), the two spellings Shopify's admin and
// APIs use. Ids are int64, never float (DESIGN.md "Contracts").
package shopifyid

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads a positive numeric id or a GID of the given resource (Product, ProductVariant,
// Collection).
func Parse(s, resource string) (int64, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(s), "gid://shopify/"+resource+"/")
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a positive %s id or gid://shopify/%s/<id>", strings.ToLower(resource), resource)
	}
	return n, nil
}

// GID is the resource's GID for id.
func GID(resource string, id int64) string {
	return "gid://shopify/" + resource + "/" + strconv.FormatInt(id, 10)
}
