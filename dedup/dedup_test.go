package dedup_test

import (
	"context"
	"testing"

	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/testkit"
)

const (
	evA = "0b9c2f4e-1a2b-5c3d-8e4f-000000000001"
	evB = "0b9c2f4e-1a2b-5c3d-8e4f-000000000002"
)

func TestFirstOccurrenceIsStableAcrossReplays(t *testing.T) {
	s := dedup.NewStore(testkit.FreshDatabase(t))
	ctx := context.Background()
	batch := []dedup.Position{
		{EventID: evA, Topic: "commerce", Partition: 1, Offset: 10},
		{EventID: evB, Topic: "commerce", Partition: 2, Offset: 3},
		{EventID: evA, Topic: "commerce", Partition: 1, Offset: 12}, // the redelivered copy
	}
	for run := range 3 { // a consumer that crashed before its commit replays the same batch
		got, err := s.FirstOccurrences(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		if !got[0] || !got[1] || got[2] {
			t.Fatalf("run %d: %v, want [true true false]", run, got)
		}
	}
	// The copy alone, in a later batch, is still not the first.
	got, err := s.FirstOccurrences(ctx, batch[2:])
	if err != nil || got[0] {
		t.Fatalf("later copy: %v, %v", got, err)
	}
}
