"""Enrichment: pure, cached functions that turn request facts into stored dimensions."""

from __future__ import annotations

from jetrack.enrich.bots import bot_reason
from jetrack.enrich.bots import warm_up as _warm_up_bots
from jetrack.enrich.geo import GEO_ATTRIBUTION, GeoInfo, GeoLookup
from jetrack.enrich.hosts import referrer_host
from jetrack.enrich.language import primary_language
from jetrack.enrich.referrers import classify_source
from jetrack.enrich.regions import country_name, region_name
from jetrack.enrich.regions import warm_up as _warm_up_regions
from jetrack.enrich.screen import screen_size
from jetrack.enrich.ua import UserAgentInfo, parse_user_agent
from jetrack.enrich.ua import warm_up as _warm_up_ua

__all__ = [
    "GEO_ATTRIBUTION",
    "GeoInfo",
    "GeoLookup",
    "UserAgentInfo",
    "bot_reason",
    "classify_source",
    "country_name",
    "parse_user_agent",
    "primary_language",
    "referrer_host",
    "region_name",
    "screen_size",
    "warm_up",
]


def warm_up() -> None:
    """Build the tables the functions here otherwise build on the first event that needs
    them (UA rules, bot patterns, region names of every country, sources): ~0.2 s at start
    instead of stalls of up to tens of milliseconds while the first events wait."""
    _warm_up_ua()
    _warm_up_bots()
    _warm_up_regions()
    classify_source("https://www.google.com/", "", {"utm_source": "newsletter"})
