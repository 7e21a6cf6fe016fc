"""Server access logs (nginx/Apache combined, Caddy JSON, CloudFront standard) as records
of page views; which requests are pages is decided here (docs/imports.md).

A line's address and user agent go to the replay, which hashes and locates them like
live traffic's and stores neither."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import orjson

from jetrack.imports import messages
from jetrack.imports.context import ImportContext, ImportRefused, ImportResult
from jetrack.imports.files import LineFiles, import_files
from jetrack.imports.replay import Hit, Replayed, replay_import

FORMATS = ("combined", "caddy", "cloudfront")

# A page's path ends in no extension or in one of these; anything else (styles, scripts,
# images, fonts, media, feeds, archives, documents) is an asset, not a page view.
PAGE_EXTENSIONS = frozenset(
    {"html", "htm", "xhtml", "shtml", "php", "asp", "aspx", "jsp", "cfm", "cgi", "pl"}
)
# Paths that are never pages whatever their extension: the site's machinery.
NOT_PAGES = re.compile(
    r"^/(?:\.well-known/|wp-admin/|wp-json/|wp-includes/|wp-content/|xmlrpc\.php|"
    r"wp-login\.php|wp-cron\.php|cgi-bin/|api/|_next/|static/|assets/|favicon|"
    r"apple-touch-icon|robots\.txt|sitemap|ads\.txt|humans\.txt|manifest\.)"
)

# Why a line is not a page view (the counts an import reports).
UNPARSED, METHOD, STATUS, ASSET, NOT_HTML = "unparsed", "method", "status", "asset", "not_html"


def page_path(path: str) -> bool:
    """Whether a request path (without its query) is a page."""
    if NOT_PAGES.match(path):
        return False
    last = path.rsplit("/", 1)[-1]
    if "." not in last:
        return True
    return last.rsplit(".", 1)[-1].lower() in PAGE_EXTENSIONS


# ---- nginx/Apache combined ---------------------------------------------------------

_COMBINED = re.compile(
    rb'^(\S+) \S+ \S+ \[([^\]]+)\] "([A-Z]+) (\S+)[^"]*" (\d{3}) \S+'
    rb' "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"'
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    )
}
_day_starts: dict[str, int] = {}


def _clf_time(text: str) -> int:
    """Unix seconds of '10/Oct/2024:13:55:36 -0700' (the day's start is cached)."""
    key = text[:11] + text[20:]
    start = _day_starts.get(key)
    if start is None:
        moment = datetime.strptime(text[:11] + " " + text[21:], "%d/%b/%Y %z")
        start = int(moment.timestamp())
        if len(_day_starts) > 10_000:
            _day_starts.clear()
        _day_starts[key] = start
    return start + int(text[12:14]) * 3600 + int(text[15:17]) * 60 + int(text[18:20])


def _text(raw: bytes) -> str:
    value = raw.decode("utf-8", "replace")
    return "" if value == "-" else value.replace('\\"', '"')


class _Request:
    """What a format gives of one line: enough to decide and to make a Hit."""

    __slots__ = ("agent", "host", "ip", "method", "referrer", "status", "target", "timestamp")

    def __init__(
        self,
        ip: str,
        timestamp: int,
        method: str,
        target: str,
        status: int,
        referrer: str,
        agent: str,
        host: str = "",
    ) -> None:
        self.ip, self.timestamp, self.method, self.target = ip, timestamp, method, target
        self.status, self.referrer, self.agent, self.host = status, referrer, agent, host


def parse_combined(line: bytes, fields: dict[str, int] | None = None) -> _Request | str:
    match = _COMBINED.match(line)
    if match is None:
        return UNPARSED
    ip, when, method, target, status, referrer, agent = match.groups()
    if method != b"GET":
        return METHOD
    status_code = int(status)
    if not 200 <= status_code < 300:
        return STATUS
    try:
        timestamp = _clf_time(when.decode())
    except ValueError:
        return UNPARSED
    return _Request(
        ip.decode(), timestamp, "GET", target.decode("utf-8", "replace"), status_code,
        _text(referrer), _text(agent),
    )  # fmt: skip


# ---- Caddy JSON --------------------------------------------------------------------


def _header(headers: Any, name: str) -> str:
    if not isinstance(headers, dict):
        return ""
    values = headers.get(name)
    return str(values[0]) if isinstance(values, list) and values else ""


def parse_caddy(line: bytes, fields: dict[str, int] | None = None) -> _Request | str:
    try:
        entry = orjson.loads(line)
        request = entry["request"]
        method = request["method"]
        if method != "GET":
            return METHOD
        status = int(entry["status"])
        if not 200 <= status < 300:
            return STATUS
        content_type = _header(entry.get("resp_headers"), "Content-Type")
        if content_type and not content_type.startswith("text/html"):
            return NOT_HTML
        headers = request.get("headers")
        return _Request(
            str(request.get("client_ip") or request.get("remote_ip") or ""),
            int(float(entry["ts"])),
            "GET",
            str(request["uri"]),
            status,
            _header(headers, "Referer"),
            _header(headers, "User-Agent"),
            str(request.get("host") or ""),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return UNPARSED


# ---- CloudFront standard log -------------------------------------------------------

CLOUDFRONT_FIELDS = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
]


def _cf(value: str) -> str:
    return "" if value == "-" else unquote(unquote(value))


def parse_cloudfront(line: bytes, fields: dict[str, int] | None = None) -> _Request | str:
    at = fields or {name: i for i, name in enumerate(CLOUDFRONT_FIELDS)}
    parts = line.rstrip(b"\r\n").decode("utf-8", "replace").split("\t")
    try:
        if parts[at["cs-method"]] != "GET":
            return METHOD
        status = int(parts[at["sc-status"]])
        if not 200 <= status < 300:
            return STATUS
        content_type = (
            parts[at["sc-content-type"]] if at.get("sc-content-type", 99) < len(parts) else ""
        )
        if content_type not in ("", "-") and not content_type.startswith("text/html"):
            return NOT_HTML
        moment = datetime.fromisoformat(f"{parts[at['date']]}T{parts[at['time']]}+00:00")
        query = parts[at["cs-uri-query"]]
        host_at = at.get("x-host-header", 99)
        host = parts[host_at] if host_at < len(parts) else ""
        return _Request(
            parts[at["c-ip"]],
            int(moment.astimezone(UTC).timestamp()),
            "GET",
            parts[at["cs-uri-stem"]] + ("" if query in ("", "-") else "?" + query),
            status,
            _cf(parts[at["cs(Referer)"]]),
            _cf(parts[at["cs(User-Agent)"]]),
            "" if host == "-" else host,
        )
    except (IndexError, KeyError, ValueError):
        return UNPARSED


Parser = Callable[[bytes, "dict[str, int] | None"], "_Request | str"]
PARSERS: dict[str, Parser] = {
    "combined": parse_combined,
    "caddy": parse_caddy,
    "cloudfront": parse_cloudfront,
}


class AccessLog(LineFiles):
    """Page views of access log files: each line parsed, the non-pages counted by reason."""

    def __init__(self, paths: Sequence[Path], log_format: str, domain: str) -> None:
        super().__init__(paths)
        if log_format not in PARSERS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        self.parse = PARSERS[log_format]
        self.domain = domain

    def records(self, start: dict[str, Any] | None) -> Iterator[Hit]:
        with closing(self.lines(start)) as lines:
            yield from self._hits(lines)

    def _hits(self, lines: Iterator[bytes]) -> Iterator[Hit]:
        parse, skips, domain = self.parse, self.skips, self.domain
        fields: dict[str, int] | None = None
        for line in lines:
            if line.startswith(b"#"):
                if line.startswith(b"#Fields:"):  # CloudFront names its columns
                    names = line[8:].decode().split()
                    fields = {name: i for i, name in enumerate(names)}
                continue
            if not line.strip():
                continue
            request = parse(line, fields)
            if isinstance(request, str):
                skips[request] += 1
                continue
            path = request.target.partition("?")[0]
            if not path.startswith("/") or not page_path(path):
                skips[ASSET] += 1
                continue
            host = request.host.split(":", 1)[0] or domain
            yield Hit(
                request.timestamp,
                f"https://{host}{request.target}",
                request.referrer,
                request.agent,
                request.ip,
            )


def sniff_format(path: Path) -> str:
    """The format of a log uploaded without one: Caddy's lines are JSON, CloudFront's have
    a #Version header and tabs; anything else is read as combined."""
    with closing(LineFiles([path]).lines(None)) as lines:
        for line in lines:
            if line.startswith(b"#Version") or b"\t" in line:
                return "cloudfront"
            if line.strip():
                return "caddy" if line.lstrip().startswith(b"{") else "combined"
    return "combined"


class AccessLogImporter(Replayed):
    """The `access-log` kind: params `paths` (the files, in order) and `format` (an upload
    has neither: its one file, its format told by its first line)."""

    uploadable = True
    command = "jetrack import access-log --site {domain} --format combined FILE..."

    def run(self, context: ImportContext) -> ImportResult:
        paths = import_files(context)
        log_format = str(context.params.get("format") or sniff_format(paths[0]))
        if log_format not in PARSERS:
            raise ImportRefused(messages.BAD_FORMAT, formats=", ".join(FORMATS))
        return replay_import(context, AccessLog(paths, log_format, context.site.domain))
