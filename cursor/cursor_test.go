package cursor_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/storeline/storeline/cursor"
)

type position struct {
	Value string `json:"v"`
	ID    int64  `json:"id"`
}

var key = bytes.Repeat([]byte{7}, 32)

func TestRoundTrip(t *testing.T) {
	c := cursor.New(key)
	want := position{Value: "2026-11-20T10:00:00.123456Z", ID: 5_123_456_789_012}
	tok, err := c.Encode("orders?sort=-created_at", want)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, want.Value) || strings.ContainsAny(tok, "+/=") {
		t.Errorf("token %q is not opaque base64url", tok)
	}
	var got position
	if err := c.Decode(tok, "orders?sort=-created_at", &got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
}

func TestRefused(t *testing.T) {
	c := cursor.New(key)
	tok, err := c.Encode("orders?sort=-created_at", position{Value: "x", ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	other, err := cursor.New(bytes.Repeat([]byte{8}, 32)).Encode("orders?sort=-created_at", position{Value: "x", ID: 1})
	if err != nil {
		t.Fatal(err)
	}
	payload, _, _ := strings.Cut(tok, ".")
	_, sig, _ := strings.Cut(tok, ".")
	unknownField, err := c.Encode("orders?sort=-created_at", map[string]any{"v": "x", "id": 1, "admin": true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, token, scope string }{
		{"another scope", tok, "orders?sort=created_at"},
		{"another key", other, "orders?sort=-created_at"},
		{"empty", "", "orders?sort=-created_at"},
		{"no signature", payload, "orders?sort=-created_at"},
		{"empty signature", payload + ".", "orders?sort=-created_at"},
		{"signature only", "." + sig, "orders?sort=-created_at"},
		{"two dots", tok + ".", "orders?sort=-created_at"},
		{"padded", tok + "==", "orders?sort=-created_at"},
		{"standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(tok) + "+", "orders?sort=-created_at"},
		{"too long", strings.Repeat("a", cursor.MaxTokenLen+1), "orders?sort=-created_at"},
		{"unknown field", unknownField, "orders?sort=-created_at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p position
			if err := c.Decode(tc.token, tc.scope, &p); !errors.Is(err, cursor.ErrInvalid) {
				t.Errorf("Decode = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestEveryByteMatters changes each byte of a token to every other byte value, and inserts each
// byte value at every position: no changed token decodes.
func TestEveryByteMatters(t *testing.T) {
	c := cursor.New(key)
	tok, err := c.Encode("s", position{Value: "2026-11-20T10:00:00Z", ID: 42})
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(tok) {
		for v := range 256 {
			b := []byte{byte(v)}
			var p position
			if err := c.Decode(tok[:i]+string(b)+tok[i:], "s", &p); !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("%#x inserted at %d: Decode = %v (%+v), want ErrInvalid", v, i, err, p)
			}
			if byte(v) == tok[i] {
				continue
			}
			if err := c.Decode(tok[:i]+string(b)+tok[i+1:], "s", &p); !errors.Is(err, cursor.ErrInvalid) {
				t.Fatalf("byte %d changed to %#x: Decode = %v (%+v), want ErrInvalid", i, v, err, p)
			}
		}
	}
}

func TestShortKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New accepted a 16-byte key")
		}
	}()
	cursor.New(make([]byte, 16))
}

// FuzzDecode: Decode never panics, accepts only what Encode made for the scope, and refuses any
// token with one byte changed.
func FuzzDecode(f *testing.F) {
	c := cursor.New(key)
	valid, err := c.Encode("s", position{Value: "v", ID: 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid, "s", 0, byte(0))
	f.Add(valid, "s", 3, byte('A'))
	f.Add("e30.AAAA", "s", 0, byte(1))
	f.Add("", "", 0, byte(0))
	f.Fuzz(func(t *testing.T, token, scope string, at int, b byte) {
		var p position
		err := c.Decode(token, scope, &p)
		if err != nil && !errors.Is(err, cursor.ErrInvalid) {
			t.Fatalf("Decode error %v does not wrap ErrInvalid", err)
		}
		if err == nil && token != valid {
			// The fuzzer cannot forge a MAC; any token that decodes must be one we issued.
			t.Fatalf("Decode accepted %q, which this test never issued", token)
		}
		// One byte of a valid token changed is always refused.
		if len(valid) > 0 {
			i := ((at % len(valid)) + len(valid)) % len(valid)
			if b != valid[i] {
				changed := valid[:i] + string([]byte{b}) + valid[i+1:]
				if err := c.Decode(changed, "s", &p); !errors.Is(err, cursor.ErrInvalid) {
					t.Fatalf("byte %d changed to %#x: Decode = %v, want ErrInvalid", i, b, err)
				}
			}
		}
	})
}
