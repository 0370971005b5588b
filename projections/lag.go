package projections

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
)

// PartitionLag is how far a projection is behind on one partition.
type PartitionLag struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	End       int64  `json:"end"`  // the partition's end offset (last stable offset)
	Next      int64  `json:"next"` // the next offset the projection will read
	Lag       int64  `json:"lag"`  // End - Next: records not yet applied (transaction markers count too)
}

// Lag reports a projection's lag per partition: its checkpoints in Postgres (the truth, unlike
// the group offsets it commits afterwards for tooling) against the topics' end offsets.
func Lag(ctx context.Context, adm *kadm.Client, pool *pgxpool.Pool, topicPrefix, name string, topics []string) ([]PartitionLag, error) {
	prefixed := make([]string, len(topics))
	for i, t := range topics {
		prefixed[i] = topicPrefix + t
	}
	ends, err := adm.ListEndOffsets(ctx, prefixed...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	next := map[string]map[int32]int64{}
	rows, err := pool.Query(ctx, `SELECT topic, partition, next_offset FROM projection_checkpoints WHERE projection = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var topic string
		var p int32
		var off int64
		if err := rows.Scan(&topic, &p, &off); err != nil {
			return nil, fmt.Errorf("read checkpoints: %w", err)
		}
		if next[topic] == nil {
			next[topic] = map[int32]int64{}
		}
		next[topic][p] = off
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var out []PartitionLag
	var firstErr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("end offset of %s/%d: %w", o.Topic, o.Partition, o.Err)
			}
			return
		}
		topic := o.Topic[len(topicPrefix):]
		n := next[topic][o.Partition]
		out = append(out, PartitionLag{Topic: topic, Partition: o.Partition, End: o.Offset, Next: n, Lag: max(o.Offset-n, 0)})
	})
	return out, firstErr
}
