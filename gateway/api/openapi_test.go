package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/storeline/storeline/auth"
	"github.com/storeline/storeline/gateway/api"
	"github.com/storeline/storeline/projections/objectives"
	"github.com/storeline/storeline/projections/orders"
	"github.com/storeline/storeline/projections/plans"
	"github.com/storeline/storeline/projections/products"
	"github.com/storeline/storeline/projections/tags"
)

// fullAPI builds the API with every part present (readers that are never called), as user.
func fullAPI(t *testing.T, user auth.Role) (*api.API, http.Handler) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return api.New(api.Config{Shops: []api.Shop{{Domain: testShop, Currency: "EUR"}}, CursorKey: make([]byte, 32)}, api.Deps{
		Authenticate: auth.DevMiddleware(auth.Principal{Subject: "t", Email: "t@example.com", Role: user}, log),
		Orders:       orders.NewReader(nil),
		Products:     products.NewReader(nil),
		Tags:         tags.NewReader(nil),
		Objectives:   objectives.NewReader(nil),
		Plans:        plans.NewReader(nil),
		Syncs:        noSyncs{},
		Log:          log,
	})
}

type noSyncs struct{ api.SyncRequester }

func openAPIJSON(t *testing.T, a *api.API) []byte {
	t.Helper()
	w := httptest.NewRecorder()
	a.ServeOpenAPI(w, httptest.NewRequest(http.MethodGet, "/api/openapi.json", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("openapi.json: %d", w.Code)
	}
	return w.Body.Bytes()
}

// TestOpenAPIDocumentIsValid checks the served document against the OpenAPI 3.1 specification
// with an independent implementation (pb33f/libopenapi-validator).
func TestOpenAPIDocumentIsValid(t *testing.T) {
	a, _ := fullAPI(t, auth.RoleAdmin)
	raw := openAPIJSON(t, a)
	var head struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.OpenAPI != "3.1.0" {
		t.Fatalf("openapi version %q (%v)", head.OpenAPI, err)
	}
	doc, err := libopenapi.NewDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
		}
	}
}

// TestEveryRouteIsDocumented: the router's routes and the document's operations are the same set.
func TestEveryRouteIsDocumented(t *testing.T) {
	a, h := fullAPI(t, auth.RoleAdmin)
	routed := map[string]bool{}
	if err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed[method+" "+strings.TrimSuffix(route, "/")] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, o := range operations(a) {
		documented[o.Method+" "+o.Path] = true
	}
	var missing, undocumented []string
	for r := range routed {
		if !documented[r] {
			undocumented = append(undocumented, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			missing = append(missing, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(undocumented)
	if len(missing) > 0 || len(undocumented) > 0 {
		t.Errorf("documented but not routed: %v; routed but not documented: %v", missing, undocumented)
	}
	if len(documented) < 20 {
		t.Errorf("only %d operations documented: %v", len(documented), documented)
	}
}

// operations lists the document's operations.
func operations(a *api.API) []*huma.Operation {
	var out []*huma.Operation
	for _, item := range a.OpenAPI().Paths {
		for _, o := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete, item.Head, item.Options, item.Trace} {
			if o != nil {
				out = append(out, o)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path+out[i].Method < out[j].Path+out[j].Method })
	return out
}
