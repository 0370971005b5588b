-- +goose Up

-- The embedded schema registry moved to a compacted Kafka topic (<prefix>_storeline_schemas,
-- package registry): schemas live beside the events they describe, survive a fresh database, and
-- every process folds the same log. Schemas registered in this table are not carried over; the
-- events codec registers storeline's own schemas again at start.
DROP TABLE IF EXISTS schema_registry;

-- +goose Down
CREATE TABLE schema_registry (
    id         serial PRIMARY KEY,
    subject    text   NOT NULL,
    version    int    NOT NULL,
    schema     text   NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject, version),
    UNIQUE (subject, schema)
);
