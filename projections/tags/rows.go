package tags

import (
	"strings"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/recordset"
)

// Rows as the statements read them (jsonb_to_recordset): JSON field = column name. Each
// statement keeps the newest version per key of its batch (DISTINCT ON ... version DESC), then
// writes it only over an older stored version.

var definitionColumns = recordset.Columns{
	{"tag_definition_id", "uuid"}, {"shop", "text"}, {"name", "text"}, {"description", "text"}, {"color", "text"},
	{"created_at", "timestamptz"}, {"updated_at", "timestamptz"}, {"version", "bigint"}, {"last_event_id", "uuid"},
}

var upsertDefinitions = `
INSERT INTO tag_definitions (` + definitionColumns.Names("") + `, removed_at, projected_at)
SELECT DISTINCT ON (r.tag_definition_id) ` + definitionColumns.Names("r.") + `, NULL::timestamptz, now()
FROM ` + definitionColumns.Recordset("$1") + `
ORDER BY r.tag_definition_id, r.version DESC
ON CONFLICT (tag_definition_id) DO UPDATE SET ` + definitionColumns.SetExcluded("tag_definition_id") + `,
    removed_at = NULL, projected_at = now()
WHERE tag_definitions.version < excluded.version`

type definitionRow struct {
	TagDefinitionID string    `json:"tag_definition_id"`
	Shop            string    `json:"shop"`
	Name            string    `json:"name"`
	Description     *string   `json:"description"`
	Color           *string   `json:"color"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	Version         int64     `json:"version"`
	LastEventID     string    `json:"last_event_id"`
}

func newDefinitionRow(e *events.TagDefinitionSet) definitionRow {
	d := e.TagDefinition
	return definitionRow{
		TagDefinitionID: d.TagDefinitionID, Shop: e.Envelope.Shop, Name: d.Name, Description: d.Description, Color: d.Color,
		CreatedAt: recordset.UTC(d.CreatedAt), UpdatedAt: recordset.UTC(d.UpdatedAt),
		Version: version(&e.Envelope), LastEventID: e.Envelope.EventID,
	}
}

var collectionColumns = recordset.Columns{
	{"tag_collection_id", "uuid"}, {"shop", "text"}, {"name", "text"}, {"description", "text"},
	{"tag_definition_ids", "uuid[]"}, {"created_at", "timestamptz"}, {"updated_at", "timestamptz"},
	{"version", "bigint"}, {"last_event_id", "uuid"},
}

var upsertCollections = `
INSERT INTO tag_collections (` + collectionColumns.Names("") + `, removed_at, projected_at)
SELECT DISTINCT ON (r.tag_collection_id) ` + collectionColumns.Names("r.") + `, NULL::timestamptz, now()
FROM ` + collectionColumns.Recordset("$1") + `
ORDER BY r.tag_collection_id, r.version DESC
ON CONFLICT (tag_collection_id) DO UPDATE SET ` + collectionColumns.SetExcluded("tag_collection_id") + `,
    removed_at = NULL, projected_at = now()
WHERE tag_collections.version < excluded.version`

type collectionRow struct {
	TagCollectionID  string    `json:"tag_collection_id"`
	Shop             string    `json:"shop"`
	Name             string    `json:"name"`
	Description      *string   `json:"description"`
	TagDefinitionIDs []string  `json:"tag_definition_ids"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	Version          int64     `json:"version"`
	LastEventID      string    `json:"last_event_id"`
}

func newCollectionRow(e *events.TagCollectionSet) collectionRow {
	c := e.TagCollection
	return collectionRow{
		TagCollectionID: c.TagCollectionID, Shop: e.Envelope.Shop, Name: c.Name, Description: c.Description,
		TagDefinitionIDs: recordset.NonNil(c.TagDefinitionIds),
		CreatedAt:        recordset.UTC(c.CreatedAt), UpdatedAt: recordset.UTC(c.UpdatedAt),
		Version: version(&e.Envelope), LastEventID: e.Envelope.EventID,
	}
}

// removalColumns are a removal of a definition or a collection: the aggregate id, when, and the
// version after it.
var removalColumns = recordset.Columns{
	{"id", "uuid"}, {"removed_at", "timestamptz"}, {"version", "bigint"}, {"last_event_id", "uuid"},
}

func removeStatement(table, key string) string {
	return `
UPDATE ` + table + ` t SET removed_at = r.removed_at, version = r.version, last_event_id = r.last_event_id, projected_at = now()
FROM (SELECT DISTINCT ON (r.id) ` + removalColumns.Names("r.") + ` FROM ` + removalColumns.Recordset("$1") + `
      ORDER BY r.id, r.version DESC) r
WHERE t.` + key + ` = r.id AND t.version < r.version`
}

var (
	removeDefinitions = removeStatement("tag_definitions", "tag_definition_id")
	removeCollections = removeStatement("tag_collections", "tag_collection_id")
)

type removalRow struct {
	ID          string    `json:"id"`
	RemovedAt   time.Time `json:"removed_at"`
	Version     int64     `json:"version"`
	LastEventID string    `json:"last_event_id"`
}

func newRemovalRow(env *events.Envelope, id string) removalRow {
	return removalRow{ID: id, RemovedAt: recordset.UTC(env.OccurredAt), Version: version(env), LastEventID: env.EventID}
}

var productTagColumns = recordset.Columns{
	{"product_id", "bigint"}, {"tag", "text"}, {"shop", "text"}, {"product_gid", "text"},
	{"tag_definition_id", "uuid"}, {"origin", "text"}, {"suggestion_id", "uuid"}, {"tagged_at", "timestamptz"},
	{"removed_at", "timestamptz"}, {"version", "bigint"}, {"last_event_id", "uuid"},
}

// upsertProductTags writes tags put on (removed_at NULL) and taken off (removed_at set) alike:
// the newest event about a (product, tag) decides. Taking a tag off keeps when it was put on:
// the tagged_at of the newest ProductTagged before it, whether that came in the same batch (the
// window below: grp numbers the runs that start at a ProductTagged, in version order) or in an
// earlier one (the stored row), so the fold does not depend on where the log is cut into
// batches.
var upsertProductTags = `
INSERT INTO product_tags (` + productTagColumns.Names("") + `, projected_at)
SELECT DISTINCT ON (w.product_id, w.tag_key) ` + strings.Replace(productTagColumns.Names("w."), "w.tagged_at", "w.run_tagged_at", 1) + `, now()
FROM (SELECT g.*, first_value(g.tagged_at) OVER (PARTITION BY g.product_id, g.tag_key, g.grp ORDER BY g.version) AS run_tagged_at
      FROM (SELECT r.*, lower(r.tag) AS tag_key,
                   count(r.tagged_at) OVER (PARTITION BY r.product_id, lower(r.tag) ORDER BY r.version) AS grp
            FROM ` + productTagColumns.Recordset("$1") + `) g) w
ORDER BY w.product_id, w.tag_key, w.version DESC
ON CONFLICT (product_id, tag_key) DO UPDATE SET ` + productTagColumns.SetExcluded("product_id", "tagged_at") + `,
    tagged_at = COALESCE(excluded.tagged_at, product_tags.tagged_at), projected_at = now()
WHERE product_tags.version < excluded.version`

type productTagRow struct {
	ProductID       int64      `json:"product_id"`
	Tag             string     `json:"tag"`
	Shop            string     `json:"shop"`
	ProductGID      string     `json:"product_gid"`
	TagDefinitionID *string    `json:"tag_definition_id"`
	Origin          string     `json:"origin"`
	SuggestionID    *string    `json:"suggestion_id"`
	TaggedAt        *time.Time `json:"tagged_at"`
	RemovedAt       *time.Time `json:"removed_at"`
	Version         int64      `json:"version"`
	LastEventID     string     `json:"last_event_id"`
}

func newTaggedRow(e *events.ProductTagged) productTagRow {
	at := recordset.UTC(e.Envelope.OccurredAt)
	return productTagRow{
		ProductID: e.ProductID, Tag: e.Tag, Shop: e.Envelope.Shop, ProductGID: e.ProductGID,
		TagDefinitionID: e.TagDefinitionID, Origin: e.Origin, SuggestionID: e.SuggestionID, TaggedAt: &at,
		Version: version(&e.Envelope), LastEventID: e.Envelope.EventID,
	}
}

func newUntaggedRow(e *events.ProductUntagged) productTagRow {
	at := recordset.UTC(e.Envelope.OccurredAt)
	return productTagRow{
		ProductID: e.ProductID, Tag: e.Tag, Shop: e.Envelope.Shop, ProductGID: e.ProductGID,
		TagDefinitionID: e.TagDefinitionID, Origin: e.Origin, RemovedAt: &at,
		Version: version(&e.Envelope), LastEventID: e.Envelope.EventID,
	}
}

// version is the aggregate version an event carries; 0 when it carries none (see the package
// doc).
func version(env *events.Envelope) int64 {
	if env.AggregateVersion == nil {
		return 0
	}
	return *env.AggregateVersion
}
