package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/testkit"
)

// storeline runs the command as the binary would, with args, and returns what it printed.
func storeline(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := Root()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func TestTopicsApplyRefusesBadSettings(t *testing.T) {
	t.Setenv("STORELINE_KAFKA_BROKERS", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "STORELINE_KAFKA_BROKERS"},
		{[]string{"--topic-replication", "0"}, "topic-replication: want a positive integer, or -1"},
		{[]string{"--topic-min-insync-replicas", "0"}, "topic-min-insync-replicas: want a positive integer"},
		{[]string{"--topic-replication", "2", "--topic-min-insync-replicas", "3"}, "topic-min-insync-replicas 3 exceeds topic-replication 2"},
	} {
		_, err := storeline(t, append([]string{"topics", "apply"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want an error containing %q, got %v", tc.args, tc.want, err)
		}
	}
}

// The acceptance: --dry-run changes nothing, apply creates, and apply again prints "no changes".
func TestTopicsApplyTwice(t *testing.T) {
	brokers := testkit.Brokers(t)
	prefix := testkit.FreshTopicPrefix(t, 1)
	// FreshTopicPrefix deletes every topic of the prefix when the test ends, those made here too.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	args := []string{"topics", "apply", "--kafka-brokers", strings.Join(brokers, ","), "--topic-prefix", prefix,
		"--topic-partitions", "2", "--topic-replication", "1"}
	commerce := "+ create topic " + prefix + "commerce (2 partitions, rf 1)"

	out, err := storeline(t, append(args, "--dry-run")...)
	if err != nil || !strings.Contains(out, commerce) || !strings.HasSuffix(out, "dry run: nothing changed\n") {
		t.Fatalf("dry run: err %v, output:\n%s", err, out)
	}
	td, err := adm.ListTopics(kadm.WithAuthorizedOps(context.Background()), prefix+"commerce")
	if err != nil {
		t.Fatal(err)
	}
	if td[prefix+"commerce"].Err == nil {
		t.Fatalf("--dry-run created %scommerce", prefix)
	}

	out, err = storeline(t, args...)
	if err != nil || strings.Count(out, "+ create topic ") != 8 || !strings.Contains(out, commerce) || !strings.HasSuffix(out, "applied\n") {
		t.Fatalf("first apply: err %v, output:\n%s", err, out)
	}
	out, err = storeline(t, args...)
	if err != nil || out != "no changes\n" {
		t.Fatalf("second apply: err %v, output:\n%s", err, out)
	}
}
