"""Name the source of a visit from its referrer or UTM source, and pick its channel."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache

from jetrack.enrich.channels import channel_for
from jetrack.enrich.hosts import host_suffixes, normalise_host, referrer_host
from jetrack.enrich.sources import REFERRAL, SOURCE_TABLE, Source

# Second-level labels under which brands register in country-code domains (google.co.uk).
_SECOND_LEVEL = frozenset({"co", "com", "ac", "ne", "or", "org", "net", "gov", "gob", "edu"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_MAX_UTM_LENGTH = 200


@cache
def _domain_index() -> tuple[dict[str, Source], dict[str, Source]]:
    """(exact domain -> source, brand label of "brand.*" -> source)."""
    exact: dict[str, Source] = {}
    brands: dict[str, Source] = {}
    for name, category, domains, _aliases in SOURCE_TABLE:
        source = Source(name, category)
        for domain in domains:
            if domain.endswith(".*"):
                brands.setdefault(domain[:-2], source)
            else:
                exact.setdefault(domain, source)
    return exact, brands


@cache
def _name_index() -> dict[str, Source]:
    """utm_source spellings (letters and digits only) -> source."""
    index: dict[str, Source] = {}
    for name, category, _domains, aliases in SOURCE_TABLE:
        source = Source(name, category)
        for spelling in (name, *aliases):
            index.setdefault(_squash(spelling), source)
    return index


def _squash(text: str) -> str:
    """Lower-case letters and digits only: "Hacker News" -> "hackernews"."""
    return _NOT_ALNUM.sub("", text.lower())


def _is_public_suffix_like(labels: list[str]) -> bool:
    """Whether labels look like a country or generic suffix: ["de"], ["co", "uk"], ["com"]."""
    if len(labels) == 1:
        return True
    return len(labels) == 2 and labels[0] in _SECOND_LEVEL and len(labels[1]) == 2


@lru_cache(maxsize=16384)
def source_for_host(host: str) -> Source | None:
    """The known source a hostname belongs to (longest matching domain first), or None."""
    host = normalise_host(host)
    if not host:
        return None
    exact, brands = _domain_index()
    labels = host.split(".")
    for index, suffix in enumerate(host_suffixes(host)):
        if suffix in exact:
            return exact[suffix]
        if labels[index] in brands and _is_public_suffix_like(labels[index + 1 :]):
            return brands[labels[index]]
    return None


@lru_cache(maxsize=8192)
def source_for_utm(value: str) -> Source:
    """The source named by a utm_source value: a known name, alias or domain, else the raw value."""
    value = value.strip()[:_MAX_UTM_LENGTH]
    known = _name_index().get(_squash(value))
    if known is None and "." in value:
        known = source_for_host(referrer_host(value))
    return known if known is not None else Source(value, "")


def classify_source(referrer: str, page_hostname: str, utm: Mapping[str, str]) -> tuple[str, str]:
    """(source, channel) of a visit; ("", "Direct") for no or self referrer and no campaign.

    ``utm`` holds the page URL's utm_* parameters (a ``ref``/``source`` parameter arrives as
    "utm_source") and "click_id_param" naming an ad click id such as "gclid". An explicit
    utm_source wins over the referrer: it is what the site owner tagged the link with.
    """
    host = referrer_host(referrer)
    if host and host == normalise_host(page_hostname):
        host = ""
    utm_source = utm.get("utm_source", "").strip()
    if utm_source:
        source = source_for_utm(utm_source)
    elif host:
        source = source_for_host(host) or Source(host, REFERRAL)
    else:
        source = Source("", "")
    return source.name, channel_for(source.name, source.category, utm)


def channel_of_named_source(source: str, referrer: str, utm: Mapping[str, str]) -> str:
    """The channel of a visit whose source is already named, as another tool's aggregates
    name it (an imported sources row: "Google", "" or "Direct / None" for none), from that
    name (a known source's, an alias or a domain), else its referrer, and its UTM tags."""
    name = source.strip()
    if name == "Direct / None":
        name = ""
    known = _name_index().get(_squash(name)) if name else None
    if known is None and "." in name:
        known = source_for_host(referrer_host(name))
    if known is None and referrer.strip():
        known = source_for_host(referrer_host(referrer))
    category = known.category if known is not None else ""
    return channel_for(known.name if known is not None else name, category, utm)
