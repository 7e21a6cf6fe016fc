-- The events again, sorted by site, event name, page and day (a projection, written with
-- every insert and merge): a query filtered by a page or a custom event name (a page
-- filter with a visit filter, a goal with properties, a funnel's steps) reads the
-- granules of those events instead of every event of the site's days. ClickHouse picks
-- it when its key selects fewer granules than the table's own. A lightweight DELETE (the
-- demo data's) drops it from the parts it changes ('rebuild' left deleted rows in it,
-- chDB 4.4; a merge builds it again); a mutation (ALTER ... DELETE, the erasures) rebuilds
-- it. Parts written before get it in the background (MATERIALIZE); until then, and in
-- parts without it, events are read from the table, with the same answers.
ALTER TABLE events ADD PROJECTION IF NOT EXISTS by_name_page
    (SELECT * ORDER BY site_id, name, pathname, toDate(timestamp));
ALTER TABLE events MODIFY SETTING lightweight_mutation_projection_mode = 'drop';
ALTER TABLE events MATERIALIZE PROJECTION by_name_page;
