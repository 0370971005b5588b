-- +goose Up

-- Read models of the dashboard's decisions on the publication topic: tag definitions, tag
-- collections and storeline-managed product tags (projections/tags), objectives with every
-- version (projections/objectives), combo plans (projections/plans).
--
-- Every aggregate here is decided by storeline, so its events carry envelope.aggregate_version
-- (1 on creation, one more per later event). Each row keeps the version that wrote it and an
-- event only writes where its version is greater: a duplicate or an older event replayed after
-- a newer one changes nothing. The API turns version into the ETag that If-Match checks.
--
-- Removed definitions, collections and objectives stay as tombstones (removed_at set): an
-- objective or a product tag may still name them, and Get answers them (the API says 410).
-- Lists leave them out.

CREATE TABLE tag_definitions (
    tag_definition_id uuid        PRIMARY KEY,
    shop              text        NOT NULL,
    name              text        NOT NULL,
    description       text,
    color             text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    removed_at        timestamptz,
    version           bigint      NOT NULL,
    last_event_id     uuid        NOT NULL,
    projected_at      timestamptz NOT NULL DEFAULT now()
);
-- Listing a shop's definitions by name; also how tag analytics names a tag (case-insensitively).
CREATE INDEX tag_definitions_shop_name_idx ON tag_definitions (shop, lower(name)) WHERE removed_at IS NULL;

CREATE TABLE tag_collections (
    tag_collection_id  uuid        PRIMARY KEY,
    shop               text        NOT NULL,
    name               text        NOT NULL,
    description        text,
    tag_definition_ids uuid[]      NOT NULL, -- in the merchant's order
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    removed_at         timestamptz,
    version            bigint      NOT NULL,
    last_event_id      uuid        NOT NULL,
    projected_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tag_collections_shop_name_idx ON tag_collections (shop, lower(name)) WHERE removed_at IS NULL;

-- Tags storeline put on products (ProductTagged) or took off (ProductUntagged). The aggregate is
-- a product's storeline-managed tags, versioned per product; a row is one tag of one product,
-- written by the newest event about that tag (Shopify compares tags case-insensitively, so
-- "Linen" and "linen" are one row, tag_key). An untagged tag stays as a tombstone (removed_at
-- set): it keeps its version, so an older ProductTagged replayed later cannot put it back, and
-- the product's version (the greatest of its rows) stays right. Tags added or removed in
-- Shopify's admin are not here: they are products.tags.
CREATE TABLE product_tags (
    product_id        bigint      NOT NULL,
    tag               text        NOT NULL,
    tag_key           text        GENERATED ALWAYS AS (lower(tag)) STORED,
    shop              text        NOT NULL,
    product_gid       text        NOT NULL,
    tag_definition_id uuid,
    origin            text        NOT NULL,
    suggestion_id     uuid,
    tagged_at         timestamptz,           -- when the tag was last put on (NULL if only its removal was seen)
    removed_at        timestamptz,
    version           bigint      NOT NULL,
    last_event_id     uuid        NOT NULL,
    projected_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (product_id, tag_key)
);
-- Tag analytics reads a shop's live product tags (and filters them by tag).
CREATE INDEX product_tags_shop_tag_idx ON product_tags (shop, tag_key) INCLUDE (product_id, tag) WHERE removed_at IS NULL;

-- Tag analytics joins a window of a shop's orders to their lines and the lines' products' tags.
-- Two ways in, the planner picks by the statistics:
--   * a wide window: the window's orders by (shop, created_at) from this partial index (only
--     the orders analytics counts; index-only with order_id), then their lines by order_id
--     (the primary key);
--   * a few tags over a long history: the tagged products' lines by product_id (no index had
--     them), carrying what the sums need, then each line's order by its primary key.
CREATE INDEX orders_analytics_idx ON orders (shop, created_at) INCLUDE (order_id)
    WHERE cancelled_at IS NULL AND NOT test;
CREATE INDEX order_line_items_product_idx ON order_line_items (product_id, order_id)
    INCLUDE (quantity, price, total_discount, currency) WHERE product_id IS NOT NULL;

-- Objectives (ObjectiveSpecificationSet / Removed): the current version of each. scope, target
-- and period are JSON in the API's shape; the scope's type and id are columns to filter on.
CREATE TABLE objectives (
    objective_id         uuid        PRIMARY KEY,
    shop                 text        NOT NULL,
    name                 text        NOT NULL,
    description          text,
    scope_type           text        NOT NULL,
    scope_id             text        NOT NULL,
    scope                jsonb       NOT NULL,
    metric               text        NOT NULL,
    comparison           text        NOT NULL,
    target               jsonb       NOT NULL,
    period               jsonb       NOT NULL,
    at_risk_threshold    double precision, -- a ratio, not money
    source_suggestion_id uuid,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    removed_at           timestamptz,
    removed_reason       text,
    version              bigint      NOT NULL,
    last_event_id        uuid        NOT NULL,
    projected_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX objectives_shop_scope_idx ON objectives (shop, scope_type, scope_id);

-- Every version of every objective, for the history of its edits: the full specification a Set
-- wrote (spec, in the API's shape), or the removal. Written once per version; a duplicate event
-- changes nothing.
CREATE TABLE objective_versions (
    objective_id   uuid        NOT NULL,
    version        bigint      NOT NULL,
    shop           text        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('set', 'removed')),
    spec           jsonb,                 -- NULL for a removal
    changed_fields text[]      NOT NULL,
    removed_reason text,
    occurred_at    timestamptz NOT NULL,
    actor_type     text        NOT NULL,
    actor_id       text        NOT NULL,
    event_id       uuid        NOT NULL,
    PRIMARY KEY (objective_id, version)
);

-- Combo plans (ComboPlanCreated / Changed / StateChanged): the current version of each, its
-- items and discount as JSON in the API's shape.
CREATE TABLE combo_plans (
    plan_id              uuid        PRIMARY KEY,
    shop                 text        NOT NULL,
    name                 text        NOT NULL,
    description          text,
    state                text        NOT NULL,
    items                jsonb       NOT NULL,
    discount             jsonb,
    objective_id         uuid,
    starts_on            date,
    ends_on              date,
    source_suggestion_id uuid,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    -- The last move (ComboPlanStateChanged): when, why, and its version. Kept apart from version
    -- because a whole plan of a later version carries the move's state but not its reason.
    state_changed_at     timestamptz,
    state_reason         text,
    state_version        bigint,
    version              bigint      NOT NULL,
    last_event_id        uuid        NOT NULL,
    projected_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX combo_plans_shop_state_idx ON combo_plans (shop, state, created_at);

-- +goose Down
DROP TABLE combo_plans;
DROP TABLE objective_versions;
DROP TABLE objectives;
DROP INDEX order_line_items_product_idx;
DROP INDEX orders_analytics_idx;
DROP TABLE product_tags;
DROP TABLE tag_collections;
DROP TABLE tag_definitions;
