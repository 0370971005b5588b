// Package piitest gives tests of packages that seal personal data a key store: an in-memory
// one for unit tests, the real pii.Keystore on a test database for integration tests.
package piitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/storeline/storeline/pii"
)

// Keys is an in-memory pii.Keys: one live key per (shop, subject), shredded as the keystore does.
type Keys struct {
	mu       sync.Mutex
	live     map[string]string // shop + "\x00" + subject → key id
	keys     map[string][]byte // key id → key
	shredded map[string]bool
}

// NewKeys returns an empty key store.
func NewKeys() *Keys {
	return &Keys{live: map[string]string{}, keys: map[string][]byte{}, shredded: map[string]bool{}}
}

// NewSealer returns a pii.Sealer over a fresh in-memory key store.
func NewSealer() (*pii.Sealer, *Keys) {
	k := NewKeys()
	return pii.NewSealer(k), k
}

// DataKey implements pii.Keys.
func (m *Keys) DataKey(_ context.Context, shop, subject string) (string, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.live[shop+"\x00"+subject]
	if !ok {
		id = uuid.NewString()
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		m.keys[id] = k
		m.live[shop+"\x00"+subject] = id
	}
	return id, bytes.Clone(m.keys[id]), nil
}

// Lookup implements pii.Keys.
func (m *Keys) Lookup(_ context.Context, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shredded[id] {
		return nil, pii.ErrShredded
	}
	k, ok := m.keys[id]
	if !ok {
		return nil, pii.ErrUnknownKey
	}
	return bytes.Clone(k), nil
}

// Keystore returns the real keystore in pool's database (migrated), under a random
// key-encryption key.
func Keystore(t testing.TB, pool *pgxpool.Pool) *pii.Keystore {
	t.Helper()
	kek := make([]byte, pii.KEKSize)
	if _, err := rand.Read(kek); err != nil {
		t.Fatal(err)
	}
	ks, err := pii.NewKeystore(pool, kek)
	if err != nil {
		t.Fatalf("keystore: %v", err)
	}
	return ks
}

// Shred destroys the live key of (shop, subject).
func (m *Keys) Shred(shop, subject string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.live[shop+"\x00"+subject]
	delete(m.live, shop+"\x00"+subject)
	delete(m.keys, id)
	m.shredded[id] = true
}
