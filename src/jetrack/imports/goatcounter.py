"""GoatCounter's CSV export (format version 2) as records of page views and events.

The columns, in order: 2Path (the version, then Path: the page, or the event's name),
Title, Event (true/false), UserAgent (blank), Browser ("Firefox 121"), System
("Windows 10"), Session (the visitor's session id), Bot (0 for a person), Referrer,
Referrer scheme (h: a URL, g: a name GoatCounter gave, c: a campaign, o: other),
Screen size ("x,y,scaling"), Location ("US" or "US-TX"), FirstVisit, Date (RFC 3339).
GoatCounter kept no address and no user agent: its browser, system, place and screen
become the visit's attributes, its session id the key of the day's visitor id."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jetrack.enrich.channels import channel_for
from jetrack.enrich.screen import screen_size
from jetrack.imports import messages
from jetrack.imports.context import ImportContext, ImportRefused, ImportResult
from jetrack.imports.files import LineFiles, import_files
from jetrack.imports.replay import Hit, Known, Replayed, replay_import

VERSION = "2"
COLUMNS = (
    "Path", "Title", "Event", "UserAgent", "Browser", "System", "Session", "Bot", "Referrer",
    "Referrer scheme", "Screen size", "Location", "FirstVisit", "Date",
)  # fmt: skip
_AT = {name: index for index, name in enumerate(COLUMNS)}


def name_and_version(text: str) -> tuple[str, str]:
    """'Firefox 121.0' -> ('Firefox', '121.0'); 'Linux' -> ('Linux', '')."""
    name, _, version = text.strip().rpartition(" ")
    if name and version[:1].isdigit():
        return name, version
    return text.strip(), ""


def device_of(system: str, size: str) -> str:
    """The device class GoatCounter did not keep: from the screen, else the system."""
    if size in ("Mobile", "Tablet"):
        return size
    if size:
        return "Desktop"
    return "Mobile" if system.startswith(("iOS", "Android")) else "Desktop"


class GoatCounterExport(LineFiles):
    """The export's rows as records; bots and malformed rows are counted, not imported."""

    def __init__(self, paths: Sequence[Path], domain: str) -> None:
        super().__init__(paths)
        self.domain = domain

    def records(self, start: dict[str, Any] | None) -> Iterator[Hit]:
        with closing(self.lines(start)) as raw:  # closed even when the header is refused
            yield from self._rows(
                csv.reader(line.decode("utf-8", "replace") for line in raw), start
            )

    def _rows(self, rows: Iterator[list[str]], start: dict[str, Any] | None) -> Iterator[Hit]:
        if start is None:
            header = next(rows, None)
            if not header or header[0] != VERSION + COLUMNS[0] or len(header) != len(COLUMNS):
                found = header[0][:20] if header else "an empty file"
                raise ImportRefused(messages.NOT_GOATCOUNTER, version=VERSION,
                                    expected=VERSION + COLUMNS[0], found=found)  # fmt: skip
        for row in rows:
            if len(row) != len(COLUMNS):
                if row:  # a blank line is no row
                    self.skips["unparsed"] += 1
                continue
            if row[_AT["Bot"]] not in ("", "0"):
                self.skips["bot"] += 1
                continue
            hit = self._hit(row)
            if hit is None:
                self.skips["unparsed"] += 1
                continue
            yield hit

    def _hit(self, row: list[str]) -> Hit | None:
        try:
            moment = datetime.fromisoformat(row[_AT["Date"]].replace("Z", "+00:00"))
        except ValueError:
            return None
        path, event = row[_AT["Path"]], row[_AT["Event"]] == "true"
        referrer, scheme = row[_AT["Referrer"]], row[_AT["Referrer scheme"]]
        url = f"https://{self.domain}{path if path.startswith('/') and not event else '/'}"
        source = channel = ""
        if scheme == "c" and referrer:
            url += "?utm_source=" + quote(referrer)
            referrer = ""
        elif scheme == "h" and referrer and "://" not in referrer:
            referrer = "https://" + referrer
        elif scheme in ("g", "o") and referrer:
            source, channel, referrer = referrer, channel_for(referrer, "", {}), ""
        browser, browser_version = name_and_version(row[_AT["Browser"]])
        system, system_version = name_and_version(row[_AT["System"]])
        width = row[_AT["Screen size"]].split(",", 1)[0]
        size = screen_size(int(width)) if width.isdigit() else ""
        location = row[_AT["Location"]]
        known = Known(
            country_code=location[:2],
            region_code=location if "-" in location else "",
            device=device_of(system, size),
            screen_size=size,
            browser=browser,
            browser_version=browser_version,
            os=system,
            os_version=system_version,
            source=source,
            channel=channel,
        )
        return Hit(
            int(moment.timestamp()),
            url,
            referrer,
            visitor=row[_AT["Session"]],
            name=path if event else "pageview",
            known=known,
        )


class GoatCounterImporter(Replayed):
    """The `goatcounter` kind: params `paths` (the export, .csv or .csv.gz)."""

    uploadable = True
    command = "jetrack import goatcounter --site {domain} EXPORT.csv.gz"

    def run(self, context: ImportContext) -> ImportResult:
        return replay_import(context, GoatCounterExport(import_files(context), context.site.domain))
