package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
)

// DeadLetter is a record a consumer gave up on, as table dead_letters keeps it.
type DeadLetter struct {
	Consumer        string     `json:"consumer"`
	OriginTopic     string     `json:"origin_topic"`
	OriginPartition int32      `json:"origin_partition"`
	OriginOffset    int64      `json:"origin_offset"`
	DLQTopic        string     `json:"dlq_topic"`
	DLQPartition    int32      `json:"dlq_partition"`
	DLQOffset       int64      `json:"dlq_offset"`
	Key             *string    `json:"key"`
	EventType       *string    `json:"event_type"`
	EventID         *string    `json:"event_id"`
	Reason          string     `json:"reason"`
	Error           string     `json:"error"`
	DeadLetteredAt  time.Time  `json:"dead_lettered_at"`
	State           string     `json:"state"` // pending, replayed, discarded
	ResolvedAt      *time.Time `json:"resolved_at"`
	ResolvedBy      *string    `json:"resolved_by"`
	ResolutionNote  *string    `json:"resolution_note"`
}

// ID names a dead letter the way operators do: consumer, original topic, partition and offset.
func (d DeadLetter) ID() string {
	return fmt.Sprintf("%s/%s/%d/%d", d.Consumer, d.OriginTopic, d.OriginPartition, d.OriginOffset)
}

// ErrNoDeadLetter is returned for a dead letter the table does not hold.
var ErrNoDeadLetter = errors.New("no such dead letter")

// recordDeadLetter keeps a dead letter in the transaction that moves the checkpoint past it. A
// record dead-lettered again (a crash before that transaction) keeps one row, with the newest copy.
func recordDeadLetter(ctx context.Context, tx pgx.Tx, consumer string, rec *kgo.Record, d *deadLetter) error {
	var key *string
	if len(rec.Key) > 0 && utf8.Valid(rec.Key) {
		k := string(rec.Key)
		key = &k
	}
	header := func(name string) *string {
		for _, h := range rec.Headers {
			if h.Key == name {
				v := string(h.Value)
				return &v
			}
		}
		return nil
	}
	_, err := tx.Exec(ctx, `
INSERT INTO public.dead_letters (consumer, origin_topic, origin_partition, origin_offset, dlq_topic, dlq_partition, dlq_offset,
                          record_key, event_type, event_id, reason, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (consumer, origin_topic, origin_partition, origin_offset) DO UPDATE
SET dlq_topic = excluded.dlq_topic, dlq_partition = excluded.dlq_partition, dlq_offset = excluded.dlq_offset,
    reason = excluded.reason, error = excluded.error, dead_lettered_at = now()`,
		consumer, rec.Topic, rec.Partition, rec.Offset, d.copy.Topic, d.copy.Partition, d.copy.Offset,
		key, header(events.HeaderEventType), header(events.HeaderEventID), d.reason, strings.ToValidUTF8(d.err.Error(), "?"))
	if err != nil {
		return fmt.Errorf("record dead letter: %w", err)
	}
	return nil
}

// DeadLetterFilter selects dead letters.
type DeadLetterFilter struct {
	Consumer string // e.g. projection:orders; "" any
	State    string // pending, replayed, discarded; "" any
	Limit    int    // 0: 100
}

const selectDeadLetters = `
SELECT consumer, origin_topic, origin_partition, origin_offset, dlq_topic, dlq_partition, dlq_offset, record_key,
       event_type, event_id, reason, error, dead_lettered_at, state, resolved_at, resolved_by, resolution_note
FROM dead_letters `

func scanDeadLetter(row pgx.CollectableRow) (DeadLetter, error) {
	var d DeadLetter
	err := row.Scan(&d.Consumer, &d.OriginTopic, &d.OriginPartition, &d.OriginOffset, &d.DLQTopic, &d.DLQPartition, &d.DLQOffset,
		&d.Key, &d.EventType, &d.EventID, &d.Reason, &d.Error, &d.DeadLetteredAt, &d.State, &d.ResolvedAt, &d.ResolvedBy, &d.ResolutionNote)
	return d, err
}

// ListDeadLetters returns dead letters, oldest first.
func ListDeadLetters(ctx context.Context, pool *pgxpool.Pool, f DeadLetterFilter) ([]DeadLetter, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := pool.Query(ctx, selectDeadLetters+`WHERE ($1 = '' OR consumer = $1) AND ($2 = '' OR state = $2)
ORDER BY dead_lettered_at, origin_topic, origin_partition, origin_offset LIMIT $3`, f.Consumer, f.State, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	ds, err := pgx.CollectRows(rows, scanDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return ds, nil
}

// GetDeadLetter returns one dead letter by its ID (consumer/topic/partition/offset).
func GetDeadLetter(ctx context.Context, pool *pgxpool.Pool, id string) (DeadLetter, error) {
	consumer, topic, partition, offset, err := parseDeadLetterID(id)
	if err != nil {
		return DeadLetter{}, err
	}
	rows, err := pool.Query(ctx, selectDeadLetters+`WHERE consumer = $1 AND origin_topic = $2 AND origin_partition = $3 AND origin_offset = $4`,
		consumer, topic, partition, offset)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("read dead letter: %w", err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDeadLetter)
	if errors.Is(err, pgx.ErrNoRows) {
		return DeadLetter{}, fmt.Errorf("%w: %s", ErrNoDeadLetter, id)
	}
	return d, err
}

// parseDeadLetterID splits consumer/topic/partition/offset; the consumer has a colon, never a
// slash, and Kafka topics have no slash either.
func parseDeadLetterID(id string) (consumer, topic string, partition int32, offset int64, err error) {
	parts := strings.Split(id, "/")
	if len(parts) != 4 {
		return "", "", 0, 0, fmt.Errorf("%w: %q is not consumer/topic/partition/offset", ErrNoDeadLetter, id)
	}
	if _, err := fmt.Sscan(parts[2], &partition); err != nil {
		return "", "", 0, 0, fmt.Errorf("%w: partition %q", ErrNoDeadLetter, parts[2])
	}
	if _, err := fmt.Sscan(parts[3], &offset); err != nil {
		return "", "", 0, 0, fmt.Errorf("%w: offset %q", ErrNoDeadLetter, parts[3])
	}
	return parts[0], parts[1], partition, offset, nil
}

// DiscardDeadLetter marks a pending dead letter discarded: looked at, and not to be applied.
func DiscardDeadLetter(ctx context.Context, pool *pgxpool.Pool, id, by, note string) error {
	return resolve(ctx, pool, id, "discarded", by, note)
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func resolve(ctx context.Context, db execer, id, state, by, note string) error {
	consumer, topic, partition, offset, err := parseDeadLetterID(id)
	if err != nil {
		return err
	}
	tag, err := db.Exec(ctx, `UPDATE dead_letters SET state = $5, resolved_at = now(), resolved_by = $6, resolution_note = NULLIF($7, '')
WHERE consumer = $1 AND origin_topic = $2 AND origin_partition = $3 AND origin_offset = $4 AND state = 'pending'`,
		consumer, topic, partition, offset, state, by, note)
	if err != nil {
		return fmt.Errorf("resolve dead letter: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("%w pending: %s", ErrNoDeadLetter, id)
	}
	return nil
}

// ReplayDeadLetter applies a pending dead letter of proj again, after a fix: the record is read
// back from its original topic (kept for ever), decoded with today's schemas and code, and
// applied in a transaction that also marks it replayed. Applying an old event is safe: the read
// models keep the newest version, so it changes only what nothing newer has set. A record that
// still fails stays pending, and the error says why.
func ReplayDeadLetter(ctx context.Context, pool *pgxpool.Pool, brokers []string, codec *events.Codec, proj Projection, topicPrefix, id, by string) error {
	d, err := GetDeadLetter(ctx, pool, id)
	if err != nil {
		return err
	}
	if d.Consumer != "projection:"+proj.Name() {
		return fmt.Errorf("dead letter %s is %s's, not projection %s's", id, d.Consumer, proj.Name())
	}
	if d.State != "pending" {
		return fmt.Errorf("dead letter %s is %s already", id, d.State)
	}
	ev, err := ReadDeadLetterEvent(ctx, brokers, codec, d)
	if err != nil {
		return err
	}
	batch := []Record{{Topic: strings.TrimPrefix(d.OriginTopic, topicPrefix), Partition: d.OriginPartition, Offset: d.OriginOffset, Event: ev}}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := proj.Apply(ctx, tx, batch); err != nil {
			return fmt.Errorf("dead letter %s still fails: %w", id, err)
		}
		return resolve(ctx, tx, id, "replayed", by, "")
	})
}

// ReadDeadLetterEvent reads a dead letter's record back from its original topic and decodes it
// with today's schemas.
func ReadDeadLetterEvent(ctx context.Context, brokers []string, codec *events.Codec, d DeadLetter) (events.Event, error) {
	rec, err := fetchRecord(ctx, brokers, d.OriginTopic, d.OriginPartition, d.OriginOffset)
	if err != nil {
		return nil, err
	}
	ev, err := codec.Decode(ctx, rec.Value)
	if err != nil {
		return nil, fmt.Errorf("dead letter %s still does not decode: %w", d.ID(), err)
	}
	return ev, nil
}

// fetchRecord reads the one record at topic/partition/offset.
func fetchRecord(ctx context.Context, brokers []string, topic string, partition int32, offset int64) (*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().At(offset)}}))
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s/%d@%d: %w", topic, partition, offset, err)
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return nil, fmt.Errorf("read %s/%d@%d: %w", topic, partition, offset, ferr)
		}
		for _, r := range fetches.Records() {
			if r.Offset == offset {
				return r, nil
			}
			if r.Offset > offset {
				return nil, fmt.Errorf("read %s/%d@%d: the record is gone (compacted or deleted)", topic, partition, offset)
			}
		}
	}
}
