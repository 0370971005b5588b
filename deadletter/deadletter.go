// Package deadletter moves records a consumer cannot process out of its way: a copy of the
// record (same key, value and headers) goes to the dead-letter topic of its source topic,
// <topic>.dlq, with headers saying which consumer gave up on it, why, and where it came from.
// The consumer then goes on; an operator inspects, fixes and replays dead letters later.
package deadletter

import (
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/events"
)

// Headers a dead letter carries besides the original record's own.
const (
	HeaderConsumer       = "dlq_consumer"       // e.g. projection:orders, sink:iceberg
	HeaderReason         = "dlq_reason"         // a Reason code
	HeaderError          = "dlq_error"          // the error message
	HeaderOriginalTopic  = "dlq_original_topic" // topic the record was read from
	HeaderOriginalPart   = "dlq_original_partition"
	HeaderOriginalOffset = "dlq_original_offset"
	HeaderOriginalTime   = "dlq_original_timestamp" // record timestamp, RFC 3339
	HeaderDeadLetteredAt = "dlq_dead_lettered_at"   // RFC 3339
	maxErrorHeaderLength = 4096
)

// Reasons a record is dead-lettered.
const (
	ReasonUndecodable        = "undecodable"         // not Avro in the Confluent wire format
	ReasonUnknownSchema      = "unknown_schema"      // schema id not in the registry, or not an event this version knows
	ReasonIncompatibleSchema = "incompatible_schema" // the writer's schema cannot be read with ours
	ReasonHandlerFailed      = "handler_failed"      // decoded, but the consumer's handler kept failing
)

// Suffix makes a source topic's dead-letter topic name.
const Suffix = ".dlq"

// Topic returns the dead-letter topic of a (prefixed) source topic.
func Topic(sourceTopic string) string { return sourceTopic + Suffix }

// ReasonOf classifies a decoding error: the reason code and whether the record can never
// decode (dead-letter it) as opposed to a failure worth retrying (the registry is down).
func ReasonOf(err error) (reason string, permanent bool) {
	switch {
	case errors.Is(err, events.ErrUndecodable):
		return ReasonUndecodable, true
	case errors.Is(err, events.ErrUnknownSchema):
		return ReasonUnknownSchema, true
	case errors.Is(err, events.ErrIncompatibleSchema):
		return ReasonIncompatibleSchema, true
	default:
		return "", false
	}
}

// Record returns the dead letter of rec: its key, value and headers, on rec's dead-letter
// topic, with the dead-letter headers added.
func Record(rec *kgo.Record, consumer, reason string, cause error, now time.Time) *kgo.Record {
	msg := cause.Error()
	if len(msg) > maxErrorHeaderLength {
		msg = msg[:maxErrorHeaderLength]
	}
	headers := append([]kgo.RecordHeader(nil), rec.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderConsumer, Value: []byte(consumer)},
		kgo.RecordHeader{Key: HeaderReason, Value: []byte(reason)},
		kgo.RecordHeader{Key: HeaderError, Value: []byte(msg)},
		kgo.RecordHeader{Key: HeaderOriginalTopic, Value: []byte(rec.Topic)},
		kgo.RecordHeader{Key: HeaderOriginalPart, Value: []byte(strconv.Itoa(int(rec.Partition)))},
		kgo.RecordHeader{Key: HeaderOriginalOffset, Value: []byte(strconv.FormatInt(rec.Offset, 10))},
		kgo.RecordHeader{Key: HeaderOriginalTime, Value: []byte(rec.Timestamp.UTC().Format(time.RFC3339Nano))},
		kgo.RecordHeader{Key: HeaderDeadLetteredAt, Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	)
	return &kgo.Record{Topic: Topic(rec.Topic), Key: rec.Key, Value: rec.Value, Headers: headers}
}
