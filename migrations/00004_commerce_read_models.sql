-- +goose Up

-- Read models of the commerce topic: orders (every field of storeline.commerce.Order, line items,
-- refunds), products (with variants, tombstones) and inventory levels. The winning rules (newest
-- updated_at, webhooks against bulk snapshots, deletes) are documented in the packages that write
-- these tables: projections/orders, projections/products, projections/inventory.
--
-- The orders table gains columns its projection fills from every order event. Rows written before
-- this migration lack them, and replaying the log over them would change nothing (an equal
-- updated_at never wins), so the orders read model is rebuilt instead: its rows and its
-- checkpoints go, and the projection replays commerce from the start on its next run (the topic
-- keeps every event forever). Until it has caught up, the API shows fewer orders.
DELETE FROM projection_checkpoints WHERE projection = 'orders';
TRUNCATE order_line_items, orders;

-- Money is numeric(20,4) in the order's currency (Shopify's shop money), like total_price.
-- bulk_operation_id names the bulk export whose OrderSnapshotted wrote the row; NULL when a
-- webhook did. It takes part in the version order: at an equal updated_at a webhook beats a
-- snapshot (it carries fulfillments' line items and lines' fulfillment status, a bulk row does not).
ALTER TABLE orders
    ADD COLUMN presentment_currency    text,
    ADD COLUMN total_discounts         numeric(20,4) NOT NULL,
    ADD COLUMN total_shipping          numeric(20,4),
    ADD COLUMN total_line_items_price  numeric(20,4),
    ADD COLUMN current_total_price     numeric(20,4),
    ADD COLUMN current_subtotal_price  numeric(20,4),
    ADD COLUMN current_total_tax       numeric(20,4),
    ADD COLUMN current_total_discounts numeric(20,4),
    ADD COLUMN processed_at            timestamptz,
    ADD COLUMN cancelled_at            timestamptz,
    ADD COLUMN cancel_reason           text,
    ADD COLUMN closed_at               timestamptz,
    ADD COLUMN taxes_included          boolean NOT NULL,
    ADD COLUMN test                    boolean NOT NULL,
    ADD COLUMN customer_id             bigint,        -- Shopify's id only: personal data stays sealed in the log
    ADD COLUMN customer_gid            text,
    ADD COLUMN source_name             text,
    ADD COLUMN tags                    text[]  NOT NULL,
    ADD COLUMN discount_codes          text[]  NOT NULL,
    ADD COLUMN payment_gateway_names   text[]  NOT NULL,
    ADD COLUMN location_id             bigint,
    ADD COLUMN location_gid            text,
    ADD COLUMN fulfillments            jsonb   NOT NULL, -- shipments as the winning version lists them (no addresses)
    ADD COLUMN bulk_operation_id       bigint;
CREATE INDEX orders_customer_idx ON orders (customer_id) WHERE customer_id IS NOT NULL;

-- Lines of the winning version of each order. position is the index in a webhook's line list;
-- NULL for lines from a bulk export, whose row order means nothing (readers sort by id then).
ALTER TABLE order_line_items
    ALTER COLUMN position DROP NOT NULL,
    ADD COLUMN line_item_gid        text    NOT NULL,
    ADD COLUMN product_gid          text,
    ADD COLUMN variant_gid          text,
    ADD COLUMN vendor               text,
    ADD COLUMN current_quantity     int,
    ADD COLUMN currency             text    NOT NULL,
    ADD COLUMN total_discount       numeric(20,4) NOT NULL,
    ADD COLUMN total_tax            numeric(20,4),
    ADD COLUMN requires_shipping    boolean NOT NULL,
    ADD COLUMN taxable              boolean NOT NULL,
    ADD COLUMN gift_card            boolean NOT NULL,
    ADD COLUMN fulfillable_quantity int,
    ADD COLUMN fulfillment_status   text;
CREATE INDEX order_line_items_variant_idx ON order_line_items (variant_id) WHERE variant_id IS NOT NULL;

-- Bulk snapshots of orders, kept aside: which bulk operation saw which version of an order
-- (OrderSnapshotted), and the lines it exported (OrderLineItemSnapshotted, one event per line,
-- arriving before or after their order's row). A line waits here until its export's order row
-- has been seen: then it is copied into the order's lines (the export won) or dropped (it lost).
CREATE TABLE order_snapshots (
    order_id          bigint      NOT NULL,
    bulk_operation_id bigint      NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (order_id, bulk_operation_id)
);

CREATE TABLE order_line_item_snapshots (
    order_id             bigint  NOT NULL,
    bulk_operation_id    bigint  NOT NULL,
    line_item_id         bigint  NOT NULL,
    line_item_gid        text    NOT NULL,
    product_id           bigint,
    product_gid          text,
    variant_id           bigint,
    variant_gid          text,
    title                text    NOT NULL,
    variant_title        text,
    sku                  text,
    vendor               text,
    quantity             int     NOT NULL,
    current_quantity     int,
    currency             text    NOT NULL,
    price                numeric(20,4) NOT NULL,
    total_discount       numeric(20,4) NOT NULL,
    total_tax            numeric(20,4),
    requires_shipping    boolean NOT NULL,
    taxable              boolean NOT NULL,
    gift_card            boolean NOT NULL,
    fulfillable_quantity int,
    fulfillment_status   text,
    PRIMARY KEY (order_id, bulk_operation_id, line_item_id)
);

-- Refunds (RefundCreated), immutable in Shopify: one row per refund id, with its lines,
-- transactions and order adjustments. No foreign key to orders: a refund may arrive first.
CREATE TABLE refunds (
    refund_id     bigint      PRIMARY KEY,
    refund_gid    text        NOT NULL,
    order_id      bigint      NOT NULL,
    order_gid     text        NOT NULL,
    shop          text        NOT NULL,
    created_at    timestamptz NOT NULL,
    processed_at  timestamptz,
    restock       boolean,
    last_event_id uuid        NOT NULL,
    projected_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX refunds_gid_idx ON refunds (refund_gid);
CREATE INDEX refunds_order_idx ON refunds (order_id, created_at);

CREATE TABLE refund_line_items (
    refund_id            bigint  NOT NULL REFERENCES refunds (refund_id) ON DELETE CASCADE,
    refund_line_item_id  bigint  NOT NULL,
    position             int     NOT NULL,
    refund_line_item_gid text    NOT NULL,
    line_item_id         bigint  NOT NULL,
    line_item_gid        text    NOT NULL,
    product_id           bigint,
    product_gid          text,
    variant_id           bigint,
    variant_gid          text,
    quantity             int     NOT NULL,
    restock_type         text    NOT NULL,
    location_id          bigint,
    location_gid         text,
    currency             text    NOT NULL,
    subtotal             numeric(20,4) NOT NULL,
    total_tax            numeric(20,4) NOT NULL,
    PRIMARY KEY (refund_id, refund_line_item_id)
);

-- amount is in the transaction's own currency (the currency the customer paid in).
CREATE TABLE refund_transactions (
    refund_id       bigint      NOT NULL REFERENCES refunds (refund_id) ON DELETE CASCADE,
    transaction_id  bigint      NOT NULL,
    position        int         NOT NULL,
    transaction_gid text        NOT NULL,
    parent_id       bigint,
    parent_gid      text,
    kind            text        NOT NULL,
    status          text        NOT NULL,
    gateway         text,
    amount          numeric(20,4) NOT NULL,
    currency        text        NOT NULL,
    created_at      timestamptz NOT NULL,
    processed_at    timestamptz,
    test            boolean     NOT NULL,
    error_code      text,
    PRIMARY KEY (refund_id, transaction_id)
);

CREATE TABLE refund_order_adjustments (
    refund_id            bigint NOT NULL REFERENCES refunds (refund_id) ON DELETE CASCADE,
    order_adjustment_id  bigint NOT NULL,
    position             int    NOT NULL,
    order_adjustment_gid text   NOT NULL,
    kind                 text   NOT NULL,
    reason               text,
    currency             text   NOT NULL,
    amount               numeric(20,4) NOT NULL,
    tax_amount           numeric(20,4) NOT NULL,
    PRIMARY KEY (refund_id, order_adjustment_id)
);

-- Products (projections/products). A ProductDeleted makes the row a tombstone (deleted_at set)
-- that no later event revives; a tombstone that arrived before any version of its product has
-- only ids, shop and deleted_at, hence the nullable fields. bulk_operation_id as in orders, but
-- at an equal updated_at a snapshot beats a webhook (it carries the variants' unit cost, which
-- products webhooks do not).
CREATE TABLE products (
    product_id         bigint      PRIMARY KEY,
    product_gid        text        NOT NULL,
    shop               text        NOT NULL,
    title              text,
    handle             text,
    vendor             text,
    product_type       text,
    status             text,
    tags               text[],
    options            jsonb,
    featured_image_url text,
    created_at         timestamptz,
    updated_at         timestamptz,
    published_at       timestamptz,
    bulk_operation_id  bigint,
    deleted_at         timestamptz,
    last_event_id      uuid        NOT NULL,
    projected_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX products_gid_idx ON products (product_gid);
CREATE INDEX products_shop_idx ON products (shop, updated_at DESC) WHERE deleted_at IS NULL;

-- Variants of the winning version of each live product (none for a tombstone). Money in
-- currency (the shop's); unit_cost comes from the product's newest bulk export, whichever
-- version won. version_event_id is the products.last_event_id of the version that wrote the
-- variant: a variant left over from an older version is swept.
CREATE TABLE product_variants (
    product_id         bigint      NOT NULL REFERENCES products (product_id) ON DELETE CASCADE,
    variant_id         bigint      NOT NULL,
    variant_gid        text        NOT NULL,
    title              text        NOT NULL,
    sku                text,
    barcode            text,
    position           int         NOT NULL,
    currency           text        NOT NULL,
    price              numeric(20,4) NOT NULL,
    compare_at_price   numeric(20,4),
    unit_cost          numeric(20,4),
    inventory_item_id  bigint      NOT NULL,
    inventory_item_gid text        NOT NULL,
    inventory_quantity int,
    inventory_policy   text,
    taxable            boolean     NOT NULL,
    requires_shipping  boolean,
    weight             double precision, -- a measure in weight_unit, not money
    weight_unit        text,
    option1            text,
    option2            text,
    option3            text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    version_event_id   uuid        NOT NULL,
    PRIMARY KEY (product_id, variant_id)
);
CREATE INDEX product_variants_variant_idx ON product_variants (variant_id);
CREATE INDEX product_variants_inventory_item_idx ON product_variants (inventory_item_id);

-- Bulk snapshots of products, kept aside like those of orders; the variants of a product's
-- newest export stay (they give the variants their unit cost), older exports' are dropped.
CREATE TABLE product_snapshots (
    product_id        bigint      NOT NULL,
    bulk_operation_id bigint      NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (product_id, bulk_operation_id)
);

CREATE TABLE product_variant_snapshots (
    product_id         bigint      NOT NULL,
    bulk_operation_id  bigint      NOT NULL,
    variant_id         bigint      NOT NULL,
    variant_gid        text        NOT NULL,
    title              text        NOT NULL,
    sku                text,
    barcode            text,
    position           int         NOT NULL,
    currency           text        NOT NULL,
    price              numeric(20,4) NOT NULL,
    compare_at_price   numeric(20,4),
    unit_cost          numeric(20,4),
    inventory_item_id  bigint      NOT NULL,
    inventory_item_gid text        NOT NULL,
    inventory_quantity int,
    inventory_policy   text,
    taxable            boolean     NOT NULL,
    requires_shipping  boolean,
    weight             double precision,
    weight_unit        text,
    option1            text,
    option2            text,
    option3            text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    PRIMARY KEY (product_id, bulk_operation_id, variant_id)
);

-- Inventory levels (projections/inventory): units of an inventory item available at a location,
-- the newest updated_at per (item, location). available is NULL when the item is not tracked.
CREATE TABLE inventory_levels (
    inventory_item_id   bigint      NOT NULL,
    location_id         bigint      NOT NULL,
    inventory_item_gid  text        NOT NULL,
    location_gid        text        NOT NULL,
    inventory_level_gid text,
    shop                text        NOT NULL,
    available           int,
    updated_at          timestamptz NOT NULL,
    last_event_id       uuid        NOT NULL,
    projected_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (inventory_item_id, location_id)
);
CREATE INDEX inventory_levels_location_idx ON inventory_levels (location_id);

-- +goose Down
DROP TABLE inventory_levels;
DROP TABLE product_variant_snapshots;
DROP TABLE product_snapshots;
DROP TABLE product_variants;
DROP TABLE products;
DROP TABLE refund_order_adjustments;
DROP TABLE refund_transactions;
DROP TABLE refund_line_items;
DROP TABLE refunds;
DROP TABLE order_line_item_snapshots;
DROP TABLE order_snapshots;
-- The old columns cannot describe every line (position was NOT NULL): rebuild from the log.
DELETE FROM projection_checkpoints WHERE projection IN ('orders', 'products', 'inventory');
TRUNCATE order_line_items, orders;
DROP INDEX order_line_items_variant_idx;
ALTER TABLE order_line_items
    ALTER COLUMN position SET NOT NULL,
    DROP COLUMN line_item_gid,
    DROP COLUMN product_gid,
    DROP COLUMN variant_gid,
    DROP COLUMN vendor,
    DROP COLUMN current_quantity,
    DROP COLUMN currency,
    DROP COLUMN total_discount,
    DROP COLUMN total_tax,
    DROP COLUMN requires_shipping,
    DROP COLUMN taxable,
    DROP COLUMN gift_card,
    DROP COLUMN fulfillable_quantity,
    DROP COLUMN fulfillment_status;
DROP INDEX orders_customer_idx;
ALTER TABLE orders
    DROP COLUMN presentment_currency,
    DROP COLUMN total_discounts,
    DROP COLUMN total_shipping,
    DROP COLUMN total_line_items_price,
    DROP COLUMN current_total_price,
    DROP COLUMN current_subtotal_price,
    DROP COLUMN current_total_tax,
    DROP COLUMN current_total_discounts,
    DROP COLUMN processed_at,
    DROP COLUMN cancelled_at,
    DROP COLUMN cancel_reason,
    DROP COLUMN closed_at,
    DROP COLUMN taxes_included,
    DROP COLUMN test,
    DROP COLUMN customer_id,
    DROP COLUMN customer_gid,
    DROP COLUMN source_name,
    DROP COLUMN tags,
    DROP COLUMN discount_codes,
    DROP COLUMN payment_gateway_names,
    DROP COLUMN location_id,
    DROP COLUMN location_gid,
    DROP COLUMN fulfillments,
    DROP COLUMN bulk_operation_id;
