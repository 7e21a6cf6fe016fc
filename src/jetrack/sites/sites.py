"""Sites: add, edit, delete, find and list tracked sites; the snippet to install."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import FieldError, Problem
from jetrack.store.models import Site, Team, User

DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)

RESERVED = frozenset({"new"})  # /sites/new is a page, not a site


class SiteError(FieldError):
    """Invalid site input: `field` names the first bad field, `errors` has all of them
    (Problems: shown translated)."""

    def __init__(
        self, field: str, message: str, errors: dict[str, str] | None = None, **params: Any
    ) -> None:
        super().__init__(field, message, **params)
        self.errors: dict[str, str] = errors or {field: self.problem}


def normalize_domain(domain: str) -> str:
    domain = domain.strip().lower().removeprefix("https://").removeprefix("http://")
    domain = domain.split("/", 1)[0].removeprefix("www.")
    if not DOMAIN_RE.match(domain) or domain in RESERVED:
        raise SiteError(
            "domain", gettext_noop("must be a domain name like example.com, without scheme or path")
        )
    return domain


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(
            "timezone", gettext_noop("must be an IANA time zone such as Europe/Berlin or UTC")
        ) from None
    return name


def check_name(name: str, domain: str) -> str:
    name = name.strip()
    if len(name) > 200:
        raise SiteError("name", gettext_noop("must be at most 200 characters"))
    return name or domain


def add_site(
    session: Session,
    owner: User,
    domain: str,
    *,
    timezone: str = "UTC",
    name: str = "",
    team: Team | None = None,
) -> Site:
    """Register a site in `team` (default: the owner's own team). The caller has checked
    that `owner` may add sites to that team."""
    from jetrack.accounts.teams import personal_team

    errors: dict[str, str] = {}
    try:
        domain = normalize_domain(domain)
    except SiteError as exc:
        errors["domain"] = exc.problem
    try:
        timezone = check_timezone(timezone)
    except SiteError as exc:
        errors["timezone"] = exc.problem
    if not errors and session.scalar(select(Site).where(Site.domain == domain)) is not None:
        errors["domain"] = Problem(gettext_noop("this domain is already registered"))
    if len(name.strip()) > 200:
        errors["name"] = Problem(gettext_noop("must be at most 200 characters"))
    if errors:
        field, message = next(iter(errors.items()))
        raise SiteError(field, message, errors)
    site = Site(
        domain=domain,
        name=check_name(name, domain),
        timezone=timezone,
        owner_id=owner.id,
        shields={},
        team_id=(team or personal_team(session, owner)).id,
    )
    session.add(site)
    session.flush()
    return site


def update_site(
    session: Session,
    site: Site,
    *,
    name: str,
    timezone: str,
    paused: bool,
    cookie_mode: bool,
    shields: dict[str, Any],
) -> None:
    errors: dict[str, str] = {}
    try:
        name = check_name(name, site.domain)
    except SiteError as exc:
        errors["name"] = exc.problem
    try:
        timezone = check_timezone(timezone)
    except SiteError as exc:
        errors["timezone"] = exc.problem
    if errors:
        field, message = next(iter(errors.items()))
        raise SiteError(field, message, errors)
    site.name = name
    site.timezone = timezone
    site.paused = paused
    site.cookie_mode = cookie_mode
    site.shields = dict(shields)


def delete_site(session: Session, site: Site) -> None:
    """Remove the site and its settings, goals, guests and shared links. Its events are
    removed from the event store by the purge job (privacy/)."""
    session.delete(site)
    session.flush()


def snippet(site: Site, base_url: str) -> str:
    """The script tag to paste into the site's <head>."""
    cookie = ' data-cookie="1"' if site.cookie_mode else ""
    src = script_url(site, base_url)
    return snippet_template(site).replace("{attrs}", cookie).replace("{src}", src)


def snippet_template(site: Site) -> str:
    """The script tag with `{attrs}` and `{src}` to fill in (the settings page's snippet
    builder fills them as its boxes are ticked). A domain holds no braces."""
    return f'<script defer data-domain="{site.domain}"{{attrs}} src="{{src}}"></script>'


def script_url(site: Site, base_url: str) -> str:
    # Cookie code is only in the cookie variants: script.js provably sets no cookie.
    return base_url.rstrip("/") + ("/js/script.cookie.js" if site.cookie_mode else "/js/script.js")


def find_site(session: Session, domain: str) -> Site | None:
    return session.scalar(select(Site).where(Site.domain == domain.strip().lower()))


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.domain)))
