"""Umami's own PostgreSQL tables as records: a website's raw events (`website_event`) with
their visitor's attributes (`session`), read in time order with a server-side cursor.

Umami keeps no address and no user agent: its session's browser, OS, device, screen,
language and place become the visit's attributes, its session id the key of the day's
visitor id (so Jetrack's visitors are per day, its visits 30 idle minutes, as for live
traffic); a custom event's `event_data` rows are its properties. Columns that older
Umami versions lack (`website_event.hostname`, `session.region` before it was renamed
from `subdivision1`) are read where they exist."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

from jetrack.imports import messages
from jetrack.imports.context import ImportContext, ImportRefused, ImportResult
from jetrack.imports.goatcounter import name_and_version
from jetrack.imports.replay import Hit, Known, Replayed, forget_salts, replay_import
from jetrack.ingest.wire import MAX_PROP_KEY, MAX_PROP_VALUE, MAX_PROPS

if TYPE_CHECKING:
    import psycopg  # imported where a website is opened: every process imports this module

PAGEVIEW, CUSTOM_EVENT = 1, 2  # website_event.event_type
ROWS_PER_FETCH = 5_000
DEVICES = {"desktop": "Desktop", "laptop": "Desktop", "mobile": "Mobile", "tablet": "Tablet"}
BROWSERS = {
    "chrome": "Chrome", "crios": "Chrome", "chromium-webview": "Chrome", "firefox": "Firefox",
    "fxios": "Firefox", "safari": "Safari", "ios": "Safari", "ios-webview": "Safari",
    "edge": "Edge", "edge-chromium": "Edge", "edge-ios": "Edge", "opera": "Opera",
    "opera-mini": "Opera Mini", "samsung": "Samsung Internet", "yandexbrowser": "Yandex Browser",
    "android": "Android Browser", "instagram": "Instagram", "facebook": "Facebook", "ie": "Internet Explorer",
}  # fmt: skip
SYSTEMS = {"Mac OS": "macOS", "Android OS": "Android", "Chrome OS": "Chrome OS"}


def _columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
    ).fetchall()
    return {str(row[0]) for row in rows}


def system_of(text: str) -> tuple[str, str]:
    """Umami's OS name ('Windows 10', 'Mac OS', 'Android OS') as Jetrack's name and version."""
    if text in SYSTEMS:
        return SYSTEMS[text], ""
    return name_and_version(text)


class UmamiWebsite:
    """One website's events in Umami's database, oldest first."""

    def __init__(self, database_url: str, website_id: str, domain: str) -> None:
        try:
            self.website_id = str(UUID(website_id))
        except ValueError:
            raise ImportRefused(messages.NOT_A_UUID, value=repr(website_id[:40])) from None
        self.domain = domain
        import psycopg

        try:
            self.conn = psycopg.connect(database_url, connect_timeout=10, autocommit=False)
        except psycopg.Error as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise ImportRefused(messages.CANNOT_CONNECT, error=first_line) from None
        found = self.conn.execute(
            "SELECT count(*) FROM website WHERE website_id = %s", (self.website_id,)
        ).fetchone()
        if not found or not found[0]:
            self.conn.close()
            raise ImportRefused(messages.NO_WEBSITE, website=self.website_id)
        counted = self.conn.execute(
            "SELECT count(*) FROM website_event WHERE website_id = %s", (self.website_id,)
        ).fetchone()
        self.total = int(counted[0]) if counted else 0
        self._read = 0
        self._at: tuple[str, str] | None = None
        self.skips: Counter[str] = Counter()

    def _select(self) -> str:
        events, sessions = _columns(self.conn, "website_event"), _columns(self.conn, "session")
        host = (
            "e.hostname"
            if "hostname" in events
            else "s.hostname"
            if "hostname" in sessions
            else "NULL"
        )
        region = (
            "s.region"
            if "region" in sessions
            else "s.subdivision1"
            if "subdivision1" in sessions
            else "NULL"
        )
        props = (
            "CASE WHEN e.event_type = 2 THEN (SELECT json_object_agg(d.data_key, COALESCE("
            "d.string_value, trim_scale(d.number_value)::text, d.date_value::text))"
            " FROM event_data d WHERE d.website_event_id = e.event_id) END"
            if _columns(self.conn, "event_data")
            else "NULL"
        )
        return (
            "SELECT e.event_id::text, e.created_at, e.url_path, e.url_query, e.referrer_domain,"
            f" e.referrer_path, e.event_type, e.event_name, {host}, e.session_id::text,"
            f" s.browser, s.os, s.device, s.screen, s.language, s.country, {region}, s.city,"
            f" {props}"
            " FROM website_event e JOIN session s ON s.session_id = e.session_id"
            " WHERE e.website_id = %s AND e.created_at IS NOT NULL"
            " AND (e.created_at, e.event_id) > (%s::timestamptz, %s::uuid)"
            " ORDER BY e.created_at, e.event_id"
        )  # fmt: skip

    def records(self, start: dict[str, Any] | None) -> Iterator[Hit]:
        at, event_id = ("-infinity", "00000000-0000-0000-0000-000000000000")
        if start:
            at, event_id, self._read = str(start["at"]), str(start["id"]), int(start["read"])
        try:
            with self.conn.transaction(), self.conn.cursor(name="jetrack_import") as cursor:
                cursor.itersize = ROWS_PER_FETCH
                cursor.execute(self._select(), (self.website_id, at, event_id))
                for row in cursor:
                    self._read += 1
                    self._at = (row[1].isoformat(), row[0])
                    hit = self._hit(row)
                    if hit is not None:
                        yield hit
        finally:
            self.conn.close()

    def _hit(self, row: tuple[Any, ...]) -> Hit | None:
        (_, created, path, query, ref_domain, ref_path, kind, event_name, host, session,
         browser, system, device, screen, language, country, region, city, data) = row  # fmt: skip
        if kind not in (PAGEVIEW, CUSTOM_EVENT):
            self.skips["other_event_type"] += 1
            return None
        url = f"https://{host or self.domain}{path or '/'}" + (f"?{query}" if query else "")
        referrer = f"https://{ref_domain}{ref_path or ''}" if ref_domain else ""
        os_name, os_version = system_of(system or "")
        width = (screen or "").split("x", 1)[0]
        country = (country or "").upper()
        region = region or ""
        return Hit(
            int(created.timestamp()),
            url,
            referrer,
            visitor=session,
            name="pageview" if kind == PAGEVIEW else (event_name or "event"),
            props=_props(data),
            known=Known(
                country_code=country,
                region_code=region if "-" in region or not region else f"{country}-{region}",
                city=city or "",
                device=DEVICES.get(device or "", "Desktop"),
                browser=BROWSERS.get(browser or "", (browser or "").title()),
                os=os_name,
                os_version=os_version,
                language=(language or "").split("-", 1)[0].lower(),
            ),
            screen_width=int(width) if width.isdigit() else None,
        )

    def position(self) -> dict[str, Any]:
        at, event_id = self._at or ("-infinity", "00000000-0000-0000-0000-000000000000")
        return {"at": at, "id": event_id, "read": self._read}

    def done(self) -> int:
        return self._read

    def skipped(self) -> Counter[str]:
        return self.skips


def _props(data: Any) -> dict[str, str]:
    """A custom event's properties (Umami's event_data), within the Events API's limits."""
    if not isinstance(data, dict):
        return {}
    items = list(data.items())[:MAX_PROPS]
    return {
        str(key)[:MAX_PROP_KEY]: str(value)[:MAX_PROP_VALUE]
        for key, value in items
        if value is not None
    }


class UmamiImporter(Replayed):
    """The `umami` kind: params `website_id`; the database URL is a secret of the run."""

    uploadable = False
    command = (
        "jetrack import umami --site {domain} --database-url postgresql://... --website-id UUID"
    )

    def run(self, context: ImportContext) -> ImportResult:
        url = context.secrets.get("database_url")
        if not url:
            forget_salts(context)
            raise ImportRefused(messages.URL_NOT_STORED)
        website = UmamiWebsite(url, str(context.params.get("website_id", "")), context.site.domain)
        return replay_import(context, website)
