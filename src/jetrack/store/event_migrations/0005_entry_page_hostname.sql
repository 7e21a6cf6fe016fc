-- The hostname of a visit's first pageview (Plausible's visit:entry_page_hostname; the
-- existing `hostname` column is the last pageview's, visit:exit_page_hostname). Rows
-- written before this migration read their visit's last hostname instead, the same on
-- every site served from one hostname; rebuild_sessions recomputes them from events.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS entry_page_hostname LowCardinality(String)
    DEFAULT hostname CODEC(ZSTD(1)) AFTER hostname;
