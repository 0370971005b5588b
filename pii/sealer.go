package pii

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// AlgorithmAES256GCM names the one sealing algorithm: AES-256-GCM with a random 96-bit nonce.
const AlgorithmAES256GCM = "AES-256-GCM"

const nonceSize = 12

var (
	// ErrShredded is returned for a key that was destroyed: the data sealed under it is gone.
	ErrShredded = errors.New("pii: key shredded")
	// ErrUnknownKey is returned for a key id that never existed in the keystore.
	ErrUnknownKey = errors.New("pii: unknown key")
	// ErrCorrupt is returned when sealed data does not authenticate: it was altered, or it is
	// opened with another AAD (moved to another event) or under another key.
	ErrCorrupt = errors.New("pii: sealed data does not authenticate")
)

// Keys gives out data keys. *Keystore is the real one; a test may use a map.
type Keys interface {
	// DataKey returns the live key of (shop, subject), creating it if there is none. The
	// returned slice is the caller's.
	DataKey(ctx context.Context, shop, subject string) (keyID string, key []byte, err error)
	// Lookup returns the key with the given id, ErrShredded if it was destroyed, ErrUnknownKey
	// if it never existed.
	Lookup(ctx context.Context, keyID string) ([]byte, error)
}

// Sealed is personal data encrypted under one subject's data key. It is what goes on the log.
type Sealed struct {
	KeyID      string // the data key's opaque id in the keystore; names no one
	Algorithm  string // AlgorithmAES256GCM
	Ciphertext []byte // 12-byte nonce ‖ ciphertext ‖ 16-byte GCM tag
}

// Sealer encrypts and decrypts personal data under per-subject keys.
type Sealer struct {
	keys Keys
}

// NewSealer returns a Sealer that takes its keys from keys.
func NewSealer(keys Keys) *Sealer { return &Sealer{keys: keys} }

// Seal encrypts plaintext under the data key of (shop, subject). aad (the event id) is
// authenticated but not stored: Open needs the same aad, so a sealed blob cannot be moved to
// another event. Each call draws a fresh random nonce; with one key per customer, the number
// of messages per key stays far below GCM's 2^32 limit for random nonces.
func (s *Sealer) Seal(ctx context.Context, shop, subject string, aad, plaintext []byte) (Sealed, error) {
	keyID, key, err := s.keys.DataKey(ctx, shop, subject)
	if err != nil {
		return Sealed{}, fmt.Errorf("seal for %s %s: %w", shop, subject, err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return Sealed{}, fmt.Errorf("seal for %s %s: key %s: %w", shop, subject, keyID, err)
	}
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return Sealed{}, fmt.Errorf("seal: nonce: %w", err)
	}
	out = aead.Seal(out, out[:nonceSize], plaintext, aad)
	return Sealed{KeyID: keyID, Algorithm: AlgorithmAES256GCM, Ciphertext: out}, nil
}

// Open decrypts sealed with the same aad it was sealed with. It returns ErrShredded (wrapped)
// when the key was destroyed, ErrUnknownKey when the keystore never had it, and ErrCorrupt when
// the data does not authenticate.
func (s *Sealer) Open(ctx context.Context, sealed Sealed, aad []byte) ([]byte, error) {
	if sealed.Algorithm != AlgorithmAES256GCM {
		return nil, fmt.Errorf("open: algorithm %q: want %s", sealed.Algorithm, AlgorithmAES256GCM)
	}
	key, err := s.keys.Lookup(ctx, sealed.KeyID)
	if err != nil {
		return nil, fmt.Errorf("open with key %s: %w", sealed.KeyID, err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, fmt.Errorf("open with key %s: %w", sealed.KeyID, err)
	}
	if len(sealed.Ciphertext) < nonceSize+aead.Overhead() {
		return nil, fmt.Errorf("open with key %s: %w: %d bytes is too short", sealed.KeyID, ErrCorrupt, len(sealed.Ciphertext))
	}
	nonce, body := sealed.Ciphertext[:nonceSize], sealed.Ciphertext[nonceSize:]
	pt, err := aead.Open(nil, nonce, body, aad)
	if err != nil {
		return nil, fmt.Errorf("open with key %s: %w", sealed.KeyID, ErrCorrupt)
	}
	return pt, nil
}

// newGCM returns AES-256-GCM under a 32-byte key.
func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	return aead, nil
}
