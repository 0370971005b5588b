package tags

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/commands/shopifyid"
	"github.com/storeline/storeline/events"
)

// OriginDashboard is the origin of tags a staff member puts on or takes off in the dashboard.
const OriginDashboard = "dashboard"

// ProductTagsChange is the body of a product tags command: tags to put on and tags to take off.
type ProductTagsChange struct {
	Add    []string `json:"add,omitempty" maxItems:"250" doc:"Tags to put on the product, as they are to be written; one it has already (case-insensitively) is left as it is."`
	Remove []string `json:"remove,omitempty" maxItems:"250" doc:"Tags to take off, compared case-insensitively; one storeline did not put on is ignored."`
}

// ValidateProductTags checks the change: well-formed tags, something to do, and no tag both
// added and removed.
func ValidateProductTags(c ProductTagsChange) error {
	var errs fielderr.List
	if len(c.Add) == 0 && len(c.Remove) == 0 {
		errs.Add("body", "give tags to add or to remove", nil)
	}
	adding := map[string]bool{}
	for i, t := range c.Add {
		if p := tagProblem(strings.TrimSpace(t)); p != "" {
			errs.Add("body.add["+strconv.Itoa(i)+"]", p, t)
		}
		adding[key(strings.TrimSpace(t))] = true
	}
	for i, t := range c.Remove {
		loc := "body.remove[" + strconv.Itoa(i) + "]"
		if p := tagProblem(strings.TrimSpace(t)); p != "" {
			errs.Add(loc, p, t)
		} else if adding[key(strings.TrimSpace(t))] {
			errs.Add(loc, "the tag is also in add", t)
		}
	}
	return errs.Err()
}

// ProductTag is one tag storeline put on a product and that is still on; Version is that of the
// product's tags when it was put on.
type ProductTag struct {
	Tag             string    `json:"tag"`
	TagDefinitionID *string   `json:"tag_definition_id"`
	Origin          string    `json:"origin"`
	SuggestionID    *string   `json:"suggestion_id"`
	TaggedAt        time.Time `json:"tagged_at"`
	Version         int64     `json:"version"`
}

// ProductTags is the answer to a product tags command, in the read model's shape
// (projections/tags.ProductTags): the tags by tag, case-insensitively.
type ProductTags struct {
	ProductID string       `json:"product_id"`
	Tags      []ProductTag `json:"tags"`
	Version   int64        `json:"version"`
}

// productTagsState is the product's storeline-managed tags between commands.
type productTagsState struct {
	Tags []ProductTag `json:"tags"`
}

// ProductAggregateID is the aggregate id of a product's tags: its GID, the events' key.
func ProductAggregateID(productID int64) string { return shopifyid.GID("Product", productID) }

// ParseProductID reads a product id given as a number or a GID.
func ParseProductID(s string) (int64, error) { return shopifyid.Parse(s, "Product") }

// ApplyProductTags puts tags on and takes tags off a product: one ProductTagged or
// ProductUntagged per tag that actually changes (removals first, then additions, each in the
// request's order). A tag the product has already, or that is to be removed and is not on, changes
// nothing; when nothing changes the command is Unchanged and answers the current tags. A tag
// added that names a live tag definition (case-insensitively) carries the definition's id.
func ApplyProductTags(shop string, productID int64, c ProductTagsChange, now time.Time) decision.Decide {
	return func(ctx context.Context, tx pgx.Tx, cur decision.Current) (decision.Outcome, error) {
		now := stamp(now)
		var st productTagsState
		if cur.Exists {
			if err := json.Unmarshal(cur.State, &st); err != nil {
				return decision.Outcome{}, fmt.Errorf("product tags state: %w", err)
			}
		}
		gid := ProductAggregateID(productID)
		version := cur.Version
		var evs []events.Event
		for _, t := range c.Remove {
			i := slices.IndexFunc(st.Tags, func(p ProductTag) bool { return key(p.Tag) == key(strings.TrimSpace(t)) })
			if i < 0 {
				continue
			}
			on := st.Tags[i]
			st.Tags = slices.Delete(st.Tags, i, i+1)
			version++
			evs = append(evs, &events.ProductUntagged{Envelope: events.Envelope{EventType: events.TypeProductUntagged, OccurredAt: now},
				ProductID: productID, ProductGID: gid, Tag: on.Tag, TagDefinitionID: on.TagDefinitionID, Origin: OriginDashboard})
		}
		for _, t := range c.Add {
			t = strings.TrimSpace(t)
			if slices.ContainsFunc(st.Tags, func(p ProductTag) bool { return key(p.Tag) == key(t) }) {
				continue
			}
			def, err := definitionNamed(ctx, tx, shop, t)
			if err != nil {
				return decision.Outcome{}, err
			}
			version++
			st.Tags = append(st.Tags, ProductTag{Tag: t, TagDefinitionID: def, Origin: OriginDashboard, TaggedAt: now, Version: version})
			evs = append(evs, &events.ProductTagged{Envelope: events.Envelope{EventType: events.TypeProductTagged, OccurredAt: now},
				ProductID: productID, ProductGID: gid, Tag: t, TagDefinitionID: def, Origin: OriginDashboard})
		}
		slices.SortStableFunc(st.Tags, func(a, b ProductTag) int { return strings.Compare(key(a.Tag), key(b.Tag)) })
		if st.Tags == nil {
			st.Tags = []ProductTag{}
		}
		view := func(version int64) any {
			return ProductTags{ProductID: strconv.FormatInt(productID, 10), Tags: st.Tags, Version: version}
		}
		if len(evs) == 0 {
			return decision.Outcome{Unchanged: true, Response: view}, nil
		}
		return decision.Outcome{Events: evs, State: st, Response: view}, nil
	}
}

// definitionNamed returns the id of the shop's live definition named tag (case-insensitively,
// through the names definitions claim: a removed definition has released its name), or nil.
func definitionNamed(ctx context.Context, tx pgx.Tx, shop, tag string) (*string, error) {
	var id string
	err := tx.QueryRow(ctx, `SELECT aggregate_id FROM aggregate_names WHERE aggregate_type = $1 AND shop = $2 AND name = $3`,
		DefinitionAggregate, shop, key(tag)).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("tag definition named %q: %w", tag, err)
	}
	return &id, nil
}
