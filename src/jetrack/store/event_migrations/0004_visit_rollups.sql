-- Per site and UTC day, the visits that started that day, counted once per value of each
-- visit column (source, entry page, country...) and once in all (column ''). Visitor ids
-- are keyed with the day's salt, so the visitors of two days are different ids: the
-- visitors of a range of whole days are the sum of its days' rows, exactly as
-- uniq(visitor_id) over the range's sessions would count them. Built by
-- jetrack.store.rollups once a day is over; queries read these rows for the whole days
-- of a range and the sessions table for the rest (jetrack.stats.sql).
-- Column '' also holds figures of the events of the day itself, whatever day their visit
-- started (the main graph's points, pageviews and events of a range): `event_visitors`,
-- `event_pageviews`, `event_count` (pageviews and custom events), and `last_event`, the
-- last event of the day's visits. Column 'pathname': per page, the visitors, visits and
-- pageviews of the day's visits (all their events, also those after midnight).
-- A site-day whose visitor ids are not all daily (cookie mode, ids from before 0003) gets
-- one row with column '!' and is always read from the sessions table.
CREATE TABLE IF NOT EXISTS visit_rollups
(
    site_id UInt32,
    day Date,
    column LowCardinality(String),
    value String CODEC(ZSTD(1)),
    visitors UInt32 CODEC(T64, ZSTD(1)),
    visits UInt32 CODEC(T64, ZSTD(1)),
    bounces UInt32 CODEC(T64, ZSTD(1)),
    pageviews UInt32 CODEC(T64, ZSTD(1)),
    duration UInt64 CODEC(T64, ZSTD(1)),
    event_visitors UInt32 CODEC(T64, ZSTD(1)),
    event_pageviews UInt32 CODEC(T64, ZSTD(1)),
    event_count UInt32 CODEC(T64, ZSTD(1)),
    last_event DateTime('UTC') CODEC(ZSTD(1)),
    built_at DateTime('UTC') CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree(built_at)
PARTITION BY toYYYYMM(day)
ORDER BY (site_id, column, day, value)
SETTINGS index_granularity = 8192{storage_settings};
