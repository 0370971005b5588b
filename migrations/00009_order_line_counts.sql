-- +goose Up

-- Each order's count of lines and units, kept on its row by the orders projection (in the same
-- transaction as the lines), so that a page of an order list reads no lines at all.
ALTER TABLE orders
    ADD COLUMN line_count int    NOT NULL DEFAULT 0,
    ADD COLUMN units      bigint NOT NULL DEFAULT 0;

UPDATE orders o SET line_count = l.line_count, units = l.units
FROM (SELECT order_id, count(*)::int AS line_count, COALESCE(sum(quantity), 0)::bigint AS units
      FROM order_line_items GROUP BY order_id) l
WHERE o.order_id = l.order_id;

-- +goose Down
ALTER TABLE orders DROP COLUMN units, DROP COLUMN line_count;
