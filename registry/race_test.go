package registry

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestLosingWriterRepairsAndTakesTheNextVersion makes a registration lose its version for sure:
// another writer's record for the same version lands between the store's decision and its write.
func TestLosingWriterRepairsAndTakesTheNextVersion(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const topic = "t_storeline_schemas"
	s, err := NewStore(StoreConfig{Brokers: c.ListenAddrs(), Topic: topic, Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterVersion(ctx, "s", stateV1); err != nil {
		t.Fatal(err)
	}

	other, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	rival := `{"type":"record","name":"T","namespace":"x","fields":[{"name":"a","type":"long"},{"name":"r","type":"int","default":0}]}`
	rivalKey, rivalValue := schemaRecord(t, "s", 2, rival)
	raced := 0
	s.beforePropose = func(p schemaValue) {
		if raced++; raced > 1 {
			return
		}
		if p.Version != 2 {
			t.Errorf("first proposal is version %d, want 2", p.Version)
		}
		if err := other.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 0, Key: rivalKey, Value: rivalValue}).FirstErr(); err != nil {
			t.Errorf("rival write: %v", err)
		}
	}

	got, err := s.RegisterVersion(ctx, "s", stateV2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 3 || raced != 2 {
		t.Fatalf("after losing version 2 the schema got version %d after %d proposals; want version 3 after 2", got.Version, raced)
	}
	if v, _ := s.Version(ctx, "s", 2); v.Schema != rival {
		t.Fatalf("version 2 is %s; want the rival's", v.Schema)
	}

	// The log holds, for version 2: the rival's record, the store's losing one, then the rival's
	// value again, so that compaction keeps the winner.
	var values []string
	for _, r := range readAll(ctx, t, c.ListenAddrs(), topic) {
		if string(r.Key) == string(rivalKey) {
			values = append(values, string(r.Value))
		}
	}
	if len(values) != 3 || values[0] != string(rivalValue) || values[1] == string(rivalValue) || values[2] != string(rivalValue) {
		t.Fatalf("records of version 2: %q", values)
	}
	s.mu.RLock()
	conflicts := len(s.st.conflicts)
	s.mu.RUnlock()
	if conflicts != 0 {
		t.Fatalf("%d versions still have a losing record last", conflicts)
	}
}

// readAll returns the records of topic's partition 0 up to its current end.
func readAll(ctx context.Context, t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	var out []*kgo.Record
	for len(out) == 0 || out[len(out)-1].Offset+1 < end.Offset {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s to offset %d: got %d records", topic, end.Offset, len(out))
		}
		out = append(out, fs.Records()...)
	}
	return out
}
