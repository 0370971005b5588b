package pii

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KEKSize is the size of a key-encryption key: an AES-256 key.
const KEKSize = 32

// ParseKEK decodes a key-encryption key written as base64 (standard alphabet, padding
// optional, surrounding whitespace ignored) of exactly 32 bytes.
func ParseKEK(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	kek, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		kek, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return nil, fmt.Errorf("parse KEK: not base64: %w", err)
	}
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("parse KEK: %d bytes, want %d", len(kek), KEKSize)
	}
	return kek, nil
}

// LoadOrCreateKEK reads the key-encryption key in the file at path (base64, as ParseKEK). When
// there is no such file it creates one (mode 0600, its directory 0700 if missing) holding a new
// random key. Creation is atomic: concurrent callers, in any process, all end up with the one
// key that was written first, and a crash never leaves a half-written file behind.
//
// Losing this file loses every sealed personal datum for good: back it up, apart from the
// database backups (README.md).
func LoadOrCreateKEK(path string) ([]byte, error) {
	kek, err := readKEK(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return kek, err
	}
	kek = make([]byte, KEKSize)
	if _, err := rand.Read(kek); err != nil {
		return nil, fmt.Errorf("generate KEK: %w", err)
	}
	if err := createExclusive(path, []byte(base64.StdEncoding.EncodeToString(kek)+"\n")); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race: use its key
			return readKEK(path)
		}
		return nil, fmt.Errorf("create KEK file: %w", err)
	}
	return kek, nil
}

func readKEK(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read KEK file: %w", err)
	}
	kek, err := ParseKEK(string(b))
	if err != nil {
		return nil, fmt.Errorf("KEK file %s: %w", path, err)
	}
	return kek, nil
}

// createExclusive writes data to a temporary file beside path, syncs it, and links it to path,
// which fails with fs.ErrExist if path exists: the file appears whole or not at all.
func createExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the new name durable
		defer d.Close()
		if err := d.Sync(); err != nil {
			return err
		}
	}
	return nil
}

// kekID names a KEK in the pii_keys.kek_id column without revealing anything about it: a
// truncated HMAC of a fixed label under the KEK itself.
func kekID(kek []byte) string {
	m := hmac.New(sha256.New, kek)
	m.Write([]byte("storeline pii kek id v1"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
