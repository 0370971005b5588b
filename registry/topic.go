package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// TopicName is the registry's topic for a deployment's topic prefix.
func TopicName(prefix string) string { return prefix + "_storeline_schemas" }

// TopicConfigs are the configs the registry's topic is created with: compacted, so it keeps the
// last record of every key forever. Whoever else creates the topic (storeline topics apply) should
// use the same, with exactly one partition: the registry relies on one total order of its records.
//
// min.compaction.lag.ms keeps every record uncompacted for a week: should a writer die between
// losing a registration race and repairing it, its losing record stays last for that key, and
// the week gives every store (each heals conflicts at start and every minute) time to put the
// winner back last before compaction could keep the loser.
func TopicConfigs() map[string]*string {
	compact, lag := "compact", MinCompactionLag
	return map[string]*string{"cleanup.policy": &compact, "min.compaction.lag.ms": &lag}
}

// MinCompactionLag is the registry topic's min.compaction.lag.ms: 7 days.
const MinCompactionLag = "604800000"

// ensureTopic creates the registry topic when it is missing and checks that an existing one can
// hold a registry: one partition, and records that never expire.
func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, replicationFactor int16) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := createAndCheck(ctx, adm, topic, replicationFactor)
		if err == nil || errors.Is(err, errUnfitTopic) {
			return err
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("ensure schema registry topic %s: %w", topic, err)
		}
		select { // the broker may still be starting, or the new topic's metadata propagating
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

var errUnfitTopic = errors.New("topic cannot hold the schema registry")

func createAndCheck(ctx context.Context, adm *kadm.Client, topic string, replicationFactor int16) error {
	resp, err := adm.CreateTopic(ctx, 1, replicationFactor, TopicConfigs(), topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic: %w (%s)", err, resp.ErrMessage)
	}
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe topic: %w", err)
	}
	d, ok := details[topic]
	if !ok || d.Err != nil {
		return fmt.Errorf("describe topic: %v", d.Err)
	}
	if n := len(d.Partitions); n != 1 {
		return fmt.Errorf("%w: %s has %d partitions, it needs exactly 1 (one order of registrations)", errUnfitTopic, topic, n)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe topic configs: %w", err)
	}
	rc, err := configs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return fmt.Errorf("describe topic configs: %w", err)
	}
	values := map[string]string{}
	for _, c := range rc.Configs {
		values[c.Key] = c.MaybeValue()
	}
	policy := values["cleanup.policy"]
	compacted := strings.Contains(policy, "compact") && !strings.Contains(policy, "delete")
	if !compacted && values["retention.ms"] != "-1" {
		return fmt.Errorf("%w: %s has cleanup.policy=%q and retention.ms=%q, so registered schemas would expire; set cleanup.policy=compact",
			errUnfitTopic, topic, policy, values["retention.ms"])
	}
	return nil
}
