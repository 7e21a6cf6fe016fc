-- The events again, sorted by site, event name, page and day (a projection, written with
-- every insert and merge): a query filtered by a page or a custom event name (a page
-- filter with a visit filter, a goal with properties, a funnel's steps) reads the
-- granules of those events instead of every event of the site's days. ClickHouse picks
-- it when its key selects fewer granules than the table's own. A mutation (ALTER ...
-- DELETE: the erasures, the demo data's) rebuilds it; a lightweight DELETE drops it from
-- the parts it changes ('rebuild' left deleted rows in it, chDB 4.4), which then merge
-- only among themselves: ClickHouse never merges parts with different projections. So the
-- parts stored before get it here too (MATERIALIZE); where that runs out of memory (a
-- 10M-event part under a 512 MB limit), the migration drops it again and the events are
-- read from the table as before (jetrack.store.event_schema.migrate_events).
ALTER TABLE events ADD PROJECTION IF NOT EXISTS by_name_page
    (SELECT * ORDER BY site_id, name, pathname, toDate(timestamp));
ALTER TABLE events MODIFY SETTING lightweight_mutation_projection_mode = 'drop';
ALTER TABLE events MATERIALIZE PROJECTION by_name_page;
