// Package topics owns storeline's Kafka topics: which ones exist and how they are configured
// (the event topics kept forever, their dead-letter topics, the schema registry's compacted
// topic), the diff between that and a cluster, and applying it. `storeline topics apply` prints
// and applies the diff; `storeline run` applies it silently at start-up.
package topics

import (
	"strconv"

	"github.com/storeline/storeline/config"
	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/outbox"
	"github.com/storeline/storeline/registry"
)

// Settings are the choices an operator makes about the topics.
type Settings struct {
	Prefix            string // prepended to every topic name, to share a cluster
	Partitions        int32  // of the event and dead-letter topics
	ReplicationFactor int16  // -1: the broker's default.replication.factor
	MinInsyncReplicas int    // 0: leave the broker's default
}

// SettingsFrom takes the topic settings out of the process configuration.
func SettingsFrom(cfg *config.Config) Settings {
	return Settings{
		Prefix:            cfg.TopicPrefix,
		Partitions:        int32(cfg.TopicPartitions),
		ReplicationFactor: int16(cfg.TopicReplication),
		MinInsyncReplicas: cfg.TopicMinInsyncReplicas,
	}
}

// Spec is one topic as storeline wants it.
type Spec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16             // -1: the broker's default; never changed once created
	Configs           map[string]string // topic configs storeline sets; any other is the broker's business
}

// Topic config keys storeline sets.
const (
	ConfigRetentionMs       = "retention.ms"
	ConfigRetentionBytes    = "retention.bytes"
	ConfigCleanupPolicy     = "cleanup.policy"
	ConfigMinInsyncReplicas = "min.insync.replicas"
	ConfigTimestampType     = "message.timestamp.type"
)

// RegistryTopic is the name of the schema registry's compacted topic under prefix.
func RegistryTopic(prefix string) string { return registry.TopicName(prefix) }

// Desired lists every topic storeline needs: each event topic and its dead-letter topic, with
// retention forever (the log is the system of record; a dead letter waits for an operator),
// and the schema registry's topic, compacted, one partition so its order is total.
func Desired(s Settings) []Spec {
	forever := func(cleanup string) map[string]string {
		c := map[string]string{
			ConfigRetentionMs:    "-1",
			ConfigRetentionBytes: "-1",
			ConfigCleanupPolicy:  cleanup,
		}
		if s.MinInsyncReplicas > 0 {
			c[ConfigMinInsyncReplicas] = strconv.Itoa(s.MinInsyncReplicas)
		}
		return c
	}
	var out []Spec
	for _, t := range events.Topics {
		name := s.Prefix + t
		for _, n := range []string{name, deadletter.Topic(name)} {
			c := forever("delete")
			// Projections order by the time the event happened, not the time Kafka received it.
			c[ConfigTimestampType] = "CreateTime"
			out = append(out, Spec{Name: n, Partitions: s.Partitions, ReplicationFactor: s.ReplicationFactor, Configs: c})
		}
	}
	reg := forever("compact")
	for k, v := range registry.TopicConfigs() {
		reg[k] = *v
	}
	out = append(out, Spec{Name: RegistryTopic(s.Prefix), Partitions: 1, ReplicationFactor: s.ReplicationFactor, Configs: reg})
	// The outbox relay's checkpoint: one key, the newest value is all that matters.
	out = append(out, Spec{Name: outbox.CheckpointTopic(s.Prefix), Partitions: 1, ReplicationFactor: s.ReplicationFactor, Configs: forever("compact")})
	return out
}
