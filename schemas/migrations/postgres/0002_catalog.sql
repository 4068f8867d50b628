-- The catalog: shops, their SKUs and the content (videos) that promotes them.
-- The poller reads which content to poll and which SKUs each item sells; the
-- inventory processors read each SKU's starting stock. `creatorflow catalog
-- import` fills it from CSV or JSON.
CREATE TABLE catalog_shops (
    shop_id     text PRIMARY KEY,
    shop_cipher text NOT NULL, -- what the TikTok Shop API calls the shop
    name        text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog_skus (
    sku_id         text PRIMARY KEY,
    shop_id        text NOT NULL REFERENCES catalog_shops (shop_id),
    product_id     text NOT NULL,
    seller_sku     text NOT NULL DEFAULT '',
    title          text NOT NULL DEFAULT '',
    starting_stock integer NOT NULL DEFAULT 0 CHECK (starting_stock >= 0),
    unit_price     numeric(12, 2) CHECK (unit_price >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog_content (
    content_id text PRIMARY KEY,
    shop_id    text NOT NULL REFERENCES catalog_shops (shop_id),
    active     boolean NOT NULL DEFAULT true, -- inactive content is not polled
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog_content_skus (
    content_id text NOT NULL REFERENCES catalog_content (content_id) ON DELETE CASCADE,
    sku_id     text NOT NULL REFERENCES catalog_skus (sku_id),
    PRIMARY KEY (content_id, sku_id)
);

-- Links looked up by SKU, for the import's check that a SKU moved to another
-- shop is not left promoted by content of its old shop; without this index
-- each import would scan every link.
CREATE INDEX catalog_content_skus_sku ON catalog_content_skus (sku_id);
