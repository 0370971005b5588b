// Package dedup decides whether a record is the first occurrence of its event id in the log.
//
// The log may hold one event twice: Shopify redelivers a webhook whose 200 it did not see, and
// the gateway produces it again. Events with the same id carry the same key, so both copies sit
// in one partition and their offsets order them. The first offset at which an id appears is
// recorded once (insert-if-absent) and never changes, so the answer for a given record is the
// same however often a consumer replays it, whether or not it crashed in between: a consumer
// may record first, crash before its own commit, replay, and still keep exactly that record.
package dedup

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Position is where one copy of an event sits in the log.
type Position struct {
	EventID   string
	Topic     string
	Partition int32
	Offset    int64
}

// Store records first occurrences in Postgres (table event_first_seen).
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// FirstOccurrences reports, for each position, whether it is the first copy of its event in the
// log. It records positions it has not seen yet.
func (s *Store) FirstOccurrences(ctx context.Context, ps []Position) ([]bool, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	ids := make([]string, len(ps))
	topics := make([]string, len(ps))
	parts := make([]int32, len(ps))
	offs := make([]int64, len(ps))
	for i, p := range ps {
		ids[i], topics[i], parts[i], offs[i] = p.EventID, p.Topic, p.Partition, p.Offset
	}
	// Within one call the lowest offset of an id wins, as it would across calls.
	rows, err := s.pool.Query(ctx, `
WITH input AS (
    SELECT DISTINCT ON (event_id) event_id::uuid AS event_id, topic, partition, "offset"
    FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS t(event_id, topic, partition, "offset")
    ORDER BY event_id, "offset"
), ins AS (
    INSERT INTO event_first_seen (event_id, topic, partition, "offset")
    SELECT event_id, topic, partition, "offset" FROM input
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id, topic, partition, "offset"
)
SELECT event_id::text, topic, partition, "offset" FROM ins
UNION ALL
SELECT f.event_id::text, f.topic, f.partition, f."offset"
FROM event_first_seen f JOIN input i USING (event_id)`, ids, topics, parts, offs)
	if err != nil {
		return nil, fmt.Errorf("record first occurrences: %w", err)
	}
	first := map[string]Position{}
	for rows.Next() {
		var p Position
		if err := rows.Scan(&p.EventID, &p.Topic, &p.Partition, &p.Offset); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan first occurrence: %w", err)
		}
		first[p.EventID] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read first occurrences: %w", err)
	}
	out := make([]bool, len(ps))
	for i, p := range ps {
		f, ok := first[p.EventID]
		out[i] = ok && f.Topic == p.Topic && f.Partition == p.Partition && f.Offset == p.Offset
	}
	return out, nil
}
