"""Site shields: the ingestion filters a site owner sets (IPs, countries, paths, hostnames).

Stored in `Site.shields` as {"blocked_ips": [CIDR], "blocked_countries": ["XX"],
"blocked_paths": ["/admin/*"], "allowed_hostnames": ["example.com", "*.example.com"]};
the ingestion pipeline reads exactly these keys.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pycountry

from jetrack.i18n.catalogs import gettext_noop
from jetrack.i18n.errors import Problem
from jetrack.sites.sites import DOMAIN_RE

SHIELD_KEYS = ("blocked_ips", "blocked_countries", "blocked_paths", "allowed_hostnames")
MAX_ENTRIES = 200
_PATH_RE = re.compile(r"^/[^\s]{0,499}$")


class ShieldErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _lines(text: str) -> list[str]:
    seen: list[str] = []
    for part in re.split(r"[\n,]", text):
        item = part.strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def _ip(entry: str) -> str:
    return str(ipaddress.ip_network(entry, strict=False))


def _country(entry: str) -> str:
    code = entry.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError
    return code


def _path(entry: str) -> str:
    if not _PATH_RE.match(entry):
        raise ValueError
    return entry


def _hostname(entry: str) -> str:
    host = entry.lower()
    bare = host.removeprefix("*.")
    if not DOMAIN_RE.match(bare):
        raise ValueError
    return host


_PARSERS = {
    "blocked_ips": (
        _ip,
        Problem(gettext_noop("an IP address or CIDR range such as 203.0.113.7 or 10.0.0.0/8")),
    ),
    "blocked_countries": (
        _country,
        Problem(gettext_noop("a two-letter country code such as DE or US")),
    ),
    "blocked_paths": (
        _path,
        Problem(gettext_noop("a path starting with /, where * matches anything (/admin/*)")),
    ),
    "allowed_hostnames": (
        _hostname,
        Problem(gettext_noop("a host name such as example.com or *.example.com")),
    ),
}


def parse_shields(texts: dict[str, str]) -> dict[str, Any]:
    """Validate the settings form's text areas (one entry a line); per-field messages."""
    shields: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, (parse, what) in _PARSERS.items():
        entries = _lines(texts.get(key, ""))
        if len(entries) > MAX_ENTRIES:
            errors[key] = Problem(gettext_noop("at most {max} entries"), max=str(MAX_ENTRIES))
            continue
        parsed: list[str] = []
        for entry in entries:
            try:
                parsed.append(parse(entry))
            except ValueError:
                errors[key] = Problem(
                    gettext_noop("'{entry}' is not valid: each line must be {what}"),
                    entry=entry[:80],
                    what=what,
                )
                break
        shields[key] = parsed
    if errors:
        raise ShieldErrors(errors)
    return shields


def shields_as_text(shields: dict[str, Any]) -> dict[str, str]:
    return {key: "\n".join(shields.get(key) or []) for key in SHIELD_KEYS}
