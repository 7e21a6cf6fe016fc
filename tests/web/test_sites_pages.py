"""Sites: add, validate, settings (shields, cookie mode, pause), snippet, installation
check against the real event store, delete with confirmation."""

from __future__ import annotations

import html

import httpx2
from sqlalchemy import select
from starlette.testclient import TestClient

from jetrack.sites.installation import Installation, describe
from jetrack.store.models import Site
from jetrack.store.stores import Stores
from tests.web.conftest import Inbox, csrf_of, sign_up_verified


def _add(client: TestClient, domain: str, **extra: str) -> httpx2.Response:
    data = {
        "domain": domain,
        "name": "",
        "timezone": "Europe/Berlin",
        "csrf_token": csrf_of(client),
        **extra,
    }
    return client.post("/sites/new", data=data)


def test_add_site_validates_and_shows_the_snippet(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    bad = client.post(
        "/sites/new",
        data={"domain": "not a domain!", "timezone": "Mars/Base", "csrf_token": csrf_of(client)},
    )
    assert bad.status_code == 400
    assert "must be a domain name" in bad.text and "IANA time zone" in bad.text
    added = _add(client, "https://www.Example.com/blog")
    assert added.status_code == 303 and added.headers["location"].startswith(
        "/sites/example.com/settings"
    )
    assert _add(client, "example.com").status_code == 400  # already registered
    page = client.get("/sites/example.com/settings")
    snippet = (
        '<script defer data-domain="example.com" src="http://127.0.0.1:8000/js/script.js"></script>'
    )
    assert snippet in html.unescape(page.text)
    assert "No event has arrived yet." in page.text
    # Everyone tries the snippet on localhost first: the page says how to test there.
    assert "add <code>data-local</code> to the script tag" in page.text
    assert client.get("/api/sites/example.com/installation").json()["events"] == 0


def _event(stores: Stores, hostname: str) -> None:
    with stores.control.session() as session:
        site_id = session.scalar(select(Site.id))
    stores.events.command(
        "INSERT INTO events (site_id, timestamp, name, hostname, pathname)"
        " VALUES ({id:UInt32}, now(), 'pageview', {host:String}, '/')",
        {"id": site_id, "host": hostname},
    )


def test_installation_check_sees_an_event(client: TestClient, inbox: Inbox, stores: Stores) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    _add(client, "example.com")
    _event(stores, "www.example.com")
    answer = client.get("/api/sites/example.com/installation").json()
    assert answer["installed"] is True and answer["status"] == "installed"
    assert answer["events"] == 1 and answer["hostnames"] == ["www.example.com"]
    assert answer["message"] == "Installed: 1 event received (from www.example.com)."
    assert answer["message"] in client.get("/sites/example.com/settings").text


def test_installation_check_names_events_from_another_host(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    _add(client, "example.com")
    none = client.get("/api/sites/example.com/installation").json()
    assert none["status"] == "none" and none["message"].startswith("No event has arrived yet.")
    _event(stores, "localhost")  # a local test with data-local
    answer = client.get("/api/sites/example.com/installation").json()
    assert answer["installed"] is False and answer["status"] == "other-host"
    assert "only from localhost, not from example.com" in answer["message"]
    page = client.get("/sites/example.com/settings").text
    assert 'src="/static/js/installation.js"' in page and 'id="check-installation"' in page
    assert "only from localhost" in page


def test_settings_shields_and_cookie_mode(client: TestClient, inbox: Inbox, stores: Stores) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    _add(client, "example.com")
    form = {
        "name": "Example",
        "timezone": "UTC",
        "cookie_mode": "1",
        "paused": "1",
        "blocked_ips": "203.0.113.7\n10.0.0.0/8\n2001:db8::/32",
        "blocked_countries": "de\nUS",
        "blocked_paths": "/admin/*",
        "allowed_hostnames": "example.com\n*.example.com",
        "csrf_token": csrf_of(client),
    }
    assert client.post("/sites/example.com/settings", data=form).status_code == 303
    with stores.control.session() as session:
        site = session.scalars(select(Site)).one()
        assert site.cookie_mode and site.paused and site.name == "Example"
        assert site.shields == {
            "blocked_ips": ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"],
            "blocked_countries": ["DE", "US"],
            "blocked_paths": ["/admin/*"],
            "allowed_hostnames": ["example.com", "*.example.com"],
        }
    page = html.unescape(client.get("/sites/example.com/settings").text)
    assert 'data-domain="example.com" data-cookie="1"' in page
    assert "you may need consent for it in the EU" in page
    bad = dict(
        form,
        blocked_ips="300.1.1.1",
        blocked_countries="XX",
        blocked_paths="admin",
        allowed_hostnames="bad host",
        timezone="Nowhere",
    )
    refused = client.post("/sites/example.com/settings", data=bad)
    assert refused.status_code == 400
    for message in (
        "IP address or CIDR",
        "two-letter country code",
        "path starting with /",
        "host name such as",
        "IANA time zone",
    ):
        assert message in refused.text
    with stores.control.session() as session:
        assert session.scalars(select(Site)).one().shields["blocked_countries"] == ["DE", "US"]


def test_delete_needs_the_domain_typed(client: TestClient, inbox: Inbox, stores: Stores) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    _add(client, "example.com")
    wrong = client.post(
        "/sites/example.com/delete", data={"confirm": "example.org", "csrf_token": csrf_of(client)}
    )
    assert wrong.status_code == 400 and "type example.com to confirm" in wrong.text
    done = client.post(
        "/sites/example.com/delete", data={"confirm": "example.com", "csrf_token": csrf_of(client)}
    )
    assert done.status_code == 303
    with stores.control.session() as session:
        assert session.scalars(select(Site)).all() == []
    assert client.get("/sites/example.com/settings").status_code == 404


def test_installation_message_groups_thousands() -> None:
    found = Installation("installed", 216555, ("example.com",))
    assert describe(found, "example.com") == (
        "Installed: 216,555 events received (from example.com)."
    )
    other = Installation("other-host", 1, ("localhost",))
    assert describe(other, "example.com").startswith("1 event arrived, but only from localhost")
