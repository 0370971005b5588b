package shopifysim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/storeline/storeline/shopifysim"
	"github.com/storeline/storeline/webhooksig"
)

// A shop's history delivered to a webhook endpoint, one delivery in ten duplicated, on a fake
// clock; then a bulk export of the products through the Admin API.
func Example() {
	store := shopifysim.Generate(1, shopifysim.Size{Products: 10, Orders: 20})
	clock := shopifysim.NewFakeClock(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))

	var verified atomic.Int64
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if webhooksig.Verify(body, r.Header.Get("X-Shopify-Hmac-Sha256"), [][]byte{[]byte("secret")}) {
			verified.Add(1)
		}
	}))
	defer endpoint.Close()
	sender := shopifysim.NewWebhookSender(store, shopifysim.SenderOptions{
		URL: endpoint.URL, Secret: "secret", Clock: clock, Seed: 1, Faults: shopifysim.Faults{Duplicate: 0.1},
	})
	defer sender.Close()
	report, _ := sender.Send(context.Background(), store.History())
	fmt.Println("every change delivered:", len(report.Delivered) == len(store.History()))
	fmt.Println("every request signed:", int(verified.Load()) == len(report.Attempts))

	admin := shopifysim.NewAdminServer(store, shopifysim.AdminOptions{Clock: clock})
	defer admin.Close()
	api := httptest.NewServer(admin)
	defer api.Close()
	post := func(q string) string {
		req, _ := http.NewRequest(http.MethodPost, api.URL+"/admin/api/2026-04/graphql.json", strings.NewReader(q))
		req.Header.Set("Content-Type", "application/graphql")
		req.Header.Set("X-Shopify-Access-Token", shopifysim.DefaultAccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	post(`mutation { bulkOperationRunQuery(query: "{ products { edges { node { id title } } } }") { bulkOperation { id } userErrors { message } } }`)
	clock.Advance(time.Minute)
	status := post(`{ currentBulkOperation { status rootObjectCount } }`)
	fmt.Println(status[:strings.Index(status, `,"extensions"`)])
	// Output:
	// every change delivered: true
	// every request signed: true
	// {"data":{"currentBulkOperation":{"status":"COMPLETED","rootObjectCount":"10"}}
}
