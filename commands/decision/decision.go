// Package decision runs dashboard commands that guard an invariant (DESIGN.md "Write side"): in
// one PostgreSQL transaction it loads the aggregate's state and version, checks the version the
// caller expects (If-Match), lets the command decide, saves the new state, records the
// Idempotency-Key with the answer, and writes the events to the outbox, from which the relay
// publishes them to Kafka. Either all of that commits or none of it does.
package decision

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
	"github.com/storeline/storeline/outbox"
)

// Errors a command ends with; the API maps each to a status.
var (
	// ErrVersionMismatch: If-Match named another version than the aggregate's (412).
	ErrVersionMismatch = errors.New("the aggregate has changed since the version given in If-Match")
	// ErrNotFound: the command needs an aggregate that does not exist (404).
	ErrNotFound = errors.New("no such aggregate")
	// ErrExists: the command creates an aggregate whose id is taken (409).
	ErrExists = errors.New("an aggregate with this id exists")
	// ErrKeyReused: the Idempotency-Key was used before with another request (422).
	ErrKeyReused = errors.New("the Idempotency-Key was used with a different request")
	// ErrNameTaken: a unique name is held by another aggregate (409).
	ErrNameTaken = errors.New("the name is taken")
)

// Rejection is a command refused by its own rules (an illegal state transition, say): the API
// answers 409 with Reason.
type Rejection struct{ Reason string }

func (r *Rejection) Error() string { return r.Reason }

// Reject returns a Rejection.
func Reject(format string, args ...any) error {
	return &Rejection{Reason: fmt.Sprintf(format, args...)}
}

// Command says what a command works on and under which conditions.
type Command struct {
	// AggregateType and AggregateID name the aggregate (the events' envelope fields).
	AggregateType, AggregateID string
	Shop                       string
	// Create: the aggregate must not exist yet. Otherwise it must exist, unless MayCreate.
	Create bool
	// MayCreate: a missing aggregate is decided against as version 0 (e.g. a product's tags).
	MayCreate bool
	// IfMatch is the version the caller expects; nil: no check.
	IfMatch *int64
	// IdempotencyKey, if set, makes a repeat of the same request return the same answer.
	IdempotencyKey string
	// Scope keeps different callers' and operations' keys apart (principal and operation).
	Scope string
	// Request is the request as received (method, path, body): a key reused with another request is refused.
	Request []byte
	// Actor, CorrelationID and Traceparent go into every event's envelope and headers.
	Actor         events.Actor
	CorrelationID string
	Traceparent   string
}

// Current is the aggregate as the command finds it.
type Current struct {
	Exists  bool
	Version int64
	State   json.RawMessage
}

// Outcome is what the command decided.
type Outcome struct {
	// Events are the command's events, envelopes filled in by the engine except the payload.
	// Each gets the next aggregate version; at least one is required unless Unchanged.
	Events []events.Event
	// Unchanged: the command asks for what already is (tag a product with a tag it has), so it
	// decides nothing: no events, no state saved, no names claimed, no Also. It still answers
	// (Response, with the current version) and records its Idempotency-Key; the answer's token
	// is the zero Token, as there is nothing for a read to wait for.
	Unchanged bool
	// State is the aggregate's new state, saved as JSON (required: an aggregate is never deleted,
	// so its versions never start again).
	State any
	// Names are unique names the aggregate claims (replacing its earlier claims).
	Names []string
	// Response renders the answer body once the version is known.
	Response func(version int64) any
	// Status of the answer; default 200.
	Status int
	// Also are changes to other aggregates the decision makes at the same time (removing a tag
	// definition takes it out of the collections holding it). Load them with Load, in a fixed
	// order (by id) to avoid deadlocks.
	Also []Change
}

// Change is a decision's change to another aggregate than the command's.
type Change struct {
	AggregateType, AggregateID string
	// Current is the aggregate as Load returned it.
	Current Current
	Events  []events.Event
	State   any // required
}

// Load reads another aggregate of the same shop for update within a decision's transaction.
func Load(ctx context.Context, tx pgx.Tx, shop, aggregateType, aggregateID string) (Current, error) {
	var cur Current
	var owner string
	err := tx.QueryRow(ctx, `SELECT shop, version, state FROM aggregates WHERE aggregate_type = $1 AND aggregate_id = $2 FOR UPDATE`,
		aggregateType, aggregateID).Scan(&owner, &cur.Version, &cur.State)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || err == nil && owner != shop:
		return Current{}, nil
	case err != nil:
		return Current{}, fmt.Errorf("load %s %s: %w", aggregateType, aggregateID, err)
	}
	cur.Exists = true
	return cur, nil
}

// Result is the answer to a command, as first given or as replayed for a repeated key.
type Result struct {
	Status   int
	Body     []byte // JSON
	Version  int64
	Token    outbox.Token
	Replayed bool
}

// Decide is the command's logic: given the current aggregate, decide or refuse.
type Decide func(ctx context.Context, tx pgx.Tx, cur Current) (Outcome, error)

// Store runs commands.
type Store struct {
	pool   *pgxpool.Pool
	codec  *events.Codec
	prefix string
	now    func() time.Time
}

// NewStore returns a store encoding events with codec (topics prefixed like codec's).
func NewStore(pool *pgxpool.Pool, codec *events.Codec, topicPrefix string) *Store {
	return &Store{pool: pool, codec: codec, prefix: topicPrefix, now: time.Now}
}

// storedAnswer is a recorded answer, replayed for a repeated Idempotency-Key.
type storedAnswer struct {
	Version int64        `json:"version"`
	Token   outbox.Token `json:"token"`
}

// Run runs a command. A serialization failure or deadlock is retried a few times.
func (s *Store) Run(ctx context.Context, cmd Command, decide Decide) (Result, error) {
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		res, err := s.run(ctx, cmd, decide)
		var pgErr *pgconn.PgError
		// Serialization failures, deadlocks, and a lost race to create the same aggregate
		// (unique violation): decided again, against what the winner left.
		if errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01" || pgErr.Code == "23505") {
			lastErr = err
			continue
		}
		return res, err
	}
	return Result{}, lastErr
}

func (s *Store) run(ctx context.Context, cmd Command, decide Decide) (Result, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	hash := sha256.Sum256(cmd.Request)
	if cmd.IdempotencyKey != "" {
		// Claim the key first: a concurrent repeat blocks here until this transaction ends, then
		// finds the answer (or, if this one rolled back, claims the key itself).
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, headers, body)
			VALUES ($1, $2, $3, 0, '{}', '') ON CONFLICT DO NOTHING`, cmd.Scope, cmd.IdempotencyKey, hash[:])
		if err != nil {
			return Result{}, fmt.Errorf("idempotency key: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return s.replay(ctx, tx, cmd, hash[:])
		}
	}

	cur := Current{}
	var shop string
	err = tx.QueryRow(ctx, `SELECT shop, version, state FROM aggregates WHERE aggregate_type = $1 AND aggregate_id = $2 FOR UPDATE`,
		cmd.AggregateType, cmd.AggregateID).Scan(&shop, &cur.Version, &cur.State)
	switch {
	case err == nil && shop != cmd.Shop:
		return Result{}, ErrNotFound // another shop's: as good as absent
	case err == nil:
		cur.Exists = true
	case errors.Is(err, pgx.ErrNoRows):
	default:
		return Result{}, fmt.Errorf("load %s %s: %w", cmd.AggregateType, cmd.AggregateID, err)
	}
	if cmd.Create && cur.Exists {
		return Result{}, ErrExists
	}
	if !cmd.Create && !cmd.MayCreate && !cur.Exists {
		return Result{}, ErrNotFound
	}
	if cmd.IfMatch != nil && *cmd.IfMatch != cur.Version {
		return Result{}, fmt.Errorf("%w: expected version %d, it is %d", ErrVersionMismatch, *cmd.IfMatch, cur.Version)
	}

	out, err := decide(ctx, tx, cur)
	if err != nil {
		return Result{}, err
	}
	if out.Unchanged {
		if len(out.Events) > 0 || len(out.Also) > 0 {
			return Result{}, errors.New("decision: an unchanged outcome has events")
		}
		return s.answer(ctx, tx, cmd, out, cur.Version, outbox.Token{})
	}
	if len(out.Events) == 0 {
		return Result{}, errors.New("decision: a command must emit at least one event")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	changes := append([]Change{{AggregateType: cmd.AggregateType, AggregateID: cmd.AggregateID, Current: cur, Events: out.Events, State: out.State}}, out.Also...)
	var recs []*kgo.Record
	var version int64
	for i, c := range changes {
		v, rs, err := s.apply(ctx, tx, cmd, c, now)
		if err != nil {
			return Result{}, err
		}
		if i == 0 {
			version = v
		}
		recs = append(recs, rs...)
	}
	if err := s.claimNames(ctx, tx, cmd, out.Names); err != nil {
		return Result{}, err
	}
	first, last, err := outbox.Write(ctx, tx, s.prefix, recs)
	if err != nil {
		return Result{}, err
	}
	return s.answer(ctx, tx, cmd, out, version, outbox.Token{First: first, Last: last})
}

// answer renders the outcome's answer, records it for the Idempotency-Key and commits.
func (s *Store) answer(ctx context.Context, tx pgx.Tx, cmd Command, out Outcome, version int64, token outbox.Token) (Result, error) {
	status := out.Status
	if status == 0 {
		status = 200
	}
	var body []byte
	if out.Response != nil {
		var err error
		if body, err = json.Marshal(out.Response(version)); err != nil {
			return Result{}, fmt.Errorf("encode response: %w", err)
		}
	}
	res := Result{Status: status, Body: body, Version: version, Token: token}
	if cmd.IdempotencyKey != "" {
		meta, _ := json.Marshal(storedAnswer{Version: version, Token: res.Token})
		if _, err := tx.Exec(ctx, `UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 WHERE scope = $1 AND key = $2`,
			cmd.Scope, cmd.IdempotencyKey, status, meta, body); err != nil {
			return Result{}, fmt.Errorf("record idempotency key: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return Result{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// apply stamps a change's events (versions, ids, envelope) and saves the aggregate's new state.
func (s *Store) apply(ctx context.Context, tx pgx.Tx, cmd Command, c Change, now time.Time) (int64, []*kgo.Record, error) {
	version := c.Current.Version
	recs := make([]*kgo.Record, len(c.Events))
	for i, ev := range c.Events {
		version++
		m := ev.Meta()
		v := version
		m.EventID = events.DeterministicID(c.AggregateType, c.AggregateID, fmt.Sprint(v))
		m.AggregateType, m.AggregateID, m.AggregateVersion = c.AggregateType, c.AggregateID, &v
		m.Shop = cmd.Shop
		if m.OccurredAt.IsZero() {
			m.OccurredAt = now
		}
		m.RecordedAt = now
		m.Actor = cmd.Actor
		m.Source = events.SourceDashboard
		if cmd.CorrelationID != "" {
			corr := cmd.CorrelationID
			m.CorrelationID = &corr
		}
		var err error
		if recs[i], err = s.codec.Record(ev, cmd.Traceparent); err != nil {
			return 0, nil, fmt.Errorf("encode %s: %w", m.EventType, err)
		}
	}
	if c.State == nil {
		// Versions must never start again (event ids derive from them): an aggregate keeps a row.
		return 0, nil, fmt.Errorf("decision: %s %s: a decision must leave the aggregate a state", c.AggregateType, c.AggregateID)
	}
	state, err := json.Marshal(c.State)
	if err != nil {
		return 0, nil, fmt.Errorf("encode state: %w", err)
	}
	if !c.Current.Exists {
		// A plain insert: a concurrent first write of the same aggregate makes one of the two
		// fail on the primary key (23505), and Run decides that one again against the winner's
		// version, instead of both deciding against version 0.
		if _, err := tx.Exec(ctx, `INSERT INTO aggregates (aggregate_type, aggregate_id, shop, version, state, updated_at)
			VALUES ($1, $2, $3, $4, $5, now())`, c.AggregateType, c.AggregateID, cmd.Shop, version, state); err != nil {
			return 0, nil, fmt.Errorf("save new aggregate: %w", err)
		}
		return version, recs, nil
	}
	tag, err := tx.Exec(ctx, `UPDATE aggregates SET version = $4, state = $5, updated_at = now()
		WHERE aggregate_type = $1 AND aggregate_id = $2 AND shop = $3 AND version = $6`,
		c.AggregateType, c.AggregateID, cmd.Shop, version, state, c.Current.Version)
	if err != nil {
		return 0, nil, fmt.Errorf("save aggregate: %w", err)
	}
	if tag.RowsAffected() != 1 {
		// Loaded FOR UPDATE, so only a decider that changed an aggregate it did not load gets here.
		return 0, nil, fmt.Errorf("decision: %s %s is not at version %d as loaded", c.AggregateType, c.AggregateID, c.Current.Version)
	}
	return version, recs, nil
}

// replay answers a repeated Idempotency-Key with the recorded answer.
func (s *Store) replay(ctx context.Context, tx pgx.Tx, cmd Command, hash []byte) (Result, error) {
	var (
		stored []byte
		status int
		meta   []byte
		body   []byte
	)
	if err := tx.QueryRow(ctx, `SELECT request_hash, status, headers, body FROM idempotency_keys WHERE scope = $1 AND key = $2`,
		cmd.Scope, cmd.IdempotencyKey).Scan(&stored, &status, &meta, &body); err != nil {
		return Result{}, fmt.Errorf("read idempotency key: %w", err)
	}
	if !bytes.Equal(stored, hash) {
		return Result{}, ErrKeyReused
	}
	var a storedAnswer
	if err := json.Unmarshal(meta, &a); err != nil {
		return Result{}, fmt.Errorf("recorded answer: %w", err)
	}
	return Result{Status: status, Body: body, Version: a.Version, Token: a.Token, Replayed: true}, nil
}

// claimNames replaces the aggregate's unique names with names; a name another aggregate holds is ErrNameTaken.
func (s *Store) claimNames(ctx context.Context, tx pgx.Tx, cmd Command, names []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM aggregate_names WHERE aggregate_type = $1 AND aggregate_id = $2`, cmd.AggregateType, cmd.AggregateID); err != nil {
		return fmt.Errorf("release names: %w", err)
	}
	for _, n := range names {
		tag, err := tx.Exec(ctx, `INSERT INTO aggregate_names (aggregate_type, shop, name, aggregate_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			cmd.AggregateType, cmd.Shop, n, cmd.AggregateID)
		if err != nil {
			return fmt.Errorf("claim name: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %q", ErrNameTaken, n)
		}
	}
	return nil
}
