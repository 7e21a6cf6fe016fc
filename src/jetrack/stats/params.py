"""Bind parameters: every user value reaches ClickHouse as `{pN:Type}`, never as SQL text."""

from __future__ import annotations

from typing import Any


class Params:
    """Allocates placeholders and collects their values for one SQL statement."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._seen: dict[tuple[str, str], str] = {}

    def add(self, value: Any, ch_type: str) -> str:
        key = (repr(value), ch_type)
        if key in self._seen:
            return self._seen[key]
        name = f"p{len(self.values)}"
        self.values[name] = value
        placeholder = "{" + f"{name}:{ch_type}" + "}"
        self._seen[key] = placeholder
        return placeholder

    def array(self, values: list[str] | tuple[str, ...]) -> str:
        """An Array(String) literal made of placeholders (portable across chDB and the
        ClickHouse server, whose clients format array parameters differently)."""
        return "[" + ", ".join(self.add(v, "String") for v in values) + "]"


_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "'": "\\'", "\b": "\\b"}


def escaped_for_chdb(values: dict[str, Any]) -> dict[str, Any]:
    """chDB parses string parameters in ClickHouse's escaped text format but passes them
    unescaped (clickhouse-connect escapes them itself). Until ChdbEventStore.query does
    what clickhouse-connect does, stats escapes for chDB here; tests/stats cover it."""
    return {
        k: "".join(_ESCAPES.get(ch, ch) for ch in v) if isinstance(v, str) else v
        for k, v in values.items()
    }
