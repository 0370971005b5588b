-- +goose Up
-- The privacy requests Shopify sent (customers/redact, shop/redact, customers/data_request) and
-- how storeline handled them: the record a merchant or an auditor asks for.
CREATE TABLE privacy_requests (
    event_id      uuid        PRIMARY KEY,
    shop          text        NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('customer_redact', 'shop_redact', 'customer_data_request')),
    customer_id   bigint,
    order_ids     bigint[]    NOT NULL DEFAULT '{}',
    keys_shredded int         NOT NULL DEFAULT 0,
    -- customer_data_request: what storeline holds on the customer when the request was handled.
    report        jsonb,
    requested_at  timestamptz NOT NULL,
    handled_at    timestamptz NOT NULL
);
CREATE INDEX privacy_requests_shop_customer ON privacy_requests (shop, customer_id);

-- +goose Down
DROP TABLE privacy_requests;
