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
