"""Enrichment: pure, cached functions that turn request facts into stored dimensions."""

from __future__ import annotations

from jetrack.enrich.bots import bot_reason
from jetrack.enrich.geo import GEO_ATTRIBUTION, GeoInfo, GeoLookup
from jetrack.enrich.hosts import referrer_host
from jetrack.enrich.language import primary_language
from jetrack.enrich.referrers import classify_source
from jetrack.enrich.regions import country_name, region_name
from jetrack.enrich.screen import screen_size
from jetrack.enrich.ua import UserAgentInfo, parse_user_agent

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
]
