-- One row per accepted event. Visit-level attributes (source, UTM, geo, device,
-- entry page) are fixed when the session starts and copied onto every event of the
-- session, so visit filters need no join. No column can hold an IP address or a raw
-- user agent: visitor_id and session_id are keyed hashes / random ids.
CREATE TABLE IF NOT EXISTS events
(
    site_id UInt32,
    timestamp DateTime('UTC') CODEC(Delta, ZSTD(1)),
    name LowCardinality(String),
    visitor_id UInt64,
    session_id UInt64,
    hostname LowCardinality(String),
    pathname LowCardinality(String),
    referrer LowCardinality(String),
    source LowCardinality(String),
    channel LowCardinality(String),
    utm_medium LowCardinality(String),
    utm_source LowCardinality(String),
    utm_campaign LowCardinality(String),
    utm_content LowCardinality(String),
    utm_term LowCardinality(String),
    click_id_param LowCardinality(String),
    entry_page LowCardinality(String),
    country_code LowCardinality(String),
    region_code LowCardinality(String),
    city LowCardinality(String),
    device LowCardinality(String),
    screen_size LowCardinality(String),
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    os LowCardinality(String),
    os_version LowCardinality(String),
    language LowCardinality(String),
    props Map(LowCardinality(String), String),
    revenue_amount Decimal64(3),
    revenue_currency LowCardinality(String),
    interactive UInt8,
    scroll_depth UInt8,
    engagement_ms UInt32
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, toDate(timestamp), visitor_id, timestamp)
SETTINGS non_replicated_deduplication_window = 10000{storage_settings};
