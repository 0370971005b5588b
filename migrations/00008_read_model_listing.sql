-- +goose Up
-- Indexes for the dashboard's order and product lists (projections/orders/list.go,
-- projections/products/list.go). Every list is keyset-paginated: WHERE shop = $1 AND
-- (sort key, id) > / < (the previous page's last row) ORDER BY sort key, id LIMIT n. An index on
-- (shop, sort key, id) answers both directions (scanned backwards for a descending sort), so the
-- first page and every later page read about n index entries whatever the table's size.
--
-- Plain CREATE INDEX (goose runs each migration in a transaction, where CONCURRENTLY is not
-- allowed): on a large orders table the projection's writes wait while the indexes build.

-- pg_trgm serves the free-text search on order names and product titles (ILIKE '%q%'); it is a
-- trusted extension (PostgreSQL 13+), so a database owner may create it, and it ships with
-- Debian's postgresql-15 (the test environment's and the embedded cluster's binaries).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- orders: one index per allow-listed sort. (shop, created_at, order_id) replaces
-- (shop, created_at DESC), which it covers.
CREATE INDEX orders_shop_created_order_idx ON orders (shop, created_at, order_id);
DROP INDEX orders_shop_created_idx;
CREATE INDEX orders_shop_updated_order_idx ON orders (shop, updated_at, order_id);
CREATE INDEX orders_shop_total_price_order_idx ON orders (shop, total_price, order_id);
CREATE INDEX orders_shop_number_order_idx ON orders (shop, order_number, order_id);
-- Lookup by name ("#1001") within a shop.
CREATE INDEX orders_shop_name_idx ON orders (shop, name);
-- Filters: a tag (tags @> ARRAY[$n]) and a substring of the name.
CREATE INDEX orders_tags_idx ON orders USING gin (tags);
CREATE INDEX orders_name_trgm_idx ON orders USING gin (name gin_trgm_ops);
-- Orders having a line of a product: the semi-join starts from the product's lines.
CREATE INDEX order_line_items_product_order_idx ON order_line_items (product_id, order_id) WHERE product_id IS NOT NULL;

-- products: the sort keys are expressions because a tombstone that arrived before any version of
-- its product has no title, created_at or updated_at; the list sorts it by its deletion time ('' as
-- title), and these indexes must match the list's expressions exactly to be used.
CREATE INDEX products_shop_title_idx ON products (shop, (COALESCE(title, '')), product_id);
CREATE INDEX products_shop_updated_key_idx ON products (shop, (COALESCE(updated_at, deleted_at)), product_id);
CREATE INDEX products_shop_created_key_idx ON products (shop, (COALESCE(created_at, deleted_at)), product_id);
CREATE INDEX products_tags_idx ON products USING gin (tags);
CREATE INDEX products_title_trgm_idx ON products USING gin (title gin_trgm_ops);

-- +goose Down
DROP INDEX products_title_trgm_idx;
DROP INDEX products_tags_idx;
DROP INDEX products_shop_created_key_idx;
DROP INDEX products_shop_updated_key_idx;
DROP INDEX products_shop_title_idx;
DROP INDEX order_line_items_product_order_idx;
DROP INDEX orders_name_trgm_idx;
DROP INDEX orders_tags_idx;
DROP INDEX orders_shop_name_idx;
DROP INDEX orders_shop_number_order_idx;
DROP INDEX orders_shop_total_price_order_idx;
DROP INDEX orders_shop_updated_order_idx;
CREATE INDEX orders_shop_created_idx ON orders (shop, created_at DESC);
DROP INDEX orders_shop_created_order_idx;
-- pg_trgm stays: another schema object may have come to use it since.
