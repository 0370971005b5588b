package tags_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/projectiontest"
	"github.com/storeline/storeline/projections/tags"
)

const testShop = "demo.myshopify.com"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// id is a fixed uuid per name, so a test reads like its story.
func id(name string) string { return events.DeterministicID("tags-test", name) }

// envelope is the envelope of the version-th event of an aggregate, decided at t0 + version
// minutes by a staff member through the dashboard.
func envelope(eventType, aggregateType, aggregateID string, version int64) events.Envelope {
	at := t0.Add(time.Duration(version) * time.Minute)
	return events.Envelope{
		EventID:   events.DeterministicID("tags-test", eventType, aggregateID, fmt.Sprint(version)),
		EventType: eventType, OccurredAt: at, RecordedAt: at, Shop: testShop,
		AggregateType: aggregateType, AggregateID: aggregateID, AggregateVersion: &version,
		Actor: events.Actor{Type: events.ActorUser, ID: "staff-1"}, Source: events.SourceDashboard,
	}
}

func defSet(name string, version int64, tagName, color string) *events.TagDefinitionSet {
	return &events.TagDefinitionSet{
		Envelope: envelope(events.TypeTagDefinitionSet, "TagDefinition", id(name), version),
		TagDefinition: events.TagDefinition{
			TagDefinitionID: id(name), Name: tagName, Description: ptr("about " + tagName), Color: ptr(color),
			CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Duration(version) * time.Minute),
		},
	}
}

func defRemoved(name string, version int64, tagName string) *events.TagDefinitionRemoved {
	return &events.TagDefinitionRemoved{
		Envelope:        envelope(events.TypeTagDefinitionRemoved, "TagDefinition", id(name), version),
		TagDefinitionID: id(name), Name: tagName,
	}
}

func collSet(name string, version int64, collName string, defs ...string) *events.TagCollectionSet {
	ids := []string{}
	for _, d := range defs {
		ids = append(ids, id(d))
	}
	return &events.TagCollectionSet{
		Envelope: envelope(events.TypeTagCollectionSet, "TagCollection", id(name), version),
		TagCollection: events.TagCollection{
			TagCollectionID: id(name), Name: collName, TagDefinitionIds: ids,
			CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Duration(version) * time.Minute),
		},
	}
}

func collRemoved(name string, version int64) *events.TagCollectionRemoved {
	return &events.TagCollectionRemoved{
		Envelope:        envelope(events.TypeTagCollectionRemoved, "TagCollection", id(name), version),
		TagCollectionID: id(name),
	}
}

func productGID(productID int64) string { return fmt.Sprintf("gid://shopify/Product/%d", productID) }

func tagged(productID int64, version int64, tag string, def *string) *events.ProductTagged {
	return &events.ProductTagged{
		Envelope:  envelope(events.TypeProductTagged, "ProductTags", productGID(productID), version),
		ProductID: productID, ProductGID: productGID(productID), Tag: tag, TagDefinitionID: def, Origin: "dashboard",
	}
}

func untagged(productID int64, version int64, tag string) *events.ProductUntagged {
	return &events.ProductUntagged{
		Envelope:  envelope(events.TypeProductUntagged, "ProductTags", productGID(productID), version),
		ProductID: productID, ProductGID: productGID(productID), Tag: tag, Origin: "dashboard",
	}
}

// run appends evs to a fresh log, runs the projection over them with at most maxBatch records
// per transaction, and returns a reader once they are applied.
func run(t *testing.T, maxBatch int, evs ...events.Event) (*projectiontest.Env, *tags.Reader) {
	t.Helper()
	e := projectiontest.Setup(t, tags.Projection{})
	e.Append(t, evs...)
	e.Start(t, maxBatch, nil)
	e.WaitApplied(t, time.Minute)
	return e, tags.NewReader(e.Pool)
}
