package icebergsink

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/apache/iceberg-go/table"
)

// Snapshot-summary (and table) property keys the sink writes.
const (
	// offsetsKeyPrefix + consumer group holds the JSON Offsets map of every partition that ever
	// fed the table, as of this snapshot.
	offsetsKeyPrefix = "storeline.kafka.offsets."
	// commitIDKey holds a UUID per sink commit, so a commit whose outcome is unknown can be
	// recognised after a reload.
	commitIDKey = "storeline.commit-id"
)

// OffsetsProperty is the snapshot-summary property (mirrored in a table property of the same
// name) in which the sink of a consumer group keeps its offsets.
func OffsetsProperty(group string) string { return offsetsKeyPrefix + group }

// Offsets maps topic → partition → the next offset to consume (the last offset written + 1).
// A partition that is absent has never been committed: it is consumed from the start of the log.
type Offsets map[string]map[int32]int64

// Get returns the next offset of a partition and whether the map has it.
func (o Offsets) Get(topic string, partition int32) (int64, bool) {
	off, ok := o[topic][partition]
	return off, ok
}

// Set records the next offset of a partition.
func (o Offsets) Set(topic string, partition int32, next int64) {
	ps, ok := o[topic]
	if !ok {
		ps = map[int32]int64{}
		o[topic] = ps
	}
	ps[partition] = next
}

// Delete forgets a partition.
func (o Offsets) Delete(topic string, partition int32) {
	if ps, ok := o[topic]; ok {
		delete(ps, partition)
		if len(ps) == 0 {
			delete(o, topic)
		}
	}
}

// Clone returns a deep copy.
func (o Offsets) Clone() Offsets {
	c := make(Offsets, len(o))
	for t, ps := range o {
		c[t] = maps.Clone(ps)
	}
	return c
}

// Overlay returns a new map: o with every partition of top written over it. It is how a commit
// computes the map it stores: the parent snapshot's map overlaid with the batch's end offsets,
// so partitions fed by other sink instances keep their progress.
func (o Offsets) Overlay(top Offsets) Offsets {
	c := o.Clone()
	for t, ps := range top {
		for p, off := range ps {
			c.Set(t, p, off)
		}
	}
	return c
}

// Len returns the number of partitions in the map.
func (o Offsets) Len() int {
	n := 0
	for _, ps := range o {
		n += len(ps)
	}
	return n
}

// Encode returns the property value: JSON {"topic":{"partition":next}} with sorted keys.
func (o Offsets) Encode() string {
	b, err := json.Marshal(o)
	if err != nil {
		// A map of strings and integers always marshals.
		panic(fmt.Sprintf("encode offsets: %v", err))
	}
	return string(b)
}

// DecodeOffsets parses a property value written by Encode.
func DecodeOffsets(s string) (Offsets, error) {
	o := Offsets{}
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("decode offsets %q: %w", s, err)
	}
	return o, nil
}

// CommittedOffsets returns the offsets marker of a consumer group as the table holds it: per
// partition the greater of the newest snapshot of the current ancestry that carries the summary
// property (a compaction's snapshot carries it too; another writer's none) and the table
// property the sink mirrors it in, which also moves alone when a table that got no rows has its
// marker advanced, and survives snapshot expiration. Both only ever record offsets the table
// holds every record before, so the greater is right. An empty map if neither is there.
func CommittedOffsets(meta table.Metadata, group string) (Offsets, error) {
	key := OffsetsProperty(group)
	out := Offsets{}
	if cur := meta.CurrentSnapshot(); cur != nil {
		for _, s := range table.AncestorsOf(cur.SnapshotID, meta.SnapshotByID) {
			if s.Summary == nil {
				continue
			}
			if v, ok := s.Summary.Properties[key]; ok {
				o, err := DecodeOffsets(v)
				if err != nil {
					return nil, fmt.Errorf("snapshot %d: %w", s.SnapshotID, err)
				}
				out = o
				break
			}
		}
	}
	if v, ok := meta.Properties()[key]; ok {
		o, err := DecodeOffsets(v)
		if err != nil {
			return nil, fmt.Errorf("table property: %w", err)
		}
		for t, ps := range o {
			for p, off := range ps {
				if have, ok := out.Get(t, p); !ok || off > have {
					out.Set(t, p, off)
				}
			}
		}
	}
	return out, nil
}
