-- +goose Up

-- Read model: orders and their line items (projections/orders).
CREATE TABLE orders (
    order_id            bigint PRIMARY KEY,
    order_gid           text        NOT NULL,
    shop                text        NOT NULL,
    name                text        NOT NULL,
    order_number        bigint      NOT NULL,
    currency            text        NOT NULL,
    total_price         numeric(20,4) NOT NULL,
    subtotal_price      numeric(20,4) NOT NULL,
    total_tax           numeric(20,4) NOT NULL,
    financial_status    text,
    fulfillment_status  text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    last_event_id       uuid        NOT NULL,
    projected_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_shop_created_idx ON orders (shop, created_at DESC);
CREATE UNIQUE INDEX orders_gid_idx ON orders (order_gid);

CREATE TABLE order_line_items (
    order_id      bigint  NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
    line_item_id  bigint  NOT NULL,
    position      int     NOT NULL,
    product_id    bigint,
    variant_id    bigint,
    title         text    NOT NULL,
    variant_title text,
    sku           text,
    quantity      int     NOT NULL,
    price         numeric(20,4) NOT NULL,
    PRIMARY KEY (order_id, line_item_id)
);

-- Checkpoints: the next offset each projection will read, written in the same transaction as
-- the projection's rows, so a restart neither skips nor repeats a record.
CREATE TABLE projection_checkpoints (
    projection  text    NOT NULL,
    topic       text    NOT NULL,
    partition   int     NOT NULL,
    next_offset bigint  NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition)
);

-- First occurrence of every event id in the log (package dedup). The log can hold an event
-- twice (a webhook redelivered while the first answer was lost); consumers that append rather
-- than upsert keep only the first position.
CREATE TABLE event_first_seen (
    event_id   uuid    PRIMARY KEY,
    topic      text    NOT NULL,
    partition  int     NOT NULL,
    "offset"   bigint  NOT NULL,
    seen_at    timestamptz NOT NULL DEFAULT now()
);

-- Embedded schema registry (used when no external registry URL is configured).
CREATE TABLE schema_registry (
    id         serial PRIMARY KEY,
    subject    text   NOT NULL,
    version    int    NOT NULL,
    schema     text   NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject, version),
    UNIQUE (subject, schema)
);

-- +goose Down
DROP TABLE schema_registry;
DROP TABLE event_first_seen;
DROP TABLE projection_checkpoints;
DROP TABLE order_line_items;
DROP TABLE orders;
