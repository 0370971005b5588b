package tags

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/decision"
	"github.com/storeline/storeline/commands/fielderr"
	"github.com/storeline/storeline/events"
)

var now = time.Date(2026, 5, 4, 10, 30, 0, 123456789, time.UTC)

const shop = "a.myshopify.com"

func ptr[T any](v T) *T { return &v }

func current(t *testing.T, state any, version int64) decision.Current {
	t.Helper()
	b, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	return decision.Current{Exists: true, Version: version, State: b}
}

func fieldAt(err error, loc string) bool {
	var fe *fielderr.Error
	return errors.As(err, &fe) && slices.ContainsFunc(fe.Fields, func(f fielderr.Field) bool { return f.Location == loc })
}

func TestValidateDefinition(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{{"linen", true}, {"  Linen  ", true}, {"   ", false}, {"a,b", false}, {strings.Repeat("é", 255), true}, {strings.Repeat("é", 256), false}} {
		if err := ValidateDefinition(DefinitionSpec{Name: c.name}); (err == nil) != c.ok || !c.ok && !fieldAt(err, "body.name") {
			t.Errorf("%q: %v", c.name, err)
		}
	}
}

func TestSetDefinition(t *testing.T) {
	id := "0d6f7c1e-2b1a-4c8e-9d0f-1a2b3c4d5e6f"
	out, err := SetDefinition(id, shop, DefinitionSpec{Name: " Linen ", Color: ptr("#aabbcc")}, now)(context.Background(), nil, decision.Current{})
	if err != nil {
		t.Fatal(err)
	}
	ev := out.Events[0].(*events.TagDefinitionSet)
	if out.Status != 201 || ev.PreviousName != nil || ev.TagDefinition.Name != "Linen" || !slices.Equal(out.Names, []string{"linen"}) ||
		ev.Envelope.EventType != events.TypeTagDefinitionSet || !ev.TagDefinition.CreatedAt.Equal(stamp(now)) {
		t.Errorf("create: %+v %+v", out, ev)
	}
	created := out.State.(definitionState)

	// A rename carries the old name and claims the new one.
	later := now.Add(time.Hour)
	out, err = SetDefinition(id, shop, DefinitionSpec{Name: "Flax"}, later)(context.Background(), nil, current(t, created, 1))
	if err != nil {
		t.Fatal(err)
	}
	ev = out.Events[0].(*events.TagDefinitionSet)
	if out.Status != 200 || ev.PreviousName == nil || *ev.PreviousName != "Linen" || !slices.Equal(out.Names, []string{"flax"}) ||
		!ev.TagDefinition.CreatedAt.Equal(stamp(now)) || !ev.TagDefinition.UpdatedAt.Equal(stamp(later)) {
		t.Errorf("rename: %+v %+v", out, ev)
	}
	if v := out.Response(2).(Definition); v.Name != "Flax" || v.Version != 2 || v.Shop != shop || v.Color != nil {
		t.Errorf("answer %+v", v)
	}

	// Changing only the case is a rename too (the tag is written differently on products).
	out, _ = SetDefinition(id, shop, DefinitionSpec{Name: "linen"}, later)(context.Background(), nil, current(t, created, 1))
	if ev := out.Events[0].(*events.TagDefinitionSet); ev.PreviousName == nil || *ev.PreviousName != "Linen" {
		t.Errorf("case rename: %+v", ev)
	}
	// The same name: no previous_name.
	out, _ = SetDefinition(id, shop, DefinitionSpec{Name: "Linen", Description: ptr("d")}, later)(context.Background(), nil, current(t, created, 1))
	if ev := out.Events[0].(*events.TagDefinitionSet); ev.PreviousName != nil {
		t.Errorf("no rename: %+v", ev)
	}

	removed := created
	removed.RemovedAt = ptr(now)
	_, err = SetDefinition(id, shop, DefinitionSpec{Name: "Linen"}, later)(context.Background(), nil, current(t, removed, 2))
	var rej *decision.Rejection
	if !errors.As(err, &rej) {
		t.Errorf("updating a removed definition: %v", err)
	}
}

func TestRemoveCollection(t *testing.T) {
	id := "9e8d7c6b-5a49-4382-b1a0-fedcba987654"
	st := collectionState{Spec: CollectionSpec{Name: "Materials", TagDefinitionIDs: []string{"0d6f7c1e-2b1a-4c8e-9d0f-1a2b3c4d5e6f"}}, CreatedAt: stamp(now), UpdatedAt: stamp(now)}
	out, err := RemoveCollection(id, shop, now)(context.Background(), nil, current(t, st, 3))
	if err != nil {
		t.Fatal(err)
	}
	if ev := out.Events[0].(*events.TagCollectionRemoved); ev.TagCollectionID != id {
		t.Errorf("event %+v", ev)
	}
	v := out.Response(4).(Collection)
	if v.RemovedAt == nil || v.Version != 4 || len(v.TagDefinitionIDs) != 1 {
		t.Errorf("answer %+v", v)
	}
	_, err = RemoveCollection(id, shop, now)(context.Background(), nil, current(t, out.State, 4))
	var rej *decision.Rejection
	if !errors.As(err, &rej) {
		t.Errorf("removing twice: %v", err)
	}
}

func TestValidateCollection(t *testing.T) {
	a, b := "0d6f7c1e-2b1a-4c8e-9d0f-1a2b3c4d5e6f", "9e8d7c6b-5a49-4382-b1a0-fedcba987654"
	if err := ValidateCollection(CollectionSpec{Name: "M", TagDefinitionIDs: []string{a, b}}); err != nil {
		t.Error(err)
	}
	if err := ValidateCollection(CollectionSpec{Name: "M", TagDefinitionIDs: []string{a, "nope"}}); !fieldAt(err, "body.tag_definition_ids[1]") {
		t.Errorf("bad id: %v", err)
	}
	if err := ValidateCollection(CollectionSpec{Name: "M", TagDefinitionIDs: []string{a, strings.ToUpper(a)}}); !fieldAt(err, "body.tag_definition_ids[1]") {
		t.Errorf("duplicate id: %v", err)
	}
	if err := ValidateCollection(CollectionSpec{Name: " "}); !fieldAt(err, "body.name") {
		t.Errorf("blank name: %v", err)
	}
	if got := (CollectionSpec{Name: "M", TagDefinitionIDs: []string{strings.ToUpper(a)}}).clean().TagDefinitionIDs; !slices.Equal(got, []string{a}) {
		t.Errorf("clean: %v", got)
	}
}

func TestValidateProductTags(t *testing.T) {
	for _, c := range []struct {
		name string
		c    ProductTagsChange
		loc  string
	}{
		{"add and remove", ProductTagsChange{Add: []string{"linen"}, Remove: []string{"wool"}}, ""},
		{"nothing", ProductTagsChange{}, "body"},
		{"empty tag", ProductTagsChange{Add: []string{" "}}, "body.add[0]"},
		{"comma", ProductTagsChange{Remove: []string{"a,b"}}, "body.remove[0]"},
		{"both ways", ProductTagsChange{Add: []string{"Linen"}, Remove: []string{"linen"}}, "body.remove[0]"},
	} {
		err := ValidateProductTags(c.c)
		if c.loc == "" && err != nil || c.loc != "" && !fieldAt(err, c.loc) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestApplyProductTags(t *testing.T) {
	st := productTagsState{Tags: []ProductTag{
		{Tag: "Linen", TagDefinitionID: ptr("0d6f7c1e-2b1a-4c8e-9d0f-1a2b3c4d5e6f"), Origin: "dashboard", TaggedAt: stamp(now), Version: 1},
		{Tag: "summer", Origin: "suggestion", TaggedAt: stamp(now), Version: 2},
	}}
	cur := current(t, st, 2)

	// Tags it has (in any case) and tags it has not: nothing changes, no event.
	out, err := ApplyProductTags(shop, 42, ProductTagsChange{Add: []string{"linen", "SUMMER"}, Remove: []string{"wool"}}, now)(context.Background(), nil, cur)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Unchanged || len(out.Events) != 0 {
		t.Fatalf("want unchanged, got %+v", out)
	}
	if v := out.Response(2).(ProductTags); v.ProductID != "42" || len(v.Tags) != 2 || v.Version != 2 {
		t.Errorf("answer %+v", v)
	}

	// Removing takes the tag off as it is written, with its definition.
	out, err = ApplyProductTags(shop, 42, ProductTagsChange{Remove: []string{"LINEN", "wool"}}, now)(context.Background(), nil, cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 {
		t.Fatalf("events %+v", out.Events)
	}
	ev := out.Events[0].(*events.ProductUntagged)
	if ev.Tag != "Linen" || ev.ProductID != 42 || ev.ProductGID != "gid://shopify/Product/42" || ev.Origin != OriginDashboard ||
		ev.TagDefinitionID == nil || ev.Envelope.EventType != events.TypeProductUntagged {
		t.Errorf("event %+v", ev)
	}
	if v := out.Response(3).(ProductTags); len(v.Tags) != 1 || v.Tags[0].Tag != "summer" {
		t.Errorf("answer %+v", v)
	}

	// A product storeline never tagged: removing anything is unchanged, at version 0.
	out, err = ApplyProductTags(shop, 42, ProductTagsChange{Remove: []string{"linen"}}, now)(context.Background(), nil, decision.Current{})
	if err != nil || !out.Unchanged || out.Response(0).(ProductTags).Tags == nil {
		t.Errorf("untagged product: %+v, %v", out, err)
	}
}
