package gateway

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/commands/shopify"
	"github.com/storeline/storeline/commands/shopify/samples"
	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/eventlog"
	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/pii"
	"github.com/storeline/storeline/pii/piitest"
	"github.com/storeline/storeline/testkit"
)

// TestWebhookIntakeOnKafka runs the intake on the real Kafka and PostgreSQL key store: every
// topic's sample is answered 200 only once its event is on commerce, keyed by its aggregate and
// decodable; a body that does not translate is on commerce.dlq, sealed, once it is answered.
func TestWebhookIntakeOnKafka(t *testing.T) {
	brokers := testkit.Brokers(t)
	pool := testkit.FreshDatabase(t)
	prefix := testkit.FreshTopicPrefix(t, 3, events.TopicCommerce, events.TopicCommerce+deadletter.Suffix)
	ctx := context.Background()
	cat, err := events.LoadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	codec, err := events.NewCodec(ctx, cat, testkit.Registry(t, prefix), prefix)
	if err != nil {
		t.Fatal(err)
	}
	producer, err := eventlog.NewProducer(brokers, codec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	dlq, err := NewKafkaDeadLetters(brokers)
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	sealer := pii.NewSealer(piitest.Keystore(t, pool))
	h, _ := newTestGateway(Config{WebhookSecrets: []string{secret}, TopicPrefix: prefix},
		Deps{Appender: producer, DeadLetters: dlq, Sealer: shopify.PersonalData{Sealer: sealer}})
	in := &intake{h: h}

	keys := map[string]string{} // event id → key
	for _, s := range samples.Webhooks {
		w := in.send(s.Topic, "kafka.myshopify.com", s.Body, secret)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", s.Topic, w.Code, w.Body)
		}
		if s.Topic == "bulk_operations/finish" {
			continue
		}
		ev, err := shopify.Translate(ctx, shopify.Delivery{Shop: "kafka.myshopify.com", Topic: s.Topic, EventID: "evt-" + s.Topic, Body: s.Body, ReceivedAt: time.Now(), TriggeredAt: time.Now()}, shopify.PersonalData{Sealer: sealer})
		if err != nil {
			t.Fatal(err)
		}
		keys[ev.Meta().EventID] = ev.Meta().AggregateID
	}
	bad := []byte(`{"id":"#1","email":"kafka.kim@example.com","customer":{"id":99},"currency":"EUR"}`)
	if w := in.send("orders/paid", "kafka.myshopify.com", bad, secret); w.Code != http.StatusOK || status(t, w) != "dead_lettered" {
		t.Fatalf("dead letter: %d %s", w.Code, w.Body)
	}

	// Everything answered 200 is already on the topics.
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(prefix+events.TopicCommerce, prefix+events.TopicCommerce+deadletter.Suffix),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var stored, dead []*kgo.Record
	deadline, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for len(stored) < len(keys) || len(dead) < 1 {
		fs := cl.PollFetches(deadline)
		if deadline.Err() != nil {
			t.Fatalf("after 30 s: %d events, %d dead letters", len(stored), len(dead))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Topic == prefix+events.TopicCommerce {
				stored = append(stored, r)
			} else {
				dead = append(dead, r)
			}
		})
	}
	for _, r := range stored {
		ev, err := codec.Decode(ctx, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		if want, ok := keys[ev.Meta().EventID]; !ok || string(r.Key) != want {
			t.Errorf("%s keyed %s, want %s", ev.Meta().EventType, r.Key, want)
		}
	}
	d := dead[0]
	h2 := headers(d)
	if string(d.Key) != "kafka.myshopify.com" || h2["X-Shopify-Topic"] != "orders/paid" || h2[deadletter.HeaderConsumer] != DeadLetterConsumer ||
		bytes.Contains(d.Value, []byte("kim")) || h2[HeaderSealedKeyID] == "" {
		t.Errorf("dead letter: key %s value %s headers %v", d.Key, d.Value, h2)
	}
	whole, err := sealer.OpenShopify(ctx, string(d.Value), &pii.Sealed{KeyID: h2[HeaderSealedKeyID], Algorithm: h2[HeaderSealedAlgorithm], Ciphertext: []byte(h2[HeaderSealed])}, h2[events.HeaderEventID])
	if err != nil || !sameJSON(t, whole, bad) {
		t.Errorf("the dead letter does not restore the delivery: %s %v", whole, err)
	}
}
