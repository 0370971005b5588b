// Package registry holds storeline's schema registry: a Confluent-compatible one of its own, kept
// in a compacted Kafka topic and served over HTTP when no external registry is configured, and a
// client for an external one (Confluent, Redpanda, Apicurio, Karapace) when it is.
//
// The embedded registry (Store) is a fold of its topic: every process that hosts one reads the
// whole topic, keeps the result in memory and writes new versions to the topic itself, so several
// processes can serve and register at once without a leader. How writers agree is explained on
// state (the fold rules) and Store.RegisterVersion (the write protocol).
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Latest names the newest version of a subject wherever a version number is expected.
const Latest = -1

// AllVersions asks CheckCompatibility to check against every version of the subject.
const AllVersions = -2

const (
	// opTimeout bounds one registration, configuration change or catch-up, when the caller's
	// context does not end sooner.
	opTimeout = 30 * time.Second
	// startTimeout bounds Start's topic creation and first catch-up.
	startTimeout = time.Minute
	// stallTimeout is how long a catch-up waits without a single new record before it suspects
	// that the end offset is not reachable by reading (see catchUp).
	stallTimeout = 2 * time.Second
	// maxRaces bounds how many times a registration retries after losing a version to another
	// writer.
	maxRaces = 8
)

// StoreConfig configures a Store.
type StoreConfig struct {
	Brokers []string // Kafka bootstrap addresses
	Topic   string   // the registry's topic, normally TopicName(prefix)
	// ReplicationFactor of the topic when the store creates it; -1 (or 0) is the broker default.
	ReplicationFactor int16
	KafkaOpts         []kgo.Opt    // extra client options (TLS, SASL, ...), may be nil
	Log               *slog.Logger // nil: slog.Default()
}

// SchemaVersion is one version of a subject.
type SchemaVersion struct {
	Subject string
	Version int
	ID      int
	Schema  string // the text exactly as registered
}

// Store is the embedded schema registry: schemas by subject and version, with global ids, kept
// in a compacted Kafka topic of one partition. Several processes may run a Store on the same
// topic. Call Start before using it and Close when done.
type Store struct {
	topic             string
	replicationFactor int16
	cl                *kgo.Client
	adm               *kadm.Client
	log               *slog.Logger

	mu      sync.RWMutex
	st      *state
	applied int64         // offset of the next record to fold
	changed chan struct{} // closed, and replaced, whenever records are folded
	writing chan struct{} // a one-slot semaphore: one registration of this process at a time

	// beforePropose, set by tests only, runs between deciding a proposal and producing it: the
	// window in which another writer can take the version.
	beforePropose func(proposal schemaValue)

	life    sync.Mutex
	status  atomic.Int32 // statusNew, statusRunning, statusClosed
	cancel  context.CancelFunc
	stopped chan struct{} // closed when the reading goroutine has returned
}

const (
	statusNew int32 = iota
	statusRunning
	statusClosed
)

// NewStore returns a Store on cfg.Topic. It does not touch Kafka until Start.
func NewStore(cfg StoreConfig) (*Store, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("schema registry store: brokers and topic are required")
	}
	if cfg.ReplicationFactor == 0 {
		cfg.ReplicationFactor = -1
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), // a registration waits for its record; do not hold it back
	}, cfg.KafkaOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry kafka client: %w", err)
	}
	return &Store{
		topic:             cfg.Topic,
		replicationFactor: cfg.ReplicationFactor,
		cl:                cl,
		adm:               kadm.NewClient(cl),
		log:               log.With("component", "schema-registry", "topic", cfg.Topic),
		st:                newState(),
		changed:           make(chan struct{}),
		writing:           make(chan struct{}, 1),
		stopped:           make(chan struct{}),
	}, nil
}

// Start creates the topic if it is missing, reads it to its end, and keeps reading it in the
// background until Close. It returns once the store is caught up, so what any process registered
// before is served from the start. It also repairs races a crashed writer left unrepaired.
func (s *Store) Start(ctx context.Context) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.status.Load() != statusNew {
		return errors.New("schema registry store: Start called twice or after Close")
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := ensureTopic(ctx, s.adm, s.topic, s.replicationFactor); err != nil {
		return err
	}
	s.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: {0: kgo.NewOffset().AtStart()}})
	runCtx, stop := context.WithCancel(context.Background())
	s.cancel = stop
	go s.run(runCtx)
	go s.healPeriodically(runCtx)
	s.status.Store(statusRunning)

	if err := s.catchUp(ctx); err != nil {
		return fmt.Errorf("schema registry: read %s: %w", s.topic, err)
	}
	s.healConflicts(ctx)
	s.mu.RLock()
	s.log.Info("schema registry ready", "subjects", len(s.st.subjects), "ids", len(s.st.ids), "offset", s.applied)
	s.mu.RUnlock()
	return nil
}

// Close stops reading the topic and closes the Kafka client. Calls in flight fail.
func (s *Store) Close() {
	s.life.Lock()
	defer s.life.Unlock()
	if s.status.Swap(statusClosed) == statusClosed {
		return
	}
	if s.cancel != nil {
		s.cancel()
		<-s.stopped
	}
	s.cl.Close()
}

func (s *Store) running() error {
	if s.status.Load() != statusRunning {
		return ErrNotStarted
	}
	return nil
}

// healInterval is how often a running store repairs versions whose last record is a loser's
// (a writer died between losing a race and repairing it).
const healInterval = time.Minute

// healPeriodically repairs such versions until ctx ends, so long-running processes heal them
// well within the topic's min.compaction.lag.ms, not only at their next start.
func (s *Store) healPeriodically(ctx context.Context) {
	t := time.NewTicker(healInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			hctx, cancel := context.WithTimeout(ctx, opTimeout)
			s.healConflicts(hctx)
			cancel()
		}
	}
}

// run folds the topic into the state until ctx ends.
func (s *Store) run(ctx context.Context) {
	defer close(s.stopped)
	for {
		fs := s.cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		failed := false
		fs.EachError(func(topic string, partition int32, err error) {
			failed = true
			s.log.Error("schema registry: read topic", "partition", partition, "err", err)
		})
		if fs.NumRecords() > 0 {
			s.fold(fs)
		} else if failed {
			select { // do not spin on a persistent error; kgo keeps retrying underneath
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func (s *Store) fold(fs kgo.Fetches) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs.EachRecord(func(r *kgo.Record) {
		if err := s.st.apply(r.Key, r.Value, r.Offset); err != nil {
			level := slog.LevelWarn
			if errors.Is(err, errIDCollision) {
				level = slog.LevelError
			}
			s.log.Log(context.Background(), level, "schema registry: record ignored or suspicious", "offset", r.Offset, "err", err)
		}
		s.applied = r.Offset + 1
	})
	close(s.changed)
	s.changed = make(chan struct{})
}

var errStalled = errors.New("no progress")

// catchUp returns once every record the topic held when it was called is folded: what any
// process registered before is then visible here.
func (s *Store) catchUp(ctx context.Context) error {
	offsets, err := s.adm.ListEndOffsets(ctx, s.topic)
	if err != nil {
		return fmt.Errorf("list end offset: %w", err)
	}
	o, ok := offsets.Lookup(s.topic, 0)
	if !ok {
		return fmt.Errorf("list end offset: no partition 0 in %s", s.topic)
	}
	if o.Err != nil {
		return fmt.Errorf("list end offset: %w", o.Err)
	}
	err = s.waitApplied(ctx, o.Offset, stallTimeout)
	if !errors.Is(err, errStalled) {
		return err
	}
	// The end offset may lie past the last record left in the log: once compaction removes a
	// tombstone at the tail, no record reaches it. A marker written now lies past it and will be
	// read (Confluent's registry does the same with its NOOP records).
	key, value := encodeNoopRecord()
	off, err := s.produce(ctx, key, value)
	if err != nil {
		return err
	}
	return s.waitApplied(ctx, off+1, 0)
}

// waitApplied blocks until the records before offset target are folded. With stall > 0 it gives
// up with errStalled when no record arrives for that long.
func (s *Store) waitApplied(ctx context.Context, target int64, stall time.Duration) error {
	var stalled <-chan time.Time
	var timer *time.Timer
	if stall > 0 {
		timer = time.NewTimer(stall)
		defer timer.Stop()
		stalled = timer.C
	}
	for {
		s.mu.RLock()
		applied, changed := s.applied, s.changed
		s.mu.RUnlock()
		if applied >= target {
			return nil
		}
		select {
		case <-changed:
			if timer != nil {
				timer.Reset(stall)
			}
		case <-stalled:
			return errStalled
		case <-s.stopped:
			return ErrNotStarted
		case <-ctx.Done():
			return fmt.Errorf("wait for offset %d of the registry topic (read up to %d): %w", target, applied, ctx.Err())
		}
	}
}

func (s *Store) produce(ctx context.Context, key, value []byte) (int64, error) {
	r, err := s.cl.ProduceSync(ctx, &kgo.Record{Topic: s.topic, Partition: 0, Key: key, Value: value}).First()
	if err != nil {
		return 0, fmt.Errorf("write to %s: %w", s.topic, err)
	}
	return r.Offset, nil
}

// view runs fn on the folded state.
func (s *Store) view(fn func(*state) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(s.st)
}

// read runs fn on the folded state; when fn reports something unknown, it catches up with the
// end of the topic and runs fn again, so what another process has just registered is found.
func (s *Store) read(ctx context.Context, fn func(*state) error) error {
	if err := s.running(); err != nil {
		return err
	}
	err := s.view(fn)
	if !errors.Is(err, ErrNotFound) {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := s.catchUp(ctx); err != nil {
		return fmt.Errorf("schema registry: catch up: %w", err)
	}
	return s.view(fn)
}

func (v *version) public() SchemaVersion {
	return SchemaVersion{Subject: v.Subject, Version: v.Version, ID: v.ID, Schema: v.Schema}
}
