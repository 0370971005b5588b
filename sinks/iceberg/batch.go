package icebergsink

import (
	"slices"
	"strings"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/dedup"
	"github.com/storeline/storeline/sinks/iceberg/lakeschema"
)

// Column names the sink itself fills.
const (
	colKafkaTopic     = lakeschema.ColKafkaTopic
	colKafkaPartition = lakeschema.ColKafkaPartition
	colKafkaOffset    = lakeschema.ColKafkaOffset
	colKafkaTimestamp = lakeschema.ColKafkaTimestamp
	colSchemaID       = lakeschema.ColSchemaID
	colIngestedAt     = lakeschema.ColIngestedAt
)

// source is where a record sits in the log.
type source struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
}

// eventRow is a record going to its event's table, kept as the bytes of its Avro body until the
// commit decodes it straight into the table's columns (a batch holds tens of thousands).
type eventRow struct {
	src      source
	key      []byte
	value    []byte // the whole wire-format value
	headers  []kgo.RecordHeader
	schemaID uint32
	eventID  string
}

// tableBatch is what a batch holds for one table.
type tableBatch struct {
	key     string // identString of the table
	topic   string // the (prefixed) topic that feeds it
	rows    []eventRow
	writers map[uint32]*avro.RecordSchema // schemas of the rows, by id
	dead    []deadRow                     // for a dead-letter table
}

// batch is what the sink consumed since its last commit: per table the rows to write and, per
// partition, the offset after the last record consumed (written or not: records that were
// skipped advance it too).
type batch struct {
	tables  map[string]*tableBatch
	next    Offsets
	records int
	rows    int
	bytes   int // the buffered rows' record keys and values
}

func newBatch() batch { return batch{tables: map[string]*tableBatch{}, next: Offsets{}} }

func (b *batch) empty() bool { return b.records == 0 }

func (b *batch) table(key, topic string) *tableBatch {
	tb, ok := b.tables[key]
	if !ok {
		tb = &tableBatch{key: key, topic: topic, writers: map[uint32]*avro.RecordSchema{}}
		b.tables[key] = tb
	}
	return tb
}

// keys returns the batch's tables in the order they commit: event tables first, then the
// dead-letter tables, which also receive what the event tables' commits turn away.
func (b *batch) keys() []string {
	keys := make([]string, 0, len(b.tables))
	for k := range b.tables {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		dx, dy := b.tables[x].isDeadLetters(), b.tables[y].isDeadLetters()
		switch {
		case dx && !dy:
			return 1
		case dy && !dx:
			return -1
		}
		return strings.Compare(x, y)
	})
	return keys
}

func (tb *tableBatch) isDeadLetters() bool {
	return strings.HasSuffix(tb.key, "."+DeadLetterTable)
}

// positions returns where each row sits in the log, for dedup.
func positions(rows []eventRow) []dedup.Position {
	ps := make([]dedup.Position, len(rows))
	for i, r := range rows {
		ps[i] = dedup.Position{EventID: r.eventID, Topic: r.src.Topic, Partition: r.src.Partition, Offset: r.src.Offset}
	}
	return ps
}
