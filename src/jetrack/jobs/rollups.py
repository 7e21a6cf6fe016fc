"""The hourly rollups job: the event store's day rollups (jetrack.store.rollups) kept current."""

from __future__ import annotations

from datetime import UTC, datetime

from jetrack.sites.sites import list_sites
from jetrack.store.cut_rollups import days_to_cut
from jetrack.store.job_queue import JobContext
from jetrack.store.rollups import DAYS_PER_RUN, build_rollups, days_due


def run_rollups(context: JobContext) -> None:
    """Roll up the days that are over and not rolled up yet, and again the recent ones
    whose visits changed since; then the recent days of sites in a zone off UTC that lack
    the rows cut at the site's midnights (a site whose zone changed). The job's payload
    lists the days."""
    events = context.stores.events
    with context.stores.control.session() as session:
        zones = {site.id: site.timezone for site in list_sites(session) if site.timezone != "UTC"}
    now = datetime.now(UTC)
    days = days_due(events, now)
    for day in days:
        context.stop_point()  # a stopping server waits for one day's build at most
        build_rollups(events, day, zones=zones)
    cut = days_to_cut(events, zones, now, DAYS_PER_RUN)
    for day, site_ids in cut:
        context.stop_point()
        build_rollups(events, day, site_ids=site_ids, zones=zones)
    context.payload["days"] = [day.isoformat() for day in days]
    context.payload["cut_days"] = [day.isoformat() for day, _ in cut]
