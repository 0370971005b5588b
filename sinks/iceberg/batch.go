package icebergsink

import "github.com/storeline/storeline/dedup"

// batch is what the sink consumed since its last commit: the rows to write and, per partition,
// the offset after the last record consumed (rows or not: records that were skipped advance it
// too).
type batch struct {
	rows    []orderRow
	next    Offsets
	records int
}

func newBatch() batch { return batch{next: Offsets{}} }

func (b *batch) empty() bool { return b.records == 0 }

func (b *batch) reset() { *b = newBatch() }

// positions returns where each row sits in the log, for dedup.
func (b *batch) positions() []dedup.Position {
	ps := make([]dedup.Position, len(b.rows))
	for i, r := range b.rows {
		ps[i] = dedup.Position{EventID: r.EventID, Topic: r.src.Topic, Partition: r.src.Partition, Offset: r.src.Offset}
	}
	return ps
}

// keep returns the rows whose flag is true.
func keep(rows []orderRow, first []bool) []orderRow {
	out := make([]orderRow, 0, len(rows))
	for i, r := range rows {
		if first[i] {
			out = append(out, r)
		}
	}
	return out
}
