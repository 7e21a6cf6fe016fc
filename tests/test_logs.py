"""The access log holds route templates, never a path's tokens or slugs, and a client
cannot write a line of its own into any log."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.store.stores import Stores

SECRET = "Zq8secretTOKENvalue42"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "jetrack.access"]


def test_paths_with_secrets_are_logged_as_their_route(
    settings: Settings, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jetrack.access")
    with TestClient(create_app(settings, stores), follow_redirects=False) as client:
        client.get(f"/invitations/{SECRET}")
        client.get(f"/exports/{SECRET}")
        client.get(f"/share/{SECRET}")
        client.get(f"/share/{SECRET}/password")
        client.get(f"/no/such/{SECRET}")
    lines = _lines(caplog)
    assert len(lines) == 5
    assert not [line for line in lines if SECRET in line]
    routes = [" ".join(line.split(" ")[1:-2]) for line in lines]
    assert routes == [
        "/invitations/{token}",
        "/exports/{token}",
        "/share/{slug}",
        "/share/{slug}/password",
        "(no route)",
    ]


def test_an_encoded_line_break_cannot_forge_a_log_line(
    settings: Settings, stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="jetrack.access")
    forged = "GET /admin 200 1.0ms"
    with TestClient(create_app(settings, stores), follow_redirects=False) as client:
        client.get(f"/share/x%0a{forged.replace(' ', '%20')}")
        client.get(f"/x%0d%0a{forged.replace(' ', '%20')}")
    lines = _lines(caplog)
    assert len(lines) == 2
    assert all("\n" not in line and "\r" not in line and forged not in line for line in lines)


def test_the_formatter_escapes_control_characters_in_any_message() -> None:
    from jetrack.logs import EscapingFormatter, escape_controls

    record = logging.LogRecord(
        "jetrack.web", logging.ERROR, __file__, 1, "bad %s", ("a\nb\r\x1b[31m\u2028c",), None
    )
    text = EscapingFormatter("%(levelname)s %(message)s").format(record)
    assert text == "ERROR bad a\\x0ab\\x0d\\x1b[31m\\x2028c"
    assert escape_controls("plain /share/{slug} 200") == "plain /share/{slug} 200"
