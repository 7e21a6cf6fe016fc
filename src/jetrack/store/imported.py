"""The imported tables (event migrations 0007, and 0009: imported_sources.channel): daily aggregates of another tool's history,
kept apart from native events, one table per file of Plausible's CSV export.

The one list of each table's columns, in the migration's order and with their ClickHouse
types, for the importer (jetrack.imports.plausible), the export (jetrack.privacy) and the
stats engine (jetrack.stats.imported). Every table also has `site_id`, `import_id` and
`batch` (the importer's chunk: BATCHES_PER_FILE * file + chunk)."""

from __future__ import annotations

from typing import NamedTuple


class ImportedTable(NamedTuple):
    name: str
    # (column, ClickHouse type) after site_id and import_id; `date` first.
    columns: tuple[tuple[str, str], ...]
    # The columns that name what a row counts (the rest are counts).
    keys: tuple[str, ...]


_COUNT = "UInt64"
# A file of an import may be cut into at most this many chunks.
BATCHES_PER_FILE = 1_000_000
IMPORTED_TABLES: dict[str, ImportedTable] = {
    t.name: t
    for t in [
        ImportedTable(
            "imported_visitors",
            (("date", "Date"), ("visitors", _COUNT), ("pageviews", _COUNT),
             ("bounces", _COUNT), ("visits", _COUNT), ("visit_duration", _COUNT)),
            (),
        ),
        ImportedTable(
            "imported_sources",
            (("date", "Date"), ("source", "String"), ("referrer", "String"),
             ("utm_source", "String"), ("utm_medium", "String"), ("utm_campaign", "String"),
             ("utm_content", "String"), ("utm_term", "String"), ("pageviews", _COUNT),
             ("visitors", _COUNT), ("visits", _COUNT), ("visit_duration", _COUNT),
             ("bounces", _COUNT), ("channel", "String")),
            ("source", "referrer", "utm_source", "utm_medium", "utm_campaign", "utm_content",
             "utm_term", "channel"),
        ),
        ImportedTable(
            "imported_pages",
            (("date", "Date"), ("hostname", "String"), ("page", "String"), ("visits", _COUNT),
             ("visitors", _COUNT), ("pageviews", _COUNT), ("scroll_depth", "Nullable(UInt64)"),
             ("pageleave_visitors", _COUNT)),
            ("page", "hostname"),
        ),
        ImportedTable(
            "imported_entry_pages",
            (("date", "Date"), ("entry_page", "String"), ("visitors", _COUNT),
             ("entrances", _COUNT), ("visit_duration", _COUNT), ("bounces", _COUNT),
             ("pageviews", _COUNT)),
            ("entry_page",),
        ),
        ImportedTable(
            "imported_exit_pages",
            (("date", "Date"), ("exit_page", "String"), ("visitors", _COUNT),
             ("visit_duration", _COUNT), ("exits", _COUNT), ("bounces", _COUNT),
             ("pageviews", _COUNT)),
            ("exit_page",),
        ),
        ImportedTable(
            "imported_custom_events",
            (("date", "Date"), ("name", "String"), ("link_url", "String"), ("path", "String"),
             ("visitors", _COUNT), ("events", _COUNT)),
            ("name", "link_url", "path"),
        ),
        ImportedTable(
            "imported_locations",
            (("date", "Date"), ("country", "String"), ("region", "String"), ("city", _COUNT),
             ("visitors", _COUNT), ("visits", _COUNT), ("visit_duration", _COUNT),
             ("bounces", _COUNT), ("pageviews", _COUNT)),
            ("country", "region", "city"),
        ),
        ImportedTable(
            "imported_devices",
            (("date", "Date"), ("device", "String"), ("visitors", _COUNT), ("visits", _COUNT),
             ("visit_duration", _COUNT), ("bounces", _COUNT), ("pageviews", _COUNT)),
            ("device",),
        ),
        ImportedTable(
            "imported_browsers",
            (("date", "Date"), ("browser", "String"), ("browser_version", "String"),
             ("visitors", _COUNT), ("visits", _COUNT), ("visit_duration", _COUNT),
             ("bounces", _COUNT), ("pageviews", _COUNT)),
            ("browser", "browser_version"),
        ),
        ImportedTable(
            "imported_operating_systems",
            (("date", "Date"), ("operating_system", "String"),
             ("operating_system_version", "String"), ("visitors", _COUNT), ("visits", _COUNT),
             ("visit_duration", _COUNT), ("bounces", _COUNT), ("pageviews", _COUNT)),
            ("operating_system", "operating_system_version"),
        ),
    ]
}  # fmt: skip


def counts(table: ImportedTable) -> tuple[str, ...]:
    """The table's count columns (neither `date` nor a key)."""
    return tuple(name for name, _ in table.columns if name != "date" and name not in table.keys)
