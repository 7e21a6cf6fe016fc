-- The events that can match a page or goal filter (all but engagement pings), again,
-- with only what finds their visits, ordered by event name and page (then by visit, which
-- keeps visit ids and times close: ~8 bytes an event): a filter on a page
-- or an event name reads that page's rows, not every event of the range
-- (jetrack.stats.sql, jetrack.stats.funnel). Kept by the materialized view from every insert
-- into events; cleaned by retention, erasure and an import's delete with the tables of
-- jetrack.privacy.event_tables. Read only as the set of visits with a matching event
-- (and a funnel's steps per visit), so a row written twice (an insert while this
-- migration fills the table) changes no answer.
CREATE TABLE IF NOT EXISTS events_by_page
(
    site_id UInt32,
    name LowCardinality(String),
    pathname LowCardinality(String),
    timestamp DateTime('UTC') CODEC(Delta, ZSTD(1)),
    visitor_id UInt64 CODEC(ZSTD(1)),
    session_id UInt64 CODEC(Delta, ZSTD(1)),
    import_id UInt32 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, name, pathname, toDate(timestamp), session_id)
SETTINGS index_granularity = 8192{storage_settings};

CREATE MATERIALIZED VIEW IF NOT EXISTS events_by_page_writer TO events_by_page AS
SELECT site_id, name, pathname, timestamp, visitor_id, session_id, import_id
FROM events
WHERE name != 'engagement';

INSERT INTO events_by_page (site_id, name, pathname, timestamp, visitor_id, session_id, import_id)
SELECT site_id, name, pathname, timestamp, visitor_id, session_id, import_id
FROM events
WHERE name != 'engagement'
SETTINGS max_threads = 1, max_insert_threads = 1, max_block_size = 65536,
    min_insert_block_size_rows = 262144, min_insert_block_size_bytes = 0
