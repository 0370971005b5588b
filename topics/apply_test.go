package topics_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/testkit"
	"github.com/storeline/storeline/topics"
)

// cluster is the test Kafka with a fresh topic prefix; every topic under the prefix is deleted
// when the test ends.
type cluster struct {
	t       *testing.T
	brokers []string
	adm     *kadm.Client
	prefix  string
}

func realKafka(t *testing.T) *cluster {
	brokers := testkit.Brokers(t)
	return newCluster(t, brokers, testkit.FreshTopicPrefix(t, 1))
}

func newCluster(t *testing.T, brokers []string, prefix string) *cluster {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, brokers: brokers, adm: kadm.NewClient(cl), prefix: prefix}
	t.Cleanup(func() {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		all, err := c.adm.ListTopics(ctx)
		if err != nil {
			t.Logf("list topics to delete: %v", err)
			return
		}
		var mine []string
		for _, n := range all.Names() {
			if strings.HasPrefix(n, prefix) {
				mine = append(mine, n)
			}
		}
		if _, err := c.adm.DeleteTopics(ctx, mine...); err != nil {
			t.Logf("delete topics: %v", err)
		}
	})
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func (c *cluster) diff(s topics.Settings) topics.Plan {
	c.t.Helper()
	p, err := topics.Diff(ctx(c.t), c.adm, topics.Desired(s))
	if err != nil {
		c.t.Fatalf("Diff: %v", err)
	}
	return p
}

func (c *cluster) apply(p topics.Plan) {
	c.t.Helper()
	if err := topics.Apply(ctx(c.t), c.adm, p); err != nil {
		c.t.Fatalf("Apply: %v", err)
	}
}

// fresh asks a new client, so nothing cached by the one under test can answer for the cluster.
func (c *cluster) fresh() *kadm.Client {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.brokers...))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

func (c *cluster) partitions(topic string) int {
	c.t.Helper()
	td, err := c.fresh().ListTopics(ctx(c.t), topic)
	if err == nil {
		err = td[topic].Err
	}
	if err != nil {
		c.t.Fatalf("list %s: %v", topic, err)
	}
	return len(td[topic].Partitions)
}

func (c *cluster) config(topic, key string) string {
	c.t.Helper()
	rcs, err := c.fresh().DescribeTopicConfigs(ctx(c.t), topic)
	if err != nil {
		c.t.Fatalf("describe %s: %v", topic, err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		c.t.Fatalf("describe %s: %v %v", topic, err, rc.Err)
	}
	for _, cfg := range rc.Configs {
		if cfg.Key == key {
			return cfg.MaybeValue()
		}
	}
	c.t.Fatalf("%s has no config %s", topic, key)
	return ""
}

func written(t *testing.T, p topics.Plan) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// createThenNothing is the acceptance: on a fresh prefix the plan creates every topic, and
// once applied the next plan is empty and says so.
func createThenNothing(t *testing.T, c *cluster, s topics.Settings) {
	p := c.diff(s)
	desired := topics.Desired(s)
	if len(p.Creates) != len(desired) || len(p.Alters)+len(p.Partitions)+len(p.Warnings) != 0 {
		t.Fatalf("fresh prefix: want %d creates and nothing else, got\n%s", len(desired), written(t, p))
	}
	c.apply(p)
	again := c.diff(s)
	if !again.Empty() || written(t, again) != "no changes\n" {
		t.Fatalf("second plan after apply:\n%s", written(t, again))
	}
}

func TestApplyCreatesEveryTopicThenHasNoChanges(t *testing.T) {
	c := realKafka(t)
	s := topics.Settings{Prefix: c.prefix, Partitions: 2, ReplicationFactor: 1, MinInsyncReplicas: 1}
	out := written(t, c.diff(s))
	if want := "+ create topic " + c.prefix + "commerce (2 partitions, rf 1) cleanup.policy=delete message.timestamp.type=CreateTime min.insync.replicas=1 retention.bytes=-1 retention.ms=-1\n"; !strings.Contains(out, want) {
		t.Errorf("plan lacks %q:\n%s", want, out)
	}
	createThenNothing(t, c, s)

	for _, name := range []string{c.prefix + "commerce", c.prefix + "publication.dlq", c.prefix + "sync"} {
		if n := c.partitions(name); n != 2 {
			t.Errorf("%s: %d partitions, want 2", name, n)
		}
		if v := c.config(name, "retention.ms"); v != "-1" {
			t.Errorf("%s: retention.ms=%s, want -1", name, v)
		}
		if v := c.config(name, "cleanup.policy"); v != "delete" {
			t.Errorf("%s: cleanup.policy=%s, want delete", name, v)
		}
	}
	reg := topics.RegistryTopic(c.prefix)
	if n := c.partitions(reg); n != 1 {
		t.Errorf("%s: %d partitions, want 1", reg, n)
	}
	if v := c.config(reg, "cleanup.policy"); v != "compact" {
		t.Errorf("%s: cleanup.policy=%s, want compact", reg, v)
	}
}

// A topic made by hand with a week's retention: the plan alters just that, and only once.
// min.insync.replicas=1 is the broker's default there, which counts as unchanged.
func TestApplyFixesAHandMadeTopicsRetention(t *testing.T) {
	c := realKafka(t)
	s := topics.Settings{Prefix: c.prefix, Partitions: 2, ReplicationFactor: 1, MinInsyncReplicas: 1}
	commerce := c.prefix + "commerce"
	if _, err := c.adm.CreateTopic(ctx(t), 2, 1, map[string]*string{"retention.ms": kadm.StringPtr("604800000")}, commerce); err != nil {
		t.Fatal(err)
	}
	// Visible to the client Diff uses, in its metadata as well as its configs (a broker just
	// started may answer one before the other).
	testkit.WaitFor(t, 10*time.Second, "the hand-made topic to be visible", func() error {
		td, err := c.adm.ListTopics(ctx(t), commerce)
		if err != nil {
			return err
		}
		if d, ok := td[commerce]; !ok || d.Err != nil {
			return fmt.Errorf("not listed yet")
		}
		_, err = c.adm.DescribeTopicConfigs(ctx(t), commerce)
		return err
	})

	p := c.diff(s)
	want := topics.Alter{Topic: commerce, Key: "retention.ms", Old: "604800000", New: "-1"}
	if len(p.Alters) != 1 || p.Alters[0] != want || len(p.Partitions) != 0 || len(p.Creates) != len(topics.Desired(s))-1 {
		t.Fatalf("want the one alter %+v and the other topics created, got\n%s", want, written(t, p))
	}
	if line := "~ alter " + commerce + ": retention.ms 604800000 → -1\n"; !strings.Contains(written(t, p), line) {
		t.Errorf("plan lacks %q:\n%s", line, written(t, p))
	}
	c.apply(p)
	if v := c.config(commerce, "retention.ms"); v != "-1" {
		t.Errorf("retention.ms after apply = %s, want -1", v)
	}
	if again := c.diff(s); !again.Empty() {
		t.Errorf("second plan:\n%s", written(t, again))
	}
}

// A raised partition count raises the event and dead-letter topics, not the registry's.
func TestApplyRaisesPartitions(t *testing.T) {
	c := realKafka(t)
	s := topics.Settings{Prefix: c.prefix, Partitions: 2, ReplicationFactor: 1}
	createThenNothing(t, c, s)

	s.Partitions = 4
	p := c.diff(s)
	if len(p.Partitions) != 6 || len(p.Creates)+len(p.Alters)+len(p.Warnings) != 0 {
		t.Fatalf("want 6 partition increases only, got\n%s", written(t, p))
	}
	if line := "~ partitions " + c.prefix + "sync.dlq: 2 → 4\n"; !strings.Contains(written(t, p), line) {
		t.Errorf("plan lacks %q:\n%s", line, written(t, p))
	}
	c.apply(p)
	for _, name := range []string{c.prefix + "commerce", c.prefix + "sync.dlq"} {
		if n := c.partitions(name); n != 4 {
			t.Errorf("%s: %d partitions after apply, want 4", name, n)
		}
	}
	if n := c.partitions(topics.RegistryTopic(c.prefix)); n != 1 {
		t.Errorf("registry topic: %d partitions, want 1", n)
	}
	if again := c.diff(s); !again.Empty() {
		t.Errorf("second plan:\n%s", written(t, again))
	}
}

// Fewer partitions or another replication factor than the cluster has: warnings, nothing to do.
func TestApplyNeverDecreasesPartitionsNorChangesReplication(t *testing.T) {
	c := realKafka(t)
	s := topics.Settings{Prefix: c.prefix, Partitions: 3, ReplicationFactor: 1}
	createThenNothing(t, c, s)

	s.Partitions, s.ReplicationFactor = 2, 2
	p := c.diff(s)
	if !p.Empty() {
		t.Fatalf("a decrease must not be planned:\n%s", written(t, p))
	}
	out := written(t, p)
	for _, line := range []string{
		"no changes\n",
		"! cannot decrease partitions of " + c.prefix + "commerce: 3 → 2 (Kafka cannot remove partitions); left at 3\n",
		"! cannot change replication factor of " + c.prefix + "commerce: rf 1 → 2",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("plan lacks %q:\n%s", line, out)
		}
	}
	c.apply(p)
	if n := c.partitions(c.prefix + "commerce"); n != 3 {
		t.Errorf("commerce: %d partitions, want 3 still", n)
	}
}

// min.insync.replicas above a topic's replica count: planned as asked, with a warning.
func TestPlanWarnsWhenMinInsyncReplicasExceedsReplicas(t *testing.T) {
	c := realKafka(t)
	s := topics.Settings{Prefix: c.prefix, Partitions: 1, ReplicationFactor: -1, MinInsyncReplicas: 1}
	createThenNothing(t, c, s)

	s.MinInsyncReplicas = 2
	out := written(t, c.diff(s))
	for _, line := range []string{
		"~ alter " + c.prefix + "commerce: min.insync.replicas 1 → 2\n",
		"! " + c.prefix + "commerce has 1 replicas, fewer than min.insync.replicas 2",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("plan lacks %q:\n%s", line, out)
		}
	}
}

// Another process creates a topic (with its own retention) between our Diff and our Apply:
// Apply takes TOPIC_ALREADY_EXISTS in its stride and still ends with our configs.
func TestApplyToleratesAConcurrentCreator(t *testing.T) {
	c := realKafka(t)
	s := topics.Settings{Prefix: c.prefix, Partitions: 2, ReplicationFactor: 1}
	p := c.diff(s)
	commerce := c.prefix + "commerce"
	if _, err := c.fresh().CreateTopic(ctx(t), 2, 1, map[string]*string{"retention.ms": kadm.StringPtr("1000")}, commerce); err != nil {
		t.Fatal(err)
	}
	c.apply(p)
	if v := c.config(commerce, "retention.ms"); v != "-1" {
		t.Errorf("retention.ms = %s, want -1 (ours)", v)
	}
	if again := c.diff(s); !again.Empty() {
		t.Errorf("second plan:\n%s", written(t, again))
	}
}

// The embedded broker (kfake) that `storeline run` starts with no Kafka configured: the
// start-up path (Ensure) creates the topics there, and running it again changes nothing.
func TestEnsureOnTheEmbeddedBroker(t *testing.T) {
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kf.Close)
	c := newCluster(t, kf.ListenAddrs(), "")
	s := topics.Settings{Partitions: 3, ReplicationFactor: -1}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 {
		if err := topics.Ensure(ctx(t), c.brokers, s, log); err != nil {
			t.Fatalf("Ensure: %v", err)
		}
	}
	if p := c.diff(s); !p.Empty() {
		t.Fatalf("after Ensure:\n%s", written(t, p))
	}
	if v := c.config("commerce", "retention.ms"); v != "-1" {
		t.Errorf("commerce retention.ms = %s, want -1", v)
	}
	if v := c.config("_storeline_schemas", "cleanup.policy"); v != "compact" {
		t.Errorf("registry topic cleanup.policy = %s, want compact", v)
	}
}

// Start-up never adds partitions (that moves keys); it leaves the count and warns, and the plan
// of `storeline topics apply` still shows the increase.
func TestEnsureDoesNotAddPartitions(t *testing.T) {
	kf, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kf.Close)
	c := newCluster(t, kf.ListenAddrs(), "")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if err := topics.Ensure(ctx(t), c.brokers, topics.Settings{Partitions: 2, ReplicationFactor: -1}, log); err != nil {
		t.Fatal(err)
	}
	more := topics.Settings{Partitions: 4, ReplicationFactor: -1}
	if err := topics.Ensure(ctx(t), c.brokers, more, log); err != nil {
		t.Fatal(err)
	}
	if n := c.partitions("commerce"); n != 2 {
		t.Errorf("Ensure changed commerce to %d partitions", n)
	}
	if !strings.Contains(logs.String(), "fewer partitions than configured") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
	if p := c.diff(more); len(p.Partitions) != 6 {
		t.Errorf("topics apply would add partitions to %d topics, want the 6 event and dead-letter topics", len(p.Partitions))
	}
}
