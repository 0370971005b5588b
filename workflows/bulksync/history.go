package bulksync

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
)

// SyncTopic reads a shop's history from the sync topic: every record from the start to the end
// offsets at the time of the call. The sync topic holds steps, not rows (a checkpoint per few
// thousand rows), so a day's run is a few dozen records and years of them read in moments.
type SyncTopic struct {
	Brokers   []string
	Topic     string // the prefixed sync topic
	Codec     *events.Codec
	KafkaOpts []kgo.Opt
	Log       *slog.Logger
}

// Load folds the topic's events of shop into a History.
func (s SyncTopic) Load(ctx context.Context, shop string) (*History, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(s.Brokers...)}, s.KafkaOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("sync history: kafka client: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, s.Topic)
	if err != nil {
		return nil, fmt.Errorf("sync history: end offsets of %s: %w", s.Topic, err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("sync history: end offsets of %s: %w", s.Topic, err)
	}
	remaining := map[int32]int64{}
	consume := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			remaining[o.Partition] = o.Offset
			consume[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	h := newHistory()
	if len(remaining) == 0 {
		return h, nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.Topic: consume})
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("sync history: read %s: %w", s.Topic, err)
		}
		fs.EachError(func(_ string, p int32, err error) {
			s.Log.Warn("sync history: fetch", "partition", p, "err", err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
			if !isRunEvent(r) {
				return
			}
			ev, err := s.Codec.Decode(ctx, r.Value)
			if err != nil {
				s.Log.Warn("sync history: record skipped", "partition", r.Partition, "offset", r.Offset, "err", err)
				return
			}
			if ev.Meta().Shop == shop {
				h.Apply(ev)
			}
		})
	}
	return h, nil
}

// isRunEvent tells from the event_type header whether a record is one this workflow folds,
// sparing the decoding of the others.
func isRunEvent(r *kgo.Record) bool {
	for _, hd := range r.Headers {
		if hd.Key == events.HeaderEventType {
			t := string(hd.Value)
			return strings.HasPrefix(t, "sync.SyncRun") || strings.HasPrefix(t, "sync.BulkOperation") ||
				t == events.TypeRowsEmitted || t == events.TypeWatermarkAdvanced
		}
	}
	return true // no header: decode to find out
}
