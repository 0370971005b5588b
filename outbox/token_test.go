package outbox

import (
	"errors"
	"testing"
)

func TestTokenRoundTripAndRefusals(t *testing.T) {
	tok := Token{First: 41, Last: 43}
	got, err := ParseToken(tok.String())
	if err != nil || got != tok {
		t.Fatalf("round trip %v: %v %v", tok, got, err)
	}
	for _, bad := range []string{"", "xyz", "bzozOjI", Token{First: 0, Last: 0}.String(), Token{First: 5, Last: 4}.String(), "b3AHOjE6Mg"} {
		if _, err := ParseToken(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("ParseToken(%q) = %v, want ErrInvalidToken", bad, err)
		}
	}
}
