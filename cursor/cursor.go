// Package cursor makes pagination cursors opaque and tamper-evident: a cursor is the position
// of a page's last row as JSON, signed with HMAC-SHA256 under a server key and bound to a scope
// (the route, its filters and its sort), so a client can hand it back but neither read meaning
// into it, forge one, nor replay one issued for another query.
//
// A token is base64url(payload) "." base64url(HMAC-SHA256(key, scope || 0x00 || payload)),
// without padding. Tokens do not expire: a cursor is a position, not a permission, and the
// route still authorises every request that carries one.
package cursor

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every Decode error: the token is malformed, was not signed with this
// codec's key, or was issued for another scope. An API answers it with 400.
var ErrInvalid = errors.New("invalid cursor")

// MaxTokenLen bounds the tokens Decode looks at, so a client cannot make it decode megabytes.
const MaxTokenLen = 4096

// minKeyLen is the shortest key New accepts: HMAC-SHA256 is as strong as its key, and a short
// key can be guessed offline from any cursor.
const minKeyLen = 32

var b64 = base64.RawURLEncoding

// Codec signs and verifies cursors with one key. It is safe for concurrent use.
type Codec struct {
	key []byte
}

// New returns a codec signing with key, which must hold at least 32 random bytes and be the
// same on every gateway instance (a cursor issued by one is decoded by another). It panics on a
// shorter key: that is a configuration error to catch at start-up, not per request.
func New(key []byte) *Codec {
	if len(key) < minKeyLen {
		panic(fmt.Sprintf("cursor: key of %d bytes, want at least %d", len(key), minKeyLen))
	}
	return &Codec{key: bytes.Clone(key)}
}

// Encode returns a token for v (marshalled as JSON) bound to scope.
func (c *Codec) Encode(scope string, v any) (string, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode cursor: %w", err)
	}
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(c.sign(scope, payload)), nil
}

// Decode verifies token against scope and unmarshals its payload into v. Every failure wraps
// ErrInvalid; the detail is for logs, not for the client.
func (c *Codec) Decode(token, scope string, v any) error {
	if len(token) > MaxTokenLen {
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalid, len(token), MaxTokenLen)
	}
	p64, s64, ok := strings.Cut(token, ".")
	if !ok {
		return fmt.Errorf("%w: no signature", ErrInvalid)
	}
	payload, err := decodeStrict(p64)
	if err != nil {
		return fmt.Errorf("%w: payload: %v", ErrInvalid, err)
	}
	sig, err := decodeStrict(s64)
	if err != nil {
		return fmt.Errorf("%w: signature: %v", ErrInvalid, err)
	}
	// The signature is checked before the payload is parsed, so nothing a forger writes reaches
	// the JSON decoder; hmac.Equal takes the same time wherever the bytes differ.
	if !hmac.Equal(sig, c.sign(scope, payload)) {
		return fmt.Errorf("%w: signature does not match (forged, or issued for another query)", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: payload: %v", ErrInvalid, err)
	}
	return nil
}

// decodeStrict decodes unpadded base64url and refuses any other spelling of the same bytes, so
// that every token has exactly one and any changed byte is refused: encoding/base64 skips \r and
// \n anywhere, and Strict refuses stray bits in the last character.
func decodeStrict(s string) ([]byte, error) {
	for i := range len(s) {
		if c := s[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("byte %#x at %d is not base64url", c, i)
		}
	}
	return b64.Strict().DecodeString(s)
}

// sign is the MAC of payload under scope. The payload is JSON, which never holds a zero byte, so
// the last zero byte of the message splits it in one way only: no other (scope, payload) pair
// has the same MAC input.
func (c *Codec) sign(scope string, payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}
