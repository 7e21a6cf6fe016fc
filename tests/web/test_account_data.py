"""Access, portability and restriction: the account's data export (background job, mailed
link, owner-only download), the dashboard's ZIP of CSVs, restriction of processing, and
undoing an erasure from the mailed link."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable

import httpx2
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.privacy.audit import public_addresses
from jetrack.privacy.erasure import request_account_erasure, undo_link_path
from jetrack.store.models import DataExport, ErasureRequest, Membership, Site, User
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.privacy.helpers import days_ago, insert_events, make_account
from tests.web.conftest import Inbox
from tests.web.logins import app_client, login


def _wait_for_export(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        exports = client.get("/api/account/exports").json()["exports"]
        if exports and exports[0]["state"] == "done":
            return dict(exports[0])
        time.sleep(0.3)
    raise AssertionError(f"export not done: {exports}")


@pytest.mark.slow
def test_export_runs_in_the_background_and_only_its_owner_downloads_it(
    open_with: Callable[..., Stores], smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    stores = open_with(smtp_host="127.0.0.1", smtp_port=port)
    ada, (site_id,) = make_account(stores, "ada@example.com", "ada.example")
    eve, _ = make_account(stores, "eve@example.com", "eve.example")
    insert_events(stores.events, site_id, [days_ago(1), days_ago(2), days_ago(40)])
    ada_login, eve_login = login(stores, ada), login(stores, eve)
    with app_client(stores) as client:
        ada_login.use(client)
        assert client.post("/account/privacy/export", data=ada_login.form()).status_code == 303
        # Asking again while it runs starts nothing new.
        client.post("/account/privacy/export", data=ada_login.form())
        status = _wait_for_export(client, {})
        assert status["progress"] == 100
        # "done" is recorded when the archive is packed; the mail is the job's next step.
        deadline = time.monotonic() + 30
        while not inbox.to("ada@example.com") and time.monotonic() < deadline:
            time.sleep(0.1)
        link = inbox.link("ada@example.com", "/exports/")
        download = client.get(link)
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(download.content))
        names = set(archive.namelist())
        assert {
            "account.json",
            "teams.json",
            "sites.json",
            "sites/ada.example/events.csv",
            "sites/ada.example/events.parquet",
            "sites/ada.example/aggregates.json",
        } <= names
        account = json.loads(archive.read("account.json"))
        assert account["email"] == "ada@example.com"
        assert json.loads(archive.read("sites.json"))[0]["domain"] == "ada.example"
        table = pq.read_table(io.BytesIO(archive.read("sites/ada.example/events.parquet")))
        assert table.num_rows == 3 and "timestamp" in table.column_names
        csv_lines = archive.read("sites/ada.example/events.csv").decode().splitlines()
        assert len(csv_lines) == 4
        daily = json.loads(archive.read("sites/ada.example/aggregates.json"))["daily"]
        assert sum(day["pageviews"] for day in daily) == 3
        for name in names:  # nothing in the export looks like an address
            assert list(public_addresses(archive.read(name).decode("utf-8", "replace"))) == []

        eve_login.use(client)
        assert client.get(link).status_code == 404  # not theirs
        assert client.get("/exports/not-a-token").status_code == 404
        client.cookies.clear()
        assert client.get(link).status_code == 303  # log in first
    with stores.control.session() as session:
        assert len(session.scalars(select(DataExport)).all()) == 1
        job_payload = str(session.execute(select(DataExport.token_hash)).all())
    assert link.rsplit("/", 1)[1] not in job_payload  # only the token's digest is stored


def _dashboard_zip(
    client: TestClient, domain: str, headers: dict[str, str], body: object
) -> httpx2.Response:
    return client.post(f"/api/dashboard/{domain}/export", json=body, headers=headers)


def test_dashboard_export_is_a_zip_of_panel_csvs(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    ada, (site_id,) = make_account(stores, "ada@example.com", "ada.example")
    eve, _ = make_account(stores, "eve@example.com", "eve.example")
    insert_events(stores.events, site_id, [days_ago(1), days_ago(2)])
    with app_client(stores) as client:
        headers = login(stores, ada).use(client)
        body = {"date_range": "7d", "filters": [["is", "event:page", ["/"]]]}
        response = _dashboard_zip(client, "ada.example", headers, body)
        assert response.status_code == 200, response.text
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert {
            "sources.csv",
            "pages.csv",
            "entry_pages.csv",
            "exit_pages.csv",
            "countries.csv",
            "regions.csv",
            "cities.csv",
            "browsers.csv",
            "operating_systems.csv",
            "devices.csv",
            "screen_sizes.csv",
            "languages.csv",
            "utm_campaigns.csv",
        } <= set(archive.namelist())
        assert archive.read("pages.csv").decode().splitlines() == [
            "page,visitors,pageviews",
            "/,1,2",
        ]

        bad = _dashboard_zip(client, "ada.example", headers, {"date_range": "forever"})
        assert bad.status_code == 400 and "date_range" in bad.text
        assert _dashboard_zip(client, "ada.example", headers, [1]).status_code == 400
        assert _dashboard_zip(client, "ada.example", {}, body).status_code == 403
        eve_headers = login(stores, eve).use(client)
        assert _dashboard_zip(client, "ada.example", eve_headers, body).status_code == 404
        assert _dashboard_zip(client, "nobody.example", eve_headers, body).status_code == 404


@pytest.mark.slow
def test_restriction_stops_exports_to_others_not_to_the_owner(
    open_with: Callable[..., Stores],
) -> None:
    stores = open_with()
    ada, (site_id,) = make_account(stores, "ada@example.com", "ada.example")
    bob, _ = make_account(stores, "bob@example.com", "bob.example")
    with stores.control.session() as session:  # bob views ada's team
        team_id = row(session, Site, site_id).team_id
        session.add(Membership(team_id=team_id, user_id=bob, role="viewer"))
    ada_login, bob_login = login(stores, ada), login(stores, bob)
    body = {"date_range": "7d"}
    with app_client(stores) as client:
        bob_headers = bob_login.use(client)
        assert _dashboard_zip(client, "ada.example", bob_headers, body).status_code == 200
        ada_login.use(client)
        page = client.get("/account/privacy")
        assert "not restricted" in page.text
        changed = client.post("/account/privacy/restriction", data=ada_login.form(restrict="1"))
        assert changed.status_code == 303
        assert "processing is restricted" in client.get(changed.headers["location"]).text.lower()
        ada_headers = ada_login.use(client)
        assert _dashboard_zip(client, "ada.example", ada_headers, body).status_code == 200
        bob_login.use(client)
        assert _dashboard_zip(client, "ada.example", bob_headers, body).status_code == 404
        ada_login.use(client)
        client.post("/account/privacy/restriction", data=ada_login.form(restrict="0"))
        bob_login.use(client)
        assert _dashboard_zip(client, "ada.example", bob_headers, body).status_code == 200


@pytest.mark.slow
def test_undo_link_keeps_the_account(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    ada, _ = make_account(stores, "ada@example.com", "ada.example")
    with stores.control.session() as session:
        user = session.get(User, ada)
    assert user is not None
    request_account_erasure(stores, user)
    with stores.control.session() as session:
        path = undo_link_path(session, session.scalars(select(ErasureRequest)).one())
    with app_client(stores) as client:
        assert client.get(re.sub(r"sig=\w+", "sig=" + "0" * 64, path)).status_code == 404
        page = client.get(path)
        assert page.status_code == 200 and "Cancel the deletion" in page.text
        request_id = re.search(r"request=(\d+)", path).group(1)  # type: ignore[union-attr]
        sig = re.search(r"sig=(\w+)", path).group(1)  # type: ignore[union-attr]
        kept = client.post("/account/erasure/undo", data={"request": request_id, "sig": sig})
        assert kept.status_code == 200 and "Account kept" in kept.text
        again = client.post("/account/erasure/undo", data={"request": request_id, "sig": sig})
        assert again.status_code == 404  # nothing left to undo; harmless
    with stores.control.session() as session:
        assert row(session, User, ada).locked_at is None
