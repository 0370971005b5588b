package shopifysim

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/shopifyapi"
)

// The contract with storeline's side of the wire: every webhook the simulator sends and every
// row its bulk exports hold (for the queries storeline runs) must translate into an event.

type fakeSealer struct{}

func (fakeSealer) SealShopify(_ context.Context, _, topic, _ string, payload []byte) (string, *events.SealedPersonalData, error) {
	clean, personal, err := pii.SplitShopify(topic, payload)
	if err != nil {
		return "", nil, err
	}
	if personal == nil {
		return string(clean), nil, nil
	}
	return string(clean), &events.SealedPersonalData{KeyID: "test", Algorithm: "none", Ciphertext: personal}, nil
}

func (fakeSealer) SealSubject(_ context.Context, _, _, _ string, personal []byte) (*events.SealedPersonalData, error) {
	return &events.SealedPersonalData{KeyID: "test", Algorithm: "none", Ciphertext: personal}, nil
}

func TestStorelineTranslatesEveryWebhook(t *testing.T) {
	s := Generate(12, Size{Products: 20, Orders: 80, Mix: &Mix{FulfillRate: 1, RefundRate: 0.5, PendingRate: 0.3, PayLaterRate: 0.5,
		GuestRate: 0.3, ProductUpdateRate: 1, ProductDeleteRate: 0.5, RestockRate: 0.2, OrderTagRate: 0.3}})
	c := s.Customers()[0]
	if _, err := s.CustomerRedact(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CustomerDataRequest(c.ID); err != nil {
		t.Fatal(err)
	}
	s.AppUninstalled()
	s.ShopRedact()
	topics := map[string]int{}
	for _, ch := range s.History() {
		d := shopify.Delivery{Shop: s.Shop().MyshopifyDomain, Topic: ch.Topic, EventID: ch.EventID, WebhookID: "w", TriggeredAt: ch.TriggeredAt,
			APIVersion: "2026-04", Body: ch.Payload(), ReceivedAt: ch.TriggeredAt, ShopCurrency: s.Shop().Currency}
		ev, err := shopify.Translate(context.Background(), d, fakeSealer{})
		if err != nil {
			t.Errorf("%s (change %d): %v", ch.Topic, ch.Seq, err)
			continue
		}
		if ev == nil {
			t.Errorf("%s: no event", ch.Topic)
		}
		topics[ch.Topic]++
	}
	if len(topics) < 14 {
		t.Errorf("translated only %v", topics)
	}
}

func TestStorelineTranslatesEveryBulkRow(t *testing.T) {
	s := Generate(13, Size{Products: 20, Orders: 80, Mix: &Mix{FulfillRate: 1, RefundRate: 0.5, PendingRate: 0.3, PayLaterRate: 0.5, GuestRate: 0.3,
		ProductUpdateRate: 1}})
	_, srv, clk := admin(t, s, AdminOptions{})
	since := s.Orders()[40].UpdatedAt
	rows := 0
	for _, resource := range []string{shopify.BulkResourceProducts, shopify.BulkResourceOrders, shopify.BulkResourceInventory} {
		for _, from := range []time.Time{{}, since} {
			q, err := shopify.BulkQuery(resource, from)
			if err != nil {
				t.Fatal(err)
			}
			id, errs := startBulk(t, srv.URL, "2026-04", q, false)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", resource, errs)
			}
			clk.Advance(time.Minute)
			op := bulkOp(t, srv.URL, id)
			created, _ := time.Parse(time.RFC3339, op["createdAt"].(string))
			if op["url"] == nil {
				if op["objectCount"] != "0" {
					t.Fatalf("%s: no url: %v", resource, op)
				}
				continue
			}
			for i, line := range jsonl(t, op["url"].(string)) {
				b, _ := json.Marshal(line)
				rows++
				_, err := shopify.TranslateBulkRow(context.Background(), shopify.BulkRow{Shop: s.Shop().MyshopifyDomain, BulkOperationGID: id,
					BulkOperationCreatedAt: created, Row: int64(i + 1), Line: b, Currency: s.Shop().Currency, APIVersion: "2026-04"}, fakeSealer{})
				if err != nil {
					t.Fatalf("%s row %d: %v\n%s", resource, i+1, err, b)
				}
			}
		}
	}
	if rows == 0 {
		t.Fatal("no rows exported")
	}
}

// TestStorelineClientRunsABulkSync drives the simulator with storeline's own Admin API client
// (real clock, short bulk timings): start, wait, check, stream, check the read.
func TestStorelineClientRunsABulkSync(t *testing.T) {
	s := Generate(14, Size{Products: 15, Orders: 40})
	a := NewAdminServer(s, AdminOptions{Bulk: BulkOptions{StartAfter: 5 * time.Millisecond, RunFor: 20 * time.Millisecond}})
	srv := httptest.NewServer(a)
	defer func() { srv.Close(); _ = a.Close() }()
	for _, version := range []string{"2025-10", "2026-04"} {
		c, err := shopifyapi.New(shopifyapi.Config{Shop: s.Shop().MyshopifyDomain, AccessToken: DefaultAccessToken, APIVersion: version, BaseURL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		q, _ := shopify.BulkQuery(shopify.BulkResourceOrders, time.Time{})
		op, err := c.RunBulkQuery(ctx, q, false)
		if err != nil {
			t.Fatalf("%s: RunBulkQuery: %v", version, err)
		}
		if op, err = c.WaitBulk(ctx, op.ID, 5*time.Millisecond); err != nil {
			t.Fatalf("%s: WaitBulk: %v", version, err)
		}
		if err := op.CheckComplete(); err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		r, err := c.OpenResult(ctx, op.URL)
		if err != nil {
			t.Fatal(err)
		}
		orders, lines := 0, 0
		for {
			line, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if line.ParentID == "" {
				orders++
			} else {
				lines++
			}
		}
		if err := op.CheckRead(r.Position()); err != nil {
			t.Errorf("%s: CheckRead: %v", version, err)
		}
		r.Close()
		want := 0
		for _, o := range s.Orders() {
			want += len(o.LineItems)
		}
		if orders != len(s.Orders()) || lines != want {
			t.Errorf("%s: read %d orders and %d lines, want %d and %d", version, orders, lines, len(s.Orders()), want)
		}
		cancel()
	}
}

// TestStorelineBulkSyncRecoversDroppedInventoryLevels: storeline's own translators fold the
// shop's inventory_levels/update webhooks with 5 % of the later half dropped, then one
// incremental inventory export (shopify.BulkQuery("inventory", watermark minus an hour's
// lookback), run through storeline's Admin API client and translated by TranslateBulkRow) is
// folded the way projections/inventory folds it (newest updated_at wins, equal changes
// nothing). Every level of the store must then hold Shopify's final quantity and time, and the
// export must have named every level whose stock moved since the watermark.
func TestStorelineBulkSyncRecoversDroppedInventoryLevels(t *testing.T) {
	s := Generate(21, Size{Products: 30, Orders: 200})
	a := NewAdminServer(s, AdminOptions{Bulk: BulkOptions{StartAfter: 5 * time.Millisecond, RunFor: 20 * time.Millisecond}})
	srv := httptest.NewServer(a)
	defer func() { srv.Close(); _ = a.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shop := s.Shop().MyshopifyDomain

	type lvl struct {
		available *int32
		updated   time.Time
	}
	folded := map[[2]int64]lvl{}
	put := func(item, location int64, available *int32, updated time.Time) {
		k := [2]int64{item, location}
		if old, ok := folded[k]; !ok || updated.After(old.updated) {
			folded[k] = lvl{available, updated}
		}
	}
	history := s.History()
	half := len(history) / 2
	dropped, n := map[[2]int64]bool{}, 0
	for i, ch := range history {
		if ch.Topic != "inventory_levels/update" {
			continue
		}
		ev, err := shopify.InventoryLevelUpdated(ctx, shopify.Delivery{Shop: shop, Topic: ch.Topic, EventID: ch.EventID,
			TriggeredAt: ch.TriggeredAt, Body: ch.Payload()}, nil)
		if err != nil {
			t.Fatalf("change %d: %v", ch.Seq, err)
		}
		if n++; i >= half && n%20 == 0 { // 5 % of the later half's level webhooks never arrive
			dropped[[2]int64{ev.InventoryItemID, ev.LocationID}] = true
			continue
		}
		put(ev.InventoryItemID, ev.LocationID, ev.Available, ev.UpdatedAt)
	}
	if len(dropped) == 0 {
		t.Fatal("no inventory_levels/update dropped")
	}
	stale := 0
	for _, l := range s.InventoryLevels() {
		if got, ok := folded[[2]int64{l.InventoryItemID, l.LocationID}]; !ok || !got.updated.Equal(l.UpdatedAt) {
			stale++
		}
	}
	if stale == 0 {
		t.Fatal("the drops left no level stale: the test proves nothing")
	}

	watermark := history[half-1].TriggeredAt
	c, err := shopifyapi.New(shopifyapi.Config{Shop: shop, AccessToken: DefaultAccessToken, APIVersion: "2026-04", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	q, err := shopify.BulkQuery(shopify.BulkResourceInventory, watermark.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.RunBulkQuery(ctx, q, false)
	if err != nil {
		t.Fatal(err)
	}
	if op, err = c.WaitBulk(ctx, op.ID, 5*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := op.CheckComplete(); err != nil {
		t.Fatal(err)
	}
	r, err := c.OpenResult(ctx, op.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snapshots, items := map[[2]int64]bool{}, 0
	for {
		line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ev, err := shopify.TranslateBulkRow(ctx, shopify.BulkRow{Shop: shop, BulkOperationGID: op.ID, BulkOperationCreatedAt: op.CreatedAt,
			Row: line.Number, Line: line.Raw, Currency: s.Shop().Currency, APIVersion: "2026-04"}, nil)
		if err != nil {
			t.Fatalf("row %d: %v\n%s", line.Number, err, line.Raw)
		}
		if ev == nil {
			items++
			continue
		}
		e, ok := ev.(*events.InventoryLevelSnapshotted)
		if !ok {
			t.Fatalf("row %d: %T", line.Number, ev)
		}
		snapshots[[2]int64{e.InventoryItemID, e.LocationID}] = true
		put(e.InventoryItemID, e.LocationID, e.Available, e.UpdatedAt)
	}
	if err := op.CheckRead(r.Position()); err != nil {
		t.Error(err)
	}
	if items == 0 || len(snapshots) == 0 {
		t.Fatalf("the export held %d items and %d levels", items, len(snapshots))
	}
	for _, l := range s.InventoryLevels() {
		k := [2]int64{l.InventoryItemID, l.LocationID}
		got := folded[k]
		if got.available == nil || *got.available != int32(l.Available) || !got.updated.Equal(l.UpdatedAt) {
			t.Errorf("level %d@%d: folded %v at %s, store %d at %s", l.InventoryItemID, l.LocationID, got.available, got.updated, l.Available, l.UpdatedAt)
		}
		if !l.UpdatedAt.Before(watermark) && !snapshots[k] {
			t.Errorf("level %d@%d moved at %s, after the watermark, but the export did not name it", l.InventoryItemID, l.LocationID, l.UpdatedAt)
		}
	}
}

// TestStorelineFindsEveryDeletedProduct: storeline's product deletions query, run page by page
// through its Admin API client, and TranslateProductDeletion give a ProductDeleted for every
// product the store deleted (every one since a time, with a since), each once, at its time.
func TestStorelineFindsEveryDeletedProduct(t *testing.T) {
	s := Generate(23, Size{Products: 80, Orders: 60, Mix: &Mix{ProductDeleteRate: 0.3}})
	deleted := s.DeletedProducts()
	if len(deleted) < 3 {
		t.Fatalf("the store deleted %d products", len(deleted))
	}
	a := NewAdminServer(s, AdminOptions{})
	srv := httptest.NewServer(a)
	defer func() { srv.Close(); _ = a.Close() }()
	c, err := shopifyapi.New(shopifyapi.Config{Shop: s.Shop().MyshopifyDomain, AccessToken: DefaultAccessToken, APIVersion: "2026-04", BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	read := func(since time.Time) map[int64]time.Time {
		out := map[int64]time.Time{}
		var after *string
		for {
			var page struct {
				Events struct {
					PageInfo struct {
						HasNextPage bool    `json:"hasNextPage"`
						EndCursor   *string `json:"endCursor"`
					} `json:"pageInfo"`
					Nodes []json.RawMessage `json:"nodes"`
				} `json:"events"`
			}
			if err := c.Do(context.Background(), shopify.ProductDeletionsQuery, map[string]any{"query": shopify.ProductDeletionsSearch(since), "after": after}, &page); err != nil {
				t.Fatal(err)
			}
			for _, n := range page.Events.Nodes {
				ev, err := shopify.TranslateProductDeletion(shopify.ProductDeletionRow{Shop: s.Shop().MyshopifyDomain, Node: n})
				if err != nil {
					t.Fatalf("%s: %v", n, err)
				}
				if _, dup := out[ev.ProductID]; dup {
					t.Errorf("product %d deleted twice", ev.ProductID)
				}
				out[ev.ProductID] = ev.DeletedAt
			}
			if !page.Events.PageInfo.HasNextPage {
				return out
			}
			after = page.Events.PageInfo.EndCursor
		}
	}
	all := read(time.Time{})
	since := deleted[len(deleted)/2].DeletedAt
	recent := read(since)
	for _, d := range deleted {
		if at, ok := all[d.ID]; !ok || !at.Equal(d.DeletedAt) {
			t.Errorf("product %d deleted at %s: read %s, %v", d.ID, d.DeletedAt, at, ok)
		}
		if _, ok := recent[d.ID]; ok != !d.DeletedAt.Before(since) {
			t.Errorf("product %d deleted at %s: in the read since %s: %v", d.ID, d.DeletedAt, since, ok)
		}
	}
	if len(all) != len(deleted) {
		t.Errorf("read %d deletions, the store has %d", len(all), len(deleted))
	}
}
