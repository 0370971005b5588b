package icebergsink

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/deadletter"
	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/events"
)

const (
	// pollMaxRecords bounds one poll, so a poll's processing stays short while it blocks
	// rebalances.
	pollMaxRecords = 10_000
	// flushTimeout bounds one commit (writing files and the catalog round trips), including the
	// final one on shutdown, which runs after Run's context is done.
	flushTimeout = 2 * time.Minute
)

// errRejoin ends a consumer session so that a new one re-reads the offsets from the table: a
// batch was discarded because another writer committed its partitions first.
var errRejoin = errors.New("batch discarded: rejoin and re-seek from the table's offsets")

// Sink consumes the commerce topic into the Iceberg table commerce.orders. See the package
// documentation for how it commits exactly once.
type Sink struct {
	cfg   Config
	codec *events.Codec
	dd    *dedup.Store
	log   *slog.Logger
	m     *metrics
	topic string

	cat catalog.Catalog // set by Run

	// mu guards what follows: the poll loop and the rebalance callbacks both commit.
	mu         sync.Mutex
	committed  Offsets // assigned partitions → offset the table had for them when we last looked or committed; absent: none
	batch      batch
	nextCommit time.Time
	rejoin     bool  // set by a callback whose commit discarded the batch
	fatal      error // set by a callback whose commit failed
}

// New returns a sink; Run starts it.
func New(cfg Config, codec *events.Codec, dd *dedup.Store, reg prometheus.Registerer, log *slog.Logger) (*Sink, error) {
	cfg = cfg.withDefaults()
	switch {
	case codec == nil:
		return nil, errors.New("iceberg sink: no codec")
	case dd == nil:
		return nil, errors.New("iceberg sink: no dedup store")
	case cfg.CatalogURL == "":
		return nil, errors.New("iceberg sink: no catalog database URL")
	case len(cfg.KafkaOpts) == 0:
		return nil, errors.New("iceberg sink: no Kafka options (seed brokers)")
	}
	if _, err := WarehouseURI(cfg.Warehouse); err != nil {
		return nil, fmt.Errorf("iceberg sink: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	m, err := newMetrics(reg, strings.Join(OrdersIdent, "."))
	if err != nil {
		return nil, err
	}
	return &Sink{
		cfg:   cfg,
		codec: codec,
		dd:    dd,
		log:   log.With("component", "sink-iceberg", "table", strings.Join(OrdersIdent, "."), "group", cfg.Group),
		m:     m,
		topic: codec.Topic(events.TopicCommerce),
	}, nil
}

// Run consumes until ctx is done, then commits what it buffered and returns nil. It returns an
// error when the catalog cannot be opened or a commit keeps failing (after maxCommitAttempts);
// whatever it had not committed is consumed again by the next Run, from the offsets in the
// table, so the caller may simply run it again. Call Run once per Sink.
func (s *Sink) Run(ctx context.Context) error {
	cat, err := OpenCatalog(ctx, s.cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: nothing consumed, nothing to commit
		}
		return fmt.Errorf("iceberg sink: %w", err)
	}
	defer func() {
		if err := closeCatalog(cat); err != nil {
			s.log.Warn("close iceberg catalog", "err", err)
		}
	}()
	tbl, err := EnsureOrdersTable(ctx, cat)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("iceberg sink: %w", err)
	}
	s.cat = cat
	s.log.Info("iceberg sink started", "topic", s.topic, "location", tbl.Location(),
		"commit_interval", s.cfg.CommitInterval)
	for {
		err := s.session(ctx)
		if errors.Is(err, errRejoin) {
			if ctx.Err() != nil {
				s.log.Info("iceberg sink stopped")
				return nil
			}
			s.log.Info("rejoining the group to re-seek from the table's offsets")
			continue
		}
		if err != nil {
			return fmt.Errorf("iceberg sink: %w", err)
		}
		s.log.Info("iceberg sink stopped")
		return nil
	}
}

// session is one consumer-group membership: it polls until ctx is done (nil, after the final
// commit), a batch was discarded (errRejoin), or a commit failed.
func (s *Sink) session(ctx context.Context) error {
	s.mu.Lock()
	s.committed = Offsets{}
	s.batch = newBatch()
	s.nextCommit = time.Now().Add(s.cfg.CommitInterval)
	s.rejoin, s.fatal = false, nil
	s.mu.Unlock()

	opts := append(slices.Clone(s.cfg.KafkaOpts),
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.ConsumeTopics(s.topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.AdjustFetchOffsetsFn(s.adjustOffsets),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onRevoked),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close() // leaves the group; onRevoked then finds nothing left to commit

	for {
		s.mu.Lock()
		deadline := s.nextCommit
		s.mu.Unlock()
		pctx, cancel := context.WithDeadline(ctx, deadline)
		fetches := cl.PollRecords(pctx, pollMaxRecords)
		cancel()
		done, err := s.handle(ctx, cl, fetches)
		cl.AllowRebalance()
		if err != nil || done {
			return err
		}
	}
}

// handle processes one poll: buffers its records, commits when the interval elapsed, the row
// threshold is reached or ctx is done (then done is true).
func (s *Sink) handle(ctx context.Context, cl *kgo.Client, fetches kgo.Fetches) (done bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal != nil {
		return false, s.fatal
	}
	if s.rejoin {
		return false, errRejoin
	}
	if fetches.IsClientClosed() {
		return false, errors.New("kafka client closed")
	}
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		s.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
	})
	for _, r := range fetches.Records() {
		if err := s.add(ctx, cl, r); err != nil {
			// The registry is unreachable, or a dead letter could not be written: discard the
			// batch and start again from the table's offsets a moment later.
			s.log.Error("cannot process record; rejoining", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			return false, errRejoin
		}
	}

	if ctx.Err() != nil {
		s.log.Info("shutting down: committing what is buffered", "records", s.batch.records, "rows", len(s.batch.rows))
		return true, s.flush(ctx, cl)
	}
	if !time.Now().Before(s.nextCommit) || len(s.batch.rows) >= s.cfg.MaxBufferedRows {
		return false, s.flush(ctx, cl)
	}
	return false, nil
}

// add buffers one record. Every record advances its partition's offset, whether it becomes a
// row or is skipped (undecodable, or an event type this table does not hold).
func (s *Sink) add(ctx context.Context, cl *kgo.Client, r *kgo.Record) error {
	s.m.consumed.Inc()
	exp, ok := s.batch.next.Get(r.Topic, r.Partition)
	if !ok {
		exp, ok = s.committed.Get(r.Topic, r.Partition)
	}
	if ok && r.Offset < exp {
		s.log.Warn("record below the partition's position, ignored", "partition", r.Partition, "offset", r.Offset, "expected", exp)
		return nil
	}
	s.batch.next.Set(r.Topic, r.Partition, r.Offset+1)
	s.batch.records++

	ev, err := s.codec.Decode(ctx, r.Value)
	if err != nil {
		reason, permanent := deadletter.ReasonOf(err)
		if !permanent {
			return err
		}
		return s.deadLetter(ctx, cl, r, reason, err)
	}
	oc, ok := ev.(*events.OrderCreated)
	if !ok {
		return nil // another event type on the topic: another table's
	}
	row, err := newOrderRow(oc, source{
		Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp, SchemaID: wireSchemaID(r.Value),
	})
	if err != nil {
		return s.deadLetter(ctx, cl, r, deadletter.ReasonHandlerFailed, err)
	}
	s.batch.rows = append(s.batch.rows, row)
	return nil
}

// deadLetter copies a record the sink cannot write to its dead-letter topic; its offset still
// advances with the batch.
func (s *Sink) deadLetter(ctx context.Context, cl *kgo.Client, r *kgo.Record, reason string, cause error) error {
	s.m.decodeFailures.Inc()
	if _, err := deadletter.NewSender(s.codec, "sink:iceberg").Send(ctx, cl, r, reason, cause); err != nil {
		return err
	}
	s.log.Warn("record dead-lettered", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "reason", reason, "err", cause)
	return nil
}

// wireSchemaID reads the schema id of a Confluent wire-format value.
func wireSchemaID(v []byte) int32 {
	if len(v) < 5 || v[0] != 0 {
		return -1
	}
	return int32(binary.BigEndian.Uint32(v[1:5]))
}

// flush commits the batch (if any) and schedules the next commit. Called with s.mu held. It runs
// on a context that outlives ctx's cancellation, so a commit in flight at shutdown completes.
func (s *Sink) flush(ctx context.Context, cl *kgo.Client) error {
	defer func() { s.nextCommit = time.Now().Add(s.cfg.CommitInterval) }()
	if s.batch.empty() {
		return nil
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	b := s.batch
	s.batch = newBatch()
	committed, err := s.commit(fctx, &b)
	if err != nil {
		return err
	}
	if !committed {
		return errRejoin
	}
	s.committed = s.committed.Overlay(b.next)
	s.commitKafka(fctx, cl, b.next)
	return nil
}

// adjustOffsets is called when partitions are assigned, before they are fetched: it seeks each
// one to the offset the table holds for it (the start of the log if it has none). Kafka's own
// group offsets are ignored: they only mirror the table's, for lag tooling.
func (s *Sink) adjustOffsets(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	tbl, err := s.cat.LoadTable(ctx, OrdersIdent)
	if err != nil {
		s.log.Error("load table to seek assigned partitions", "err", err)
		return nil, fmt.Errorf("load table %v: %w", OrdersIdent, err)
	}
	offs, err := CommittedOffsets(tbl.Metadata(), s.cfg.Group)
	if err != nil {
		s.log.Error("read committed offsets", "err", err)
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for topic, ps := range assigned {
		for p := range ps {
			if next, ok := offs.Get(topic, p); ok {
				ps[p] = kgo.NewOffset().At(next).WithEpoch(-1)
				s.committed.Set(topic, p, next)
				s.log.Info("partition assigned", "partition", p, "from_offset", next)
			} else {
				ps[p] = kgo.NewOffset().AtStart()
				s.committed.Delete(topic, p)
				s.log.Info("partition assigned", "partition", p, "from_offset", "start")
			}
		}
	}
	return assigned, nil
}

// onRevoked commits what is buffered before partitions leave this member (rebalance, shutdown,
// or a lost session: the commit's compare-and-swap keeps even a late commit exactly-once).
func (s *Sink) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal == nil && !s.rejoin {
		err := s.flush(ctx, cl)
		switch {
		case errors.Is(err, errRejoin):
			s.rejoin = true
		case err != nil:
			s.log.Error("commit on partition revoke failed", "err", err)
			s.fatal = err
		}
	}
	s.batch = newBatch() // nothing may outlive the assignment it came from
	for topic, ps := range revoked {
		for _, p := range ps {
			s.committed.Delete(topic, p)
		}
	}
}
