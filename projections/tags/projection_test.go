package tags_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/projections/tags"
)

// history is a log of tag events with duplicates and older versions replayed after newer ones;
// checkHistory says what the read model must show after it, whatever the batches.
func history() []events.Event {
	return []events.Event{
		// linen: created, renamed; a duplicate of v2 and the replayed v1 change nothing.
		defSet("linen", 1, "linen", "#111111"), defSet("linen", 2, "Linen", "#222222"),
		defSet("linen", 2, "Linen", "#222222"), defSet("linen", 1, "linen", "#111111"),
		// wool: created then removed; its v1 replayed does not bring it back.
		defSet("wool", 1, "wool", "#333333"), defRemoved("wool", 2, "wool"), defSet("wool", 1, "wool", "#333333"),
		// silk: created, removed, set again.
		defSet("silk", 1, "silk", "#444444"), defRemoved("silk", 2, "silk"), defSet("silk", 3, "Silk", "#555555"),
		// a removal of a definition never set leaves nothing.
		defRemoved("ghost", 2, "ghost"),

		collSet("materials", 1, "Materials", "linen", "wool"), collSet("materials", 2, "Materials", "silk", "linen"),
		collSet("materials", 1, "Materials", "linen", "wool"),
		collSet("old", 1, "Old"), collRemoved("old", 2), collSet("old", 1, "Old"),

		// product 7: linen on, summer on, linen off; the replayed "linen on" stays off.
		tagged(7, 1, "linen", ptr(id("linen"))), tagged(7, 2, "summer", nil), untagged(7, 3, "linen"),
		tagged(7, 1, "linen", ptr(id("linen"))),
		// tags compare case-insensitively: SALE on then "sale" off is one tag, now off.
		tagged(7, 4, "SALE", nil), untagged(7, 5, "sale"), tagged(7, 2, "summer", nil),
		// product 8: Linen on, off, on again (v3 wins over the replayed v2).
		tagged(8, 1, "Linen", ptr(id("linen"))), untagged(8, 2, "Linen"), tagged(8, 3, "linen", ptr(id("linen"))),
		untagged(8, 2, "Linen"),
	}
}

func checkHistory(t *testing.T, r *tags.Reader) {
	ctx := context.Background()
	defs, err := r.ListDefinitions(ctx, testShop)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range defs {
		got = append(got, fmt.Sprintf("%s@%s/v%d", d.Name, *d.Color, d.Version))
	}
	if strings.Join(got, " ") != "Linen@#222222/v2 Silk@#555555/v3" {
		t.Errorf("definitions = %v", got)
	}
	wool, err := r.Definition(ctx, id("wool"))
	if err != nil {
		t.Fatal(err)
	}
	if wool.RemovedAt == nil || !wool.RemovedAt.Equal(t0.Add(2*time.Minute)) || wool.Version != 2 || wool.Name != "wool" {
		t.Errorf("wool = %+v, want a tombstone at version 2", wool)
	}
	linen, err := r.Definition(ctx, id("linen"))
	if err != nil || linen.ID != id("linen") || linen.Shop != testShop || *linen.Description != "about Linen" ||
		!linen.CreatedAt.Equal(t0.Add(time.Minute)) || !linen.UpdatedAt.Equal(t0.Add(2*time.Minute)) || linen.RemovedAt != nil {
		t.Errorf("linen = %+v, %v", linen, err)
	}
	for _, missing := range []string{id("ghost"), id("nothing"), "not-a-uuid"} {
		if _, err := r.Definition(ctx, missing); !errors.Is(err, tags.ErrNotFound) {
			t.Errorf("Definition(%s) = %v, want ErrNotFound", missing, err)
		}
		if _, err := r.Collection(ctx, missing); !errors.Is(err, tags.ErrNotFound) {
			t.Errorf("Collection(%s) = %v, want ErrNotFound", missing, err)
		}
	}

	colls, err := r.ListCollections(ctx, testShop)
	if err != nil {
		t.Fatal(err)
	}
	if len(colls) != 1 || colls[0].Name != "Materials" || colls[0].Version != 2 ||
		strings.Join(colls[0].TagDefinitionIDs, ",") != id("silk")+","+id("linen") {
		t.Errorf("collections = %+v", colls)
	}
	old, err := r.Collection(ctx, id("old"))
	if err != nil || old.RemovedAt == nil || old.Version != 2 || len(old.TagDefinitionIDs) != 0 {
		t.Errorf("old = %+v, %v; want a tombstone at version 2", old, err)
	}
	if other, err := r.ListDefinitions(ctx, "other.myshopify.com"); err != nil || len(other) != 0 {
		t.Errorf("other shop's definitions = %v, %v", other, err)
	}

	p7, err := r.ProductTags(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if p7.Version != 5 || p7.ProductID != "7" || len(p7.Tags) != 1 || p7.Tags[0].Tag != "summer" || p7.Tags[0].Version != 2 ||
		!p7.Tags[0].TaggedAt.Equal(t0.Add(2*time.Minute)) || p7.Tags[0].Origin != "dashboard" {
		t.Errorf("product 7 tags = %+v", p7)
	}
	p8, err := r.ProductTags(ctx, 8)
	if err != nil {
		t.Fatal(err)
	}
	if p8.Version != 3 || len(p8.Tags) != 1 || p8.Tags[0].Tag != "linen" || p8.Tags[0].TagDefinitionID == nil ||
		*p8.Tags[0].TagDefinitionID != id("linen") {
		t.Errorf("product 8 tags = %+v", p8)
	}
	none, err := r.ProductTags(ctx, 9)
	if err != nil || none.Version != 0 || none.Tags == nil || len(none.Tags) != 0 {
		t.Errorf("product 9 tags = %+v, %v; want none at version 0", none, err)
	}
}

// TestHistory folds the history one event per transaction and in large batches: the same read
// model either way.
func TestHistory(t *testing.T) {
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"one event per batch", 1}, {"large batches", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			_, r := run(t, mode.maxBatch, history()...)
			checkHistory(t, r)
		})
	}
}
