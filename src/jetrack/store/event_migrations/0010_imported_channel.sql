-- The acquisition channel of an imported sources row (visit:channel): the export's own
-- `channel` column when it has one, else derived at import time by Jetrack's channel
-- rules (jetrack.imports.plausible). '' on rows imported before this migration.
ALTER TABLE imported_sources ADD COLUMN IF NOT EXISTS channel String DEFAULT '' CODEC(ZSTD(1));
