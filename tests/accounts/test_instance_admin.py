"""Instance admin: only the first account of an empty instance (recorded for good) or the
operator's choice; the last admin goes only by naming a successor."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, text
from starlette.testclient import TestClient

from jetrack.accounts.users import had_accounts
from jetrack.store.models import User
from jetrack.store.stores import Stores
from tests.test_cli import run
from tests.web.conftest import PASSWORD, Inbox, csrf_of, sign_up_verified


def _admins(stores: Stores) -> list[str]:
    with stores.control.session() as session:
        return list(session.scalars(select(User.email).where(User.is_admin).order_by(User.id)))


def test_erasing_every_account_does_not_hand_admin_to_the_next_sign_up(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    assert _admins(stores) == ["ada@example.com"]
    with stores.control.session() as session:  # what the purge does to an erased account
        session.execute(delete(User))
    client.cookies.clear()
    sign_up_verified(client, inbox, "mallory@example.com")
    assert _admins(stores) == []


def test_the_last_admin_must_name_a_successor_to_delete_the_account(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "bob@example.com", "Bob")
    client.cookies.clear()
    sign_up_verified(client, inbox, "ada@example.com")
    client.cookies.clear()
    client.post("/login", data={"email": "bob@example.com", "password": PASSWORD})
    assert 'name="successor"' in client.get("/account/delete").text
    form = {"password": PASSWORD, "confirm": "delete", "csrf_token": csrf_of(client)}
    refused = client.post("/account/delete", data=form)
    assert refused.status_code == 400 and "only admin" in refused.text
    unknown = client.post("/account/delete", data={**form, "successor": "nobody@example.com"})
    assert unknown.status_code == 400 and "no active account" in unknown.text
    assert _admins(stores) == ["bob@example.com"]
    done = client.post("/account/delete", data={**form, "successor": "ada@example.com"})
    assert done.status_code == 200 and "Account deleted" in done.text
    assert _admins(stores) == ["bob@example.com", "ada@example.com"]
    with stores.control.session() as session:
        assert session.scalar(select(User.locked_at).where(User.email == "bob@example.com"))


def test_operator_makes_admins_and_erases_the_last_only_with_a_successor(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert (
        run(data, "user", "create", "ann@example.com").stdout.strip().endswith("(instance admin)")
    )
    made = run(data, "user", "create", "ben@example.com")
    assert made.returncode == 0 and "admin" not in made.stdout
    assert run(data, "user", "create", "cy@example.com").returncode == 0
    refused = run(data, "user", "erase", "ann@example.com")
    assert refused.returncode != 0 and "--successor" in refused.stderr
    assert "only admin" in refused.stderr
    erased = run(data, "user", "erase", "ann@example.com", "--successor", "ben@example.com")
    assert erased.returncode == 0, erased.stderr
    assert run(data, "user", "erase", "ben@example.com").returncode != 0  # now the last one
    extra = run(data, "user", "create", "dee@example.com", "--admin")
    assert extra.returncode == 0 and "(instance admin)" in extra.stdout
    assert run(data, "user", "erase", "ben@example.com").returncode == 0


@pytest.mark.parametrize(("is_admin", "recorded"), [(True, True), (False, False)])
def test_migration_records_the_first_account_of_an_instance_that_had_an_admin(
    tmp_path: Path, is_admin: bool, recorded: bool
) -> None:
    from alembic import command
    from alembic.config import Config

    from jetrack.store.control import MIGRATIONS_DIR, open_control_store

    store = open_control_store(data_dir=tmp_path, database_url=None, key=None)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        conn.execute(
            text(
                "INSERT INTO users (email, name, is_admin, created_at) "
                "VALUES ('ann@example.com', 'Ann', :admin, CURRENT_TIMESTAMP)"
            ),
            {"admin": is_admin},
        )
        command.upgrade(config, "head")
    with store.session() as session:  # a demo-only instance still waits for its admin
        assert had_accounts(session) is recorded
    store.close()


def test_the_only_account_may_go_without_a_successor(
    client: TestClient, inbox: Inbox, stores: Stores
) -> None:
    sign_up_verified(client, inbox, "ada@example.com")
    form = {"password": PASSWORD, "confirm": "delete", "csrf_token": csrf_of(client)}
    assert client.post("/account/delete", data=form).status_code == 200
    client.cookies.clear()
    sign_up_verified(client, inbox, "bob@example.com")  # still no admin by sign-up
    assert _admins(stores) == ["ada@example.com"]  # locked, waiting for its purge
