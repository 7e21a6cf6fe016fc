-- The import (jetrack.imports; the control store's site_imports) that wrote a row: 0 for
-- live traffic. An import's rows are deleted by it, and its visits with them.
ALTER TABLE events ADD COLUMN IF NOT EXISTS import_id UInt32 DEFAULT 0 CODEC(ZSTD(1));
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS import_id UInt32 DEFAULT 0 CODEC(ZSTD(1));
