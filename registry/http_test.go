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
	// Credentials ride in the URL, as for a hosted registry.
	remote, err := registry.NewRemote(strings.Replace(base, "http://", "http://storeline:"+writeToken+"@", 1))
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

// TestHTTPChangesNeedTheWriteToken: the registry is served on the public listener, so anyone
// may read, look up and check compatibility, but only a holder of the write token may add a
// version or change compatibility.
func TestHTTPChangesNeedTheWriteToken(t *testing.T) {
	store := fakeKafka(t).start(t)
	_, base := serve(t, store) // holds writeToken
	ctx := ctxT(t)
	anonymous, err := sr.NewClient(sr.URLs(base))
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := sr.NewClient(sr.URLs(base), sr.BearerToken("not-the-token"))
	if err != nil {
		t.Fatal(err)
	}
	owner, err := sr.NewClient(sr.URLs(base), sr.BearerToken(writeToken))
	if err != nil {
		t.Fatal(err)
	}
	code := func(err error) int {
		var re *sr.ResponseError
		if errors.As(err, &re) {
			return re.ErrorCode
		}
		return 0
	}
	for name, cl := range map[string]*sr.Client{"anonymous": anonymous, "wrong token": wrong} {
		if _, err := cl.CreateSchema(ctx, "s", sr.Schema{Schema: schemaV1}); code(err) != 40301 {
			t.Errorf("%s registering a new subject: %v, want 40301", name, err)
		}
		if r := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}); r[0].Err == nil || code(r[0].Err) != 40301 {
			t.Errorf("%s changing the global level: %v, want 40301", name, r[0].Err)
		}
	}
	registered, err := owner.CreateSchema(ctx, "s", sr.Schema{Schema: schemaV1})
	if err != nil {
		t.Fatal(err)
	}
	// Registering what is there changes nothing: anyone gets its id (producers do this at start).
	again, err := anonymous.CreateSchema(ctx, "s", sr.Schema{Schema: schemaV1})
	if err != nil || again.ID != registered.ID {
		t.Errorf("anonymous re-registration: %+v, %v; want id %d", again, err, registered.ID)
	}
	// An incompatible schema gets its reasons whoever asks.
	if _, err := anonymous.CreateSchema(ctx, "s", sr.Schema{Schema: schemaBad}); code(err) != 409 {
		t.Errorf("anonymous incompatible schema: %v, want 409", err)
	}
	if l, _ := store.Compatibility(ctx, ""); l != registry.LevelBackward {
		t.Errorf("the global level is %s after refused changes", l)
	}
	if vs, _ := store.Versions(ctx, "s"); len(vs) != 1 {
		t.Errorf("versions after refused changes: %v", vs)
	}
}
