package registry_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/registry"
	"github.com/storeline/storeline/testkit"
)

func TestStoreCreatesACompactedSinglePartitionTopic(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		k.start(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		adm := k.admin(t)
		details, err := adm.ListTopics(ctx, k.topic)
		if err != nil || len(details[k.topic].Partitions) != 1 {
			t.Fatalf("topic %s: %+v, %v", k.topic, details[k.topic], err)
		}
		rcs, err := adm.DescribeTopicConfigs(ctx, k.topic)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.On(k.topic, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" && c.MaybeValue() != "compact" {
				t.Fatalf("cleanup.policy=%s", c.MaybeValue())
			}
		}
	})
}

func TestStoreStartsOnATopicCreatedBeforehand(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		createTopic(t, k.admin(t), k.topic, 1, registry.TopicConfigs())
		if _, err := k.start(t).RegisterVersion(ctxT(t), "s", schemaV1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStoreRefusesATopicThatCannotHoldARegistry(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		deleting := "delete"
		for _, c := range []struct {
			name       string
			partitions int32
			configs    map[string]*string
			want       string
		}{
			{"three partitions", 3, registry.TopicConfigs(), "3 partitions"},
			{"expiring records", 1, map[string]*string{"cleanup.policy": &deleting}, "cleanup.policy"},
		} {
			t.Run(c.name, func(t *testing.T) {
				k := kafka{brokers: k.brokers, topic: k.topic + strings.ReplaceAll(c.name, " ", "_")}
				createTopic(t, k.admin(t), k.topic, c.partitions, c.configs)
				err := k.newStore(t).Start(ctxT(t))
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Start on a topic with %s: %v", c.name, err)
				}
			})
		}
	})
}

func createTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, partitions, -1, configs, topic); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, topic)
	})
}

// TestStartRepairsARaceLeftUnrepaired: a writer that lost a version and stopped before repairing
// leaves its losing value last; the next store to start writes the winner's value after it.
func TestStartRepairsARaceLeftUnrepaired(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		id1, _ := registry.SchemaID(schemaV1)
		id2, _ := registry.SchemaID(schemaV2)
		key := `{"keytype":"SCHEMA","subject":"s","version":1}`
		winner := `{"subject":"s","version":1,"id":` + itoa(id1) + `,"schema":` + quote(schemaV1) + `,"schemaType":"AVRO"}`
		loser := `{"subject":"s","version":1,"id":` + itoa(id2) + `,"schema":` + quote(schemaV2) + `,"schemaType":"AVRO"}`
		createTopic(t, k.admin(t), k.topic, 1, registry.TopicConfigs())
		k.produce(t, [2]string{key, winner}, [2]string{key, loser})

		s := k.start(t)
		if v, err := s.Version(ctxT(t), "s", 1); err != nil || v.Schema != schemaV1 {
			t.Fatalf("version 1: %+v, %v; want the first record's", v, err)
		}
		log := k.readLog(t)
		if last := log[len(log)-1]; string(last.Key) != key || string(last.Value) != winner {
			t.Fatalf("last record %s → %s; want the winner's value again", last.Key, last.Value)
		}
	})
}

// TestCatchUpReachesAnEndNoRecordReaches: when the last offsets of the topic hold no record a
// reader receives (a transaction's commit marker here; a tombstone removed by compaction in
// production), reading alone never reaches the end offset. Start must still complete.
func TestCatchUpReachesAnEndNoRecordReaches(t *testing.T) {
	eachKafka(t, func(t *testing.T, k kafka) {
		createTopic(t, k.admin(t), k.topic, 1, registry.TopicConfigs())
		ctx := ctxT(t)
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.brokers...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.TransactionalID(testkit.Unique("txn")))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		rec := &kgo.Record{Topic: k.topic, Partition: 0, Key: []byte(`{"keytype":"CONFIG","subject":"s"}`), Value: []byte(`{"compatibilityLevel":"NONE"}`)}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			t.Fatal(err)
		}
		// The broker writes the commit marker after EndTransaction returns.
		adm := k.admin(t)
		testkit.WaitFor(t, 30*time.Second, "the commit marker", func() error {
			ends, err := adm.ListEndOffsets(ctx, k.topic)
			if err != nil {
				return err
			}
			if end, _ := ends.Lookup(k.topic, 0); end.Offset != 2 {
				return fmt.Errorf("end offset %d, want 2 (the record and the marker)", end.Offset)
			}
			return nil
		})

		s := k.start(t) // fails after a minute if the catch-up waits for the marker's offset
		if l, err := s.Compatibility(ctx, "s"); err != nil || l != registry.LevelNone {
			t.Fatalf("level written before the marker: %s, %v", l, err)
		}
	})
}
