-- Per site and UTC day, visit_rollups' rows again for the visits that had one kind of
-- event (jetrack.store.event_rollups): `filter` names what the events match, 'pathname'
-- (a pageview or custom event on the page `filter_value`: a dashboard's page filter) or
-- 'name' (a custom event of that name: a goal filter), grouped by the day the visit
-- started; the all-visits row's event figures are those matching events of the day
-- itself, and the pages rows those matching events of the day's visits. So a dashboard
-- filtered by page or by a custom-event goal reads rows as an unfiltered one does. Rows
-- not written say so, as in filter_rollups: (filter '', column '?') for a site-day of
-- few visits, (filter, filter_value, '?' + column) for a value whose rows of a column
-- would hold few visits each. Built with visit_rollups by build_rollups; the hourly job
-- builds the days already rolled up again (days_to_build lists the days missing here).
CREATE TABLE IF NOT EXISTS event_rollups
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
