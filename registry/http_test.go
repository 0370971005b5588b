package registry_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/registry"
)

func itoa(n int) string { return strconv.Itoa(n) }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestHTTPRefusesWhatItCannotServe(t *testing.T) {
	store := fakeKafka(t).start(t)
	cl, base := serve(t, store)
	ctx := ctxT(t)
	if _, err := cl.CreateSchema(ctx, "s", sr.Schema{Schema: schemaV1}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, method, path, contentType, body string
		status, code                          int
	}{
		{"invalid schema", "POST", "/subjects/s/versions", "", `{"schema":"{\"type\":\"record\",\"name\":\"T\"}"}`, 422, 42201},
		{"empty schema", "POST", "/subjects/s/versions", "", `{"schema":""}`, 422, 42201},
		{"references", "POST", "/subjects/s/versions", "", `{"schema":"\"string\"","references":[{"name":"a","subject":"b","version":1}]}`, 422, 42201},
		{"protobuf", "POST", "/subjects/s/versions", "", `{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"}`, 422, 42201},
		{"given id", "POST", "/subjects/s/versions", "", `{"schema":"\"string\"","id":5}`, 422, 42205},
		{"text body", "POST", "/subjects/s/versions", "text/plain", `{"schema":"\"string\""}`, 415, 415},
		{"bad json", "POST", "/subjects/s/versions", "", `{"schema":`, 400, 400},
		{"bad version", "GET", "/subjects/s/versions/abc", "", "", 422, 42202},
		{"version zero", "GET", "/subjects/s/versions/0", "", "", 422, 42202},
		{"unknown subject", "GET", "/subjects/nobody/versions", "", "", 404, 40401},
		{"unknown version", "GET", "/subjects/s/versions/9", "", "", 404, 40402},
		{"non-numeric id", "GET", "/schemas/ids/abc", "", "", 404, 40403},
		{"unknown path", "GET", "/nothing", "", "", 404, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			} else if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Code    int    `json:"error_code"`
				Message string `json:"message"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != c.status || body.Code != c.code || body.Message == "" {
				t.Fatalf("%s %s: %d %+v; want %d with error_code %d", c.method, c.path, resp.StatusCode, body, c.status, c.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.schemaregistry.v1+json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	if vs, _ := store.Versions(ctx, "s"); len(vs) != 1 {
		t.Fatalf("refused requests registered something: %v", vs)
	}
}

func TestHTTPSubjectWithASlash(t *testing.T) {
	store := fakeKafka(t).start(t)
	cl, base := serve(t, store)
	ctx := ctxT(t)
	ss, err := cl.CreateSchema(ctx, "team/a.T", sr.Schema{Schema: schemaV1})
	if err != nil || ss.Subject != "team/a.T" {
		t.Fatalf("register: %+v, %v", ss, err)
	}
	var got map[string]any
	if status := httpDo(t, "GET", base+"/subjects/"+url.PathEscape("team/a.T")+"/versions/latest", "", &got); status != 200 || got["subject"] != "team/a.T" {
		t.Fatalf("latest: %d %v", status, got)
	}
}

func TestRemoteFetchesSchemasByID(t *testing.T) {
	store := fakeKafka(t).start(t)
	_, base := serve(t, store)
	ctx := ctxT(t)
	remote, err := registry.NewRemote(base)
	if err != nil {
		t.Fatal(err)
	}
	id, err := remote.Register(ctx, "s", schemaDocs)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second answer comes from the cache
		if text, err := remote.SchemaByID(ctx, id); err != nil || text != schemaDocs {
			t.Fatalf("SchemaByID: %q, %v", text, err)
		}
	}
	if _, err := remote.SchemaByID(ctx, id^1); !errors.Is(err, registry.ErrSchemaNotFound) || !errors.Is(err, events.ErrSchemaNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}
