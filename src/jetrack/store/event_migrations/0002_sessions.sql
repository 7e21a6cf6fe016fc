-- One row per visit, so visit metrics (visits, bounce rate, duration, views per visit,
-- entry and exit pages) and visit-dimension breakdowns read ~3.5x fewer rows than events
-- and need no GROUP BY session_id. The write buffer inserts an up-to-date row for every
-- visit a flush touched; the newest `version` (the visit's count of pageviews and custom
-- events) replaces the older rows of the same visit, so queries read it with FINAL.
-- `jetrack.store.sessions.rebuild_sessions` recomputes rows from events with the same
-- definitions. Engagement pings count for none of these columns.
-- Sorted by start (not its day) so start compresses to ~1 byte; `timestamp` (the last
-- event) and `is_bounce` are computed, not stored: measured ~7.3 bytes per event with
-- ZSTD on the strings, against ~8.8 with LZ4 and both stored.
CREATE TABLE IF NOT EXISTS sessions
(
    site_id UInt32,
    session_id UInt64,
    visitor_id UInt64,
    start DateTime('UTC') CODEC(Delta, ZSTD(1)),
    version UInt64 CODEC(T64, ZSTD(1)),
    hostname LowCardinality(String) CODEC(ZSTD(1)),
    entry_page LowCardinality(String) CODEC(ZSTD(1)),
    exit_page LowCardinality(String) CODEC(ZSTD(1)),
    pageviews UInt32 CODEC(T64, ZSTD(1)),
    events UInt32 CODEC(T64, ZSTD(1)),
    interactive_events UInt32 CODEC(T64, ZSTD(1)),
    duration UInt32 CODEC(T64, ZSTD(1)),
    timestamp DateTime('UTC') ALIAS start + duration,
    -- one pageview and no interactive custom event
    is_bounce UInt8 ALIAS pageviews = 1 AND interactive_events = 0,
    referrer LowCardinality(String) CODEC(ZSTD(1)),
    source LowCardinality(String) CODEC(ZSTD(1)),
    channel LowCardinality(String) CODEC(ZSTD(1)),
    utm_medium LowCardinality(String) CODEC(ZSTD(1)),
    utm_source LowCardinality(String) CODEC(ZSTD(1)),
    utm_campaign LowCardinality(String) CODEC(ZSTD(1)),
    utm_content LowCardinality(String) CODEC(ZSTD(1)),
    utm_term LowCardinality(String) CODEC(ZSTD(1)),
    click_id_param LowCardinality(String) CODEC(ZSTD(1)),
    country_code LowCardinality(String) CODEC(ZSTD(1)),
    region_code LowCardinality(String) CODEC(ZSTD(1)),
    city LowCardinality(String) CODEC(ZSTD(1)),
    device LowCardinality(String) CODEC(ZSTD(1)),
    screen_size LowCardinality(String) CODEC(ZSTD(1)),
    browser LowCardinality(String) CODEC(ZSTD(1)),
    browser_version LowCardinality(String) CODEC(ZSTD(1)),
    os LowCardinality(String) CODEC(ZSTD(1)),
    os_version LowCardinality(String) CODEC(ZSTD(1)),
    language LowCardinality(String) CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(start)
ORDER BY (site_id, start, session_id)
SETTINGS non_replicated_deduplication_window = 10000{storage_settings};
