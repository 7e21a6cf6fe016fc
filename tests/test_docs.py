"""Docs that cannot rot: every setting, CLI command and HTTP endpoint is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from jetrack.app import create_app
from jetrack.cli import main
from jetrack.config import Settings
from tests.conftest import make_settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [
        f"JETRACK_{n.upper()}"
        for n in Settings.model_fields
        if f"`JETRACK_{n.upper()}`" not in text
    ]
    assert missing == []


def _commands(group: click.Group, prefix: str = "jetrack") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = [c for c in _commands(main) if f"`{c}" not in text]
    assert missing == []


def test_every_http_endpoint_is_documented(tmp_path: Path) -> None:
    text = (DOCS / "http.md").read_text()
    app = create_app(make_settings(tmp_path / "data"))
    paths = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if path:
            paths.add(re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", path))
    documented = set(re.findall(r"`(?:GET|POST|PUT|PATCH|DELETE)(?:[|/A-Z]*)? (/[^` ?]*)", text))
    missing = sorted(paths - documented)
    assert missing == []
