package topics

import (
	"bytes"
	"maps"
	"testing"
)

func TestDesired(t *testing.T) {
	specs := Desired(Settings{Prefix: "p.", Partitions: 6, ReplicationFactor: 3, MinInsyncReplicas: 2})
	byName := map[string]Spec{}
	for _, s := range specs {
		byName[s.Name] = s
	}
	eventConfigs := map[string]string{
		"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete",
		"min.insync.replicas": "2", "message.timestamp.type": "CreateTime",
	}
	want := map[string]Spec{
		"p.commerce":        {Partitions: 6, ReplicationFactor: 3, Configs: eventConfigs},
		"p.commerce.dlq":    {Partitions: 6, ReplicationFactor: 3, Configs: eventConfigs},
		"p.publication":     {Partitions: 6, ReplicationFactor: 3, Configs: eventConfigs},
		"p.publication.dlq": {Partitions: 6, ReplicationFactor: 3, Configs: eventConfigs},
		"p.sync":            {Partitions: 6, ReplicationFactor: 3, Configs: eventConfigs},
		"p.sync.dlq":        {Partitions: 6, ReplicationFactor: 3, Configs: eventConfigs},
		"p._storeline_schemas": {Partitions: 1, ReplicationFactor: 3, Configs: map[string]string{
			"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "compact", "min.insync.replicas": "2",
			"min.compaction.lag.ms": "604800000",
		}},
		"p._storeline_outbox": {Partitions: 1, ReplicationFactor: 3, Configs: map[string]string{
			"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "compact", "min.insync.replicas": "2",
		}},
	}
	if len(specs) != len(want) || len(byName) != len(want) {
		t.Fatalf("Desired: %d specs (%d names), want %d: %+v", len(specs), len(byName), len(want), specs)
	}
	for name, w := range want {
		got, ok := byName[name]
		if !ok {
			t.Errorf("no spec for %s", name)
			continue
		}
		if got.Partitions != w.Partitions || got.ReplicationFactor != w.ReplicationFactor || !maps.Equal(got.Configs, w.Configs) {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
}

// Without a min.insync.replicas setting the broker's default stays: Desired does not name it.
func TestDesiredLeavesMinInsyncReplicasToTheBroker(t *testing.T) {
	for _, s := range Desired(Settings{Partitions: 3, ReplicationFactor: -1}) {
		if v, ok := s.Configs["min.insync.replicas"]; ok {
			t.Errorf("%s: min.insync.replicas=%s, want it unset", s.Name, v)
		}
		if s.ReplicationFactor != -1 {
			t.Errorf("%s: rf %d, want -1 (broker default)", s.Name, s.ReplicationFactor)
		}
	}
	if got := RegistryTopic("x."); got != "x._storeline_schemas" {
		t.Errorf("RegistryTopic = %q", got)
	}
}

func TestPlanWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		plan Plan
		want string
	}{
		{"empty", Plan{}, "no changes\n"},
		{"warning only", Plan{Warnings: []string{"cannot decrease partitions of sync: 6 → 3"}},
			"no changes\n! cannot decrease partitions of sync: 6 → 3\n"},
		{"every kind", Plan{
			Creates: []Spec{
				{Name: "commerce", Partitions: 3, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "-1", "cleanup.policy": "delete"}},
				{Name: "sync", Partitions: 3, ReplicationFactor: -1},
			},
			Alters:     []Alter{{Topic: "publication", Key: "min.insync.replicas", Old: "1", New: "2"}, {Topic: "publication", Key: "x", New: "y"}},
			Partitions: []PartitionIncrease{{Topic: "commerce.dlq", From: 3, To: 6}},
			Warnings:   []string{"cannot change replication factor of sync"},
		}, "+ create topic commerce (3 partitions, rf 1) cleanup.policy=delete retention.ms=-1\n" +
			"+ create topic sync (3 partitions, rf broker default)\n" +
			"~ alter publication: min.insync.replicas 1 → 2\n" +
			"~ alter publication: x (none) → y\n" +
			"~ partitions commerce.dlq: 3 → 6\n" +
			"! cannot change replication factor of sync\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.plan.Write(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("Write:\n%s\nwant:\n%s", b.String(), tc.want)
			}
			if tc.plan.Empty() != (tc.name != "every kind") {
				t.Errorf("Empty() = %v", tc.plan.Empty())
			}
		})
	}
}
