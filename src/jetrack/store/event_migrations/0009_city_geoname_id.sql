-- The GeoNames id of the visit's city (Plausible's visit:city; the name stays in `city`,
-- visit:city_name), looked up at ingestion by jetrack.enrich.geonames; 0 where the city is
-- unknown or not among GeoNames' cities of 15,000+ inhabitants, and on rows stored before
-- this migration.
ALTER TABLE events ADD COLUMN IF NOT EXISTS city_geoname_id UInt32 DEFAULT 0
    CODEC(T64, ZSTD(1)) AFTER city;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS city_geoname_id UInt32 DEFAULT 0
    CODEC(T64, ZSTD(1)) AFTER city;
