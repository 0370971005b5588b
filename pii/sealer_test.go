package pii

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// memKeys is an in-memory Keys: one live key per (shop, subject), shredding as the keystore does.
type memKeys struct {
	mu       sync.Mutex
	live     map[string]string // shop+"\x00"+subject → key id
	keys     map[string][]byte // key id → key
	shredded map[string]bool
	n        int
}

func newMemKeys() *memKeys {
	return &memKeys{live: map[string]string{}, keys: map[string][]byte{}, shredded: map[string]bool{}}
}

func (m *memKeys) DataKey(_ context.Context, shop, subject string) (string, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.live[shop+"\x00"+subject]
	if !ok {
		m.n++
		id = fmt.Sprintf("mem-%d", m.n)
		k := make([]byte, 32)
		rand.Read(k)
		m.keys[id] = k
		m.live[shop+"\x00"+subject] = id
	}
	return id, bytes.Clone(m.keys[id]), nil
}

func (m *memKeys) Lookup(_ context.Context, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shredded[id] {
		return nil, ErrShredded
	}
	k, ok := m.keys[id]
	if !ok {
		return nil, ErrUnknownKey
	}
	return bytes.Clone(k), nil
}

func (m *memKeys) shred(shop, subject string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.live[shop+"\x00"+subject]
	delete(m.live, shop+"\x00"+subject)
	delete(m.keys, id)
	m.shredded[id] = true
}

const shopA = "northbound.myshopify.com"

func TestSealerRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := NewSealer(newMemKeys())
	pt := []byte(`{"/email":"jane.doe@example.com"}`)
	aad := []byte("0b9c2f4e-1a2b-5c3d-8e4f-000000000001")
	sealed, err := s.Seal(ctx, shopA, "customer/1", aad, pt)
	if err != nil {
		t.Fatal(err)
	}
	if sealed.Algorithm != AlgorithmAES256GCM || sealed.KeyID == "" {
		t.Errorf("sealed = %+v", sealed)
	}
	if bytes.Contains(sealed.Ciphertext, []byte("jane")) {
		t.Error("ciphertext holds the plaintext")
	}
	if len(sealed.Ciphertext) != nonceSize+len(pt)+16 {
		t.Errorf("ciphertext is %d bytes, want nonce + %d + tag", len(sealed.Ciphertext), len(pt))
	}
	got, err := s.Open(ctx, sealed, aad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open: %q, %v", got, err)
	}

	again, err := s.Seal(ctx, shopA, "customer/1", aad, pt)
	if err != nil {
		t.Fatal(err)
	}
	if again.KeyID != sealed.KeyID {
		t.Errorf("same subject, key %s then %s", sealed.KeyID, again.KeyID)
	}
	if bytes.Equal(again.Ciphertext[:nonceSize], sealed.Ciphertext[:nonceSize]) {
		t.Error("two seals reused a nonce")
	}
	other, err := s.Seal(ctx, shopA, "customer/2", aad, pt)
	if err != nil {
		t.Fatal(err)
	}
	if other.KeyID == sealed.KeyID {
		t.Error("two subjects share a key")
	}
}

func TestSealerRefusesMovedOrAlteredData(t *testing.T) {
	ctx := context.Background()
	s := NewSealer(newMemKeys())
	aad := []byte("event-1")
	sealed, err := s.Seal(ctx, shopA, "customer/1", aad, []byte("personal"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, sealed, []byte("event-2")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other event id: err = %v, want ErrCorrupt", err)
	}
	flipped := sealed
	flipped.Ciphertext = bytes.Clone(sealed.Ciphertext)
	flipped.Ciphertext[nonceSize] ^= 1
	if _, err := s.Open(ctx, flipped, aad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("altered: err = %v, want ErrCorrupt", err)
	}
	short := sealed
	short.Ciphertext = sealed.Ciphertext[:nonceSize+3]
	if _, err := s.Open(ctx, short, aad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated: err = %v, want ErrCorrupt", err)
	}
	// Another subject's key does not open it.
	other, err := s.Seal(ctx, shopA, "customer/2", aad, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	swapped := sealed
	swapped.KeyID = other.KeyID
	if _, err := s.Open(ctx, swapped, aad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other key: err = %v, want ErrCorrupt", err)
	}
	alg := sealed
	alg.Algorithm = "ROT13"
	if _, err := s.Open(ctx, alg, aad); err == nil {
		t.Error("unknown algorithm opened")
	}
	unknown := sealed
	unknown.KeyID = "mem-999"
	if _, err := s.Open(ctx, unknown, aad); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key: err = %v, want ErrUnknownKey", err)
	}
}

func TestSealerShreddedKeyOpensNothing(t *testing.T) {
	ctx := context.Background()
	keys := newMemKeys()
	s := NewSealer(keys)
	sealed, err := s.Seal(ctx, shopA, "customer/1", nil, []byte("personal"))
	if err != nil {
		t.Fatal(err)
	}
	keys.shred(shopA, "customer/1")
	if _, err := s.Open(ctx, sealed, nil); !errors.Is(err, ErrShredded) {
		t.Errorf("err = %v, want ErrShredded", err)
	}
	fresh, err := s.Seal(ctx, shopA, "customer/1", nil, []byte("later"))
	if err != nil {
		t.Fatal(err)
	}
	if fresh.KeyID == sealed.KeyID {
		t.Error("a shredded key was handed out again")
	}
}

func TestSealShopifyAndOpenShopify(t *testing.T) {
	ctx := context.Background()
	keys := newMemKeys()
	s := NewSealer(keys)
	payload := readTestdata(t, "orders_create_full.json")
	const eventID = "0b9c2f4e-1a2b-5c3d-8e4f-000000000042"
	clean, sealed, err := s.SealShopify(ctx, shopA, "orders/create", eventID, payload)
	if err != nil {
		t.Fatal(err)
	}
	if sealed == nil || strings.Contains(clean, "jane.doe") {
		t.Fatalf("not sealed: %s, %+v", clean, sealed)
	}
	if _, ok := keys.live[shopA+"\x00customer/9007199254740993"]; !ok {
		t.Errorf("sealed under %v, want customer/9007199254740993", keys.live)
	}
	full, err := s.OpenShopify(ctx, clean, sealed, eventID)
	if err != nil {
		t.Fatal(err)
	}
	assertRoundTrip(t, payload, full, nil)
	if _, err := s.OpenShopify(ctx, clean, sealed, "another event"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("other event id: err = %v, want ErrCorrupt", err)
	}

	keys.shred(shopA, "customer/9007199254740993")
	if _, err := s.OpenShopify(ctx, clean, sealed, eventID); !errors.Is(err, ErrShredded) {
		t.Errorf("after shred: err = %v, want ErrShredded", err)
	}

	// Nothing personal: nothing sealed, and the clean payload is the whole payload.
	clean, sealed, err = s.SealShopify(ctx, shopA, "shop/redact", eventID, readTestdata(t, "shop_redact.json"))
	if err != nil || sealed != nil {
		t.Fatalf("shop/redact: %s, %+v, %v", clean, sealed, err)
	}
	full, err = s.OpenShopify(ctx, clean, nil, eventID)
	if err != nil {
		t.Fatal(err)
	}
	assertRoundTrip(t, readTestdata(t, "shop_redact.json"), full, nil)
	// Personal data without a subject cannot be sealed for anyone.
	_, _, err = s.SealShopify(ctx, shopA, "customers/redact", eventID, []byte(`{"customer":{"email":"only@email.example"}}`))
	if !errors.Is(err, ErrNoSubject) {
		t.Errorf("no subject: err = %v, want ErrNoSubject", err)
	}
	if _, _, err := s.SealShopify(ctx, shopA, "checkouts/create", eventID, payload); !errors.Is(err, ErrUnknownTopic) {
		t.Errorf("unknown topic: err = %v, want ErrUnknownTopic", err)
	}
}
