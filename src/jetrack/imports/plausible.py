"""Plausible's CSV export (a ZIP of `imported_<table>_<first>_<last>.csv` files, or one such
file) into the imported tables, one insert per chunk of rows, each row marked with its
chunk (`batch`): an import resumed from its checkpoint first deletes what it wrote past it
(a kill between an insert and its progress call), so no row is counted twice.

(Not insert deduplication tokens: a SIGKILL right after an insert can lose the engine's
deduplication log entry while the part stays, measured with chDB; and a token would drop a
chunk written again after its rows were deleted.)

File names and columns are those Plausible's export writes and its CSV importer reads;
columns are found by the header's names (older exports lack some: they count 0), and
rows outside the file name's days, or on or after the site's first native day, are left
out (Plausible imports only the history before its own data starts). A sources row's
channel (visit:channel) is the file's `channel` column when it has one (Jetrack's export
writes it), else Jetrack's channel rules applied to its source, referrer and UTM tags."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from jetrack.enrich.referrers import channel_of_named_source
from jetrack.imports import messages
from jetrack.imports.context import ImportContext, ImportRefused, ImportResult
from jetrack.privacy.event_tables import MUTATION_SETTINGS, wait_for_mutations
from jetrack.store.events import EventStore, table_to_change
from jetrack.store.imported import BATCHES_PER_FILE, IMPORTED_TABLES, ImportedTable
from jetrack.store.stores import Stores

CHUNK_ROWS = 20_000
_NAMES = "|".join(name.removeprefix("imported_") for name in IMPORTED_TABLES)
FILE_NAME = re.compile(rf"^(?:imported_)?({_NAMES})_(\d{{8}})_(\d{{8}})\.csv$")
_ARROW = {"Date": pa.date32(), "String": pa.string(), "UInt64": pa.uint64(),
          "Nullable(UInt64)": pa.uint64()}  # fmt: skip


@dataclass(frozen=True)
class ExportFile:
    """One CSV of the export: its member name (or path), table and the days it covers."""

    member: str
    table: ImportedTable
    first_day: date
    last_day: date
    size: int


def parse_file_name(name: str) -> tuple[ImportedTable, date, date] | None:
    """`imported_pages_20240101_20241231.csv` (or `pages_...`): table, first and last day."""
    found = FILE_NAME.match(Path(name).name)
    if found is None:
        return None
    try:
        first, last = (date(int(d[:4]), int(d[4:6]), int(d[6:])) for d in found.groups()[1:])
    except ValueError:
        return None
    return IMPORTED_TABLES["imported_" + found.group(1)], first, last


def export_files(path: Path) -> list[ExportFile]:
    """The export's CSV files, checked by name; ImportRefused when there is none."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            entries = [(info.filename, info.file_size) for info in archive.infolist()]
    else:
        entries = [(path.name, path.stat().st_size)]
    files = []
    for member, size in entries:
        parsed = parse_file_name(member)
        if parsed is not None:
            files.append(ExportFile(member, *parsed, size))
    if not files:
        raise ImportRefused(messages.NO_EXPORT_FILE)
    return sorted(files, key=lambda f: f.member)


class _Counting(io.RawIOBase):
    """A binary stream that counts the bytes read through it (the import's progress)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner, self.count = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


@contextmanager
def _open(path: Path, member: str) -> Iterator[tuple[_Counting, IO[str]]]:
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive, archive.open(member) as raw:
            counting = _Counting(raw)
            yield counting, io.TextIOWrapper(io.BufferedReader(counting), "utf-8-sig", newline="")
    else:
        with path.open("rb") as raw:
            counting = _Counting(raw)
            yield counting, io.TextIOWrapper(io.BufferedReader(counting), "utf-8-sig", newline="")


def _value(kind: str, text: str, where: dict[str, object]) -> Any:
    text = text.strip()
    if kind == "String":
        return text
    if kind == "Date":
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise ImportRefused(messages.NOT_A_DATE, **where, value=repr(text)) from None
    if text == "":
        return None if kind.startswith("Nullable") else 0
    try:
        number = float(text)
    except ValueError:
        raise ImportRefused(messages.NOT_A_NUMBER, **where, value=repr(text)) from None
    if number < 0 or number != number:
        raise ImportRefused(messages.NOT_A_COUNT, **where, value=repr(text))
    return round(number)


def read_rows(file: ExportFile, reader: IO[str], before: date | None) -> Iterator[dict[str, Any]]:
    """The file's rows as typed values, those outside its days (or on or after `before`)
    left out; ImportRefused names the file, line and column of a bad value."""
    rows = csv.reader(reader)
    header = [name.strip() for name in next(rows, [])]
    columns = dict(file.table.columns)
    needed = ["date", *file.table.keys[:1], "visitors"]
    missing = [name for name in needed if name not in header]
    if missing:
        raise ImportRefused(messages.HEADER_LACKS, file=file.member, columns=", ".join(missing))
    positions = [(name, header.index(name)) for name in columns if name in header]
    absent: dict[str, Any] = {name: (None if kind.startswith("Nullable") else "" if kind == "String" else 0)
              for name, kind in columns.items() if name not in header}  # fmt: skip
    derive_channel = "channel" in columns
    for line, cells in enumerate(rows, start=2):
        if not cells:
            continue
        if len(cells) < len(header):
            raise ImportRefused(messages.SHORT_LINE, file=file.member, line=line, cells=len(cells),
                                expected=len(header))  # fmt: skip
        row: dict[str, Any] = dict(absent)
        for name, index in positions:
            where = {"file": file.member, "line": line, "column": name}
            row[name] = _value(columns[name], cells[index], where)
        if derive_channel and not row["channel"]:
            row["channel"] = channel_of_named_source(
                row["source"], row["referrer"],
                {"utm_medium": row["utm_medium"], "utm_campaign": row["utm_campaign"]},
            )  # fmt: skip
        day = row["date"]
        if file.first_day <= day <= file.last_day and (before is None or day < before):
            yield row


def _arrow(
    table: ImportedTable, site_id: int, import_id: int, batch: int, rows: list[dict[str, Any]]
) -> pa.Table:
    arrays = {
        "site_id": pa.array([site_id] * len(rows), pa.uint32()),
        "import_id": pa.array([import_id] * len(rows), pa.uint64()),
        "batch": pa.array([batch] * len(rows), pa.uint32()),
    }
    for name, kind in table.columns:
        arrays[name] = pa.array([row[name] for row in rows], _ARROW[kind])
    return pa.table(arrays)


@dataclass
class Position:
    """The checkpoint: files before `file` are stored, and `chunk` chunks of that one;
    with the rows and days stored so far."""

    file: int = 0
    chunk: int = 0
    rows: int = 0
    first: str = ""
    last: str = ""
    done_bytes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str) -> Position:
        return cls(**json.loads(text)) if text else cls()

    def dump(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.rows += len(rows)
        days = [row["date"].isoformat() for row in rows]
        self.first = min([self.first, *days] if self.first else days)
        self.last = max([self.last, *days])


def first_native_day(events: EventStore, site_id: int) -> date | None:
    result = events.query(
        "SELECT toString(toDate(min(timestamp))), count() FROM events WHERE site_id = {s:UInt32}",
        {"s": site_id},
    )
    return date.fromisoformat(str(result.rows[0][0])) if result.rows[0][1] else None


@dataclass
class PlausibleImporter:
    """The `plausible` kind: an uploaded (or the CLI's) Plausible CSV export."""

    uploadable: bool = True
    command: str = "jetrack import plausible --site {domain} EXPORT.zip"
    chunk_rows: int = CHUNK_ROWS

    def run(self, context: ImportContext) -> ImportResult:
        path = context.source_path
        if path is None or not path.is_file():
            raise ImportRefused(messages.FILE_GONE)
        files = export_files(path)
        total = sum(f.size for f in files)
        events = context.stores.events
        before = first_native_day(events, context.site_id)
        position = Position.load(context.checkpoint)
        for index in range(position.file, len(files)):
            file = files[index]
            first_batch = index * BATCHES_PER_FILE
            _forget_past(context, file.table.name, first_batch + position.chunk, first_batch)
            with _open(path, file.member) as (counting, text):
                for chunk, rows in enumerate(
                    _chunks(read_rows(file, text, before), self.chunk_rows)
                ):
                    if chunk < position.chunk:
                        continue  # stored before the restart
                    if chunk >= BATCHES_PER_FILE:
                        raise ImportRefused(messages.TOO_MANY_ROWS, file=file.member)
                    batch = first_batch + chunk
                    events.insert_arrow(
                        file.table.name,
                        _arrow(file.table, context.site_id, context.import_id, batch, rows),
                    )
                    position.chunk = chunk + 1
                    position.add(rows)
                    context.progress(
                        position.done_bytes + min(counting.count, file.size), total, position.dump()
                    )
            position.file, position.chunk = index + 1, 0
            position.done_bytes += file.size
            context.progress(position.done_bytes, total, position.dump())
        first = date.fromisoformat(position.first) if position.first else None
        last = date.fromisoformat(position.last) if position.last else None
        return ImportResult(first, last, position.rows)

    def delete(self, stores: Stores, site_id: int, import_id: int) -> None:
        params = {"s": site_id, "i": import_id}
        where = "WHERE site_id = {s:UInt32} AND import_id = {i:UInt64}"
        for table in IMPORTED_TABLES:
            # A delete is a mutation of the table's parts: only where there are rows.
            if not events_count(stores.events, f"SELECT count() FROM {table} {where}", params):
                continue
            stores.events.command(
                f"ALTER TABLE {table_to_change(stores.events, table)} DELETE {where}"
                f"{MUTATION_SETTINGS}",
                params,
            )
            wait_for_mutations(stores.events, table)


def _forget_past(context: ImportContext, table: str, start: int, first_batch: int) -> None:
    """Delete the rows of this file's chunks from `start` on, written by a run that stopped
    before its progress call recorded them (nothing, almost always: one count)."""
    params = {"s": context.site_id, "i": context.import_id, "from": start,
              "to": first_batch + BATCHES_PER_FILE}  # fmt: skip
    where = (
        "WHERE site_id = {s:UInt32} AND import_id = {i:UInt64}"
        " AND batch >= {from:UInt32} AND batch < {to:UInt32}"
    )
    events = context.stores.events
    if events_count(events, f"SELECT count() FROM {table} {where}", params):
        events.command(
            f"ALTER TABLE {table_to_change(events, table)} DELETE {where}{MUTATION_SETTINGS}",
            params,
        )
        wait_for_mutations(events, table)


def events_count(events: EventStore, sql: str, params: dict[str, Any]) -> int:
    return int(events.query(sql, params).rows[0][0])


def _chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


PLAUSIBLE = PlausibleImporter()
