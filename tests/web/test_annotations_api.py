"""Annotations over HTTP: editors add and delete a site's notes, every reader lists them,
a shared link shows them read-only; bad input is named."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from jetrack.app import create_app
from jetrack.config import Settings
from jetrack.sites import shared_links
from jetrack.store.models import Site
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.web import world as w

pytestmark = pytest.mark.slow  # a world of seven accounts per test


@dataclass
class Notes:
    client: TestClient
    world: w.World
    stores: Stores
    slug: str

    @property
    def path(self) -> str:
        return f"/api/dashboard/{self.world.domain}/annotations"

    def as_role(self, role: str) -> dict[str, str]:
        self.client.cookies.clear()
        self.client.cookies.set("jt_session", self.world.cookies[role])
        return {"X-CSRF-Token": self.world.csrf[role]}

    def add(self, role: str, **body: Any) -> httpx2.Response:
        return self.client.post(self.path, json=body, headers=self.as_role(role))

    def listing(self, role: str) -> dict[str, Any]:
        self.as_role(role)
        answer = self.client.get(self.path)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


@pytest.fixture
def notes(settings: Settings, stores: Stores) -> Iterator[Notes]:
    world = w.build_world(stores)
    with stores.control.session() as session:
        site = row(session, Site, world.site_id)
        slug = shared_links.create_shared_link(session, site, "public").slug
    with TestClient(create_app(settings, stores)) as client:
        yield Notes(client, world, stores, slug)


def test_editors_add_and_delete_notes_everyone_reads_them(notes: Notes) -> None:
    launch = notes.add("guest_editor", date="2026-03-14", text="  Launched on Product Hunt ")
    assert launch.status_code == 201, launch.text
    assert launch.json() == {
        "id": launch.json()["id"],
        "date": "2026-03-14",
        "time": None,
        "text": "Launched on Product Hunt",
        "can_delete": True,
    }
    morning = notes.add("admin", date="2026-03-01", time="09:30", text="Price change")
    assert morning.status_code == 201, morning.text
    for role in ("owner", "admin", "guest_editor"):
        listed = notes.listing(role)
        assert listed["can_edit"] is True
        assert [(n["date"], n["time"], n["text"]) for n in listed["annotations"]] == [
            ("2026-03-01", "09:30", "Price change"),
            ("2026-03-14", None, "Launched on Product Hunt"),
        ]
    for role in ("viewer", "guest_viewer"):
        listed = notes.listing(role)
        assert listed["can_edit"] is False and len(listed["annotations"]) == 2
        assert all("can_delete" not in n for n in listed["annotations"])
    notes.client.cookies.clear()
    shared = notes.client.get(f"/api/share/{notes.slug}/annotations").json()
    assert [n["text"] for n in shared["annotations"]] == [
        "Price change",
        "Launched on Product Hunt",
    ]
    assert shared["can_edit"] is False

    note_path = f"{notes.path}/{launch.json()['id']}"
    for role in ("viewer", "guest_viewer", "stranger"):
        before = w.snapshot(notes.stores)
        assert notes.add(role, date="2026-03-02", text="x").status_code == 404
        assert notes.client.delete(note_path, headers=notes.as_role(role)).status_code == 404
        assert w.snapshot(notes.stores) == before
    notes.client.cookies.clear()
    assert notes.client.delete(note_path).status_code == 401
    deleted = notes.client.delete(note_path, headers=notes.as_role("owner"))
    assert deleted.status_code == 200 and deleted.json() == {"deleted": launch.json()["id"]}
    assert notes.client.delete(note_path, headers=notes.as_role("owner")).status_code == 404
    assert [n["text"] for n in notes.listing("viewer")["annotations"]] == ["Price change"]


def test_a_write_needs_the_csrf_token(notes: Notes) -> None:
    notes.as_role("owner")
    refused = notes.client.post(notes.path, json={"date": "2026-03-14", "text": "x"})
    assert refused.status_code == 403
    assert notes.listing("owner")["annotations"] == []


BAD_NOTES: list[tuple[dict[str, Any], str]] = [
    ({"date": "14/03/2026", "text": "x"}, "date:"),
    ({"date": "2026-02-30", "text": "x"}, "date:"),
    ({"date": 20260314, "text": "x"}, "date:"),
    ({"date": "1999-12-31", "text": "x"}, "date:"),
    ({"date": "2026-03-14", "time": "24:00", "text": "x"}, "time:"),
    ({"date": "2026-03-14", "time": "9:30", "text": "x"}, "time:"),
    ({"date": "2026-03-14", "text": "   "}, "text:"),
    ({"date": "2026-03-14", "text": "x" * 501}, "text:"),
    ({"date": "2026-03-14", "text": "bell \x07"}, "text:"),
]


def test_bad_notes_are_named(notes: Notes) -> None:
    for body, named in BAD_NOTES:
        refused = notes.add("owner", **body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"].startswith(named), refused.text
    assert notes.listing("owner")["annotations"] == []
