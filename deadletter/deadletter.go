// Package deadletter moves records a consumer cannot process out of its way: a copy of the
// record (same key, value and headers) goes to the dead-letter topic of its source topic,
// <topic>.dlq, with headers saying which consumer gave up on it, why, and where it came from.
// The consumer then goes on; an operator inspects, fixes and replays dead letters later.
package deadletter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"
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
	HeaderValueDropped   = "dlq_value_dropped"      // set (message_too_large) when the value could not be copied
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
	msg := truncate(cause.Error())
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

// Sender dead-letters the records one consumer gives up on: the copy on <topic>.dlq, then a
// sync.RecordDeadLettered event saying what and why, so operators see dead letters on the same
// log as everything else.
type Sender struct {
	codec    *events.Codec
	consumer string
}

// NewSender returns the sender of consumer (<kind>:<name>, e.g. projection:orders).
func NewSender(codec *events.Codec, consumer string) *Sender {
	return &Sender{codec: codec, consumer: consumer}
}

// Send copies rec to its dead-letter topic and records the RecordDeadLettered event, both
// acknowledged by the brokers before it returns. Sending the same record again (after a crash
// before the consumer's checkpoint) adds a second copy but the same event id.
func (s *Sender) Send(ctx context.Context, cl *kgo.Client, rec *kgo.Record, reason string, cause error) (*kgo.Record, error) {
	now := time.Now()
	dl := Record(rec, s.consumer, reason, cause, now)
	produced, err := cl.ProduceSync(ctx, dl).First()
	if errors.Is(err, kerr.MessageTooLarge) {
		// The copy's headers pushed a record near the size limit over it: keep the headers (who,
		// why, where from: the original stays readable at its offset) and drop the value.
		dl.Value = nil
		dl.Headers = append(dl.Headers, kgo.RecordHeader{Key: HeaderValueDropped, Value: []byte("message_too_large")})
		produced, err = cl.ProduceSync(ctx, dl).First()
	}
	if err != nil {
		return nil, fmt.Errorf("dead-letter %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
	}
	ev := s.event(rec, produced, reason, cause, now)
	r, err := s.codec.Record(ev, header(rec, events.HeaderTraceparent))
	if err != nil {
		return nil, fmt.Errorf("record the dead letter of %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
	}
	if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return nil, fmt.Errorf("record the dead letter of %s/%d@%d: %w", rec.Topic, rec.Partition, rec.Offset, err)
	}
	return produced, nil
}

func (s *Sender) event(rec, copied *kgo.Record, reason string, cause error, now time.Time) *events.RecordDeadLettered {
	now = now.UTC().Truncate(time.Microsecond)
	partition := strconv.Itoa(int(rec.Partition))
	ev := &events.RecordDeadLettered{
		Envelope: events.Envelope{
			EventID:       events.DeterministicID("dead-letter", s.consumer, rec.Topic, partition, strconv.FormatInt(rec.Offset, 10)),
			EventType:     events.TypeRecordDeadLettered,
			OccurredAt:    now,
			RecordedAt:    now,
			AggregateType: "DeadLetter",
			AggregateID:   s.consumer + "/" + rec.Topic + "/" + partition,
			Actor:         events.Actor{Type: events.ActorSystem, ID: s.consumer},
			Source:        events.SourceSystem,
		},
		Consumer:            s.consumer,
		OriginalTopic:       rec.Topic,
		OriginalPartition:   rec.Partition,
		OriginalOffset:      rec.Offset,
		OriginalTimestamp:   rec.Timestamp.UTC().Truncate(time.Microsecond),
		Reason:              reason,
		ErrorMessage:        truncate(cause.Error()),
		Attempts:            1,
		DeadLetterTopic:     &copied.Topic,
		DeadLetterPartition: &copied.Partition,
		DeadLetterOffset:    &copied.Offset,
		DeadLetteredAt:      now,
	}
	if len(rec.Key) > 0 && utf8.Valid(rec.Key) {
		ev.OriginalKey = ptr(string(rec.Key))
	}
	if id := header(rec, events.HeaderEventID); uuid.Validate(id) == nil {
		ev.EventID, ev.Envelope.CausationID = ptr(id), ptr(id)
	}
	if t := header(rec, events.HeaderEventType); t != "" {
		ev.EventType = ptr(t)
	}
	if len(rec.Value) >= 5 && rec.Value[0] == 0 {
		ev.SchemaID = ptr(int32(binary.BigEndian.Uint32(rec.Value[1:5])))
	}
	return ev
}

func header(rec *kgo.Record, key string) string {
	for _, h := range rec.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// ErrorText is the error message a dead letter records: bounded, and valid UTF-8.
func ErrorText(cause error) string { return truncate(cause.Error()) }

// truncate bounds an error message, keeping it valid UTF-8 (Avro strings must be).
func truncate(msg string) string {
	if len(msg) > maxErrorHeaderLength {
		msg = msg[:maxErrorHeaderLength]
	}
	return strings.ToValidUTF8(msg, "")
}

func ptr[T any](v T) *T { return &v }
