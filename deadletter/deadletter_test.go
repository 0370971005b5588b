package deadletter_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/events/eventstest"
	"github.com/storeline/storeline/testkit"
)

// TestSendDropsTheValueOfARecordTooLargeToCopy: a record near the broker's size limit plus the
// dead-letter headers no longer fits; the dead letter keeps its headers without the value, so
// the consumer can go on, and the event still says what happened.
func TestSendDropsTheValueOfARecordTooLargeToCopy(t *testing.T) {
	brokers := testkit.Brokers(t)
	prefix := testkit.FreshTopicPrefix(t, 1, events.TopicSync)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	source := prefix + events.TopicCommerce
	limit := "6000"
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, map[string]*string{"max.message.bytes": &limit}, source, deadletter.Topic(source))
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 5000) // random: compression cannot make it fit
	rand.Read(big)
	rec := &kgo.Record{Topic: source, Key: []byte("k"), Value: big}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	noise := make([]byte, 2000)
	rand.Read(noise)
	cause := errors.New("the handler failed: " + hex.EncodeToString(noise)) // a 4 KiB error header
	codec := eventstest.NewCodec(t, prefix)
	if _, err := deadletter.NewSender(codec, "projection:test").Send(ctx, cl, rec, deadletter.ReasonHandlerFailed, cause); err != nil {
		t.Fatal(err)
	}

	got := consumeOne(t, brokers, deadletter.Topic(source))
	headers := map[string]string{}
	for _, h := range got.Headers {
		headers[h.Key] = string(h.Value)
	}
	if len(got.Value) != 0 || headers[deadletter.HeaderValueDropped] != "message_too_large" || headers[deadletter.HeaderOriginalOffset] != "0" {
		t.Errorf("dead letter: %d value bytes, headers %v", len(got.Value), headers)
	}
	ev, err := codec.Decode(ctx, consumeOne(t, brokers, prefix+events.TopicSync).Value)
	if err != nil {
		t.Fatal(err)
	}
	if dl := ev.(*events.RecordDeadLettered); dl.OriginalTopic != source || dl.Reason != deadletter.ReasonHandlerFailed || dl.DeadLetterOffset == nil {
		t.Errorf("event: %+v", dl)
	}
}

func consumeOne(t *testing.T, brokers []string, topic string) *kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got *kgo.Record
	testkit.WaitFor(t, 30*time.Second, "a record on "+topic, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if rs := cl.PollFetches(ctx).Records(); len(rs) > 0 {
			got = rs[0]
			return nil
		}
		return errors.New("none yet")
	})
	return got
}
