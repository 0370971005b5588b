// Package projections folds the event log into PostgreSQL read models. The Runner here drives
// every projection the same way; each read model lives in its own sub-package.
//
// Exactly once: a batch's rows and the offsets it consumed commit in one Postgres transaction
// (table projection_checkpoints), and on every partition assignment the consumer seeks to those
// offsets, so a crash at any point neither skips nor repeats a record. Group offsets are
// committed to Kafka afterwards only so that standard lag tooling sees where we are.
package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/events"
)

// Record is one decoded event with where it sits in the log.
type Record struct {
	Topic     string
	Partition int32
	Offset    int64
	Event     events.Event
}

// Projection folds events into its read model.
type Projection interface {
	// Name identifies the projection: its checkpoints and its consumer group.
	Name() string
	// Topics are the (unprefixed) topics it reads.
	Topics() []string
	// Apply folds a batch in tx. It must be idempotent per event: the log may hold an event twice.
	Apply(ctx context.Context, tx pgx.Tx, batch []Record) error
}

// Config configures a Runner.
type Config struct {
	Brokers     []string
	TopicPrefix string
	MaxBatch    int // records per transaction; default 1000
	KafkaOpts   []kgo.Opt
}

// Runner consumes a projection's topics and applies them batch by batch.
type Runner struct {
	cfg   Config
	proj  Projection
	pool  *pgxpool.Pool
	codec *events.Codec
	dead  *deadletter.Sender
	log   *slog.Logger
	m     *runnerMetrics
	// stripPrefix maps a prefixed topic back to the name projections store.
	topics map[string]string
}

// NewRunner returns a runner of proj.
func NewRunner(cfg Config, proj Projection, pool *pgxpool.Pool, codec *events.Codec, reg prometheus.Registerer, log *slog.Logger) *Runner {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	r := &Runner{cfg: cfg, proj: proj, pool: pool, codec: codec, m: newMetrics(reg, proj.Name()),
		dead: deadletter.NewSender(codec, "projection:"+proj.Name()),
		log:  log.With("projection", proj.Name()), topics: map[string]string{}}
	for _, t := range proj.Topics() {
		r.topics[cfg.TopicPrefix+t] = t
	}
	return r
}

// Group is the projection's Kafka consumer group (prefixed like the topics, so deployments
// sharing a cluster do not share groups).
func (r *Runner) Group() string { return r.cfg.TopicPrefix + "storeline-projection-" + r.proj.Name() }

// Run consumes until ctx ends. The batch in hand when ctx ends is finished and committed first.
func (r *Runner) Run(ctx context.Context) error {
	topics := make([]string, 0, len(r.topics))
	for t := range r.topics {
		topics = append(topics, t)
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(r.cfg.Brokers...),
		kgo.ConsumerGroup(r.Group()),
		kgo.ConsumeTopics(topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers (the outbox relay writes publication in transactions) come through
		// so that the checkpoint passes them too: otherwise a caught-up projection would show a
		// lag of one marker per partition forever.
		kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AdjustFetchOffsetsFn(r.seekToCheckpoints),
	}, r.cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("projection %s: kafka client: %w", r.proj.Name(), err)
	}
	defer cl.Close()
	r.log.Info("projection running", "group", r.Group(), "topics", topics)

	for {
		fetches := cl.PollRecords(ctx, r.cfg.MaxBatch)
		if fetches.IsClientClosed() || ctx.Err() != nil && fetches.Empty() {
			cl.AllowRebalance()
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				r.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
			}
		})
		recs := fetches.Records()
		if len(recs) > 0 {
			// Finish the batch even if ctx ends meanwhile: shutdown drains, it does not abandon.
			if err := r.applyWithRetry(context.WithoutCancel(ctx), ctx, cl, recs); err != nil {
				cl.AllowRebalance()
				return err
			}
			if err := cl.CommitRecords(ctx, recs...); err != nil && ctx.Err() == nil {
				r.log.Debug("commit group offsets (lag reporting only)", "err", err)
			}
		}
		cl.AllowRebalance()
	}
}

// applyWithRetry applies a batch until it commits. A Postgres outage stalls the projection; it
// never skips. It gives up only when stop ends (shutdown), leaving the batch uncommitted for the
// next start.
func (r *Runner) applyWithRetry(ctx, stop context.Context, cl *kgo.Client, recs []*kgo.Record) error {
	batch, last, ok := r.decode(ctx, stop, cl, recs)
	if !ok {
		return nil // stopping: the batch stays uncommitted for the next start
	}
	delay := 100 * time.Millisecond
	for {
		start := time.Now()
		err := r.apply(ctx, batch, last)
		if err == nil {
			r.m.events.Add(float64(len(recs)))
			r.m.batches.Inc()
			r.m.batchSeconds.Observe(time.Since(start).Seconds())
			return nil
		}
		r.m.failures.Inc()
		r.log.Error("apply batch failed; retrying", "records", len(recs), "err", err, "retry_in", delay)
		select {
		case <-stop.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

type partitionKey struct {
	topic     string
	partition int32
}

// decode turns records into events. A record that can never decode (not our wire format, an
// unknown schema, an incompatible one) is dead-lettered, and its offset still advances, so one
// poison record does not stop the projection. A registry outage is retried until stop ends
// (then ok is false). A crash between dead-lettering and the checkpoint dead-letters the
// record again on restart: dead letters are at least once, identified by their original
// topic, partition and offset headers.
func (r *Runner) decode(ctx, stop context.Context, cl *kgo.Client, recs []*kgo.Record) (batch []Record, last map[partitionKey]int64, ok bool) {
	batch = make([]Record, 0, len(recs))
	last = map[partitionKey]int64{}
	for _, rec := range recs {
		topic := r.topics[rec.Topic]
		last[partitionKey{topic, rec.Partition}] = rec.Offset
		if rec.Attrs.IsControl() {
			continue // a transaction's commit marker: no event, only an offset to pass
		}
		ev, ok := r.decodeOne(ctx, stop, cl, rec)
		if !ok {
			return nil, nil, false
		}
		if ev != nil {
			batch = append(batch, Record{Topic: topic, Partition: rec.Partition, Offset: rec.Offset, Event: ev})
		}
	}
	return batch, last, true
}

// decodeOne decodes rec, or dead-letters it and returns a nil event.
func (r *Runner) decodeOne(ctx, stop context.Context, cl *kgo.Client, rec *kgo.Record) (events.Event, bool) {
	delay := 100 * time.Millisecond
	for {
		ev, err := r.codec.Decode(ctx, rec.Value)
		if err == nil {
			return ev, true
		}
		if reason, permanent := deadletter.ReasonOf(err); permanent {
			r.m.decodeFailures.Inc()
			if r.deadLetter(ctx, stop, cl, rec, reason, err) {
				r.log.Error("record dead-lettered", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "reason", reason, "err", err)
				return nil, true
			}
			return nil, false
		}
		r.log.Error("decode failed; retrying", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err, "retry_in", delay)
		if !wait(stop, &delay) {
			return nil, false
		}
	}
}

// deadLetter dead-letters rec, retrying until it is acknowledged or stop ends.
func (r *Runner) deadLetter(ctx, stop context.Context, cl *kgo.Client, rec *kgo.Record, reason string, cause error) bool {
	delay := 100 * time.Millisecond
	for {
		// Each attempt is bounded and ends with shutdown: the batch then stays uncommitted and
		// the record is dead-lettered again on the next start.
		actx, cancel := context.WithTimeout(stop, deadLetterTimeout)
		err := r.dead.Send(actx, cl, rec, reason, cause)
		cancel()
		if err == nil {
			r.m.deadLetters.Inc()
			return true
		}
		r.log.Error("dead-lettering failed; retrying", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err, "retry_in", delay)
		if !wait(stop, &delay) {
			return false
		}
	}
}

// deadLetterTimeout bounds one attempt to dead-letter a record.
const deadLetterTimeout = 15 * time.Second

// wait sleeps *delay (doubling it up to 10 s) unless stop ends first.
func wait(stop context.Context, delay *time.Duration) bool {
	select {
	case <-stop.Done():
		return false
	case <-time.After(*delay):
		*delay = min(*delay*2, 10*time.Second)
		return true
	}
}

func (r *Runner) apply(ctx context.Context, batch []Record, last map[partitionKey]int64) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if len(batch) > 0 {
			if err := r.proj.Apply(ctx, tx, batch); err != nil {
				return fmt.Errorf("apply: %w", err)
			}
		}
		for k, off := range last {
			if _, err := tx.Exec(ctx, `
INSERT INTO projection_checkpoints (projection, topic, partition, next_offset, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_at = now()`,
				r.proj.Name(), k.topic, k.partition, off+1); err != nil {
				return fmt.Errorf("store checkpoint: %w", err)
			}
		}
		return nil
	})
}

// seekToCheckpoints replaces the group's offsets with the ones stored beside the read model.
// A partition without a checkpoint starts at the beginning of the log.
func (r *Runner) seekToCheckpoints(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	rows, err := r.pool.Query(ctx, `SELECT topic, partition, next_offset FROM projection_checkpoints WHERE projection = $1`, r.proj.Name())
	if err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	stored := map[partitionKey]int64{}
	for rows.Next() {
		var k partitionKey
		var off int64
		if err := rows.Scan(&k.topic, &k.partition, &off); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load checkpoints: %w", err)
		}
		stored[k] = off
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load checkpoints: %w", err)
	}
	for topic, parts := range offsets {
		for p := range parts {
			if off, ok := stored[partitionKey{r.topics[topic], p}]; ok {
				parts[p] = kgo.NewOffset().At(off).WithEpoch(-1)
				r.log.Info("partition assigned", "topic", topic, "partition", p, "from_offset", off)
			} else {
				parts[p] = kgo.NewOffset().AtStart()
				r.log.Info("partition assigned", "topic", topic, "partition", p, "from_offset", "start")
			}
		}
	}
	return offsets, nil
}
