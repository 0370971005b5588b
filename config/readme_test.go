package config

import (
	"os"
	"strings"
	"testing"
)

// The README's settings table is the one the binary prints: adding a setting without
// documenting it fails here.
func TestREADMEDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), Markdown()) {
		t.Fatalf("README.md's settings table differs from `storeline config`; paste this:\n%s", Markdown())
	}
}
