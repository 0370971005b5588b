// Package tags decides the dashboard's tag commands: tag definitions (the tags a merchant keeps
// in storeline, unique by name case-insensitively within a shop), tag collections (ordered groups
// of definitions) and the tags storeline puts on products. It validates what the merchant wrote,
// turns it into the publication topic's Tag* and Product(Un)tagged events and keeps each
// aggregate's state; package decision runs it in a transaction with the version check and the
// outbox.
//
// Aggregates: TagDefinition and TagCollection (id a UUID), ProductTags (id the product's GID:
// the product's storeline-managed tags, versioned together so concurrent edits of one product
// are ordered). Removed definitions and collections keep their state (removed_at set) so their
// version goes on counting and a repeat is refused rather than recreating them.
package tags

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Aggregate types, as the events' schemas name them (storeline.aggregate).
const (
	DefinitionAggregate  = "TagDefinition"
	CollectionAggregate  = "TagCollection"
	ProductTagsAggregate = "ProductTags"
)

// MaxTagLength is Shopify's limit on a product tag.
const MaxTagLength = 255

// stamp is the time a decision records: UTC, to the microsecond, as the events carry it (Avro
// timestamp-micros), so a command's answer equals what the read model later shows.
func stamp(now time.Time) time.Time { return now.UTC().Truncate(time.Microsecond) }

// tagProblem says what is wrong with a tag as Shopify would store it, or "".
func tagProblem(tag string) string {
	switch {
	case tag == "":
		return "a tag cannot be empty"
	case utf8.RuneCountInString(tag) > MaxTagLength:
		return "a tag has at most 255 characters"
	case strings.Contains(tag, ","):
		// Shopify writes a product's tags as one comma-separated string: a comma would split it.
		return "a tag cannot contain a comma"
	}
	return ""
}

// key is how tags are compared: case-insensitively, as Shopify does.
func key(tag string) string { return strings.ToLower(tag) }
