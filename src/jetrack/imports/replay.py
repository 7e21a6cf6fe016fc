"""Historic replay: records of another tool through ingest's steps into events of past days.

Each record (`Hit`) goes through the live pipeline's steps (shields, bot filter, geo,
source and device enrichment, visits), with one difference: the visitor id of a past day
comes from a random salt made for that day of this import. The salts live in the
import's checkpoint while it runs (so a restart goes on with the same ids) and are gone
from it when it ends; an address is used for the hash and the country, never stored.

Rows go in batches, one insert each; the checkpoint says which batch was about to land,
so a resumed import knows whether it did (by the import's count of stored rows), and goes
on with the visits its stored events left open: the totals are those of one whole run.
(An insert spanning two months writes two parts: a kill between them is found, and the
import says to run it again.)"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import orjson

from jetrack.enrich import GeoLookup
from jetrack.imports.context import ImportContext, ImportResult, Progress
from jetrack.ingest.client_ip import parse_address
from jetrack.ingest.pipeline import (
    Dropped,
    Incoming,
    Pipeline,
    Step,
    count_in_visit,
    filter_bots,
    find_site,
    identify_with_salts,
    locate,
    parse_url,
    shield_request,
    start_visit,
)
from jetrack.ingest.rows import sessions_to_arrow, to_arrow
from jetrack.ingest.service import open_geo
from jetrack.ingest.sessions import SessionTable, VisitState
from jetrack.ingest.site_cache import SiteCache
from jetrack.ingest.wire import WireEvent
from jetrack.privacy.event_tables import MUTATION_SETTINGS, wait_for_mutations
from jetrack.store.events import EventStore, table_to_change
from jetrack.store.job_queue import Stopping, pause_point
from jetrack.store.rollups import build_rollups
from jetrack.store.salts import SALT_BYTES, SaltPair
from jetrack.store.schema import EVENT_VISIT_ATTRIBUTES, EventRow
from jetrack.store.sessions import rebuild_sessions
from jetrack.store.stores import Stores

BATCH_ROWS = 50_000  # rows per insert: well under one insert block (~1M rows)
SWEEP_EVERY = 20_000  # records between two sweeps of ended visits
DAY = 86_400
# The step a test pauses a replay at to kill it: a batch stored, its checkpoint not yet.
LANDED_STEP = "import-batch-landed"


@dataclass(frozen=True, slots=True)
class Known:
    """Visit attributes the other tool already worked out (it kept no user agent or
    address): they replace what the pipeline would derive, where given."""

    source: str = ""
    channel: str = ""
    country_code: str = ""
    region_code: str = ""
    city: str = ""
    device: str = ""
    screen_size: str = ""
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    language: str = ""


@dataclass(slots=True)
class Hit:
    """One pageview or custom event another tool recorded, at `timestamp` (Unix seconds).
    `ip` and `user_agent` are used as live traffic's are, then dropped; a tool without them
    gives its own visitor key (`visitor`, hashed with the day's salt) and `known`."""

    timestamp: int
    url: str
    referrer: str = ""
    user_agent: str = ""
    ip: str = ""
    visitor: str = ""
    name: str = "pageview"
    props: dict[str, str] = field(default_factory=dict)
    known: Known | None = None
    screen_width: int | None = None


class Source(Protocol):
    """An importer's reader: records from a position (None: the start), the position
    after the last record it gave, and how far it is (`done` of `total`, in its unit)."""

    total: int

    def records(self, start: dict[str, Any] | None) -> Iterator[Hit]: ...

    def position(self) -> dict[str, Any]: ...

    def done(self) -> int: ...

    def skipped(self) -> Counter[str]: ...


@dataclass
class ReplayResult:
    events: int
    skipped: dict[str, int]  # reason -> records not imported
    first: datetime | None
    last: datetime | None


@dataclass
class _Past(Incoming):
    """A replayed record: its visitor key and the attributes its tool knew."""

    visitor_key: str = ""
    known: Known | None = None


class ReplayPipeline(Pipeline):
    """The live pipeline's steps, with the visitor id of a past day's salt."""

    day_salts: Callable[[int], tuple[bytes, bytes | None]]


def _salts(p: Pipeline) -> Callable[[int], tuple[bytes, bytes | None]]:
    assert isinstance(p, ReplayPipeline)
    return p.day_salts


def filter_agents(p: Pipeline, e: Incoming) -> None:
    """The bot filter, for records that kept a user agent (a tool that kept none filtered
    its bots itself)."""
    if e.user_agent:
        filter_bots(p, e)


def identify_past(p: Pipeline, e: Incoming) -> None:
    """The visitor id from the salt of the record's day; yesterday's only to go on with a
    visit running across midnight, as live (jetrack.ingest.pipeline.identify)."""
    assert e.site is not None and isinstance(e, _Past)
    current, previous = _salts(p)(int(e.now) // DAY)
    key = e.ip.text if e.ip is not None else e.visitor_key
    identify_with_salts(p, e, key, current, previous)


def apply_known(p: Pipeline, e: Incoming) -> None:
    """A visit this record started takes the attributes its tool already knew."""
    assert e.visit is not None and isinstance(e, _Past)
    if e.known is None or e.visit.version:
        return
    values = dict(zip(EVENT_VISIT_ATTRIBUTES, e.visit.attributes, strict=True))
    for name in Known.__slots__:
        given = getattr(e.known, name)
        if given:
            values[name] = given
    e.visit.attributes = e.visit_attributes = tuple(values[n] for n in EVENT_VISIT_ATTRIBUTES)


REPLAY_STEPS: list[Step] = [
    parse_url,
    find_site,
    shield_request,
    filter_agents,
    identify_past,
    locate,
    start_visit,
    apply_known,
    count_in_visit,
]


class Replay:
    """One import's run: records in, events rows out in batches, checkpoints between."""

    def __init__(
        self,
        stores: Stores,
        site_id: int,
        import_id: int,
        checkpoint: str,
        progress: Progress,
        geo: GeoLookup | None = None,
    ) -> None:
        self.stores = stores
        self.events = stores.events
        self.import_id = import_id
        self.progress = progress
        sites = SiteCache(stores.control)
        sites.refresh()
        site = sites.by_id(site_id)
        if site is None:
            raise ValueError(f"no site with id {site_id}")
        self.site = site
        timeout = stores.settings.session_timeout_minutes * 60
        self.sessions = SessionTable(timeout)
        self.pipeline = ReplayPipeline(
            sites, geo or open_geo(stores.settings), self.sessions, _no_live_salts, REPLAY_STEPS
        )
        self.pipeline.day_salts = self._day_salts
        state: dict[str, Any] = orjson.loads(checkpoint) if checkpoint else {}
        self.salts: dict[str, str] = dict(state.get("salts", {}))
        self.rows_stored: int = int(state.get("rows", 0))
        self.first: int | None = state.get("first")
        self.last: int | None = state.get("last")
        self.position: dict[str, Any] | None = state.get("position")
        self.skipped: Counter[str] = Counter(state.get("skipped", {}))
        pending = state.get("pending")
        if pending is not None:
            self._settle(pending)
        if self.position is not None and self.last is not None:
            self._reopen_visits(self.last)
        self.batch: list[EventRow] = []
        self.visits: dict[int, VisitState] = {}

    def _day_salts(self, day: int) -> tuple[bytes, bytes | None]:
        current = self.salts.get(str(day))
        if current is None:
            current = self.salts[str(day)] = secrets.token_bytes(SALT_BYTES).hex()
        previous = self.salts.get(str(day - 1))
        return bytes.fromhex(current), bytes.fromhex(previous) if previous else None

    def state(self, **extra: Any) -> str:
        return orjson.dumps(
            {
                "salts": self.salts,
                "rows": self.rows_stored,
                "first": self.first,
                "last": self.last,
                "position": self.position,
                "skipped": dict(self.skipped),
            }
            | extra
        ).decode()

    def _stored_rows(self) -> int:
        result = self.events.query(
            "SELECT count() FROM events WHERE site_id = {s:UInt32} AND import_id = {i:UInt32}",
            {"s": self.site.id, "i": self.import_id},
        )
        return int(result.rows[0][0])

    def _settle(self, pending: dict[str, Any]) -> None:
        """The batch the last run was writing: landed whole (go on after it) or not at all
        (read it again). Its sessions rows may be missing: they are rebuilt."""
        stored = self._stored_rows()
        if stored == pending["rows"]:
            self.rows_stored, self.position = stored, pending["position"]
            self.first, self.last = pending["first"], pending["last"]
            self.skipped = Counter(pending["skipped"])
            rebuild_sessions(
                self.events,
                site_id=self.site.id,
                since=_utc(pending["batch_first"]),
                until=_utc(pending["last"] + 1),
            )
        elif stored != self.rows_stored:
            raise RuntimeError(
                f"import {self.import_id}: {stored} rows stored, expected"
                f" {self.rows_stored} or {pending['rows']}; delete the import and run it again"
            )

    def _reopen_visits(self, last: int) -> None:
        """The visits still open at the last stored record go on after a restart."""
        names = ", ".join(EVENT_VISIT_ATTRIBUTES)
        result = self.events.query(
            "SELECT session_id, visitor_id, start, timestamp, pageviews, events,"
            " interactive_events, exit_page, hostname, entry_page_hostname, "
            + names
            + " FROM sessions FINAL WHERE site_id = {s:UInt32} AND import_id = {i:UInt32}"
            " AND timestamp >= {since:UInt32}",
            {"s": self.site.id, "i": self.import_id, "since": last - self.sessions.timeout},
        )
        for row in result.rows:
            session_id, visitor, start, last_event, pageviews, custom, interactive = row[:7]
            exit_page, hostname, entry_hostname = row[7:10]
            stamp = int(_epoch(last_event))
            visit = VisitState(
                int(session_id), int(visitor), float(stamp), _attributes(row[10:]),
                start=int(_epoch(start)), last=stamp, pageviews=int(pageviews),
                custom_events=int(custom), interactive_events=int(interactive),
                exit_page=str(exit_page), hostname=str(hostname),
                entry_hostname=str(entry_hostname),
            )  # fmt: skip
            self.sessions.restore(self.site.id, visit)

    def run(self, source: Source) -> ReplayResult:
        pipeline = self.pipeline
        domain = self.site.domain
        seen = 0
        for hit in source.records(self.position):
            seen += 1
            if seen % SWEEP_EVERY == 0:
                self.sessions.sweep(hit.timestamp)
            incoming = _Past(
                WireEvent(
                    hit.name,
                    hit.url,
                    [domain],
                    hit.referrer,
                    props=hit.props,
                    screen_width=hit.screen_width,
                ),
                domain,
                parse_address(hit.ip) if hit.ip else None,
                hit.user_agent,
                "",
                float(hit.timestamp),
                visitor_key=hit.visitor,
                known=hit.known,
            )
            try:
                row = pipeline.run(incoming)
            except Dropped as drop:
                self.skipped[drop.reason.value] += 1
                continue
            self.batch.append(row._replace(import_id=self.import_id))
            if incoming.counted_in is not None:
                self.visits[row.session_id] = incoming.counted_in
            self.first = hit.timestamp if self.first is None else min(self.first, hit.timestamp)
            self.last = hit.timestamp if self.last is None else max(self.last, hit.timestamp)
            if len(self.batch) >= BATCH_ROWS:
                self._flush(source)  # the position is right after this record
        self._flush(source)
        self.finish(source)
        return ReplayResult(
            self.rows_stored,
            dict(self.skipped),
            _utc(self.first) if self.first is not None else None,
            _utc(self.last) if self.last is not None else None,
        )

    def _flush(self, source: Source) -> None:
        """One batch: say it is about to land, insert it, say it landed."""
        skipped = self.skipped + source.skipped()
        position = source.position()
        if self.batch:
            rows = self.batch
            pending = {
                "rows": self.rows_stored + len(rows),
                "position": position,
                "first": self.first,
                "last": self.last,
                "batch_first": min(r.timestamp for r in rows),
                "skipped": dict(skipped),
            }
            self.progress(source.done(), source.total, self.state(pending=pending))
            self.events.insert_arrow("events", to_arrow(rows))
            last_rows = {row.session_id: row for row in rows}
            visits = [(last_rows[sid], visit.totals()) for sid, visit in self.visits.items()]
            self.events.insert_arrow("sessions", sessions_to_arrow(visits))
            pause_point(LANDED_STEP)  # tests kill the process here: landed, not recorded
            self.rows_stored += len(rows)
            self.batch, self.visits = [], {}
        self.skipped, self.position = skipped, position
        source.skipped().clear()
        self.progress(source.done(), source.total, self.state())

    def finish(self, source: Source) -> None:
        """Roll up the days the import touched; the salts go (the final checkpoint has none)."""
        if self.first is not None and self.last is not None:
            rebuild_rollups(self.events, self.site.id, _utc(self.first), _utc(self.last))
        self.salts = {}
        self.progress(source.total, source.total, self.state())


def _no_live_salts() -> SaltPair:
    raise AssertionError("a replay takes its salts per day (identify_past)")


def rebuild_rollups(events: EventStore, site_id: int, first: datetime, last: datetime) -> None:
    """Build again the settled days from the day before `first` (a visit it continues) to
    `last`'s, for one site; days not settled yet are the hourly job's."""
    settled = (datetime.now(UTC) - timedelta(hours=2)).date() - timedelta(days=1)
    day: date = first.date() - timedelta(days=1)
    while day <= min(last.date(), settled):
        build_rollups(events, day, site_ids=[site_id])
        day += timedelta(days=1)


def _attributes(values: Sequence[Any]) -> tuple[Any, ...]:
    """A stored visit's attributes as the pipeline keeps them: numbers (the city's GeoNames
    id) as int, the rest as str."""
    return tuple(v if isinstance(v, int) else str(v) for v in values)


def delete_import(events: EventStore, site_id: int, import_id: int) -> int:
    """Delete an import's events and visits, then roll up again the days they were on;
    returns how many events it deleted."""
    where = "site_id = {s:UInt32} AND import_id = {i:UInt32}"
    params = {"s": site_id, "i": import_id}
    count, first, last = events.query(
        f"SELECT count(), min(timestamp), max(timestamp) FROM events WHERE {where}", params
    ).rows[0]
    if not count:
        return 0
    for table in ("events", "events_by_page", "sessions"):
        events.command(
            f"ALTER TABLE {table_to_change(events, table)} DELETE WHERE {where}"
            + MUTATION_SETTINGS,
            params,
        )
        wait_for_mutations(events, table)
    rebuild_rollups(events, site_id, _as_utc(first), _as_utc(last))
    return int(count)


def _utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return _utc(int(value))


def _epoch(value: Any) -> float:
    return _as_utc(value).timestamp()


def forget_salts(context: ImportContext) -> None:
    """Remove the day salts from an import's checkpoint: it will not resume (its input is
    gone, or refused), so nothing may link its visitor ids to anyone any more."""
    state = orjson.loads(context.checkpoint) if context.checkpoint else None
    if isinstance(state, dict) and state.get("salts"):
        state["salts"] = {}
        context.progress(context.record.done, context.record.total, orjson.dumps(state).decode())


class Replayed:
    """What the importers that replay records share: deleting an import's rows."""

    def delete(self, stores: Stores, site_id: int, import_id: int) -> None:
        delete_import(stores.events, site_id, import_id)


def replay_import(context: ImportContext, source: Source) -> ImportResult:
    """Run an import's records through the replay from its checkpoint. An import that
    fails keeps no salt: its last checkpoint is saved again without them (a stopping
    process keeps them, to resume)."""
    replay = Replay(
        context.stores, context.site_id, context.import_id, context.checkpoint, context.progress
    )
    try:
        result = replay.run(source)
    except Stopping:
        raise
    except Exception:
        replay.salts = {}
        context.progress(source.done(), source.total, replay.state())
        raise
    return ImportResult(
        result.first.date() if result.first else None,
        result.last.date() if result.last else None,
        result.events,
    )
