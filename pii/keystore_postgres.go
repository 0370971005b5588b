package pii

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrWrongKEK is returned for a key wrapped under a KEK other than the keystore's: the keystore
// was given the wrong KEK, or a rotation is half done.
var ErrWrongKEK = errors.New("pii: key wrapped under another KEK")

// Keystore keeps data keys in PostgreSQL (table pii_keys), each wrapped with AES-256-GCM under
// the key-encryption key (KEK) it was given; the wrap is bound to the row's key id, shop and
// subject, so a wrapped key copied to another row does not unwrap.
//
// It caches nothing: every DataKey and Lookup reads the table (one indexed query), so a Shred
// takes effect for every process at once. A cache of unwrapped keys would keep a shredded key
// usable in other processes until it expired.
type Keystore struct {
	pool  *pgxpool.Pool
	kek   cipher.AEAD
	kekID string
}

// NewKeystore returns a Keystore on pool whose data keys are wrapped under kek (32 bytes; see
// ParseKEK and LoadOrCreateKEK). The pii_keys table comes from the migrations.
func NewKeystore(pool *pgxpool.Pool, kek []byte) (*Keystore, error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, fmt.Errorf("keystore KEK: %w", err)
	}
	return &Keystore{pool: pool, kek: aead, kekID: kekID(kek)}, nil
}

// DataKey returns the live data key of (shop, subject), creating one if there is none. It is
// safe across goroutines and processes: however many ask at once, one key is created and all
// get it. An existing key costs one query; a new one two.
func (k *Keystore) DataKey(ctx context.Context, shop, subject string) (string, []byte, error) {
	if shop == "" || subject == "" {
		return "", nil, fmt.Errorf("data key: shop %q and subject %q must not be empty", shop, subject)
	}
	// A lost creation race sends us back to read the winner's key; a key shredded in between
	// sends us back to create one. Three rounds cover both.
	for range 3 {
		keyID, key, err := k.live(ctx, shop, subject)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return keyID, key, err
		}
		keyID, key, err = k.create(ctx, shop, subject)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return keyID, key, err
		}
	}
	return "", nil, fmt.Errorf("data key of %s %s: no live key after three attempts", shop, subject)
}

// live reads and unwraps the live key of (shop, subject); pgx.ErrNoRows if there is none.
func (k *Keystore) live(ctx context.Context, shop, subject string) (string, []byte, error) {
	var keyID, kekID string
	var wrapped []byte
	err := k.pool.QueryRow(ctx, `
SELECT key_id::text, kek_id, wrapped_key FROM pii_keys
WHERE shop = $1 AND subject = $2 AND destroyed_at IS NULL`, shop, subject).Scan(&keyID, &kekID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, err
	}
	if err != nil {
		return "", nil, fmt.Errorf("read data key of %s %s: %w", shop, subject, err)
	}
	key, err := k.unwrap(keyID, shop, subject, kekID, wrapped)
	if err != nil {
		return "", nil, err
	}
	return keyID, key, nil
}

// create inserts a new key for (shop, subject); pgx.ErrNoRows if a live one appeared first.
// The unique index on live keys makes a concurrent insert wait for the other transaction and
// then do nothing.
func (k *Keystore) create(ctx context.Context, shop, subject string) (string, []byte, error) {
	keyID, err := newUUID()
	if err != nil {
		return "", nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", nil, fmt.Errorf("generate data key: %w", err)
	}
	wrapped, err := k.wrap(keyID, shop, subject, key)
	if err != nil {
		return "", nil, err
	}
	tag, err := k.pool.Exec(ctx, `
INSERT INTO pii_keys (key_id, shop, subject, kek_id, wrapped_key)
VALUES ($1::uuid, $2, $3, $4, $5)
ON CONFLICT (shop, subject) WHERE destroyed_at IS NULL DO NOTHING`,
		keyID, shop, subject, k.kekID, wrapped)
	if err != nil {
		return "", nil, fmt.Errorf("create data key of %s %s: %w", shop, subject, err)
	}
	if tag.RowsAffected() == 0 {
		return "", nil, pgx.ErrNoRows
	}
	return keyID, key, nil
}

// Lookup returns the data key with the given id: ErrShredded if it was destroyed, ErrUnknownKey
// if there never was one.
func (k *Keystore) Lookup(ctx context.Context, keyID string) ([]byte, error) {
	if !isUUID(keyID) {
		return nil, fmt.Errorf("%w: %q is not a key id", ErrUnknownKey, keyID)
	}
	keyID = strings.ToLower(keyID) // as the wrap's AAD has it
	var shop, subject, kekID string
	var wrapped []byte
	err := k.pool.QueryRow(ctx, `
SELECT shop, subject, kek_id, wrapped_key FROM pii_keys WHERE key_id = $1::uuid`,
		keyID).Scan(&shop, &subject, &kekID, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownKey, keyID)
	}
	if err != nil {
		return nil, fmt.Errorf("look up key %s: %w", keyID, err)
	}
	if wrapped == nil {
		return nil, fmt.Errorf("key %s: %w", keyID, ErrShredded)
	}
	return k.unwrap(keyID, shop, subject, kekID, wrapped)
}

// Shred destroys the live key of (shop, subject), making everything sealed under it
// unreadable, and reports how many keys it destroyed (0 or 1). The row stays, so readers get
// ErrShredded rather than ErrUnknownKey; a later DataKey for the subject creates a new key.
func (k *Keystore) Shred(ctx context.Context, shop, subject string) (int, error) {
	tag, err := k.pool.Exec(ctx, `
UPDATE pii_keys SET wrapped_key = NULL, destroyed_at = now()
WHERE shop = $1 AND subject = $2 AND destroyed_at IS NULL`, shop, subject)
	if err != nil {
		return 0, fmt.Errorf("shred key of %s %s: %w", shop, subject, err)
	}
	return int(tag.RowsAffected()), nil
}

// ShredShop destroys every live key of shop (on shop/redact) and reports how many.
func (k *Keystore) ShredShop(ctx context.Context, shop string) (int, error) {
	if shop == "" {
		return 0, errors.New("shred shop: empty shop")
	}
	tag, err := k.pool.Exec(ctx, `
UPDATE pii_keys SET wrapped_key = NULL, destroyed_at = now()
WHERE shop = $1 AND destroyed_at IS NULL`, shop)
	if err != nil {
		return 0, fmt.Errorf("shred keys of %s: %w", shop, err)
	}
	return int(tag.RowsAffected()), nil
}

// wrap seals key under the KEK, bound to its row by the AAD.
func (k *Keystore) wrap(keyID, shop, subject string, key []byte) ([]byte, error) {
	out := make([]byte, nonceSize, nonceSize+len(key)+k.kek.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("wrap data key: nonce: %w", err)
	}
	return k.kek.Seal(out, out[:nonceSize], key, wrapAAD(keyID, shop, subject)), nil
}

func (k *Keystore) unwrap(keyID, shop, subject, kekID string, wrapped []byte) ([]byte, error) {
	if kekID != k.kekID {
		return nil, fmt.Errorf("key %s: %w %s (this keystore's is %s)", keyID, ErrWrongKEK, kekID, k.kekID)
	}
	if len(wrapped) < nonceSize {
		return nil, fmt.Errorf("key %s: wrapped key is %d bytes", keyID, len(wrapped))
	}
	key, err := k.kek.Open(nil, wrapped[:nonceSize], wrapped[nonceSize:], wrapAAD(keyID, shop, subject))
	if err != nil {
		return nil, fmt.Errorf("key %s: unwrap: altered, or moved from another row", keyID)
	}
	return key, nil
}

// wrapAAD binds a wrapped key to its row. PostgreSQL text holds no NUL, so NUL separates.
func wrapAAD(keyID, shop, subject string) []byte {
	return []byte("storeline pii data key v1\x00" + keyID + "\x00" + shop + "\x00" + subject)
}

// newUUID returns a random (version 4) UUID in canonical lower-case form.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate key id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// isUUID reports whether s is a UUID in canonical form (any case).
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
