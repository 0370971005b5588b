package pii

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/testkit"
)

func newTestKEK(t *testing.T) []byte {
	t.Helper()
	kek := make([]byte, KEKSize)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	return kek
}

func newTestKeystore(t *testing.T) (*Keystore, *pgxpool.Pool) {
	t.Helper()
	pool := testkit.FreshDatabase(t)
	ks, err := NewKeystore(pool, newTestKEK(t))
	if err != nil {
		t.Fatal(err)
	}
	return ks, pool
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestKeystoreDataKeyIsIdempotentAndRaceSafe(t *testing.T) {
	ks, pool := newTestKeystore(t)
	ctx := testCtx(t)

	// Many goroutines ask for a subject nobody has a key for, released together.
	const n = 32
	ids := make([]string, n)
	keys := make([][]byte, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ids[i], keys[i], errs[i] = ks.DataKey(ctx, shopA, "customer/1")
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("caller %d got key %s, caller 0 got %s", i, ids[i], ids[0])
		}
	}
	if len(keys[0]) != 32 {
		t.Fatalf("data key is %d bytes", len(keys[0]))
	}
	var rows int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pii_keys WHERE shop = $1 AND subject = $2`, shopA, "customer/1").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("%d rows for one subject, want 1", rows)
	}

	// Later calls, and Lookup, return the same key.
	id, key, err := ks.DataKey(ctx, shopA, "customer/1")
	if err != nil || id != ids[0] || !bytes.Equal(key, keys[0]) {
		t.Fatalf("again: %s, %v", id, err)
	}
	got, err := ks.Lookup(ctx, id)
	if err != nil || !bytes.Equal(got, keys[0]) {
		t.Fatalf("lookup: %v", err)
	}
	// Another subject, or the same subject in another shop, has its own key.
	for _, other := range [][2]string{{shopA, "customer/2"}, {"other.myshopify.com", "customer/1"}} {
		oid, okey, err := ks.DataKey(ctx, other[0], other[1])
		if err != nil {
			t.Fatal(err)
		}
		if oid == id || bytes.Equal(okey, key) {
			t.Errorf("%v shares the key of %s customer/1", other, shopA)
		}
	}
}

func TestKeystoreStoresOnlyWrappedKeys(t *testing.T) {
	ks, pool := newTestKeystore(t)
	ctx := testCtx(t)
	id, key, err := ks.DataKey(ctx, shopA, "order/5801234567890")
	if err != nil {
		t.Fatal(err)
	}
	var wrapped []byte
	var kekCol string
	if err := pool.QueryRow(ctx, `SELECT wrapped_key, kek_id FROM pii_keys WHERE key_id = $1::uuid`, id).Scan(&wrapped, &kekCol); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(wrapped, key) || bytes.Contains(wrapped, key[:8]) {
		t.Fatal("the table holds the data key in clear")
	}
	if len(wrapped) != nonceSize+32+16 {
		t.Errorf("wrapped key is %d bytes, want nonce + key + tag", len(wrapped))
	}
	if kekCol == "" || kekCol != ks.kekID {
		t.Errorf("kek_id %q, want %q", kekCol, ks.kekID)
	}

	// Without the KEK the table is useless: a keystore with another KEK cannot unwrap.
	other, err := NewKeystore(pool, newTestKEK(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Lookup(ctx, id); !errors.Is(err, ErrWrongKEK) {
		t.Errorf("lookup under another KEK: err = %v, want ErrWrongKEK", err)
	}
	// A wrapped key copied to another row does not unwrap there.
	id2, _, err := ks.DataKey(ctx, shopA, "order/5801234567891")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE pii_keys SET wrapped_key = $1 WHERE key_id = $2::uuid`, wrapped, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Lookup(ctx, id2); err == nil {
		t.Error("a wrapped key moved to another row unwrapped")
	}
}

func TestKeystoreShred(t *testing.T) {
	ks, pool := newTestKeystore(t)
	ctx := testCtx(t)
	s := NewSealer(ks)
	aad := []byte("0b9c2f4e-1a2b-5c3d-8e4f-000000000001")
	sealed, err := s.Seal(ctx, shopA, "customer/1", aad, []byte(`{"/email":"jane.doe@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, sealed, aad); err != nil {
		t.Fatalf("open before shredding: %v", err)
	}

	n, err := ks.Shred(ctx, shopA, "customer/1")
	if err != nil || n != 1 {
		t.Fatalf("shred: %d, %v; want 1", n, err)
	}
	if _, err := ks.Lookup(ctx, sealed.KeyID); !errors.Is(err, ErrShredded) {
		t.Errorf("lookup: err = %v, want ErrShredded", err)
	}
	if _, err := s.Open(ctx, sealed, aad); !errors.Is(err, ErrShredded) {
		t.Errorf("open: err = %v, want ErrShredded", err)
	}
	var wrappedIsNull, destroyed bool
	if err := pool.QueryRow(ctx, `SELECT wrapped_key IS NULL, destroyed_at IS NOT NULL FROM pii_keys WHERE key_id = $1::uuid`,
		sealed.KeyID).Scan(&wrappedIsNull, &destroyed); err != nil {
		t.Fatal(err)
	}
	if !wrappedIsNull || !destroyed {
		t.Errorf("row after shredding: wrapped_key null %v, destroyed_at set %v", wrappedIsNull, destroyed)
	}
	if n, err := ks.Shred(ctx, shopA, "customer/1"); err != nil || n != 0 {
		t.Errorf("second shred: %d, %v; want 0", n, err)
	}

	// A later event for the subject gets a new key; the old data stays gone.
	id, _, err := ks.DataKey(ctx, shopA, "customer/1")
	if err != nil {
		t.Fatal(err)
	}
	if id == sealed.KeyID {
		t.Fatal("DataKey handed out the shredded key")
	}
	if _, err := ks.Lookup(ctx, id); err != nil {
		t.Errorf("new key: %v", err)
	}
	if _, err := s.Open(ctx, sealed, aad); !errors.Is(err, ErrShredded) {
		t.Errorf("old data after a new key: err = %v, want ErrShredded", err)
	}
}

func TestKeystoreShredShop(t *testing.T) {
	ks, _ := newTestKeystore(t)
	ctx := testCtx(t)
	const shopB = "other.myshopify.com"
	ids := map[string][]string{}
	for _, sk := range [][2]string{
		{shopA, "customer/1"}, {shopA, "customer/2"}, {shopA, "order/3"},
		{shopB, "customer/1"}, {shopB, "order/3"},
	} {
		id, _, err := ks.DataKey(ctx, sk[0], sk[1])
		if err != nil {
			t.Fatal(err)
		}
		ids[sk[0]] = append(ids[sk[0]], id)
	}
	// One already shredded key of shop A does not count again.
	if _, err := ks.Shred(ctx, shopA, "order/3"); err != nil {
		t.Fatal(err)
	}
	n, err := ks.ShredShop(ctx, shopA)
	if err != nil || n != 2 {
		t.Fatalf("shred shop: %d, %v; want 2", n, err)
	}
	for _, id := range ids[shopA] {
		if _, err := ks.Lookup(ctx, id); !errors.Is(err, ErrShredded) {
			t.Errorf("%s key %s: err = %v, want ErrShredded", shopA, id, err)
		}
	}
	for _, id := range ids[shopB] {
		if _, err := ks.Lookup(ctx, id); err != nil {
			t.Errorf("%s key %s: %v, want it alive", shopB, id, err)
		}
	}
	if n, err := ks.ShredShop(ctx, shopA); err != nil || n != 0 {
		t.Errorf("second shred shop: %d, %v; want 0", n, err)
	}
}

func TestKeystoreLookupUnknownKey(t *testing.T) {
	ks, _ := newTestKeystore(t)
	ctx := testCtx(t)
	id, err := newUUID()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{id, "not-a-uuid", ""} {
		if _, err := ks.Lookup(ctx, k); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%q: err = %v, want ErrUnknownKey", k, err)
		}
	}
	// Key ids are matched whatever their case.
	live, key, err := ks.DataKey(ctx, shopA, "customer/1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ks.Lookup(ctx, upper(live))
	if err != nil || !bytes.Equal(got, key) {
		t.Errorf("upper-case id: %v", err)
	}
}

func upper(s string) string { return string(bytes.ToUpper([]byte(s))) }
