"""The operator console: instance admins only (404 for everyone else), every action
recorded in the audit log, which never holds visitor data."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from jetrack.store import job_queue
from jetrack.store.models import AdminAuditEntry, Job, Site, Ticket, User
from jetrack.store.stores import Stores
from tests.conftest import row
from tests.privacy.helpers import days_ago, insert_events, make_account
from tests.web.logins import app_client, login

PAGES = ["/admin", "/admin/users", "/admin/sites", "/admin/tickets", "/admin/jobs"]


def test_only_instance_admins_see_the_console(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    admin, _ = make_account(stores, "root@example.com", admin=True)
    user, (site_id,) = make_account(stores, "ada@example.com", "ada.example")
    user_login = login(stores, user)
    with app_client(stores) as client:
        for path in PAGES:
            assert client.get(path).status_code == 404  # signed out
        user_login.use(client)
        for path in PAGES:
            assert client.get(path).status_code == 404
        for action in (f"/admin/users/{admin}/lock", f"/admin/sites/{site_id}/pause"):
            assert client.post(action, data=user_login.form()).status_code == 404
    with stores.control.session() as session:
        assert row(session, Site, site_id).paused is False
        assert session.scalars(select(AdminAuditEntry)).all() == []


@pytest.mark.slow
def test_admin_actions_work_and_are_recorded(open_with: Callable[..., Stores]) -> None:
    stores = open_with()
    admin, _ = make_account(stores, "root@example.com", admin=True)
    user, (site_id,) = make_account(stores, "ada@example.com", "ada.example")
    insert_events(stores.events, site_id, [days_ago(1), days_ago(2), days_ago(45)])
    with stores.control.session() as session:
        session.add(
            Ticket(kind="contact", email="x@example.com", subject="Hi", message="Hello there")
        )
        failed = job_queue.enqueue(session, "retention")
        assert failed is not None
        failed.state = "failed"
        session.flush()
        ticket_id = session.scalars(select(Ticket.id)).one()
        job_id = failed.id
    root = login(stores, admin)
    with app_client(stores) as client:
        root.use(client)
        overview = client.get("/admin")
        assert overview.status_code == 200 and "event_columns" in overview.text
        assert "salt_age" in overview.text and "FAIL" not in overview.text.replace("FAILED", "")
        sites = client.get("/admin/sites")
        assert "ada.example" in sites.text and "<td>2</td>" in sites.text  # events in 30 days
        assert "ada@example.com" in client.get("/admin/users").text
        actions = [
            (f"/admin/users/{user}/lock", "/admin/users"),
            (f"/admin/sites/{site_id}/pause", "/admin/sites"),
            (f"/admin/tickets/{ticket_id}/close", "/admin/tickets"),
            (f"/admin/jobs/{job_id}/retry", "/admin/jobs"),
            (f"/admin/users/{user}/unlock", "/admin/users"),
        ]
        for path, back in actions:
            response = client.post(path, data=root.form())
            assert response.status_code == 303 and response.headers["location"] == back, path
        assert client.post(f"/admin/users/{admin}/lock", data=root.form()).status_code == 404
        assert client.post("/admin/sites/99999/pause", data=root.form()).status_code == 404
        assert client.post("/admin/tickets/x/close", data=root.form()).status_code == 404
        log_page = client.get("/admin").text
    with stores.control.session() as session:
        assert row(session, Site, site_id).paused is True
        assert row(session, User, user).locked_at is None
        assert row(session, Ticket, ticket_id).closed_at is not None
        assert row(session, Job, job_id).state in ("queued", "running", "done")
        entries = session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.id)).all()
        assert [(e.actor_id, e.action, e.target) for e in entries] == [
            (admin, "lock_user", f"user:{user}"),
            (admin, "pause_site", f"site:{site_id}"),
            (admin, "close_ticket", f"ticket:{ticket_id}"),
            (admin, "retry_job", f"job:{job_id}"),
            (admin, "unlock_user", f"user:{user}"),
        ]
    assert "pause_site" in log_page


@pytest.mark.parametrize("path", ["/admin/users/1/lock", "/admin/jobs/1/retry"])
def test_console_actions_need_the_csrf_token(open_with: Callable[..., Stores], path: str) -> None:
    stores = open_with()
    admin, _ = make_account(stores, "root@example.com", admin=True)
    root = login(stores, admin)
    with app_client(stores) as client:
        root.use(client)
        assert client.post(path, data={}).status_code == 403
