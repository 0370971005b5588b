package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type fakeSyncs struct {
	shop, mode, key string
	err             error
}

func (f *fakeSyncs) RequestSync(_ context.Context, shop, mode, key, _ string) (string, error) {
	f.shop, f.mode, f.key = shop, mode, key
	return "run-1", f.err
}

func TestPostSync(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		err        error
		nilSyncs   bool
		status     int
		mode       string
	}{
		{name: "incremental by default", body: `{"shop":"Demo.myshopify.com"}`, status: http.StatusAccepted, mode: "incremental"},
		{name: "full", body: `{"shop":"demo.myshopify.com","mode":"full"}`, status: http.StatusAccepted, mode: "full"},
		{name: "bad mode", body: `{"shop":"demo.myshopify.com","mode":"sometimes"}`, status: http.StatusBadRequest},
		{name: "no shop", body: `{}`, status: http.StatusBadRequest},
		{name: "unknown member", body: `{"shop":"demo.myshopify.com","force":true}`, status: http.StatusBadRequest},
		{name: "not json", body: `shop=demo`, status: http.StatusBadRequest},
		{name: "unknown shop", body: `{"shop":"other.myshopify.com"}`, err: ErrUnknownShop, status: http.StatusNotFound},
		{name: "log down", body: `{"shop":"demo.myshopify.com"}`, err: errors.New("kafka down"), status: http.StatusServiceUnavailable},
		{name: "not configured", body: `{"shop":"demo.myshopify.com"}`, nilSyncs: true, status: http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSyncs{err: tc.err}
			var s SyncRequester = f
			if tc.nilSyncs {
				s = nil
			}
			req := httptest.NewRequest(http.MethodPost, "/api/v1/sync", strings.NewReader(tc.body))
			req.Header.Set("Idempotency-Key", "k-1")
			w := httptest.NewRecorder()
			postSync(s)(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status != http.StatusAccepted {
				if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type %q", ct)
				}
				return
			}
			var got map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got["run_id"] != "run-1" || f.shop != "demo.myshopify.com" || f.mode != tc.mode || f.key != "k-1" {
				t.Errorf("answer %v; requested %s %s key %s", got, f.shop, f.mode, f.key)
			}
		})
	}
}
