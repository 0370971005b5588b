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
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
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
	// WatchInterval is how often the lag and dead-letter gauges are refreshed; default 15 s.
	WatchInterval time.Duration
	// Version is the version of the projection to run (versions.go); 0: the live one.
	Version   int
	KafkaOpts []kgo.Opt
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
	cl    *kgo.Client // set by Run
	reg   prometheus.Registerer
	// version is the version Run runs; checkpoint its name in projection_checkpoints.
	version    Version
	checkpoint string
	// stripPrefix maps a prefixed topic back to the name projections store.
	topics map[string]string
}

// NewRunner returns a runner of proj.
func NewRunner(cfg Config, proj Projection, pool *pgxpool.Pool, codec *events.Codec, reg prometheus.Registerer, log *slog.Logger) *Runner {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.WatchInterval <= 0 {
		cfg.WatchInterval = 15 * time.Second
	}
	r := &Runner{cfg: cfg, proj: proj, pool: pool, codec: codec, m: newMetrics(reg, proj.Name()), reg: reg, checkpoint: proj.Name(),
		dead: deadletter.NewSender(codec, "projection:"+proj.Name()),
		log:  log.With("projection", proj.Name()), topics: map[string]string{}}
	for _, t := range proj.Topics() {
		r.topics[cfg.TopicPrefix+t] = t
	}
	return r
}

// Group is the projection's Kafka consumer group (prefixed like the topics, so deployments
// sharing a cluster do not share groups).
// A version after the first has a group of its own ("-v2"), so a rebuild reads the log from the
// start while the live version reads on.
func (r *Runner) Group() string {
	g := r.cfg.TopicPrefix + "storeline-projection-" + r.proj.Name()
	if r.version.Version > 1 {
		g += fmt.Sprintf("-v%d", r.version.Version)
	}
	return g
}

// errVersionEnded stops a runner whose version was retired or aborted meanwhile.
var errVersionEnded = errors.New("projection version no longer live or building")

// resolveVersion finds the version to run.
func (r *Runner) resolveVersion(ctx context.Context) error {
	var v Version
	var err error
	if r.cfg.Version == 0 {
		v, err = EnsureLive(ctx, r.pool, r.proj.Name())
	} else {
		v, err = GetVersion(ctx, r.pool, r.proj.Name(), r.cfg.Version)
	}
	if err != nil {
		return err
	}
	if v.State != VersionLive && v.State != VersionBuilding {
		return fmt.Errorf("%w: %s v%d is %s", errVersionEnded, v.Projection, v.Version, v.State)
	}
	r.version, r.checkpoint = v, v.Checkpoint
	if v.Version > 1 {
		r.m = newMetrics(r.reg, v.Checkpoint) // a version's own series beside the live one's
		r.log = r.log.With("version", v.Version)
	}
	if v.State == VersionBuilding {
		r.m.healthy = StateRebuilding
		r.m.setState(StateRebuilding)
	}
	return nil
}

// Run consumes until ctx ends, or until its version is retired or aborted. The batch in hand
// when ctx ends is finished and committed first.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.resolveVersion(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: nothing read, nothing to checkpoint
		}
		if errors.Is(err, errVersionEnded) {
			r.log.Info("projection version ended", "err", err)
			return nil
		}
		return err
	}
	topics := make([]string, 0, len(r.topics))
	for t := range r.topics {
		topics = append(topics, t)
	}
	// Set when a rebalance waits for this member to allow it: the runner then stops polling
	// ahead (see below) so that the rebalance goes on after the batch in hand.
	var rebalanceWaiting atomic.Bool
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(r.cfg.Brokers...),
		kgo.ConsumerGroup(r.Group()),
		kgo.ConsumeTopics(topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { rebalanceWaiting.Store(true) }),
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
	r.cl = cl // dead letters are produced by the consumer's client
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go r.watch(watchCtx, kadm.NewClient(cl), r.cfg.WatchInterval)
	r.log.Info("projection running", "group", r.Group(), "topics", topics)

	// While a batch is applied, the next one is polled and decoded: Postgres and the decoding
	// work side by side. Both batches are polled without a rebalance in between (rebalances
	// wait from a poll until AllowRebalance), so the partitions of both are still this member's
	// when they commit. Polling ahead stops when a rebalance waits, or after maxPollAhead: the
	// batch in hand is then applied alone and the rebalance allowed.
	var next *polled
	allowed := time.Now()
	for {
		b := next
		next = nil
		if b == nil {
			fetches := cl.PollRecords(ctx, r.cfg.MaxBatch)
			if fetches.IsClientClosed() || ctx.Err() != nil && fetches.Empty() {
				cl.AllowRebalance()
				return nil
			}
			b = r.decodeFetches(ctx, fetches)
		}
		if b != nil {
			var ahead chan *polled
			stopPolling := func() {}
			if !rebalanceWaiting.Load() && time.Since(allowed) < maxPollAhead && ctx.Err() == nil {
				pctx, cancel := context.WithCancel(ctx)
				ahead, stopPolling = make(chan *polled, 1), cancel
				go func() { ahead <- r.decodeFetches(ctx, cl.PollRecords(pctx, r.cfg.MaxBatch)) }()
			}
			// Finish the batch even if ctx ends meanwhile: shutdown drains, it does not abandon.
			err := r.applyWithRetry(context.WithoutCancel(ctx), ctx, b.recs, b.items)
			stopPolling() // a poll still waiting for records returns now, without any
			if ahead != nil {
				next = <-ahead
			}
			if err != nil {
				cl.AllowRebalance()
				if errors.Is(err, errVersionEnded) {
					r.log.Info("projection version ended: stopping", "version", r.version.Version)
					return nil
				}
				return err
			}
			if err := cl.CommitRecords(ctx, b.recs...); err != nil && ctx.Err() == nil {
				r.log.Debug("commit group offsets (lag reporting only)", "err", err)
			}
		}
		if ctx.Err() != nil {
			next = nil // stopping: a batch polled ahead stays uncommitted for the next start
		}
		if next == nil {
			rebalanceWaiting.Store(false)
			cl.AllowRebalance()
			allowed = time.Now()
		}
	}
}

// maxPollAhead bounds how long the runner polls ahead (see Run) without allowing a rebalance.
const maxPollAhead = 5 * time.Second

// polled is a batch polled and decoded, not yet applied.
type polled struct {
	recs  []*kgo.Record
	items []item
}

// decodeFetches decodes a poll's records; nil when there are none, or when stop ended first
// (the records stay uncommitted for the next start).
func (r *Runner) decodeFetches(stop context.Context, fetches kgo.Fetches) *polled {
	fetches.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
			r.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
		}
	})
	recs := fetches.Records()
	if len(recs) == 0 {
		return nil
	}
	items, ok := r.decode(context.WithoutCancel(stop), stop, recs)
	if !ok {
		return nil
	}
	return &polled{recs: recs, items: items}
}

// item is one record of a batch: an event to apply, or a record that only moves the checkpoint
// (a transaction marker, or a record dead-lettered).
type item struct {
	rec  *kgo.Record
	ev   events.Event // nil: nothing to apply
	dead *deadLetter  // set once the record is on its dead-letter topic
}

// deadLetter is a record the runner gave up on, recorded (table dead_letters) in the transaction
// that moves the checkpoint past it.
type deadLetter struct {
	copy   *kgo.Record // the copy on the dead-letter topic
	reason string
	err    error
}

// maxBatchAttempts is how often a batch that fails for a reason of its own (not an outage) is
// tried before its records are applied one by one, to find the one that fails.
const maxBatchAttempts = 3

// applyWithRetry applies a batch until it commits.
//
// A failure that is not the records' fault (Postgres or the network down, a deadlock, a broken
// statement that every record would hit) is retried until it passes: the projection stalls, it
// never skips. A failure that is a record's fault (its data violates a constraint, the handler
// panics or says so with Permanent) makes the runner apply the batch's records one by one after
// maxBatchAttempts; a record that still fails alone, maxBatchAttempts times, goes to the
// dead-letter topic and the projection goes on with the next. Later events of the same key are
// applied, not parked: every event carries its aggregate's whole state and the read models keep
// the newest version, so a later event never needs an earlier one, and replaying the dead letter
// after a fix (storeline dlq replay) changes nothing a newer version already set.
//
// It gives up only when stop ends (shutdown), leaving the batch uncommitted for the next start.
// items are recs decoded (decode).
func (r *Runner) applyWithRetry(ctx, stop context.Context, recs []*kgo.Record, items []item) error {
	oldest := recs[0].Timestamp
	for _, rec := range recs {
		if rec.Timestamp.Before(oldest) {
			oldest = rec.Timestamp
		}
	}
	r.m.batchStarted(oldest)
	_, err := r.applyItems(ctx, stop, items, len(items) > 1)
	return err
}

// applyItems applies items in one transaction, retrying as applyWithRetry says. With split, a
// batch that keeps failing for a record's fault is applied item by item instead; without, such
// an item is dead-lettered. It returns false when stop ended first.
func (r *Runner) applyItems(ctx, stop context.Context, items []item, split bool) (bool, error) {
	delay := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := r.apply(ctx, items)
		if errors.Is(err, errVersionEnded) {
			return false, err
		}
		if err == nil {
			r.m.events.Add(float64(len(items)))
			r.m.batches.Inc()
			r.m.batchSeconds.Observe(time.Since(start).Seconds())
			r.m.batchDone()
			return true, nil
		}
		r.m.failures.Inc()
		r.m.batchFailed()
		if !transient(err) && attempt >= maxBatchAttempts {
			if split {
				r.log.Warn("a batch keeps failing for a record's fault; applying its records one by one", "records", len(items), "err", err)
				for _, it := range items {
					if ok, err := r.applyItems(ctx, stop, []item{it}, false); err != nil || !ok {
						return ok, err
					}
				}
				return true, nil
			}
			it := items[0]
			if it.dead == nil && it.ev != nil {
				copied, ok := r.deadLetter(ctx, stop, it.rec, deadletter.ReasonHandlerFailed, err)
				if !ok {
					return false, nil
				}
				r.log.Error("record dead-lettered: its handler keeps failing", "topic", it.rec.Topic, "partition", it.rec.Partition, "offset", it.rec.Offset, "err", err)
				it.ev, it.dead = nil, &deadLetter{copy: copied, reason: deadletter.ReasonHandlerFailed, err: err}
				items = []item{it}
				attempt, delay = 0, 100*time.Millisecond
				continue
			}
		}
		r.log.Error("apply batch failed; retrying", "records", len(items), "attempt", attempt, "err", err, "retry_in", delay)
		if !wait(stop, &delay) {
			return false, nil
		}
	}
}

// Permanent marks an error of a projection's Apply as the records' fault (bad data), not the
// system's: the runner then finds the record and dead-letters it instead of retrying for ever.
func Permanent(err error) error { return &permanentError{err} }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// transient reports whether err is the system's fault (retry: the projection stalls) rather
// than a record's (find the record and dead-letter it).
func transient(err error) bool {
	var perm *permanentError
	if errors.As(err, &perm) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && len(pgErr.Code) >= 2 {
		switch pgErr.Code[:2] {
		case "22", "23", "2F", "P0": // data exceptions, integrity violations, routine errors: this record's data
			return false
		}
	}
	// Connections, resources, shutdown, serialization and deadlocks, and statements broken for
	// every record (42: undefined column...) stall rather than dead-letter the whole log.
	return true
}

type partitionKey struct {
	topic     string
	partition int32
}

// decode turns records into items. A record that can never decode (not our wire format, an
// unknown schema, an incompatible one) is dead-lettered, and its offset still advances, so one
// poison record does not stop the projection. A registry outage is retried until stop ends
// (then ok is false). A crash between dead-lettering and the checkpoint dead-letters the
// record again on restart: dead letters are at least once, identified by their original
// topic, partition and offset (table dead_letters keeps one row each).
func (r *Runner) decode(ctx, stop context.Context, recs []*kgo.Record) ([]item, bool) {
	items := make([]item, 0, len(recs))
	for _, rec := range recs {
		if rec.Attrs.IsControl() {
			items = append(items, item{rec: rec}) // a transaction's commit marker: an offset to pass
			continue
		}
		it, ok := r.decodeOne(ctx, stop, rec)
		if !ok {
			return nil, false
		}
		items = append(items, it)
	}
	return items, true
}

// decodeOne decodes rec, or dead-letters it.
func (r *Runner) decodeOne(ctx, stop context.Context, rec *kgo.Record) (item, bool) {
	delay := 100 * time.Millisecond
	for {
		ev, err := r.codec.Decode(ctx, rec.Value)
		if err == nil {
			return item{rec: rec, ev: ev}, true
		}
		if reason, permanent := deadletter.ReasonOf(err); permanent {
			r.m.decodeFailures.Inc()
			copied, ok := r.deadLetter(ctx, stop, rec, reason, err)
			if !ok {
				return item{}, false
			}
			r.log.Error("record dead-lettered", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "reason", reason, "err", err)
			return item{rec: rec, dead: &deadLetter{copy: copied, reason: reason, err: err}}, true
		}
		r.log.Error("decode failed; retrying", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err, "retry_in", delay)
		if !wait(stop, &delay) {
			return item{}, false
		}
	}
}

// deadLetter dead-letters rec, retrying until it is acknowledged or stop ends; it returns the
// copy on the dead-letter topic.
func (r *Runner) deadLetter(ctx, stop context.Context, rec *kgo.Record, reason string, cause error) (*kgo.Record, bool) {
	delay := 100 * time.Millisecond
	for {
		// Each attempt is bounded and ends with shutdown: the batch then stays uncommitted and
		// the record is dead-lettered again on the next start.
		actx, cancel := context.WithTimeout(stop, deadLetterTimeout)
		copied, err := r.dead.Send(actx, r.cl, rec, reason, cause)
		cancel()
		if err == nil {
			r.m.deadLetters.Inc()
			return copied, true
		}
		r.log.Error("dead-lettering failed; retrying", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err, "retry_in", delay)
		if !wait(stop, &delay) {
			return nil, false
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

// apply folds items' events into the read model and moves the checkpoints past every item, and
// records the items' dead letters, in one transaction. A panic of the projection is an error of
// the records (Permanent).
func (r *Runner) apply(ctx context.Context, items []item) (err error) {
	batch := make([]Record, 0, len(items))
	last := map[partitionKey]int64{}
	for _, it := range items {
		topic := r.topics[it.rec.Topic]
		last[partitionKey{topic, it.rec.Partition}] = it.rec.Offset
		if it.ev != nil {
			batch = append(batch, Record{Topic: topic, Partition: it.rec.Partition, Offset: it.rec.Offset, Event: it.ev})
		}
	}
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("projection %s panicked: %v", r.proj.Name(), p))
		}
	}()
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		// The version's row, held for the transaction: a promotion waits for this batch, and
		// this batch writes where the version's tables are now.
		var schema, state string
		if err := tx.QueryRow(ctx, `SELECT schema_name, state FROM projection_versions WHERE projection = $1 AND version = $2 FOR SHARE`,
			r.proj.Name(), r.version.Version).Scan(&schema, &state); err != nil {
			return fmt.Errorf("projection version: %w", err)
		}
		if state != VersionLive && state != VersionBuilding {
			return errVersionEnded
		}
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+pgx.Identifier{schema}.Sanitize()+`, public`); err != nil {
			return err
		}
		if state == VersionBuilding {
			ctx = context.WithValue(ctx, replayingKey{}, true)
		} else if r.m.healthy != StateLive { // promoted while running
			r.m.healthy = StateLive
			r.m.setState(StateLive)
		}
		if len(batch) > 0 {
			if err := r.proj.Apply(ctx, tx, batch); err != nil {
				return fmt.Errorf("apply: %w", err)
			}
		}
		for _, it := range items {
			if it.dead == nil {
				continue
			}
			if err := recordDeadLetter(ctx, tx, "projection:"+r.proj.Name(), it.rec, it.dead); err != nil {
				return err
			}
		}
		for k, off := range last {
			if _, err := tx.Exec(ctx, `
INSERT INTO public.projection_checkpoints (projection, topic, partition, next_offset, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (projection, topic, partition) DO UPDATE SET next_offset = excluded.next_offset, updated_at = now()`,
				r.checkpoint, k.topic, k.partition, off+1); err != nil {
				return fmt.Errorf("store checkpoint: %w", err)
			}
		}
		return nil
	})
}

// seekToCheckpoints replaces the group's offsets with the ones stored beside the read model.
// A partition without a checkpoint starts at the beginning of the log.
func (r *Runner) seekToCheckpoints(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	rows, err := r.pool.Query(ctx, `SELECT topic, partition, next_offset FROM projection_checkpoints WHERE projection = $1`, r.checkpoint)
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
