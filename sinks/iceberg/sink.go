package icebergsink

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
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
	// consumerName names the sink in dead letters and logs.
	consumerName = "sink:iceberg"
)

// errRejoin ends a consumer session so that a new one re-reads the offsets from the tables: a
// batch was discarded because another writer committed its partitions first.
var errRejoin = errors.New("batch discarded: rejoin and re-seek from the tables' offsets")

// Sink consumes storeline's topics into one Iceberg table per event type. See the package
// documentation for how it commits exactly once.
type Sink struct {
	cfg    Config
	codec  *events.Codec
	dd     *dedup.Store
	log    *slog.Logger
	m      *metrics
	topics []string // prefixed

	cat catalog.Catalog // set by Run

	// mu guards what follows: the poll loop and the rebalance callbacks both commit.
	mu         sync.Mutex
	tables     map[string]*tableState // every table of the consumed namespaces this sink knows
	pos        Offsets                // assigned partitions → where the current batch started
	batch      batch
	nextCommit time.Time
	rejoin     bool  // set by a callback whose commit discarded the batch
	fatal      error // set by a callback whose commit failed
}

// tableState is what the sink knows of one table.
//
// known is the table's offsets marker as this sink last read or wrote it: for each partition of
// the table's topic, every record of it below that offset that belongs in the table is in it. A
// partition missing from the marker has nothing in the table (its records are read from the
// start). A table is created with a marker: the offsets its topic's partitions had when it was
// found missing (see initialMarker), so a restart does not read the topic again from the start
// for it.
type tableState struct {
	ident    table.Identifier
	key      string
	topic    string // prefixed
	known    Offsets
	exists   bool
	markedAt time.Time // when this sink last read or advanced the marker
}

func (ts *tableState) holds(topic string, partition int32, offset int64) bool {
	if !ts.exists {
		return false
	}
	next, ok := ts.known.Get(topic, partition)
	return ok && offset < next
}

// New returns a sink; Run starts it.
func New(cfg Config, codec *events.Codec, dd *dedup.Store, reg prometheus.Registerer, log *slog.Logger) (*Sink, error) {
	cfg = cfg.withDefaults()
	switch {
	case codec == nil:
		return nil, errors.New("iceberg sink: no codec")
	case dd == nil:
		return nil, errors.New("iceberg sink: no dedup store")
	case len(cfg.KafkaOpts) == 0:
		return nil, errors.New("iceberg sink: no Kafka options (seed brokers)")
	case len(cfg.Topics) == 0:
		return nil, errors.New("iceberg sink: no topics")
	}
	if log == nil {
		log = slog.Default()
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg:   cfg,
		codec: codec,
		dd:    dd,
		log:   log.With("component", "sink-iceberg", "group", cfg.Group),
		m:     m,
	}
	for _, t := range cfg.Topics {
		s.topics = append(s.topics, codec.Topic(t))
	}
	return s, nil
}

// Run consumes until ctx is done, then commits what it buffered and returns nil. It returns an
// error when the catalog cannot be opened or a commit keeps failing (after maxCommitAttempts);
// whatever it had not committed is consumed again by the next Run, from the offsets in the
// tables, so the caller may simply run it again (not two Runs of one Sink at once).
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
	s.cat = cat
	s.log.Info("iceberg sink started", "topics", s.topics, "commit_interval", s.cfg.CommitInterval)
	for {
		err := s.session(ctx)
		if errors.Is(err, errRejoin) {
			if ctx.Err() != nil {
				s.log.Info("iceberg sink stopped")
				return nil
			}
			s.log.Info("rejoining the group to re-seek from the tables' offsets")
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
	s.tables = map[string]*tableState{}
	s.pos = Offsets{}
	s.batch = newBatch()
	s.nextCommit = time.Now().Add(s.cfg.CommitInterval)
	s.rejoin, s.fatal = false, nil
	s.mu.Unlock()

	opts := append(slices.Clone(s.cfg.KafkaOpts),
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.ConsumeTopics(s.topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// A catching-up sink reads large records (orders are ~9 kB) as fast as it writes:
		// fetches of up to 8 MiB per partition, 24 MiB in all, instead of franz-go's 1 MiB per
		// partition. Bounded memory is the batch limits' job (MaxBufferedBytes).
		kgo.FetchMaxPartitionBytes(8<<20),
		kgo.FetchMaxBytes(24<<20),
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
		if err := s.add(ctx, r); err != nil {
			// The registry is unreachable: discard the batch and start again from the tables'
			// offsets a moment later.
			s.log.Error("cannot process record; rejoining", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			return false, errRejoin
		}
	}

	if ctx.Err() != nil {
		s.log.Info("shutting down: committing what is buffered", "records", s.batch.records, "rows", s.batch.rows)
		return true, s.flush(ctx, cl, true)
	}
	if !time.Now().Before(s.nextCommit) || s.batch.rows >= s.cfg.MaxBufferedRows || s.batch.bytes >= s.cfg.MaxBufferedBytes {
		return false, s.flush(ctx, cl, false)
	}
	return false, nil
}

// namespace is the table namespace of a (prefixed) topic: the topic without the prefix.
func (s *Sink) namespace(topic string) string { return strings.TrimPrefix(topic, s.cfg.TopicPrefix) }

// state returns the sink's state of a table, a new one (not known to exist) if it has none.
func (s *Sink) state(ident table.Identifier, topic string) *tableState {
	key := identString(ident)
	ts, ok := s.tables[key]
	if !ok {
		ts = &tableState{ident: ident, key: key, topic: topic, known: Offsets{}}
		s.tables[key] = ts
	}
	return ts
}

// add buffers one record for the table of its event type, or for its namespace's dead-letter
// table. Every record advances its partition's offset. Records every table they may go to
// already holds (a restart re-reads from the least advanced table) are only counted.
func (s *Sink) add(ctx context.Context, r *kgo.Record) error {
	s.m.consumed.Inc()
	exp, ok := s.batch.next.Get(r.Topic, r.Partition)
	if !ok {
		exp, ok = s.pos.Get(r.Topic, r.Partition)
	}
	if ok && r.Offset < exp {
		s.log.Warn("record below the partition's position, ignored", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "expected", exp)
		return nil
	}
	s.batch.next.Set(r.Topic, r.Partition, r.Offset+1)
	s.batch.records++

	ns := s.namespace(r.Topic)
	dl := s.state(DeadLetterIdent(ns), r.Topic)
	w, id, err := s.codec.WriterSchema(ctx, r.Value)
	if err != nil {
		reason, permanent := deadletter.ReasonOf(err)
		if !permanent {
			return err
		}
		if !dl.holds(r.Topic, r.Partition, r.Offset) {
			s.addDead(s.batch.table(dl.key, r.Topic), newDeadRow(r, reason, err, ""))
		}
		return nil
	}
	ts := s.state(TableFor(ns, w), r.Topic)
	if ts.holds(r.Topic, r.Partition, r.Offset) && dl.holds(r.Topic, r.Partition, r.Offset) {
		return nil
	}
	tb := s.batch.table(ts.key, r.Topic)
	tb.rows = append(tb.rows, eventRow{
		src: sourceOf(r), key: r.Key, value: r.Value, headers: r.Headers, schemaID: id,
		eventID: string(headerValue(r.Headers, events.HeaderEventID)),
	})
	tb.writers[id] = w
	s.batch.rows++
	s.batch.bytes += len(r.Key) + len(r.Value)
	return nil
}

func (s *Sink) addDead(tb *tableBatch, d deadRow) {
	tb.dead = append(tb.dead, d)
	s.batch.rows++
	s.batch.bytes += len(d.key) + len(d.value)
}

func sourceOf(r *kgo.Record) source {
	return source{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp}
}

func newDeadRow(r *kgo.Record, reason string, cause error, eventType string) deadRow {
	return deadRow{
		src: sourceOf(r), key: r.Key, value: r.Value, headers: headerMap(r.Headers),
		reason: reason, err: deadletter.ErrorText(cause), eventType: eventType, schemaID: wireSchemaID(r.Value),
	}
}

func headerMap(hs []kgo.RecordHeader) map[string][]byte {
	if len(hs) == 0 {
		return nil
	}
	m := make(map[string][]byte, len(hs))
	for _, h := range hs {
		m[h.Key] = h.Value
	}
	return m
}

func headerValue(hs []kgo.RecordHeader, key string) []byte {
	for _, h := range hs {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}

// wireSchemaID reads the schema id of a Confluent wire-format value; -1 if it is not one.
func wireSchemaID(v []byte) int32 {
	if len(v) < 5 || v[0] != 0 {
		return -1
	}
	return int32(binary.BigEndian.Uint32(v[1:5]))
}

// flush commits the batch (if any) and schedules the next commit. Called with s.mu held. It runs
// on a context that outlives ctx's cancellation, so a commit in flight at shutdown completes.
// settle (shutdown, partitions revoked) also brings every table's marker up to where the sink
// is, so the next owner of the partitions reads nothing twice.
func (s *Sink) flush(ctx context.Context, cl *kgo.Client, settle bool) error {
	defer func() { s.nextCommit = time.Now().Add(s.cfg.CommitInterval) }()
	if s.batch.empty() && !settle {
		return nil
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if s.batch.empty() {
		ok, err := s.advanceMarkers(fctx, s.pos, nil, true)
		if err == nil && !ok {
			err = errRejoin
		}
		return err
	}
	b := s.batch
	s.batch = newBatch()
	committed, err := s.commit(fctx, &b, settle)
	if err != nil {
		return err
	}
	if !committed {
		return errRejoin
	}
	s.pos = s.pos.Overlay(b.next)
	s.commitKafka(fctx, cl, b.next)
	return nil
}

// adjustOffsets is called when partitions are assigned, before they are fetched: it loads every
// table of the assigned topics' namespaces and seeks each partition to the least offset their
// markers hold for it (the start of the log if a table has none), so every table gets every
// record it lacks. Kafka's own group offsets are ignored: they only mirror the tables', for lag
// tooling.
func (s *Sink) adjustOffsets(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	loaded := map[string][]*tableState{}
	for topic := range assigned {
		states, err := s.loadNamespace(ctx, topic)
		if err != nil {
			s.log.Error("load tables to seek assigned partitions", "topic", topic, "err", err)
			return nil, err
		}
		loaded[topic] = states
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for topic, ps := range assigned {
		for _, fresh := range loaded[topic] {
			ts := s.state(fresh.ident, topic)
			ts.exists, ts.markedAt = true, now
			for p := range ps {
				if next, ok := fresh.known.Get(topic, p); ok {
					ts.known.Set(topic, p, next)
				} else {
					ts.known.Delete(topic, p)
				}
			}
		}
		for p := range ps {
			from, ok := int64(-1), len(loaded[topic]) > 0
			for _, ts := range loaded[topic] {
				next, has := ts.known.Get(topic, p)
				if !has {
					ok = false
					break
				}
				if from < 0 || next < from {
					from = next
				}
			}
			if ok {
				ps[p] = kgo.NewOffset().At(from).WithEpoch(-1)
				s.pos.Set(topic, p, from)
				s.log.Info("partition assigned", "topic", topic, "partition", p, "from_offset", from)
			} else {
				ps[p] = kgo.NewOffset().AtStart()
				s.pos.Set(topic, p, 0)
				s.log.Info("partition assigned", "topic", topic, "partition", p, "from_offset", "start")
			}
		}
	}
	return assigned, nil
}

// loadNamespace returns the state of every table of a topic's namespace, as the catalog has it.
func (s *Sink) loadNamespace(ctx context.Context, topic string) ([]*tableState, error) {
	ns := table.Identifier{s.namespace(topic)}
	var out []*tableState
	for ident, err := range s.cat.ListTables(ctx, ns) {
		if errors.Is(err, catalog.ErrNoSuchNamespace) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list tables of %v: %w", ns, err)
		}
		tbl, err := s.cat.LoadTable(ctx, ident)
		if err != nil {
			return nil, fmt.Errorf("load table %v: %w", ident, err)
		}
		known, err := CommittedOffsets(tbl.Metadata(), s.cfg.Group)
		if err != nil {
			return nil, fmt.Errorf("table %v: %w", ident, err)
		}
		onlyTopic := Offsets{}
		if ps, ok := known[topic]; ok {
			onlyTopic[topic] = maps.Clone(ps)
		}
		out = append(out, &tableState{ident: ident, key: identString(ident), topic: topic, known: onlyTopic, exists: true})
	}
	return out, nil
}

// onRevoked commits what is buffered before partitions leave this member (rebalance, shutdown,
// or a lost session: the commit's compare-and-swap keeps even a late commit exactly-once).
func (s *Sink) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fatal == nil && !s.rejoin {
		err := s.flush(ctx, cl, true)
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
			s.pos.Delete(topic, p)
		}
	}
}
