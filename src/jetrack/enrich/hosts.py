"""Hostnames from referrer URLs, and the domain suffixes that lookup tables match on."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

# Android apps send "android-app://<package>/" as the referrer; the package id is the
# closest thing to a hostname they have, and the source table lists the common ones.
_APP_SCHEMES = ("android-app", "ios-app")
# "mailto:x", "javascript:x": a scheme without "//"; "example.com:8080" is a host and port.
_OPAQUE_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")


@lru_cache(maxsize=16384)
def referrer_host(referrer: str) -> str:
    """The lower-case hostname of a referrer URL without "www." or port; "" if there is none."""
    text = referrer.strip()
    if not text:
        return ""
    if "://" not in text:
        if _OPAQUE_SCHEME.match(text):
            return ""
        text = "http://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https", *_APP_SCHEMES):
        return ""
    return normalise_host(host)


def normalise_host(host: str) -> str:
    """Lower-case, no trailing dot, no leading "www."."""
    host = host.strip().lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def host_suffixes(host: str) -> list[str]:
    """The host and each parent domain, longest first: a.b.c -> [a.b.c, b.c, c]."""
    labels = host.split(".")
    return [".".join(labels[index:]) for index in range(len(labels))]
