package pii

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestParseKEK(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	for _, s := range []string{
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		" " + base64.StdEncoding.EncodeToString(key) + "\n",
	} {
		got, err := ParseKEK(s)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("%q: %x, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(key[:16]), base64.StdEncoding.EncodeToString(append(key, 1))} {
		if _, err := ParseKEK(s); err == nil {
			t.Errorf("%q: accepted", s)
		}
	}
}

func TestLoadOrCreateKEK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets", "pii.kek")
	// Many at once, as several roles starting together: one key is written and all get it.
	const n = 16
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateKEK(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) || len(keys[i]) != KEKSize {
			t.Fatalf("caller %d got another key", i)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	again, err := LoadOrCreateKEK(path)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Errorf("reload: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("left temporary files behind: %v", entries)
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKEK(path); err == nil {
		t.Error("a corrupt KEK file was accepted (or replaced)")
	}
}
