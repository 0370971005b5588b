package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/storeline/storeline/metrics"
)

// CheckpointTopic is the compacted topic holding the relay's checkpoint.
func CheckpointTopic(prefix string) string { return prefix + "_storeline_outbox" }

// relayLockID is the session advisory lock that makes one relay active at a time. The
// transactional id would fence a second one anyway, but two relays fencing each other in turn
// would make no progress.
const relayLockID = 0x5374_6f72_6552_656c // "StoreRel"

// checkpointKey is the key of the checkpoint record (compaction keeps the newest).
var checkpointKey = []byte("relay")

// checkpoint is the relay's position, committed in the same Kafka transaction as the records it
// covers. Published maps the ids of that transaction to where they landed, so a relay that
// crashed before writing them to Postgres can still fill them in.
type checkpoint struct {
	LastID    int64      `json:"last_id"`
	Published [][3]int64 `json:"published"` // id, partition, offset
}

// RelayConfig configures a Relay.
type RelayConfig struct {
	Brokers     []string
	TopicPrefix string
	// BatchSize bounds the records of one Kafka transaction; default 500.
	BatchSize int
	// Poll is how often the relay looks at the outbox without a notification; default 1 s.
	Poll time.Duration
	// Retention: published rows older than this are deleted; default 7 days.
	Retention time.Duration
	KafkaOpts []kgo.Opt
}

// Relay publishes the outbox to Kafka in id order, exactly once.
type Relay struct {
	cfg  RelayConfig
	pool *pgxpool.Pool
	log  *slog.Logger

	published prometheus.Counter
	lag       prometheus.Gauge
}

// NewRelay returns a relay of pool's outbox.
func NewRelay(cfg RelayConfig, pool *pgxpool.Pool, reg prometheus.Registerer, log *slog.Logger) *Relay {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	return &Relay{cfg: cfg, pool: pool, log: log.With("role", "relay"),
		published: metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "storeline_outbox_published_total", Help: "Outbox records the relay committed to the log.",
		})),
		lag: metrics.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "storeline_outbox_unpublished", Help: "Outbox records not yet in the log, as of the relay's last look.",
		})),
	}
}

// Run relays until ctx ends. Errors of Kafka or Postgres are logged and retried with backoff:
// the relay starts over from its checkpoint, which is always right.
func (r *Relay) Run(ctx context.Context) error {
	delay := 200 * time.Millisecond
	for ctx.Err() == nil {
		err := r.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("relay: starting over from the checkpoint", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
	return nil
}

// session is one term of the relay: hold the lock, fence earlier producers, read the checkpoint,
// then publish until an error.
func (r *Relay) session(ctx context.Context) error {
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	for {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(relayLockID)).Scan(&got); err != nil {
			return fmt.Errorf("relay lock: %w", err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
	// The lock is a session lock: unlock before the connection goes back to the pool.
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(relayLockID))
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `UNLISTEN `+notifyChannel) }()

	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(r.cfg.Brokers...),
		kgo.TransactionalID(r.cfg.TopicPrefix + "storeline-outbox-relay"),
		kgo.TransactionTimeout(30 * time.Second),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), // murmur2 of the key, as Kafka's Java client
	}, r.cfg.KafkaOpts...)...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	if err := ensureCheckpointTopic(ctx, kadm.NewClient(cl), CheckpointTopic(r.cfg.TopicPrefix)); err != nil {
		return err
	}
	// Initialising the producer id fences an earlier relay and aborts its open transaction, so
	// the checkpoint read next is final.
	if _, _, err := cl.ProducerID(ctx); err != nil {
		return fmt.Errorf("init transactional producer: %w", err)
	}
	cp, err := r.readCheckpoint(ctx)
	if err != nil {
		return err
	}
	if err := r.markPublished(ctx, cp); err != nil {
		return err
	}
	last := cp.LastID
	// A checkpoint topic deleted by hand must not make the relay publish everything again.
	var pgLast int64
	if err := r.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM outbox WHERE published_at IS NOT NULL`).Scan(&pgLast); err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	last = max(last, pgLast)
	// A database restored from a backup (or recreated) while the log kept the checkpoint would
	// hand out ids the relay takes for published: move the sequence past the checkpoint.
	var seqLast int64
	if err := r.pool.QueryRow(ctx, `SELECT last_value FROM outbox_id_seq`).Scan(&seqLast); err != nil {
		return fmt.Errorf("read outbox sequence: %w", err)
	}
	if seqLast < last {
		r.log.Warn("relay: the outbox sequence is behind the log's checkpoint (database restored?); moving it past", "sequence", seqLast, "checkpoint", last)
		if _, err := r.pool.Exec(ctx, `SELECT setval('outbox_id_seq', $1)`, last); err != nil {
			return fmt.Errorf("move outbox sequence: %w", err)
		}
	}
	r.log.Info("relay running", "after_id", last)

	nextCleanup := time.Now()
	for {
		n, newLast, err := r.publishBatch(ctx, cl, last)
		if err != nil {
			return err
		}
		last = newLast
		if n == r.cfg.BatchSize {
			continue // more waiting
		}
		if time.Now().After(nextCleanup) {
			if _, err := r.pool.Exec(ctx, `DELETE FROM outbox WHERE published_at < now() - $1::interval`, r.cfg.Retention.String()); err != nil {
				r.log.Warn("relay: clean up published rows", "err", err)
			}
			if _, err := r.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'`); err != nil {
				r.log.Warn("relay: clean up idempotency keys", "err", err)
			}
			nextCleanup = time.Now().Add(time.Hour)
		}
		wctx, cancel := context.WithTimeout(ctx, r.cfg.Poll)
		_, err = conn.Conn().WaitForNotification(wctx)
		cancel()
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}

type pending struct {
	id  int64
	rec *kgo.Record
}

// publishBatch publishes the rows after last in one Kafka transaction with the checkpoint, then
// records where they landed. It returns how many rows it published and the new last id.
func (r *Relay) publishBatch(ctx context.Context, cl *kgo.Client, last int64) (int, int64, error) {
	rows, err := r.pool.Query(ctx, `SELECT id, topic, record_key, record_value, headers FROM outbox WHERE id > $1 ORDER BY id LIMIT $2`, last, r.cfg.BatchSize)
	if err != nil {
		return 0, last, fmt.Errorf("read outbox: %w", err)
	}
	var batch []pending
	for rows.Next() {
		var (
			p      pending
			topic  string
			key    []byte
			value  []byte
			hdrRaw []byte
		)
		if err := rows.Scan(&p.id, &topic, &key, &value, &hdrRaw); err != nil {
			rows.Close()
			return 0, last, fmt.Errorf("read outbox: %w", err)
		}
		var hs []header
		if err := json.Unmarshal(hdrRaw, &hs); err != nil {
			rows.Close()
			return 0, last, fmt.Errorf("outbox row %d: headers: %w", p.id, err)
		}
		p.rec = &kgo.Record{Topic: r.cfg.TopicPrefix + topic, Key: key, Value: value}
		for _, h := range hs {
			p.rec.Headers = append(p.rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		batch = append(batch, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, last, fmt.Errorf("read outbox: %w", err)
	}
	if len(batch) == 0 {
		r.lag.Set(0)
		return 0, last, nil
	}

	if err := cl.BeginTransaction(); err != nil {
		return 0, last, fmt.Errorf("begin transaction: %w", err)
	}
	abort := func(cause error) error {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := cl.AbortBufferedRecords(actx); err != nil {
			return errors.Join(cause, fmt.Errorf("abort buffered records: %w", err))
		}
		if err := cl.EndTransaction(actx, kgo.TryAbort); err != nil {
			return errors.Join(cause, fmt.Errorf("abort transaction: %w", err))
		}
		return cause
	}
	recs := make([]*kgo.Record, len(batch))
	for i, p := range batch {
		recs[i] = p.rec
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return 0, last, abort(fmt.Errorf("produce: %w", err))
	}
	cp := checkpoint{LastID: batch[len(batch)-1].id}
	for _, p := range batch {
		cp.Published = append(cp.Published, [3]int64{p.id, int64(p.rec.Partition), p.rec.Offset})
	}
	value, err := json.Marshal(cp)
	if err != nil {
		return 0, last, abort(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: CheckpointTopic(r.cfg.TopicPrefix), Key: checkpointKey, Value: value}).FirstErr(); err != nil {
		return 0, last, abort(fmt.Errorf("produce checkpoint: %w", err))
	}
	// Past this point the outcome may be unknown (a lost answer): the next session's checkpoint
	// read tells which it was, so any error here just starts over.
	// The commit is not cut short by shutdown: a transaction left open would hold back every
	// read-committed consumer of its partitions until the transaction timeout.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	err = cl.EndTransaction(cctx, kgo.TryCommit)
	cancel()
	if err != nil {
		return 0, last, fmt.Errorf("commit transaction: %w", err)
	}
	r.published.Add(float64(len(batch)))
	if err := r.markPublished(ctx, cp); err != nil {
		return 0, last, err
	}
	if n, err := Unpublished(ctx, r.pool); err == nil {
		r.lag.Set(float64(n))
	}
	return len(batch), cp.LastID, nil
}

// markPublished records where a checkpoint's rows landed (idempotent).
func (r *Relay) markPublished(ctx context.Context, cp checkpoint) error {
	if len(cp.Published) == 0 {
		return nil
	}
	ids := make([]int64, len(cp.Published))
	parts := make([]int32, len(cp.Published))
	offs := make([]int64, len(cp.Published))
	for i, p := range cp.Published {
		ids[i], parts[i], offs[i] = p[0], int32(p[1]), p[2]
	}
	_, err := r.pool.Exec(ctx, `
		UPDATE outbox o SET published_partition = p.part, published_offset = p.off, published_at = now()
		FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS p(id, part, off)
		WHERE o.id = p.id AND o.published_at IS NULL`, ids, parts, offs)
	if err != nil {
		return fmt.Errorf("mark outbox rows published: %w", err)
	}
	return nil
}

// ensureCheckpointTopic creates the checkpoint topic if it is missing (topics.Ensure normally
// has) and refuses one of several partitions: the checkpoint is read from partition 0, and a
// checkpoint written elsewhere would go unread and its batches be published again.
func ensureCheckpointTopic(ctx context.Context, adm *kadm.Client, topic string) error {
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe %s: %w", topic, err)
	}
	d, ok := td[topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": kadm.StringPtr("compact"), "retention.ms": kadm.StringPtr("-1")}, topic)
		if err == nil && resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
			err = resp.Err
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", topic, err)
		}
		return nil
	}
	if d.Err != nil {
		return fmt.Errorf("describe %s: %w", topic, d.Err)
	}
	if n := len(d.Partitions); n != 1 {
		return fmt.Errorf("the relay's checkpoint topic %s has %d partitions; it must have exactly 1 (recreate it with one: the relay then starts from the outbox's own record of what it published)", topic, n)
	}
	return nil
}

// readCheckpoint reads the checkpoint topic up to its last stable offset and returns the newest
// committed checkpoint (zero when there is none).
func (r *Relay) readCheckpoint(ctx context.Context) (checkpoint, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	topic := CheckpointTopic(r.cfg.TopicPrefix)
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(r.cfg.Brokers...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // so the offsets of transaction markers show where the end is
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
	}, r.cfg.KafkaOpts...)...)
	if err != nil {
		return checkpoint{}, fmt.Errorf("checkpoint reader: %w", err)
	}
	defer cl.Close()

	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = 1 // read_committed: the last stable offset
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = 0, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return checkpoint{}, fmt.Errorf("list checkpoint offsets: %w", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return checkpoint{}, fmt.Errorf("list checkpoint offsets: unexpected answer")
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return checkpoint{}, fmt.Errorf("list checkpoint offsets of %s: %w", topic, err)
	}
	end := p.Offset
	var cp checkpoint
	for next := int64(-1); next < end-1; {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return checkpoint{}, err
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return checkpoint{}, fmt.Errorf("read checkpoint: %w", ferr)
		}
		for _, rec := range fetches.Records() {
			next = rec.Offset
			if rec.Attrs.IsControl() || rec.Offset >= end || string(rec.Key) != string(checkpointKey) {
				continue
			}
			var c checkpoint
			if err := json.Unmarshal(rec.Value, &c); err != nil {
				return checkpoint{}, fmt.Errorf("checkpoint at offset %d: %w", rec.Offset, err)
			}
			cp = c
		}
	}
	return cp, nil
}

type queryRower interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}

// Unpublished counts the outbox rows not yet in the log.
func Unpublished(ctx context.Context, db queryRower) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&n)
	return n, err
}

// Backlog is the outbox's state for a health check: rows not yet in the log and how long the
// oldest of them has waited (0 when none).
func Backlog(ctx context.Context, db queryRower) (rows int64, oldest time.Duration, err error) {
	var age float64
	err = db.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM outbox WHERE published_at IS NULL`).Scan(&rows, &age)
	return rows, time.Duration(age * float64(time.Second)), err
}
