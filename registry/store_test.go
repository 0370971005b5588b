package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/testkit"
)

const (
	schemaV1 = `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"}]}`
	schemaV2 = `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"},{"name":"b","type":["null","string"],"default":null}]}`
	// schemaBad adds a field without a default: the new schema cannot read v1 data.
	schemaBad = `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"},{"name":"c","type":"string"}]}`
	badReason = "reader field c is missing in writer schema and has no default"
	// schemaDocs has docs, defaults, a custom property and its own formatting, all to be kept.
	schemaDocs = `{
  "type": "record", "name": "Order", "namespace": "shop",
  "doc": "An order as Shopify sent it.",
  "fields": [
    {"name": "id",    "type": "long",   "doc": "Shopify's numeric id"},
    {"name": "note",  "type": ["null", "string"], "default": null, "doc": "buyer's note"},
    {"name": "total", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 4}, "default": "\u0000"},
    {"name": "tags",  "type": {"type": "array", "items": "string"}, "default": [], "x-pii": false}
  ]
}`
)

func responseError(t *testing.T, err error) *sr.ResponseError {
	t.Helper()
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want a registry error response, got %v", err)
	}
	return re
}

func TestConfluentClientRoundTrip(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		store := k.start(t)
		cl, _ := serve(t, store)
		ctx := ctxT(t)
		const subject = "commerce-x.T"

		v1, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: schemaV1, Type: sr.TypeAvro})
		if err != nil || v1.Version != 1 || v1.ID < 1 || v1.Schema.Schema != schemaV1 {
			t.Fatalf("register v1: %+v, %v", v1, err)
		}
		v2, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: schemaV2})
		if err != nil || v2.Version != 2 || v2.ID == v1.ID {
			t.Fatalf("register v2: %+v, %v", v2, err)
		}
		again, err := cl.CreateSchema(ctx, subject, sr.Schema{Schema: schemaV1})
		if err != nil || again.ID != v1.ID || again.Version != 1 {
			t.Fatalf("registering v1 again: %+v, %v; want version 1 id %d", again, err, v1.ID)
		}
		if vs, err := cl.SubjectVersions(ctx, subject); err != nil || !slices.Equal(vs, []int{1, 2}) {
			t.Fatalf("versions: %v, %v", vs, err)
		}

		s, err := cl.SchemaByID(ctx, v1.ID)
		if err != nil || s.Schema != schemaV1 || s.Type != sr.TypeAvro {
			t.Fatalf("schema by id: %+v, %v", s, err)
		}
		if text, err := store.SchemaByID(ctx, v2.ID); err != nil || text != schemaV2 {
			t.Fatalf("Store.SchemaByID: %q, %v", text, err)
		}
		if subjects, err := cl.Subjects(ctx); err != nil || !slices.Equal(subjects, []string{subject}) {
			t.Fatalf("subjects: %v, %v", subjects, err)
		}
		latest, err := cl.SchemaByVersion(ctx, subject, -1)
		if err != nil || latest.Version != 2 || latest.ID != v2.ID || latest.Schema.Schema != schemaV2 || latest.Subject != subject {
			t.Fatalf("latest: %+v, %v", latest, err)
		}
		first, err := cl.SchemaByVersion(ctx, subject, 1)
		if err != nil || first.ID != v1.ID {
			t.Fatalf("version 1: %+v, %v", first, err)
		}
		if text, err := cl.SchemaTextByVersion(ctx, subject, 2); err != nil || text != schemaV2 {
			t.Fatalf("version 2 text: %q, %v", text, err)
		}

		found, err := cl.LookupSchema(ctx, subject, sr.Schema{Schema: schemaV2})
		if err != nil || found.Version != 2 || found.ID != v2.ID {
			t.Fatalf("look up v2: %+v, %v", found, err)
		}
		_, err = cl.LookupSchema(ctx, subject, sr.Schema{Schema: `"string"`})
		if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != 40403 {
			t.Fatalf("look up an unregistered schema: %d %d %s", re.StatusCode, re.ErrorCode, re.Message)
		}
		_, err = cl.LookupSchema(ctx, "nobody", sr.Schema{Schema: schemaV1})
		if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != 40401 {
			t.Fatalf("look up in an unknown subject: %d %d %s", re.StatusCode, re.ErrorCode, re.Message)
		}
		unknown := v1.ID ^ 1
		if unknown == v2.ID {
			unknown = v1.ID ^ 2
		}
		_, err = cl.SchemaByID(ctx, unknown)
		if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != 40403 {
			t.Fatalf("unknown id: %d %d", re.StatusCode, re.ErrorCode)
		}
		if _, err := store.SchemaByID(ctx, unknown); !errors.Is(err, events.ErrSchemaNotFound) || !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("Store.SchemaByID of an unknown id: %v", err)
		}
		if types, err := cl.SupportedTypes(ctx); err != nil || !slices.Equal(types, []sr.SchemaType{sr.TypeAvro}) {
			t.Fatalf("types: %v, %v", types, err)
		}

		// The same schema under another subject has the same id, as in Confluent's registry.
		other, err := cl.CreateSchema(ctx, "publication-x.T", sr.Schema{Schema: schemaV1})
		if err != nil || other.ID != v1.ID || other.Version != 1 {
			t.Fatalf("v1 under another subject: %+v, %v; want id %d", other, err, v1.ID)
		}
		uses, err := cl.SchemaVersionsByID(ctx, v1.ID)
		want := []sr.SubjectVersion{{Subject: subject, Version: 1}, {Subject: "publication-x.T", Version: 1}}
		if err != nil || !slices.Equal(uses, want) {
			t.Fatalf("versions of id %d: %v, %v", v1.ID, uses, err)
		}
		if subjects, err := cl.SubjectsByID(ctx, v1.ID); err != nil || !slices.Equal(subjects, []string{subject, "publication-x.T"}) {
			t.Fatalf("subjects of id %d: %v, %v", v1.ID, subjects, err)
		}
		// The events codec goes through Register.
		if id, err := store.Register(ctx, subject, schemaV2); err != nil || id != v2.ID {
			t.Fatalf("Register: %d, %v; want %d", id, err, v2.ID)
		}
	})
}

func TestIncompatibleSchemaIsRefusedWithTheReason(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		store := k.start(t)
		cl, _ := serve(t, store)
		ctx := ctxT(t)
		if _, err := cl.CreateSchema(ctx, "s", sr.Schema{Schema: schemaV1}); err != nil {
			t.Fatal(err)
		}
		_, err := cl.CreateSchema(ctx, "s", sr.Schema{Schema: schemaBad})
		re := responseError(t, err)
		if re.StatusCode != 409 || re.ErrorCode != 409 || !strings.Contains(re.Message, badReason) {
			t.Fatalf("incompatible schema: %d %d %q; want 409 with %q", re.StatusCode, re.ErrorCode, re.Message, badReason)
		}
		_, err = store.RegisterVersion(ctx, "s", schemaBad)
		var inc *registry.IncompatibleError
		if !errors.As(err, &inc) || inc.Level != registry.LevelBackward || len(inc.Messages) != 1 {
			t.Fatalf("Store.RegisterVersion: %v", err)
		}
		if vs, err := cl.SubjectVersions(ctx, "s"); err != nil || !slices.Equal(vs, []int{1}) {
			t.Fatalf("versions after the refusal: %v, %v", vs, err)
		}
	})
}

func TestCompatibilityEndpoint(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		store := k.start(t)
		cl, _ := serve(t, store)
		ctx := ctxT(t)
		if _, err := cl.CreateSchema(ctx, "s", sr.Schema{Schema: schemaV1}); err != nil {
			t.Fatal(err)
		}
		res, err := cl.CheckCompatibility(ctx, "s", -1, sr.Schema{Schema: schemaV2})
		if err != nil || !res.Is {
			t.Fatalf("v2 against latest: %+v, %v", res, err)
		}
		res, err = cl.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), "s", 1, sr.Schema{Schema: schemaBad})
		if err != nil || res.Is || len(res.Messages) != 1 || !strings.Contains(res.Messages[0], badReason) {
			t.Fatalf("bad against version 1, verbose: %+v, %v", res, err)
		}
		res, err = cl.CheckCompatibility(ctx, "s", -2, sr.Schema{Schema: schemaBad})
		if err != nil || res.Is || len(res.Messages) != 0 {
			t.Fatalf("bad against all versions, not verbose: %+v, %v", res, err)
		}
		res, err = cl.CheckCompatibility(ctx, "fresh", -1, sr.Schema{Schema: schemaBad})
		if err != nil || !res.Is {
			t.Fatalf("anything is compatible with a subject without versions: %+v, %v", res, err)
		}
		_, err = cl.CheckCompatibility(ctx, "s", 7, sr.Schema{Schema: schemaV2})
		if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != 40402 {
			t.Fatalf("unknown version: %d %d", re.StatusCode, re.ErrorCode)
		}
		_, err = cl.CheckCompatibility(ctx, "s", -1, sr.Schema{Schema: `{"type":"nope"}`})
		if re := responseError(t, err); re.StatusCode != 422 || re.ErrorCode != 42201 {
			t.Fatalf("invalid schema: %d %d", re.StatusCode, re.ErrorCode)
		}
		if vs, _ := store.Versions(ctx, "s"); len(vs) != 1 {
			t.Fatalf("checking registered something: versions %v", vs)
		}
	})
}

func TestCompatibilityConfigGlobalAndPerSubject(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		store := k.start(t)
		cl, url := serve(t, store)
		ctx := ctxT(t)
		level := func(ctx context.Context, subject ...string) (sr.CompatibilityLevel, error) {
			r := cl.Compatibility(ctx, subject...)
			return r[0].Level, r[0].Err
		}

		if l, err := level(ctx); err != nil || l != sr.CompatBackward {
			t.Fatalf("default global level: %v, %v", l, err)
		}
		for _, s := range []string{"loose", "strict"} {
			if _, err := cl.CreateSchema(ctx, s, sr.Schema{Schema: schemaV1}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := level(ctx, "loose")
		if re := responseError(t, err); re.StatusCode != 404 || re.ErrorCode != 40408 {
			t.Fatalf("subject without a level of its own: %d %d", re.StatusCode, re.ErrorCode)
		}
		if l, err := level(sr.WithParams(ctx, sr.DefaultToGlobal), "loose"); err != nil || l != sr.CompatBackward {
			t.Fatalf("defaultToGlobal: %v, %v", l, err)
		}

		// NONE on one subject lets an incompatible schema in there, and only there.
		set := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, "loose")
		if set[0].Err != nil || set[0].Level != sr.CompatNone {
			t.Fatalf("set NONE: %+v", set[0])
		}
		if l, err := level(ctx, "loose"); err != nil || l != sr.CompatNone {
			t.Fatalf("subject level after PUT: %v, %v", l, err)
		}
		if ss, err := cl.CreateSchema(ctx, "loose", sr.Schema{Schema: schemaBad}); err != nil || ss.Version != 2 {
			t.Fatalf("incompatible schema under NONE: %+v, %v", ss, err)
		}
		if _, err := cl.CreateSchema(ctx, "strict", sr.Schema{Schema: schemaBad}); responseError(t, err).ErrorCode != 409 {
			t.Fatalf("the other subject accepted an incompatible schema: %v", err)
		}

		// A global level applies to subjects without their own.
		if r := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
		if l, err := level(ctx); err != nil || l != sr.CompatNone {
			t.Fatalf("global level after PUT: %v, %v", l, err)
		}
		if ss, err := cl.CreateSchema(ctx, "strict", sr.Schema{Schema: schemaBad}); err != nil || ss.Version != 2 {
			t.Fatalf("incompatible schema under global NONE: %+v, %v", ss, err)
		}

		// Deleting the subject's level falls back to the global one; deleting the global resets it.
		if r := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatFull}, "loose"); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
		var deleted map[string]string
		if status := httpDo(t, "DELETE", url+"/config/loose", "", &deleted); status != 200 || deleted["compatibilityLevel"] != "FULL" {
			t.Fatalf("delete subject level: %d %v", status, deleted)
		}
		if l, _ := store.EffectiveCompatibility(ctx, "loose"); l != registry.LevelNone {
			t.Fatalf("after deleting its level, loose is %s; want the global NONE", l)
		}
		if r := cl.ResetCompatibility(ctx); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
		if l, _ := store.Compatibility(ctx, ""); l != registry.LevelBackward {
			t.Fatalf("global level after reset: %s", l)
		}

		var body map[string]any
		if status := httpDo(t, "PUT", url+"/config", `{"compatibility":"SOMETIMES"}`, &body); status != 422 || body["error_code"] != float64(42203) {
			t.Fatalf("invalid level: %d %v", status, body)
		}
	})
}

func TestRestartedStoreServesTheSameRegistry(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		ctx := ctxT(t)
		first := k.start(t)
		v1, err := first.RegisterVersion(ctx, "s", schemaV1)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := first.RegisterVersion(ctx, "s", schemaV2)
		if err != nil {
			t.Fatal(err)
		}
		if err := first.SetCompatibility(ctx, "s", registry.LevelFull); err != nil {
			t.Fatal(err)
		}
		first.Close()
		if _, err := first.SchemaByID(ctx, v1.ID); !errors.Is(err, registry.ErrNotStarted) {
			t.Fatalf("a closed store answered: %v", err)
		}

		second := k.start(t)
		for _, want := range []registry.SchemaVersion{v1, v2} {
			got, err := second.Version(ctx, "s", want.Version)
			if err != nil || got != want {
				t.Fatalf("after restart version %d is %+v, %v; want %+v", want.Version, got, err, want)
			}
			if text, err := second.SchemaByID(ctx, want.ID); err != nil || text != want.Schema {
				t.Fatalf("after restart id %d is %q, %v", want.ID, text, err)
			}
		}
		if l, err := second.Compatibility(ctx, "s"); err != nil || l != registry.LevelFull {
			t.Fatalf("after restart the subject level is %s, %v", l, err)
		}
		if again, err := second.RegisterVersion(ctx, "s", schemaV1); err != nil || again != v1 {
			t.Fatalf("registering v1 after restart: %+v, %v", again, err)
		}
		if vs, _ := second.Versions(ctx, "s"); !slices.Equal(vs, []int{1, 2}) {
			t.Fatalf("versions after restart: %v", vs)
		}
	})
}

// variant i adds its own optional field: any two variants are compatible in either order, so
// concurrent registrations of different variants contend only for version numbers.
func variant(i int) string {
	return fmt.Sprintf(`{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"},{"name":"f%d","type":["null","string"],"default":null}]}`, i)
}

func TestConcurrentStoresOnOneTopicAgree(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		ctx := ctxT(t)
		stores := []*registry.Store{k.start(t), k.start(t)}
		const variants = 6

		type result struct {
			store int
			v     registry.SchemaVersion
			err   error
		}
		results := make(chan result, 64)
		var wg sync.WaitGroup
		for si, s := range stores {
			// The same schema from both stores, several callers each.
			for range 4 {
				wg.Go(func() {
					v, err := s.RegisterVersion(ctx, "same", schemaV1)
					results <- result{si, v, err}
				})
			}
			// Every variant from both stores, in opposite orders.
			for i := range variants {
				if si == 1 {
					i = variants - 1 - i
				}
				wg.Go(func() {
					v, err := s.RegisterVersion(ctx, "race", variant(i))
					results <- result{si, v, err}
				})
			}
		}
		wg.Wait()
		close(results)

		byText := map[string]registry.SchemaVersion{}
		for r := range results {
			if r.err != nil {
				t.Fatalf("store %d: %v", r.store, r.err)
			}
			if prev, ok := byText[r.v.Subject+r.v.Schema]; ok && prev != r.v {
				t.Fatalf("one schema, two answers: %+v and %+v", prev, r.v)
			}
			byText[r.v.Subject+r.v.Schema] = r.v
		}
		if len(byText) != variants+1 {
			t.Fatalf("%d distinct registrations, want %d", len(byText), variants+1)
		}

		// Every store, and one started afresh, ends with the same versions: one per schema.
		want := make([]int, variants)
		for i := range want {
			want[i] = i + 1
		}
		stores = append(stores, k.start(t))
		for si, s := range stores {
			testkit.WaitFor(t, 30*time.Second, fmt.Sprintf("store %d to agree", si), func() error {
				if vs, err := s.Versions(ctx, "same"); err != nil || !slices.Equal(vs, []int{1}) {
					return fmt.Errorf("same: versions %v, %v", vs, err)
				}
				vs, err := s.Versions(ctx, "race")
				if err != nil || !slices.Equal(vs, want) {
					return fmt.Errorf("race: versions %v, %v", vs, err)
				}
				seen := map[string]bool{}
				for _, n := range vs {
					v, err := s.Version(ctx, "race", n)
					if err != nil {
						return err
					}
					if seen[v.Schema] {
						return fmt.Errorf("schema twice in the subject: %s", v.Schema)
					}
					seen[v.Schema] = true
					if r, ok := byText["race"+v.Schema]; !ok || r != v {
						return fmt.Errorf("version %d is %+v, but its registration answered %+v", n, v, r)
					}
				}
				return nil
			})
		}

		// After compaction (the last record of each key) the log must still say the same: every
		// version's last record carries the first record's value.
		firsts, lasts, schemaRecords := map[string]string{}, map[string]string{}, 0
		for _, r := range k.readLog(t) {
			if !strings.Contains(string(r.Key), `"SCHEMA"`) {
				continue
			}
			schemaRecords++
			if _, ok := firsts[string(r.Key)]; !ok {
				firsts[string(r.Key)] = string(r.Value)
			}
			lasts[string(r.Key)] = string(r.Value)
		}
		for key, first := range firsts {
			if lasts[key] != first {
				t.Errorf("key %s: last value %s differs from the winner %s; compaction would change the registry", key, lasts[key], first)
			}
		}
		t.Logf("%d schema records for %d versions (the surplus are lost races and their repairs)", schemaRecords, len(firsts))
	})
}

func TestStoreFindsWhatAnotherProcessRegistered(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		ctx := ctxT(t)
		writer, reader := k.start(t), k.start(t)
		v, err := writer.RegisterVersion(ctx, "s", schemaV1)
		if err != nil {
			t.Fatal(err)
		}
		// No waiting: a read of something unknown catches up with the topic first.
		if text, err := reader.SchemaByID(ctx, v.ID); err != nil || text != schemaV1 {
			t.Fatalf("reader: schema %d is %q, %v", v.ID, text, err)
		}
		if got, err := reader.Lookup(ctx, "s", schemaV1); err != nil || got != v {
			t.Fatalf("reader look-up: %+v, %v", got, err)
		}
	})
}

func TestRegisteredSchemaKeepsItsTextDocsAndDefaults(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		store := k.start(t)
		cl, _ := serve(t, store)
		ctx := ctxT(t)
		ss, err := cl.CreateSchema(ctx, "shop.Order", sr.Schema{Schema: schemaDocs})
		if err != nil {
			t.Fatal(err)
		}
		if text, err := cl.SchemaTextByVersion(ctx, "shop.Order", 1); err != nil || text != schemaDocs {
			t.Fatalf("GET .../versions/1/schema:\n%s\nwant exactly\n%s\n(%v)", text, schemaDocs, err)
		}
		if s, err := cl.SchemaByID(ctx, ss.ID); err != nil || s.Schema != schemaDocs {
			t.Fatalf("GET /schemas/ids/%d:\n%s\n(%v)", ss.ID, s.Schema, err)
		}

		// The same schema reformatted is the same version; a changed doc is a new one.
		var compact any
		if err := json.Unmarshal([]byte(schemaDocs), &compact); err != nil {
			t.Fatal(err)
		}
		minified, _ := json.Marshal(compact)
		if again, err := cl.CreateSchema(ctx, "shop.Order", sr.Schema{Schema: string(minified)}); err != nil || again.ID != ss.ID || again.Version != 1 {
			t.Fatalf("the minified schema: %+v, %v; want id %d version 1", again, err, ss.ID)
		}
		redoc := strings.Replace(schemaDocs, "buyer's note", "the buyer's note", 1)
		if v2, err := cl.CreateSchema(ctx, "shop.Order", sr.Schema{Schema: redoc}); err != nil || v2.Version != 2 || v2.ID == ss.ID {
			t.Fatalf("a doc change: %+v, %v; want a new version with a new id", v2, err)
		}
	})
}
