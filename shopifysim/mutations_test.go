package shopifysim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const metafieldsSet = `mutation Set($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
  metafields { id namespace key type value compareDigest owner { id } }
  userErrors { field message code elementIndex } } }`

func mf(owner, key, value string) map[string]any {
	return map[string]any{"ownerId": owner, "namespace": "storeline", "key": key, "type": "url", "value": value}
}

// echoes returns the changes recorded since seq with their updated_at.
func echoes(t *testing.T, s *Store, seq int64) []Change {
	t.Helper()
	return s.HistorySince(seq)
}

func payloadOf(t *testing.T, c Change) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Payload(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMetafieldsSet(t *testing.T) {
	s := Generate(1, Size{Products: 5, Orders: 5})
	_, srv, clk := admin(t, s, AdminOptions{})
	p := s.Products()[0]
	seq := s.LastSeq()
	before := p.UpdatedAt

	d := query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{mf(p.GID(), "hero_image", "https://cdn.example.com/a.png"), mf(p.GID(), "hero_video", "https://cdn.example.com/a.mp4")}})
	got := dig(d, "metafieldsSet", "metafields").([]any)
	if len(got) != 2 || len(dig(d, "metafieldsSet", "userErrors").([]any)) != 0 || str(got[0], "owner", "id") != p.GID() {
		t.Fatalf("set: %v", d)
	}
	digest := str(got[0], "compareDigest")
	if len(s.Metafields(p.GID())) != 2 {
		t.Fatalf("store has %d metafields", len(s.Metafields(p.GID())))
	}
	// One products/update echo for the owner, with a newer updated_at.
	ech := echoes(t, s, seq)
	if len(ech) != 1 || ech[0].Topic != "products/update" || ech[0].Subject != p.GID() {
		t.Fatalf("echo: %v", ech)
	}
	after, _ := s.Product(p.ID)
	if !after.UpdatedAt.After(before) || payloadOf(t, ech[0])["updated_at"] != after.UpdatedAt.In(s.shop.zone).Format(restTime) {
		t.Errorf("echo updated_at %v, product %s (was %s)", payloadOf(t, ech[0])["updated_at"], after.UpdatedAt, before)
	}

	// Compare-and-set: the digest read writes; the same digest again is stale.
	clk.Advance(time.Second)
	in := mf(p.GID(), "hero_image", "https://cdn.example.com/b.png")
	in["compareDigest"] = digest
	d = query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{in}})
	if errs := dig(d, "metafieldsSet", "userErrors").([]any); len(errs) != 0 {
		t.Fatalf("CAS with the current digest: %v", errs)
	}
	in["value"] = "https://cdn.example.com/c.png"
	d = query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{in}})
	errs := dig(d, "metafieldsSet", "userErrors").([]any)
	if len(errs) != 1 || str(errs[0], "code") != "STALE_OBJECT" || dig(errs[0], "elementIndex") != float64(0) {
		t.Fatalf("stale digest: %v", d)
	}
	in["compareDigest"] = nil // "must not exist yet"
	if errs := dig(query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{in}}), "metafieldsSet", "userErrors").([]any); len(errs) != 1 || str(errs[0], "code") != "STALE_OBJECT" {
		t.Errorf("null digest on an existing metafield: %v", errs)
	}
	in["compareDigest"] = "not-a-digest"
	if errs := dig(query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{in}}), "metafieldsSet", "userErrors").([]any); len(errs) != 1 || str(errs[0], "code") != "INVALID_COMPARE_DIGEST" {
		t.Errorf("malformed digest: %v", errs)
	}
	fresh := mf(p.GID(), "new_key", "https://cdn.example.com/n.png")
	fresh["compareDigest"] = nil
	if errs := dig(query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{fresh}}), "metafieldsSet", "userErrors").([]any); len(errs) != 0 {
		t.Errorf("null digest on a new metafield: %v", errs)
	}

	// Atomic: one bad entry and nothing is written.
	seq = s.LastSeq()
	count := len(s.Metafields(p.GID()))
	d = query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{
		mf(p.GID(), "fine_one", "https://cdn.example.com/ok.png"),
		mf(p.GID(), "broken", "not a url"),
		map[string]any{"ownerId": "gid://shopify/Product/1", "namespace": "storeline", "key": "x1", "type": "url", "value": "https://a.example"},
		map[string]any{"ownerId": p.GID(), "namespace": "ab", "key": "k", "value": "v"},
	}})
	errs = dig(d, "metafieldsSet", "userErrors").([]any)
	codes := []string{}
	for _, e := range errs {
		codes = append(codes, str(e, "code"))
	}
	for _, want := range []string{"INVALID_VALUE", "INVALID", "TOO_SHORT", "BLANK"} {
		if !slices.Contains(codes, want) {
			t.Errorf("user errors %v lack %s", codes, want)
		}
	}
	if len(dig(d, "metafieldsSet", "metafields").([]any)) != 0 || len(s.Metafields(p.GID())) != count || s.LastSeq() != seq {
		t.Error("a failed metafieldsSet wrote something")
	}

	// More than 25 entries is refused before anything runs.
	var many []any
	for i := range 26 {
		many = append(many, mf(p.GID(), fmt.Sprintf("k%02d", i), "https://a.example"))
	}
	r := post(t, srv.URL, "2026-04", DefaultAccessToken, metafieldsSet, map[string]any{"m": many})
	if len(r.Errors) != 1 || dig(r.Errors[0], "extensions", "code") != "MAX_INPUT_SIZE_EXCEEDED" || len(s.Metafields(p.GID())) != count {
		t.Errorf("26 metafields: %s", r.Raw)
	}

	// A variant's metafield echoes its product.
	v := p.Variants[0]
	seq = s.LastSeq()
	query(t, srv.URL, metafieldsSet, map[string]any{"m": []any{mf(v.GID(), "swatch", "https://cdn.example.com/s.png")}})
	if ech := echoes(t, s, seq); len(ech) != 1 || ech[0].Topic != "products/update" || ech[0].Subject != p.GID() {
		t.Errorf("variant echo: %v", ech)
	}
}

const tagsAdd = `mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id ... on Product { tags } ... on Order { tags } } userErrors { field message } } }`
const tagsRemove = `mutation($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { node { id ... on Product { tags } } userErrors { field message } } }`

func TestTagsAddAndRemove(t *testing.T) {
	s := Generate(1, Size{Products: 5, Orders: 5})
	_, srv, _ := admin(t, s, AdminOptions{})
	p := s.Products()[0]
	seq := s.LastSeq()

	d := query(t, srv.URL, tagsAdd, map[string]any{"id": p.GID(), "tags": []any{"storeline:hero", "Zeta"}})
	tags := dig(d, "tagsAdd", "node", "tags").([]any)
	if !slices.Contains(tags, any("storeline:hero")) || !slices.Contains(tags, any("Zeta")) {
		t.Fatalf("tagsAdd: %v", d)
	}
	ech := echoes(t, s, seq)
	if len(ech) != 1 || ech[0].Topic != "products/update" || !strings.Contains(payloadOf(t, ech[0])["tags"].(string), "storeline:hero") {
		t.Fatalf("tagsAdd echo: %v", ech)
	}
	// A comma-separated string works too; adding what is there changes nothing and sends nothing.
	seq = s.LastSeq()
	d = query(t, srv.URL, tagsAdd, map[string]any{"id": p.GID(), "tags": "storeline:hero, Zeta"})
	if len(dig(d, "tagsAdd", "userErrors").([]any)) != 0 || s.LastSeq() != seq {
		t.Errorf("idempotent tagsAdd wrote: %v", echoes(t, s, seq))
	}
	d = query(t, srv.URL, tagsAdd, map[string]any{"id": p.GID(), "tags": "a1, b2"})
	now, _ := s.Product(p.ID)
	for _, want := range []string{"a1", "b2", "storeline:hero", "Zeta"} {
		if !slices.Contains(now.Tags, want) {
			t.Errorf("tags %v lack %s", now.Tags, want)
		}
	}
	// Case matters: "zeta" is another tag.
	seq = s.LastSeq()
	query(t, srv.URL, tagsRemove, map[string]any{"id": p.GID(), "tags": []any{"zeta", "missing"}})
	if s.LastSeq() != seq {
		t.Error("removing absent tags wrote")
	}
	query(t, srv.URL, tagsRemove, map[string]any{"id": p.GID(), "tags": []any{"Zeta", "a1"}})
	now, _ = s.Product(p.ID)
	if slices.Contains(now.Tags, "Zeta") || slices.Contains(now.Tags, "a1") || !slices.Contains(now.Tags, "b2") {
		t.Errorf("after tagsRemove: %v", now.Tags)
	}
	if ech := echoes(t, s, seq); len(ech) != 1 || ech[0].Topic != "products/update" {
		t.Errorf("tagsRemove echo: %v", ech)
	}

	// Orders echo orders/updated.
	o := s.Orders()[0]
	seq = s.LastSeq()
	query(t, srv.URL, tagsAdd, map[string]any{"id": o.GID(), "tags": []any{"reviewed-by-storeline"}})
	if ech := echoes(t, s, seq); len(ech) != 1 || ech[0].Topic != "orders/updated" || ech[0].Subject != o.GID() {
		t.Errorf("order tag echo: %v", ech)
	}

	// A missing resource: node null and a UserError without code.
	r := post(t, srv.URL, "2026-04", DefaultAccessToken, tagsAdd, map[string]any{"id": "gid://shopify/Product/1", "tags": []any{"x"}})
	errs := dig(r.Data, "tagsAdd", "userErrors").([]any)
	if dig(r.Data, "tagsAdd", "node") != nil || len(errs) != 1 || dig(errs[0], "field") == nil || dig(errs[0], "message") == "" {
		t.Errorf("missing product: %s", r.Raw)
	}
	if _, has := errs[0].(map[string]any)["code"]; has {
		t.Error("UserError has a code")
	}
}

// TestFollowEchoesWritesAsWebhooks wires the store to a sender, as `make run` does: an
// AdminServer write arrives as a signed products/update.
func TestFollowEchoesWritesAsWebhooks(t *testing.T) {
	s := Generate(1, Size{Products: 3, Orders: 3})
	clk := NewFakeClock(simStart)
	_, srv, _ := admin(t, s, AdminOptions{Clock: clk})
	rcv := newReceiver(t, nil)
	w, _ := sender(t, s, rcv.srv.URL, SenderOptions{Clock: clk})
	defer w.Follow(s)()
	p := s.Products()[1]
	query(t, srv.URL, tagsAdd, map[string]any{"id": p.GID(), "tags": []any{"echo"}})
	rep := send(t, w, nil)
	if len(rep.Delivered) != 1 || rep.Delivered[0].Topic != "products/update" {
		t.Fatalf("delivered %v", rep.Delivered)
	}
	got := rcv.deliveries()
	if len(got) != 1 || got[0].Header.Get("X-Shopify-Topic") != "products/update" || !strings.Contains(string(got[0].Body), `"tags":"echo, `) {
		t.Errorf("echo delivery %d: %s", len(got), got[0].Body[:200])
	}
}
