package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/webhooksig"
)

// orderVersion is an orders/updated delivery of order id as of second s of its history.
func (d *deployment) sendOrderUpdate(id int64, s int) error {
	body := fmt.Sprintf(`{"id":%d,"admin_graphql_api_id":"gid://shopify/Order/%d","name":"#%d","order_number":%d,"currency":"USD",
"total_price":"%d.00","subtotal_price":"1.00","total_tax":"0.00","financial_status":"paid","fulfillment_status":null,
"created_at":"2026-11-01T12:00:00Z","updated_at":"%s","line_items":[{"id":%d,"product_id":7,"variant_id":8,"title":"Tee","variant_title":"M","sku":"TEE-M","quantity":1,"price":"1.00"}]}`,
		id, id, id, id, s, time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(s)*time.Second).Format(time.RFC3339), id*10)
	req, err := http.NewRequest(http.MethodPost, "http://"+d.addr+"/webhooks/shopify", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", "orders/updated")
	req.Header.Set("X-Shopify-Shop-Domain", "e2e.myshopify.com")
	req.Header.Set("X-Shopify-Event-Id", fmt.Sprintf("upd-%d-%d", id, s))
	req.Header.Set("X-Shopify-Hmac-Sha256", webhooksig.Sign([]byte(body), secret))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestRebuildUnderLoad: while webhooks keep arriving and a reader polls the API every 10 ms, the
// orders projection is rebuilt with `storeline projections rebuild orders` and promoted; the
// reader never sees an error, an empty page, fewer orders, or an order going back in time.
func TestRebuildUnderLoad(t *testing.T) {
	d := newDeployment(t)
	d.start()
	const orders = 150
	for id := int64(1); id <= orders; id++ {
		if err := d.sendOrderUpdate(id, 0); err != nil {
			t.Fatal(err)
		}
	}
	api := "http://" + d.addr + "/api/v1/orders?shop=e2e.myshopify.com&sort=order_number&limit=200"
	testkit.WaitFor(t, 60*time.Second, "the first orders in the API", func() error {
		page, err := listOrders(api)
		if err != nil || len(page) != orders {
			return fmt.Errorf("%d orders (%v)", len(page), err)
		}
		return nil
	})

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var sent atomic.Int64
	wg.Go(func() { // updates, each order's newer than its last
		for s := 1; ctx.Err() == nil; s++ {
			for id := int64(1); id <= orders && ctx.Err() == nil; id += 7 {
				if err := d.sendOrderUpdate(id, s); err != nil {
					t.Errorf("update: %v", err)
					return
				}
				sent.Add(1)
			}
		}
	})
	var reads atomic.Int64
	readErr := make(chan error, 1)
	wg.Go(func() {
		seen := map[string]string{}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			page, err := listOrders(api)
			if ctx.Err() != nil {
				return
			}
			if err == nil && len(page) < orders {
				err = fmt.Errorf("%d orders, want %d", len(page), orders)
			}
			for _, o := range page {
				if err == nil && o.UpdatedAt < seen[o.ID] {
					err = fmt.Errorf("order %s went back from %s to %s", o.ID, seen[o.ID], o.UpdatedAt)
				}
				seen[o.ID] = o.UpdatedAt
			}
			if err != nil {
				readErr <- fmt.Errorf("read %d: %w", reads.Load(), err)
				return
			}
			reads.Add(1)
			<-tick.C
		}
	})

	cmd := exec.Command(binary(t), "projections", "rebuild", "orders", "--grace", "1m")
	cmd.Env = d.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// Keep the load on for a moment after the promotion.
	after := reads.Load()
	testkit.WaitFor(t, 30*time.Second, "reads after the promotion", func() error {
		if reads.Load() < after+50 {
			return fmt.Errorf("%d reads since", reads.Load()-after)
		}
		return nil
	})
	stop()
	wg.Wait()
	select {
	case e := <-readErr:
		t.Fatalf("the reader saw: %v (rebuild output:\n%s)", e, out.String())
	default:
	}
	if err != nil || !strings.Contains(out.String(), "orders v2 is live") {
		t.Fatalf("rebuild: %v\n%s", err, out.String())
	}
	t.Logf("%d reads and %d updates during and after the rebuild", reads.Load(), sent.Load())

	// The new version is live, keeps up, and the old one is retired.
	status := exec.Command(binary(t), "projections", "status", "--json", "--sample", "300ms")
	status.Env = d.env()
	js, err := status.Output()
	if err != nil {
		t.Fatal(err)
	}
	var st []struct {
		Name         string `json:"name"`
		Version      int    `json:"version"`
		VersionState string `json:"version_state"`
	}
	if err := json.Unmarshal(js, &st); err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Name == "orders" && (s.Version != 2 || s.VersionState != "live") {
			t.Errorf("orders status %+v, want v2 live", s)
		}
	}
	last := 0
	for s := 1; ; s++ {
		if err := d.sendOrderUpdate(1, 100000+s); err != nil {
			t.Fatal(err)
		}
		last = 100000 + s
		break
	}
	want := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(last) * time.Second).Format(time.RFC3339)
	testkit.WaitFor(t, 30*time.Second, "an update after the promotion in the API", func() error {
		page, err := listOrders(api)
		if err != nil {
			return err
		}
		for _, o := range page {
			if o.ID == "1" && strings.HasPrefix(o.UpdatedAt, want[:19]) {
				return nil
			}
		}
		return fmt.Errorf("order 1 not yet at %s", want)
	})
}

type listedOrder struct {
	ID        string `json:"id"`
	UpdatedAt string `json:"updated_at"`
}

func listOrders(url string) ([]listedOrder, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var page struct {
		Orders []listedOrder `json:"orders"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return nil, err
	}
	return page.Orders, nil
}

// TestRebuildSurvivesItsOwnCrash: the rebuild command killed with SIGKILL once it has started;
// run again, it resumes the same version and promotes it.
func TestRebuildSurvivesItsOwnCrash(t *testing.T) {
	d := newDeployment(t)
	d.start()
	const orders = 300
	for id := int64(1); id <= orders; id++ {
		if err := d.sendOrderUpdate(id, 0); err != nil {
			t.Fatal(err)
		}
	}
	api := "http://" + d.addr + "/api/v1/orders?shop=e2e.myshopify.com&limit=200"
	testkit.WaitFor(t, 60*time.Second, "the orders in the API", func() error {
		page, err := listOrders(api)
		if err != nil || len(page) != 200 {
			return fmt.Errorf("%d orders (%v)", len(page), err)
		}
		return nil
	})
	first := exec.Command(binary(t), "projections", "rebuild", "orders")
	first.Env = d.env()
	var out lockedBuffer
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 60*time.Second, "the rebuild to start", func() error {
		if !strings.Contains(out.String(), "as version 2") {
			return fmt.Errorf("output so far: %q", out.String())
		}
		return nil
	})
	_ = first.Process.Kill()
	_ = first.Wait()

	second := exec.Command(binary(t), "projections", "rebuild", "orders")
	second.Env = d.env()
	res, err := second.CombinedOutput()
	if err != nil || !strings.Contains(string(res), "rebuilding orders as version 2") || !strings.Contains(string(res), "orders v2 is live") {
		t.Fatalf("second run: %v\n%s\n(first run: %s)", err, res, out.String())
	}
	page, err := listOrders(api)
	if err != nil || len(page) != 200 {
		t.Fatalf("after the rebuild: %d orders (%v)", len(page), err)
	}
}
