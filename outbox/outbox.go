// Package outbox carries decided events from PostgreSQL into the Kafka log exactly once.
//
// A command's transaction writes its encoded records here (Write) together with the state it
// changed; the Relay publishes them in id order inside Kafka transactions, each of which also
// writes the relay's checkpoint (the last outbox id published) to a compacted topic. The log and
// the checkpoint therefore commit together: after a crash at any point the relay reads its
// checkpoint back and goes on after it, so no record is lost or written twice. A Waiter turns a
// command's consistency token into "has this projection read my events yet".
package outbox

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"
)

// notifyChannel is the LISTEN/NOTIFY channel that wakes the relay when a command commits.
const notifyChannel = "storeline_outbox"

// writeLockID is the advisory lock every outbox writer holds from its insert to its commit. It
// makes ids commit in increasing order: without it a transaction could take id 7, commit after
// id 8 was already relayed, and be passed over for good.
const writeLockID = 0x5374_6f72_654f_7574 // "StoreOut"

// Header is a record header as stored in the outbox.
type header struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// Write appends records to the outbox within tx and returns the ids they got, in order. Call it
// last in the transaction, just before the commit: from here to the commit the transaction holds
// the outbox's write lock. topicPrefix is stripped from the records' topics (the outbox stores
// the unprefixed topic, as projection checkpoints do).
func Write(ctx context.Context, tx pgx.Tx, topicPrefix string, recs []*kgo.Record) (first, last int64, err error) {
	if len(recs) == 0 {
		return 0, 0, fmt.Errorf("outbox: nothing to write")
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(writeLockID)); err != nil {
		return 0, 0, fmt.Errorf("outbox: lock: %w", err)
	}
	for i, r := range recs {
		topic := r.Topic
		if len(topic) < len(topicPrefix) || topic[:len(topicPrefix)] != topicPrefix {
			return 0, 0, fmt.Errorf("outbox: record topic %q lacks the prefix %q", topic, topicPrefix)
		}
		hs := make([]header, len(r.Headers))
		for j, h := range r.Headers {
			hs[j] = header{Key: h.Key, Value: h.Value}
		}
		hj, err := json.Marshal(hs)
		if err != nil {
			return 0, 0, fmt.Errorf("outbox: headers: %w", err)
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO outbox (topic, record_key, record_value, headers) VALUES ($1, $2, $3, $4) RETURNING id`,
			topic[len(topicPrefix):], r.Key, r.Value, hj).Scan(&id); err != nil {
			return 0, 0, fmt.Errorf("outbox: insert: %w", err)
		}
		if i == 0 {
			first = id
		}
		last = id
	}
	if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, notifyChannel); err != nil {
		return 0, 0, fmt.Errorf("outbox: notify: %w", err)
	}
	return first, last, nil
}
