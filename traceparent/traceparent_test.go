package traceparent

import "testing"

func TestChildContinuesAValidParent(t *testing.T) {
	parent := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	c := Child(parent)
	if !Valid(c) || TraceID(c) != "4bf92f3577b34da6a3ce929d0e0e4736" || c == parent || c[len(c)-2:] != "01" {
		t.Fatalf("child %q of %q", c, parent)
	}
}

func TestChildStartsATraceForGarbage(t *testing.T) {
	for _, p := range []string{"", "nonsense", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"} {
		c := Child(p)
		if !Valid(c) || TraceID(c) == TraceID(p) && p != "" {
			t.Errorf("child of %q = %q", p, c)
		}
	}
}
