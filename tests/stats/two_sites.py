"""Two sites (a.com, b.com) behind a real app: API keys, public shared links, and the
owner of a.com signed in; for the hostile-query tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from starlette.testclient import TestClient

from jetrack.accounts.login_sessions import start_session
from jetrack.app import create_app
from jetrack.sites import shared_links
from jetrack.sites.sites import find_site
from jetrack.store.models import Site
from jetrack.store.stores import open_stores
from tests.conftest import make_settings, seed_site
from tests.stats.helpers import insert, visit


@dataclass
class App:
    client: TestClient
    keys: dict[str, str]  # domain -> API key of its owner
    slugs: dict[str, str]  # domain -> public shared link
    session: str  # the owner of a.com signed in: (cookie, CSRF token)
    csrf: str

    def shared(self, domain: str, body: Any) -> httpx2.Response:
        if isinstance(body, str):
            return self.client.post(f"/api/share/{self.slugs[domain]}/query", content=body)
        return self.client.post(f"/api/share/{self.slugs[domain]}/query", json=body)

    def v2(self, domain: str, body: Any) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {self.keys[domain]}"}
        if isinstance(body, str):
            return self.client.post("/api/v2/query", content=body, headers=headers)
        return self.client.post("/api/v2/query", json={"site_id": domain, **body}, headers=headers)

    def dashboard(self, domain: str, body: Any) -> httpx2.Response:
        self.client.cookies.set("jt_session", self.session)
        try:
            headers = {"X-CSRF-Token": self.csrf}
            if isinstance(body, str):
                return self.client.post(
                    f"/api/dashboard/{domain}/query", content=body, headers=headers
                )
            return self.client.post(f"/api/dashboard/{domain}/query", json=body, headers=headers)
        finally:
            self.client.cookies.clear()

    def v1(self, domain: str, path: str, params: dict[str, str]) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {self.keys[domain]}"}
        return self.client.get(
            f"/api/v1/stats/{path}", params={"site_id": domain, **params}, headers=headers
        )


def make_app(data_dir: Path, **settings: Any) -> Iterator[App]:
    config = make_settings(data_dir, api_rate_limit_per_hour=100_000, **settings)
    stores = open_stores(config)
    keys = {domain: seed_site(domain)(stores) for domain in ("a.com", "b.com")}
    slugs: dict[str, str] = {}
    ids: dict[str, int] = {}
    with stores.control.session() as session:
        for domain in keys:
            site = find_site(session, domain)
            assert site is not None
            ids[domain] = site.id
            slugs[domain] = shared_links.create_shared_link(session, site, "public").slug
        owner = session.query(Site).filter_by(domain="a.com").one().owner
        row, token = start_session(session, owner)
        csrf = row.csrf_token
    rows = []
    for number, domain in enumerate(keys, start=1):
        rows += visit(number, number, [("2024-03-10 08:00", "/"), ("2024-03-10 08:02", "/x")],
                      site_id=ids[domain], country_code="DE")  # fmt: skip
    insert(stores, rows)
    try:
        app = create_app(config, stores)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield App(client, keys, slugs, token, csrf)
    finally:
        stores.close()
