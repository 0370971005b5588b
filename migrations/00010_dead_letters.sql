-- +goose Up

-- Every record a consumer dead-lettered, written in the transaction that moves the consumer's
-- checkpoint past it: what `storeline dlq list|show|replay|discard` works on, and the depth
-- the metrics report. The record itself stays in its original topic (kept for ever) and a copy
-- on <topic>.dlq.
CREATE TABLE dead_letters (
    consumer         text        NOT NULL, -- projection:orders, sink:iceberg
    origin_topic     text        NOT NULL, -- as in Kafka (with the deployment's prefix)
    origin_partition int         NOT NULL,
    origin_offset    bigint      NOT NULL,
    dlq_topic        text        NOT NULL,
    dlq_partition    int         NOT NULL,
    dlq_offset       bigint      NOT NULL,
    record_key       text,
    event_type       text,
    event_id         text,
    reason           text        NOT NULL,
    error            text        NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now(),
    state            text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'replayed', 'discarded')),
    resolved_at      timestamptz,
    resolved_by      text,
    resolution_note  text,
    PRIMARY KEY (consumer, origin_topic, origin_partition, origin_offset)
);
CREATE INDEX dead_letters_pending_idx ON dead_letters (consumer, dead_lettered_at) WHERE state = 'pending';

-- +goose Down
DROP TABLE dead_letters;
