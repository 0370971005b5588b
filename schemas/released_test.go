package schemas

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCompatibilityGate fails when a change to schemas/ breaks a released version: the current
// schema of each event must read records written with every version released before.
func TestCompatibilityGate(t *testing.T) {
	current, err := Load(FS)
	if err != nil {
		t.Fatal(err)
	}
	released, err := LoadReleased(os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	if len(released) == 0 {
		t.Fatal("no released schemas: run make schemas-release")
	}
	for _, err := range CheckReleased(current, released) {
		t.Error(err)
	}
	unreleased, err := Unreleased(current, released)
	if err != nil {
		t.Fatal(err)
	}
	for file := range unreleased {
		t.Logf("changed since the last release (make schemas-release records it): %s", file)
	}
}

// TestCompatibilityGateCatches proves the gate refuses each kind of breaking change.
func TestCompatibilityGateCatches(t *testing.T) {
	current, err := Load(FS)
	if err != nil {
		t.Fatal(err)
	}
	var order *Event
	for _, e := range current {
		if e.Type() == "commerce.OrderCreated" {
			order = e
		}
	}
	text, err := order.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(string) string{
		"new field without default": func(s string) string {
			return strings.Replace(s, `"fields":[`, `"fields":[{"name":"added","type":"string"},`, 1)
		},
		"type changed": func(s string) string {
			i := strings.Index(s, `{"name":"payload_json"`)
			j := i + strings.Index(s[i:], `"type":"string"`)
			return s[:j] + `"type":"long"` + s[j+len(`"type":"string"`):]
		},
	} {
		t.Run(name, func(t *testing.T) {
			changed := change(text)
			if changed == text {
				t.Fatal("the change did not apply")
			}
			fsys := fstestWith(t, changed)
			next, err := LoadTopic(fsys, "commerce")
			if err != nil {
				t.Fatal(err)
			}
			errs := CheckReleased(next, []Released{{EventType: order.Type(), Version: 1, File: "v1", Schema: order.Schema}})
			if len(errs) == 0 {
				t.Error("the gate let a breaking change through")
			}
		})
	}
	if errs := CheckReleased(nil, []Released{{EventType: order.Type(), Version: 1, File: "v1", Schema: order.Schema}}); len(errs) == 0 {
		t.Error("the gate let a released event be removed")
	}
}

// fstestWith is a schemas folder holding only commerce/order_created.avsc, self-contained.
func fstestWith(t *testing.T, orderCreated string) fstest.MapFS {
	t.Helper()
	return fstest.MapFS{"commerce/order_created.avsc": {Data: []byte(orderCreated)}}
}
