package topics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Plan is what it takes to bring a cluster's topics to the desired ones. Apply carries it out.
type Plan struct {
	Creates    []Spec
	Alters     []Alter
	Partitions []PartitionIncrease
	// Warnings are differences storeline will not fix: fewer partitions than a topic has
	// (Kafka cannot remove partitions) or another replication factor (that takes a
	// partition reassignment, an operator's decision).
	Warnings []string

	desired []Spec // what the plan was computed for, to check that Apply took effect
}

// Alter sets one config of an existing topic.
type Alter struct {
	Topic, Key string
	Old        string // the broker's current value, default or set; "" when it reports none
	New        string
}

// PartitionIncrease raises a topic's partition count.
type PartitionIncrease struct {
	Topic    string
	From, To int32
}

// Empty reports whether the plan changes nothing (it may still carry warnings).
func (p Plan) Empty() bool {
	return len(p.Creates) == 0 && len(p.Alters) == 0 && len(p.Partitions) == 0
}

// Changes renders each change as a line of the diff: "+ create topic ...", "~ alter ...",
// "~ partitions ...".
func (p Plan) Changes() []string {
	var out []string
	for _, s := range p.Creates {
		rf := "rf broker default"
		if s.ReplicationFactor > 0 {
			rf = "rf " + strconv.Itoa(int(s.ReplicationFactor))
		}
		parts := "partitions"
		if s.Partitions == 1 {
			parts = "partition"
		}
		line := fmt.Sprintf("+ create topic %s (%d %s, %s)", s.Name, s.Partitions, parts, rf)
		for _, k := range sortedKeys(s.Configs) {
			line += " " + k + "=" + s.Configs[k]
		}
		out = append(out, line)
	}
	for _, a := range p.Alters {
		old := a.Old
		if old == "" {
			old = "(none)"
		}
		out = append(out, fmt.Sprintf("~ alter %s: %s %s → %s", a.Topic, a.Key, old, a.New))
	}
	for _, pi := range p.Partitions {
		out = append(out, fmt.Sprintf("~ partitions %s: %d → %d", pi.Topic, pi.From, pi.To))
	}
	return out
}

// Write prints the plan as a human diff: one line per change, then one "! " line per warning,
// or "no changes" when there is nothing to do.
func (p Plan) Write(w io.Writer) error {
	lines := p.Changes()
	if len(lines) == 0 {
		lines = append(lines, "no changes")
	}
	for _, warn := range p.Warnings {
		lines = append(lines, "! "+warn)
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

// Diff compares the desired topics with the cluster's and returns the plan that reconciles
// them. A config is unchanged when the broker's effective value equals the desired one, whether
// the broker has it as a default or set on the topic; configs storeline does not set are left
// alone.
func Diff(ctx context.Context, adm *kadm.Client, desired []Spec) (Plan, error) {
	p := Plan{desired: desired}
	names := make([]string, len(desired))
	for i, s := range desired {
		names[i] = s.Name
	}
	// The plan must see the cluster as it is now, not kgo's metadata cache (up to 5 s old,
	// missing the topic we have just created). kadm bypasses that cache when authorized
	// operations are asked for.
	td, err := adm.ListTopics(kadm.WithAuthorizedOps(ctx), names...)
	if err != nil {
		return Plan{}, fmt.Errorf("list topics: %w", err)
	}
	var existing []Spec
	for _, s := range desired {
		d, ok := td[s.Name]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			p.Creates = append(p.Creates, s)
			continue
		case d.Err != nil:
			return Plan{}, fmt.Errorf("describe topic %s: %w", s.Name, d.Err)
		}
		existing = append(existing, s)
		have := int32(len(d.Partitions))
		switch {
		case s.Partitions > have:
			p.Partitions = append(p.Partitions, PartitionIncrease{Topic: s.Name, From: have, To: s.Partitions})
		case s.Partitions < have:
			p.Warnings = append(p.Warnings, fmt.Sprintf("cannot decrease partitions of %s: %d → %d (Kafka cannot remove partitions); left at %d",
				s.Name, have, s.Partitions, have))
		}
		replicas := fewestReplicas(d.Partitions)
		if s.ReplicationFactor > 0 && replicas != int(s.ReplicationFactor) {
			p.Warnings = append(p.Warnings, fmt.Sprintf("cannot change replication factor of %s: rf %d → %d (reassign its partitions with kafka-reassign-partitions.sh); left at %d",
				s.Name, replicas, s.ReplicationFactor, replicas))
		}
		if v, ok := s.Configs[ConfigMinInsyncReplicas]; ok {
			if n, _ := strconv.Atoi(v); replicas > 0 && n > replicas {
				p.Warnings = append(p.Warnings, fmt.Sprintf("%s has %d replicas, fewer than min.insync.replicas %d: acknowledged writes to it will fail",
					s.Name, replicas, n))
			}
		}
	}
	if len(existing) == 0 {
		return p, nil
	}

	existingNames := make([]string, len(existing))
	for i, s := range existing {
		existingNames[i] = s.Name
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, existingNames...)
	if err != nil {
		return Plan{}, fmt.Errorf("describe topic configs: %w", err)
	}
	for _, s := range existing {
		rc, err := rcs.On(s.Name, nil)
		if err == nil {
			err = rc.Err
		}
		if err != nil {
			return Plan{}, fmt.Errorf("describe configs of %s: %w", s.Name, err)
		}
		current := make(map[string]string, len(rc.Configs))
		for _, c := range rc.Configs {
			current[c.Key] = c.MaybeValue()
		}
		for _, k := range sortedKeys(s.Configs) {
			if current[k] != s.Configs[k] {
				p.Alters = append(p.Alters, Alter{Topic: s.Name, Key: k, Old: current[k], New: s.Configs[k]})
			}
		}
	}
	return p, nil
}

// fewestReplicas is the smallest replica count of a topic's partitions: the one that limits
// its durability.
func fewestReplicas(ps kadm.PartitionDetails) int {
	n := -1
	for _, p := range ps {
		if n < 0 || len(p.Replicas) < n {
			n = len(p.Replicas)
		}
	}
	return max(n, 0)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
