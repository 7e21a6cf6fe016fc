"""Docs that cannot rot: every setting, CLI command and HTTP endpoint is documented."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import click
import pytest

from jetrack.app import create_app
from jetrack.cli import main
from jetrack.config import Settings
from jetrack.notify.mail import log_unsent
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


def test_the_readme_says_how_to_send_mail_and_where_mails_go_without_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue #16, item 1: the README tells how to configure mail, naming every mail
    setting; it and configuration.md say that without SMTP a sign-up is ready at once and
    mails go to the log as `mail |` lines, which is what the mailer prints."""
    readme = (DOCS.parent / "README.md").read_text()
    section = readme.split("### Mail", 1)[1].split("\n#", 1)[0]
    mail_settings = [n for n in Settings.model_fields if n.startswith(("smtp_", "mail_"))]
    assert len(mail_settings) >= 5
    for name in mail_settings:
        assert f"JETRACK_{name.upper()}" in section, name
    with caplog.at_level(logging.WARNING, logger="jetrack.mail"):
        log_unsent("Reset your password", "Open https://example.net/reset?token=t")
    lines = [r.getMessage() for r in caplog.records][1:]
    assert lines and all(line.startswith("mail | ") for line in lines), lines
    assert any("https://example.net/reset?token=t" in line for line in lines)
    configuration = (DOCS / "configuration.md").read_text()
    for text in (section, configuration.replace("\\|", "|")):  # a table escapes its pipes
        assert "`mail |`" in text and "ready" in text
