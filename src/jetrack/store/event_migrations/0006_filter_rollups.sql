-- Per site and UTC day, visit_rollups' rows again for the visits of each value of each
-- filtered visit column (jetrack.store.schema.FILTERED_COLUMNS): `filter` is the column,
-- `filter_value` the value a dashboard filter compares (the source's empty value is
-- 'Direct / None'). So a dashboard filtered by one such value reads rows as an unfiltered
-- one does. Rows not written say so (jetrack.store.filter_rollups): a site-day of few
-- visits has the row (filter '', column '?'), a column whose rows would hold few visits
-- the row (filter, '', '?' + column); every rolled-up site-day has (filter '', column '').
-- Built by jetrack.store.rollups.build_rollups with visit_rollups; on a data dir with data,
-- the hourly job builds the days already in visit_rollups again (days_to_build lists the
-- days missing here), newest first. Until then filtered queries read the tables.
CREATE TABLE IF NOT EXISTS filter_rollups
(
    site_id UInt32,
    day Date,
    filter LowCardinality(String),
    filter_value String CODEC(ZSTD(1)),
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
    built_at DateTime('UTC') CODEC(ZSTD(1))
)
ENGINE = ReplacingMergeTree(built_at)
PARTITION BY toYYYYMM(day)
ORDER BY (site_id, filter, filter_value, column, day, value)
SETTINGS index_granularity = 8192{storage_settings};
