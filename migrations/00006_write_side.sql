-- +goose Up

-- The write side of dashboard decisions (package commands/decision, package outbox): the current
-- state and version of every aggregate a command decides against, the idempotency keys with the
-- answers they got, and the transactional outbox the relay publishes to Kafka in id order.

-- One row per aggregate (objective, combo plan, tag definition, ...): what the next command is
-- decided against. version is the envelope.aggregate_version of the aggregate's last event.
CREATE TABLE aggregates (
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    shop           text        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    state          jsonb       NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- Unique names within a shop (tag definitions are unique case-insensitively): a command claims
-- the name in the same transaction that decides.
CREATE TABLE aggregate_names (
    aggregate_type text NOT NULL,
    shop           text NOT NULL,
    name           text NOT NULL,
    aggregate_id   text NOT NULL,
    PRIMARY KEY (aggregate_type, shop, name)
);

-- Idempotency-Key: scope is the caller and the operation, so two users' keys never collide. The
-- row is written in the command's transaction, so it exists exactly when the command's effects do.
CREATE TABLE idempotency_keys (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       int         NOT NULL,
    headers      jsonb       NOT NULL,
    body         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The outbox: encoded Kafka records, in the order their transactions committed (writers take
-- an advisory lock around the insert and the commit, so ids are assigned in commit order and the
-- relay never passes over an id that commits later). The relay fills the published_* columns
-- once the record is in the log: that is how a consistency token finds its offset.
CREATE TABLE outbox (
    id                  bigserial   PRIMARY KEY,
    topic               text        NOT NULL, -- unprefixed event topic
    record_key          bytea       NOT NULL,
    record_value        bytea       NOT NULL,
    headers             jsonb       NOT NULL, -- [{"key": "...", "value": base64}]
    created_at          timestamptz NOT NULL DEFAULT now(),
    published_partition int,
    published_offset    bigint,
    published_at        timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- +goose Down
DROP TABLE outbox;
DROP TABLE idempotency_keys;
DROP TABLE aggregate_names;
DROP TABLE aggregates;
