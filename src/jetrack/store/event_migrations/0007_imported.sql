-- Daily aggregates of another tool's history (Plausible's CSV export and its kin), one
-- table per file of that export, apart from native events: the stats engine adds them
-- only when a query asks (include.imports) and where its dimension allows. import_id is
-- the control store's site_imports row, so one import can be deleted; batch is the
-- importer's chunk (file * 1,000,000 + chunk), so a resumed import deletes what it wrote
-- past its checkpoint before writing it again. Columns and their order (after these
-- three): jetrack.store.imported.IMPORTED_TABLES.

CREATE TABLE IF NOT EXISTS imported_visitors
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1)),
    visits UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_sources
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    source String CODEC(ZSTD(1)),
    referrer String CODEC(ZSTD(1)),
    utm_source String CODEC(ZSTD(1)),
    utm_medium String CODEC(ZSTD(1)),
    utm_campaign String CODEC(ZSTD(1)),
    utm_content String CODEC(ZSTD(1)),
    utm_term String CODEC(ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    visits UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, source, referrer, utm_source, utm_medium, utm_campaign, utm_content, utm_term)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_pages
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    hostname String CODEC(ZSTD(1)),
    page String CODEC(ZSTD(1)),
    visits UInt64 CODEC(T64, ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1)),
    scroll_depth Nullable(UInt64),
    pageleave_visitors UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, page, hostname)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_entry_pages
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    entry_page String CODEC(ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    entrances UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, entry_page)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_exit_pages
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    exit_page String CODEC(ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1)),
    exits UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, exit_page)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_custom_events
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    name String CODEC(ZSTD(1)),
    link_url String CODEC(ZSTD(1)),
    path String CODEC(ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    events UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, name, link_url, path)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_locations
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    country String CODEC(ZSTD(1)),
    region String CODEC(ZSTD(1)),
    city UInt64 CODEC(T64, ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    visits UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, country, region, city)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_devices
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    device String CODEC(ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    visits UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, device)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_browsers
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    browser String CODEC(ZSTD(1)),
    browser_version String CODEC(ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    visits UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, browser, browser_version)
SETTINGS index_granularity = 8192{storage_settings};

CREATE TABLE IF NOT EXISTS imported_operating_systems
(
    site_id UInt32,
    import_id UInt64,
    batch UInt32 CODEC(T64, ZSTD(1)),
    date Date CODEC(Delta, ZSTD(1)),
    operating_system String CODEC(ZSTD(1)),
    operating_system_version String CODEC(ZSTD(1)),
    visitors UInt64 CODEC(T64, ZSTD(1)),
    visits UInt64 CODEC(T64, ZSTD(1)),
    visit_duration UInt64 CODEC(T64, ZSTD(1)),
    bounces UInt64 CODEC(T64, ZSTD(1)),
    pageviews UInt64 CODEC(T64, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(date)
ORDER BY (site_id, date, import_id, operating_system, operating_system_version)
SETTINGS index_granularity = 8192{storage_settings};
