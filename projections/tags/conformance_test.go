package tags_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/projectiontest"
	"github.com/storeline/storeline/projections/tags"
)

func TestConformance(t *testing.T) {
	projectiontest.Conformance(t, projectiontest.Suite{
		Projection: tags.Projection{},
		History:    func() []events.Event { return tagsHistory(rand.New(rand.NewPCG(41, 42))) },
		Snapshot: projectiontest.Tables(map[string]string{
			"tag_definitions": "t.tag_definition_id",
			"tag_collections": "t.tag_collection_id",
			"product_tags":    "t.product_id, t.tag_key",
		}),
		// A removed definition's or collection's tombstone keeps the content of the last Set
		// folded before the removal; a Set of an older version delivered after it is ignored.
		OrderedPerKey: true,
	})
}

// pubLog is a log of publication events as storeline's commands emit them through the outbox:
// one clock for the shop, and per aggregate the version after each event (1 on creation, one
// more per event of that aggregate).
type pubLog struct {
	rng      *rand.Rand
	clock    time.Time
	versions map[string]int64
	events   []events.Event
}

func (l *pubLog) envelope(eventType, aggregateType, aggregateID string, actor events.Actor, source string) events.Envelope {
	l.clock = l.clock.Add(time.Duration(1+l.rng.IntN(600_000_000)) * time.Microsecond)
	l.versions[aggregateID]++
	v := l.versions[aggregateID]
	return events.Envelope{
		EventID:   events.DeterministicID("tags-conformance", aggregateID, fmt.Sprint(v)),
		EventType: eventType, OccurredAt: l.clock, RecordedAt: l.clock.Add(time.Duration(l.rng.IntN(2000)) * time.Millisecond),
		Shop: testShop, AggregateType: aggregateType, AggregateID: aggregateID, AggregateVersion: &v,
		Actor: actor, Source: source,
	}
}

func (l *pubLog) staff() events.Actor {
	return events.Actor{Type: events.ActorUser, ID: fmt.Sprint("staff-", 1+l.rng.IntN(3))}
}

// tagsHistory is a shop's tagging over a few hours: 6 tag definitions created, recoloured,
// renamed (the product tag sync then moving the products to the new name), removed (their
// collections saved again without them) and set again; 3 tag collections set, edited, removed
// and set again; and 8 products tagged and untagged, with defined and free tags written in
// varying case, by staff, accepted suggestions and workflows.
func tagsHistory(rng *rand.Rand) []events.Event {
	l := &pubLog{rng: rng, clock: t0, versions: map[string]int64{}}
	type definition struct {
		id, name         string
		created          time.Time
		exists, removed  bool
		color, describes string
	}
	type collection struct {
		id, name        string
		created         time.Time
		exists, removed bool
		defs            []string
	}
	var defs []*definition
	for _, n := range []string{"linen", "wool", "silk", "cotton", "summer", "sale"} {
		defs = append(defs, &definition{id: events.DeterministicID("tags-conformance", "definition", n), name: n})
	}
	var colls []*collection
	for _, n := range []string{"Materials", "Seasons", "Promotions"} {
		colls = append(colls, &collection{id: events.DeterministicID("tags-conformance", "collection", n), name: n})
	}
	products := []int64{9001, 9002, 9003, 9004, 9005, 9006, 9007, 9008}
	on := map[int64]map[string]string{} // product -> lower(tag) -> the tag as written
	for _, p := range products {
		on[p] = map[string]string{}
	}
	defOf := func(tag string) *string {
		for _, d := range defs {
			if d.exists && !d.removed && strings.EqualFold(d.name, tag) {
				return &d.id
			}
		}
		return nil
	}
	tag := func(product int64, tag, origin string, actor events.Actor, source string) {
		e := &events.ProductTagged{
			Envelope:  l.envelope(events.TypeProductTagged, "ProductTags", productGID(product), actor, source),
			ProductID: product, ProductGID: productGID(product), Tag: tag, TagDefinitionID: defOf(tag), Origin: origin,
		}
		if origin == "suggestion" {
			e.SuggestionID = ptr(events.DeterministicID("tags-conformance", "suggestion", e.Envelope.EventID))
		}
		l.events = append(l.events, e)
		on[product][strings.ToLower(tag)] = tag
	}
	untag := func(product int64, tag, origin string, actor events.Actor, source string) {
		l.events = append(l.events, &events.ProductUntagged{
			Envelope:  l.envelope(events.TypeProductUntagged, "ProductTags", productGID(product), actor, source),
			ProductID: product, ProductGID: productGID(product), Tag: tag, TagDefinitionID: defOf(tag), Origin: origin,
		})
		delete(on[product], strings.ToLower(tag))
	}
	setDef := func(d *definition, previous *string) {
		e := &events.TagDefinitionSet{Envelope: l.envelope(events.TypeTagDefinitionSet, "TagDefinition", d.id, l.staff(), events.SourceDashboard)}
		if !d.exists {
			d.exists, d.created = true, e.Envelope.OccurredAt
		}
		d.removed = false
		e.TagDefinition = events.TagDefinition{TagDefinitionID: d.id, Name: d.name, CreatedAt: d.created, UpdatedAt: e.Envelope.OccurredAt}
		if d.color != "" {
			e.TagDefinition.Color = ptr(d.color)
		}
		if d.describes != "" {
			e.TagDefinition.Description = ptr(d.describes)
		}
		e.PreviousName = previous
		l.events = append(l.events, e)
	}
	setColl := func(c *collection) {
		e := &events.TagCollectionSet{Envelope: l.envelope(events.TypeTagCollectionSet, "TagCollection", c.id, l.staff(), events.SourceDashboard)}
		if !c.exists {
			c.exists, c.created = true, e.Envelope.OccurredAt
		}
		c.removed = false
		e.TagCollection = events.TagCollection{
			TagCollectionID: c.id, Name: c.name, TagDefinitionIds: append([]string{}, c.defs...),
			CreatedAt: c.created, UpdatedAt: e.Envelope.OccurredAt,
		}
		if rng.IntN(2) == 0 {
			e.TagCollection.Description = ptr("the " + strings.ToLower(c.name))
		}
		l.events = append(l.events, e)
	}
	system := events.Actor{Type: events.ActorSystem, ID: "product-tag-sync"}
	for range 160 {
		switch r := rng.IntN(10); {
		case r < 3: // a definition
			d := defs[rng.IntN(len(defs))]
			switch {
			case !d.exists || d.removed: // created, or set again after its removal
				d.color = fmt.Sprintf("#%06x", rng.IntN(1<<24))
				setDef(d, nil)
			case rng.IntN(3) == 0: // renamed; the product tag sync moves its products to the new name
				old := d.name
				d.name = []string{strings.ToUpper(old[:1]) + old[1:], old + "-blend", "pure " + old}[rng.IntN(3)]
				setDef(d, &old)
				for _, p := range products {
					if written, ok := on[p][strings.ToLower(old)]; ok {
						untag(p, written, "workflow", system, events.SourceWorkflow)
						tag(p, d.name, "workflow", system, events.SourceWorkflow)
					}
				}
			case rng.IntN(3) == 0: // removed; its collections are saved again without it
				l.events = append(l.events, &events.TagDefinitionRemoved{
					Envelope:        l.envelope(events.TypeTagDefinitionRemoved, "TagDefinition", d.id, l.staff(), events.SourceDashboard),
					TagDefinitionID: d.id, Name: d.name,
				})
				d.removed = true
				for _, c := range colls {
					if i := slices.Index(c.defs, d.id); i >= 0 && c.exists && !c.removed {
						c.defs = append(c.defs[:i:i], c.defs[i+1:]...)
						setColl(c)
					}
				}
			default: // recoloured, described
				d.color = fmt.Sprintf("#%06x", rng.IntN(1<<24))
				d.describes = []string{"", "what it is made of", "season"}[rng.IntN(3)]
				setDef(d, nil)
			}
		case r < 5: // a collection
			c := colls[rng.IntN(len(colls))]
			if c.exists && !c.removed && rng.IntN(4) == 0 {
				l.events = append(l.events, &events.TagCollectionRemoved{
					Envelope:        l.envelope(events.TypeTagCollectionRemoved, "TagCollection", c.id, l.staff(), events.SourceDashboard),
					TagCollectionID: c.id,
				})
				c.removed = true
				continue
			}
			c.defs = nil
			for _, i := range rng.Perm(len(defs))[:rng.IntN(4)] {
				if defs[i].exists && !defs[i].removed {
					c.defs = append(c.defs, defs[i].id)
				}
			}
			if rng.IntN(4) == 0 {
				c.name += "+"
			}
			setColl(c)
		default: // a product's tags
			p := products[rng.IntN(len(products))]
			var name string
			if d := defs[rng.IntN(len(defs))]; d.exists && rng.IntN(4) > 0 {
				name = d.name
			} else {
				name = []string{"clearance", "gift", "new-in"}[rng.IntN(3)]
			}
			// as written by whoever typed it: Shopify compares tags case-insensitively
			written := []string{name, strings.ToUpper(name), strings.ToUpper(name[:1]) + name[1:]}[rng.IntN(3)]
			origin, actor, source := "dashboard", l.staff(), events.SourceDashboard
			if rng.IntN(4) == 0 { // a combo CSV import
				origin, actor, source = "workflow", events.Actor{Type: events.ActorSystem, ID: "combo-csv-import"}, events.SourceWorkflow
			}
			if _, ok := on[p][strings.ToLower(name)]; ok {
				untag(p, written, origin, actor, source)
			} else {
				if origin == "dashboard" && rng.IntN(3) == 0 {
					origin = "suggestion" // a staff member accepted a tag suggestion
				}
				tag(p, written, origin, actor, source)
			}
		}
	}
	return l.events
}
