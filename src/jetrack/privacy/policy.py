"""The facts the privacy policy states, taken from the settings and the code, never typed in.

Changing JETRACK_RETENTION_DAYS, JETRACK_CONTACT_EMAIL, the geo database or the event
schema changes the published policy; a test checks every event column is described here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jetrack.billing.plans import plan_named
from jetrack.config import Settings
from jetrack.enrich.geo import GEO_ATTRIBUTION
from jetrack.i18n.catalogs import gettext_noop
from jetrack.store.models import Site, Team
from jetrack.store.salts import SALT_LIFETIME

# Pairs of columns told in one sentence: the page lists each sentence once.
_BROWSER = gettext_noop(
    "the browser and its version, from the browser string, which is then discarded"
)
_CITY = gettext_noop("the city (its name and GeoNames number), derived the same way")
_REVENUE = gettext_noop("a purchase amount and currency, if the site records revenue")

# Every column of the events table (store/event_migrations), in plain words.
COLLECTED_FIELDS: dict[str, str] = {
    "site_id": gettext_noop("which of our customers' sites you visited"),
    "timestamp": gettext_noop("the time of the page view or event, to the second"),
    "name": gettext_noop(
        "the kind of event (a page view, or an event the site defines, such as a sign-up)"
    ),
    "visitor_id": gettext_noop(
        "a daily visitor number: a keyed hash of the day's random salt, the site, "
        "your IP address and browser string; it cannot be reversed and changes every day"
    ),
    "session_id": gettext_noop("a random number for one visit"),
    "hostname": gettext_noop("the site's host name"),
    "pathname": gettext_noop("the page address, without the query string except campaign tags"),
    "referrer": gettext_noop(
        "the address of the page that linked to the site, without its query string"
    ),
    "source": gettext_noop("the referring site or campaign source, such as a search engine"),
    "channel": gettext_noop("the kind of source (search, social, email, direct and so on)"),
    "utm_medium": gettext_noop("campaign tags (utm_*) in the page address"),
    "utm_source": gettext_noop("campaign tags (utm_*) in the page address"),
    "utm_campaign": gettext_noop("campaign tags (utm_*) in the page address"),
    "utm_content": gettext_noop("campaign tags (utm_*) in the page address"),
    "utm_term": gettext_noop("campaign tags (utm_*) in the page address"),
    "click_id_param": gettext_noop("the name (not the value) of an ad click id parameter, if any"),
    "entry_page": gettext_noop("the first page of the visit"),
    "country_code": gettext_noop(
        "the country, derived from the IP address, which is then discarded"
    ),
    "region_code": gettext_noop("the region, derived the same way"),
    "city": _CITY,
    "city_geoname_id": _CITY,
    "device": gettext_noop("the device type (desktop, tablet, phone), from the screen width"),
    "screen_size": gettext_noop("the screen size class"),
    "browser": _BROWSER,
    "browser_version": _BROWSER,
    "os": gettext_noop("the operating system and its version"),
    "os_version": gettext_noop("the operating system and its version"),
    "language": gettext_noop("the browser's language"),
    "props": gettext_noop(
        "custom properties the site sends with an event (sites must not send personal data)"
    ),
    "revenue_amount": _REVENUE,
    "revenue_currency": _REVENUE,
    "interactive": gettext_noop("whether the event counts as an interaction (for bounce rate)"),
    "scroll_depth": gettext_noop("how far down the page you scrolled, in percent"),
    "engagement_ms": gettext_noop("how long the page was in the foreground"),
    "import_id": gettext_noop("which import brought the event in from another tool, if one did"),
}


@dataclass(frozen=True)
class PolicyFacts:
    contact_email: str
    base_url: str
    retention_days: int  # instance default; 0 = until deleted
    sites_with_own_retention: int
    shortest_site_retention: int | None
    longest_site_retention: int | None
    geo_attribution: str
    cookie_sites: int
    salt_hours: int
    encrypted_at_rest: bool
    encrypted_in_transit: bool
    erasure_grace_days: int
    collected: list[str]
    plans_in_use: list[tuple[str, int]]  # (plan name, retention days) of teams' plans


def policy_facts(session: Session, settings: Settings) -> PolicyFacts:
    overrides = list(
        session.scalars(select(Site.retention_days).where(Site.retention_days.is_not(None)))
    )
    limited = [days for days in overrides if days and days > 0]
    cookie_sites = session.scalar(select(func.count()).select_from(Site).where(Site.cookie_mode))
    plans = [plan_named(key) for key in session.scalars(select(Team.plan).distinct())]
    plans_in_use = sorted(
        {(p.name, p.retention_days) for p in plans if p is not None}, key=lambda p: p[1]
    )
    # Several columns share one description: list each sentence once, in column order.
    collected = list(dict.fromkeys(COLLECTED_FIELDS.values()))
    return PolicyFacts(
        contact_email=settings.contact_email,
        base_url=settings.base_url.rstrip("/"),
        retention_days=settings.retention_days,
        sites_with_own_retention=len(overrides),
        shortest_site_retention=min(limited) if limited else None,
        longest_site_retention=max(limited) if limited else None,
        geo_attribution=GEO_ATTRIBUTION,
        cookie_sites=int(cookie_sites or 0),
        salt_hours=int(SALT_LIFETIME.total_seconds() // 3600),
        encrypted_at_rest=settings.encryption,
        encrypted_in_transit=settings.tls
        or bool(settings.trusted_proxies)
        or settings.base_url.startswith("https://"),
        erasure_grace_days=settings.erasure_grace_days,
        collected=collected,
        plans_in_use=plans_in_use,
    )
