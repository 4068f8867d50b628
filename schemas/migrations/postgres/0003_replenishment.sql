-- Replenishment: the suppliers SKUs are reordered from, and each SKU's
-- reorder settings. The inventory processors read them (catalog.Replenishment)
-- to size reorders: forecast demand over the lead time and the review period,
-- plus safety stock for the service level, less stock on hand and on order,
-- and at least the minimum order. `creatorflow catalog import` fills them.
CREATE TABLE catalog_suppliers (
    supplier_id     text PRIMARY KEY,
    name            text NOT NULL DEFAULT '',
    -- hours from placing an order to the stock arriving; a SKU may override it
    lead_time_hours numeric NOT NULL CHECK (lead_time_hours > 0 AND lead_time_hours <= 8760),
    email           text NOT NULL DEFAULT '', -- where purchase orders go; '' when none
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- NULL (min_order_qty: 0) is "the default": the supplier's lead time, a
-- service level of 0.95, a review period of 24 hours, orders of 1 or more.
-- The defaults live in the code (catalog.Replenishment), so changing one does
-- not need a migration. Existing SKUs get no supplier: they are not reordered
-- until an import names one. Columns added with constant defaults do not
-- rewrite the table.
ALTER TABLE catalog_skus
    ADD COLUMN supplier_id         text REFERENCES catalog_suppliers (supplier_id),
    ADD COLUMN lead_time_hours     numeric CHECK (lead_time_hours > 0 AND lead_time_hours <= 8760),
    ADD COLUMN service_level       numeric CHECK (service_level >= 0.5 AND service_level <= 0.9999),
    ADD COLUMN review_period_hours numeric CHECK (review_period_hours > 0 AND review_period_hours <= 8760),
    ADD COLUMN min_order_qty       integer NOT NULL DEFAULT 0 CHECK (min_order_qty >= 0);

-- SKUs looked up by supplier: deleting a supplier checks that no SKU names
-- it, which would otherwise scan every SKU.
CREATE INDEX catalog_skus_supplier ON catalog_skus (supplier_id);
