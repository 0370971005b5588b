package gateway

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// DeadLetterProducer keeps records on a dead-letter topic durably: Produce returns once the
// brokers acknowledged the record (acks=all), or with an error.
type DeadLetterProducer interface {
	Produce(ctx context.Context, rec *kgo.Record) error
}

// KafkaDeadLetters is the DeadLetterProducer on Kafka: an idempotent producer with acks=all, as
// the event log's own.
type KafkaDeadLetters struct {
	cl *kgo.Client
}

// NewKafkaDeadLetters returns a dead-letter producer on brokers.
func NewKafkaDeadLetters(brokers []string, opts ...kgo.Opt) (*KafkaDeadLetters, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
	}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka dead-letter producer: %w", err)
	}
	return &KafkaDeadLetters{cl: cl}, nil
}

// Produce implements DeadLetterProducer.
func (k *KafkaDeadLetters) Produce(ctx context.Context, rec *kgo.Record) error {
	return k.cl.ProduceSync(ctx, rec).FirstErr()
}

// Close flushes and closes the producer.
func (k *KafkaDeadLetters) Close() { k.cl.Close() }
