"""What ingestion needs to know of each site, held in memory and refreshed in the background."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from jetrack.ingest.client_ip import Networks
from jetrack.store.control import ControlStore
from jetrack.store.models import Site


@dataclass(frozen=True)
class Shields:
    """Per-site rules that drop events: blocked addresses, countries and paths; allowed hosts."""

    blocked_networks: Networks = field(default_factory=Networks)
    blocked_countries: frozenset[str] = frozenset()
    blocked_paths: re.Pattern[str] | None = None
    allowed_hostnames: re.Pattern[str] | None = None

    @classmethod
    def from_settings(cls, raw: dict[str, Any] | None) -> Shields:
        raw = raw or {}
        networks = []
        for cidr in raw.get("blocked_ips", []) or []:
            try:
                networks.append(ipaddress.ip_network(str(cidr), strict=False))
            except ValueError:
                continue  # the settings page validates; never fail ingestion on a bad rule
        return cls(
            blocked_networks=Networks(networks),
            blocked_countries=frozenset(
                str(c).upper() for c in raw.get("blocked_countries", []) or []
            ),
            blocked_paths=_globs(raw.get("blocked_paths")),
            allowed_hostnames=_globs(raw.get("allowed_hostnames")),
        )


def _globs(patterns: Any) -> re.Pattern[str] | None:
    if not patterns:
        return None
    parts = []
    for pattern in patterns:
        pattern = str(pattern).strip().lower()
        if pattern:
            parts.append(fnmatch.translate(pattern))
            if pattern.startswith("*."):  # *.example.com also allows example.com
                parts.append(fnmatch.translate(pattern[2:]))
    return re.compile("|".join(parts)) if parts else None


@dataclass(frozen=True, slots=True)
class IngestSite:
    """What ingestion knows of a site (what a query knows of one is
    `jetrack.stats.query.SiteInfo`)."""

    id: int
    domain: str
    paused: bool
    cookie_mode: bool
    shields: Shields


class SiteCache:
    """domain -> IngestSite; `refresh` runs in a thread, lookups are lock-free dict reads."""

    def __init__(self, control: ControlStore) -> None:
        self._control = control
        self._by_domain: dict[str, IngestSite] = {}

    def refresh(self) -> None:
        with self._control.session() as session:
            rows = session.execute(
                select(Site.id, Site.domain, Site.paused, Site.cookie_mode, Site.shields)
            ).all()
        self._by_domain = {
            row.domain: IngestSite(
                row.id, row.domain, row.paused, row.cookie_mode, Shields.from_settings(row.shields)
            )
            for row in rows
        }

    def by_id(self, site_id: int) -> IngestSite | None:
        return next((site for site in self._by_domain.values() if site.id == site_id), None)

    def get(self, domain: str) -> IngestSite | None:
        return self._by_domain.get(domain.removeprefix("www."))
