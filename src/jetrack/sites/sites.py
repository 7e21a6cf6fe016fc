"""Sites: add, find and list the sites an account tracks."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from jetrack.store.models import Site, User

DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class SiteError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def normalize_domain(domain: str) -> str:
    domain = domain.strip().lower().removeprefix("https://").removeprefix("http://")
    domain = domain.split("/", 1)[0].removeprefix("www.")
    if not DOMAIN_RE.match(domain):
        raise SiteError("domain", "must be a domain name like example.com, without scheme or path")
    return domain


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SiteError(
            "timezone", "must be an IANA time zone such as Europe/Berlin or UTC"
        ) from None
    return name


def add_site(
    session: Session, owner: User, domain: str, *, timezone: str = "UTC", name: str = ""
) -> Site:
    domain = normalize_domain(domain)
    if session.scalar(select(Site).where(Site.domain == domain)) is not None:
        raise SiteError("domain", "this domain is already registered")
    site = Site(
        domain=domain,
        name=name or domain,
        timezone=check_timezone(timezone),
        owner_id=owner.id,
        shields={},
    )
    session.add(site)
    session.flush()
    return site


def find_site(session: Session, domain: str) -> Site | None:
    return session.scalar(select(Site).where(Site.domain == domain.strip().lower()))


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.domain)))
