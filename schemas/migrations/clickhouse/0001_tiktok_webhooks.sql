-- Every accepted TikTok webhook, as landed in tiktok.webhooks.v1.
-- ReplacingMergeTree collapses rows with the same sorting key, and the key
-- ends in the event id, so a sink retry or a replay never counts an event
-- twice once parts merge; exact queries use FINAL or GROUP BY event_id.
CREATE TABLE IF NOT EXISTS tiktok_webhooks (
    event_id        String,
    event_time      DateTime,
    ingest_time     DateTime,
    shop_id         String,
    order_id        String,
    notification_id String,
    webhook_type    UInt16,
    order_status    String,
    kafka_partition Int32,
    kafka_offset    Int64,
    body            String
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (shop_id, event_time, event_id);
