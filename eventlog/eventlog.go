// Package eventlog is storeline's access to the Kafka event log: clients and appending events
// durably. The topics themselves are package topics' business.
package eventlog

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/metrics"
)

// Position is where a record sits in the log.
type Position struct {
	Topic     string
	Partition int32
	Offset    int64
}

// String renders the position as topic/partition/offset (the consistency token's form).
func (p Position) String() string {
	return p.Topic + "/" + strconv.Itoa(int(p.Partition)) + "/" + strconv.FormatInt(p.Offset, 10)
}

// Producer appends events to the log.
type Producer struct {
	cl       *kgo.Client
	codec    *events.Codec
	produced *prometheus.CounterVec // by topic, outcome
	seconds  prometheus.Observer
}

// NewProducer returns a producer on brokers. Records are written with acks=all by an idempotent
// producer (franz-go's defaults, stated here so nobody loosens them by accident), so an
// acknowledged event is on every in-sync replica and a retry never writes it twice.
func NewProducer(brokers []string, codec *events.Codec, reg prometheus.Registerer, opts ...kgo.Opt) (*Producer, error) {
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), // murmur2 of the key, as Kafka's Java client
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	return &Producer{cl: cl, codec: codec,
		produced: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "storeline_produce_total", Help: "Events appended to the log, by topic and outcome (acked, failed).",
		}, []string{"topic", "outcome"})),
		seconds: metrics.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "storeline_produce_seconds", Help: "Time from produce to the broker's acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15),
		})),
	}, nil
}

// Append writes an event and returns once the broker has acknowledged it, or fails when ctx ends
// first. A failed Append may still have written the event (the answer was lost): callers retry,
// and the event's deterministic id makes the copy harmless downstream.
func (p *Producer) Append(ctx context.Context, ev events.Event, traceparent string) (Position, error) {
	rec, err := p.codec.Record(ev, traceparent)
	if err != nil {
		return Position{}, err
	}
	start := time.Now()
	if err := p.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		p.produced.WithLabelValues(rec.Topic, "failed").Inc()
		return Position{}, fmt.Errorf("append %s to %s: %w", ev.Meta().EventType, rec.Topic, err)
	}
	p.seconds.Observe(time.Since(start).Seconds())
	p.produced.WithLabelValues(rec.Topic, "acked").Inc()
	return Position{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}, nil
}

// Ping checks that a broker answers.
func (p *Producer) Ping(ctx context.Context) error { return p.cl.Ping(ctx) }

// Close flushes and closes the producer.
func (p *Producer) Close() { p.cl.Close() }

// Batch appends many events without waiting for each acknowledgement, for bulk work (a sync
// streaming an export): Append queues, Wait returns once every queued event is acknowledged, with
// the first failure. A checkpoint may be recorded only after Wait returned nil.
type Batch struct {
	p   *Producer
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

// Batch starts a batch on the producer.
func (p *Producer) Batch() *Batch { return &Batch{p: p} }

// Append queues an event. An event that does not encode fails here; a produce failure shows at
// Wait. It blocks while the client's buffer is full.
func (b *Batch) Append(ctx context.Context, ev events.Event, traceparent string) error {
	rec, err := b.p.codec.Record(ev, traceparent)
	if err != nil {
		return err
	}
	b.wg.Add(1)
	start := time.Now()
	b.p.cl.Produce(ctx, rec, func(r *kgo.Record, err error) {
		defer b.wg.Done()
		if err != nil {
			b.p.produced.WithLabelValues(r.Topic, "failed").Inc()
			b.mu.Lock()
			if b.err == nil {
				b.err = fmt.Errorf("append %s to %s: %w", ev.Meta().EventType, r.Topic, err)
			}
			b.mu.Unlock()
			return
		}
		b.p.seconds.Observe(time.Since(start).Seconds())
		b.p.produced.WithLabelValues(r.Topic, "acked").Inc()
	})
	return nil
}

// Wait blocks until every queued event is acknowledged or failed, and returns the first failure.
func (b *Batch) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}
