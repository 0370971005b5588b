package shopifyid

import "testing"

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"42", 42, true},
		{" 42 ", 42, true},
		{"gid://shopify/Product/9007199254740993", 9007199254740993, true},
		{"gid://shopify/ProductVariant/7", 0, false}, // another resource's GID
		{"0", 0, false},
		{"-3", 0, false},
		{"4.0", 0, false},
		{"", 0, false},
		{"gid://shopify/Product/", 0, false},
	} {
		got, err := Parse(c.in, "Product")
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
	if g := GID("Product", 42); g != "gid://shopify/Product/42" {
		t.Errorf("GID = %q", g)
	}
}
