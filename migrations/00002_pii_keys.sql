-- +goose Up

-- Data keys of customer personal data (package pii). Personal data leaves storeline only sealed
-- under a subject's data key (a customer, a guest order, a shop); destroying the key erases every
-- copy of that data on the log and in the lake at once (crypto-shredding). A key is stored
-- wrapped (AES-256-GCM) under a key-encryption key that is not in the database, so this table
-- alone reveals nothing. A destroyed key keeps its row (wrapped_key NULL, destroyed_at set) so
-- readers can tell "shredded" from "unknown".
CREATE TABLE pii_keys (
    key_id       uuid        PRIMARY KEY,        -- random; names no one; carried by sealed data
    shop         text        NOT NULL,           -- myshopify domain
    subject      text        NOT NULL,           -- customer/<id>, order/<id>, shop/<id>
    kek_id       text        NOT NULL,           -- which KEK wrapped the key (for rotation)
    wrapped_key  bytea,                          -- nonce ‖ AES-256-GCM(KEK, key); NULL once shredded
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
);

-- One live key per subject; destroyed keys stay beside a newer live one. Also serves
-- "every live key of a shop" (shop/redact).
CREATE UNIQUE INDEX pii_keys_live_subject_idx ON pii_keys (shop, subject) WHERE destroyed_at IS NULL;

-- +goose Down
DROP TABLE pii_keys;
