package registry_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/testkit"
)

const schemaV1 = `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"}]}`
const schemaV2 = `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"},{"name":"b","type":["null","string"],"default":null}]}`

func TestStoreRegistersOncePerSchemaAndServesConfluentClients(t *testing.T) {
	store := registry.NewStore(testkit.FreshDatabase(t))
	ctx := context.Background()

	// Several processes starting at once register the same schema: one id.
	ids := make([]int, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := store.Register(ctx, "commerce-x.T", schemaV1)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("concurrent registrations gave ids %v", ids)
		}
	}
	v2, err := store.Register(ctx, "commerce-x.T", schemaV2)
	if err != nil || v2 == ids[0] {
		t.Fatalf("second version: id %d, %v", v2, err)
	}

	// A Confluent client (franz-go's sr) reads them back through the HTTP API.
	srv := httptest.NewServer(registry.Handler(store))
	defer srv.Close()
	cl, err := sr.NewClient(sr.URLs(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cl.SchemaByID(ctx, ids[0])
	if err != nil || s.Schema != schemaV1 || s.Type != sr.TypeAvro {
		t.Fatalf("schema by id: %+v, %v", s, err)
	}
	subjects, err := cl.Subjects(ctx)
	if err != nil || len(subjects) != 1 || subjects[0] != "commerce-x.T" {
		t.Fatalf("subjects: %v, %v", subjects, err)
	}
	latest, err := cl.SchemaByVersion(ctx, "commerce-x.T", -1)
	if err != nil || latest.Version != 2 || latest.ID != v2 {
		t.Fatalf("latest: %+v, %v", latest, err)
	}
	if _, err := cl.SchemaByID(ctx, 999); err == nil {
		t.Fatal("unknown id answered without error")
	}
}
