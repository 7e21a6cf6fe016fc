"""Installation check: what has arrived for the site, and what that says about the snippet.

"none": no event yet. "installed": events from the site's own host names. "other-host":
events arrived, but only from other host names (a local test with data-local, a staging
copy): the snippet works, the live site has not sent anything yet."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.concurrency import run_in_threadpool

from jetrack.i18n.catalogs import _, ngettext
from jetrack.i18n.formatting import number
from jetrack.store.events import EventStoreError, first_value
from jetrack.store.models import Site
from jetrack.store.stores import Stores

Status = Literal["none", "installed", "other-host"]

# Enough host names to recognise a local test or a staging copy; not a report.
HOSTS_SHOWN = 5


@dataclass(frozen=True)
class Installation:
    status: Status
    events: int
    hostnames: tuple[str, ...]  # the hosts events came from, most events first


def own_host(site: Site, hostname: str) -> bool:
    """The site's domain itself or one of its subdomains (www., blog.)."""
    return hostname == site.domain or hostname.endswith("." + site.domain)


def judge(site: Site, events: int, hostnames: tuple[str, ...]) -> Installation:
    if events == 0:
        return Installation("none", 0, ())
    status: Status = "installed" if any(own_host(site, h) for h in hostnames) else "other-host"
    return Installation(status, events, hostnames)


async def events_received(stores: Stores, site: Site) -> int | None:
    """How many events the site has sent; None when the event store cannot answer."""
    found = await installation(stores, site)
    return None if found is None else found.events


async def installation(stores: Stores, site: Site) -> Installation | None:
    """The check's answer; None when the event store cannot answer."""

    def look() -> Installation:
        params = {"id": site.id}
        total = stores.events.query(
            "SELECT count() FROM events WHERE site_id = {id:UInt32}", params
        )
        hosts = stores.events.query(
            "SELECT hostname FROM events WHERE site_id = {id:UInt32}"
            " GROUP BY hostname ORDER BY count() DESC, hostname LIMIT {n:UInt32}",
            {**params, "n": HOSTS_SHOWN},
        )
        names = tuple(str(row[0]) for row in hosts.rows)
        return judge(site, int(first_value(total, 0)), names)

    try:
        return await run_in_threadpool(look)
    except EventStoreError:
        return None


def _events(count: int) -> str:
    """'216,555 events', '1 event': a count people read at a glance, in the reader's language."""
    return ngettext("{count} event", "{count} events", count, count=number(count))


def describe(found: Installation, domain: str) -> str:
    """The sentence the settings page shows (server-rendered and after each check)."""
    hosts = ", ".join(found.hostnames)
    events = _events(found.events)
    if found.status == "installed":
        return _("Installed: {events} received (from {hosts}).", events=events, hosts=hosts)
    if found.status == "other-host":
        return _(
            "{events} arrived, but only from {hosts}, not from {domain}: the snippet works"
            " (a local test or another copy of the site?). Put it on the pages of {domain} itself.",
            events=events,
            hosts=hosts,
            domain=domain,
        )
    return _(
        "No event has arrived yet. Open a page of {domain} that has the snippet"
        " (on localhost it counts only with data-local, see below), then check again.",
        domain=domain,
    )
