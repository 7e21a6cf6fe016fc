"""The control store on both engines: SQLCipher SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from jetrack.accounts.api_keys import authenticate_api_key, create_api_key
from jetrack.accounts.users import AccountError, create_user, find_user, verify_password
from jetrack.sites.sites import SiteError, add_site, find_site
from jetrack.store.control import ControlStore, migrate_control
from jetrack.store.models import User


def test_migrations_create_the_tables(control: ControlStore) -> None:
    tables = set(inspect(control.engine).get_table_names())
    assert {"users", "sites", "goals", "api_keys", "salts", "alembic_version"} <= tables
    migrate_control(control)  # a second run is a no-op


def test_users_sites_and_keys(control: ControlStore) -> None:
    with control.session() as session:
        first = create_user(session, "Ann@Example.com", name="Ann", password="a long password")
        second = create_user(session, "bob@example.com")
        assert first.is_admin and not second.is_admin
        add_site(session, first, "https://www.Example.com/path", timezone="Europe/Berlin")
        _, key = create_api_key(session, first, "ci")
    with control.session() as session:
        user = find_user(session, "ann@example.com")
        assert user is not None and verify_password(user, "a long password")
        assert not verify_password(user, "wrong password!")
        site = find_site(session, "example.com")
        assert site is not None and site.timezone == "Europe/Berlin"
        found = authenticate_api_key(session, key)
        assert found is not None and found[1].email == "ann@example.com"
        assert authenticate_api_key(session, key[:-1] + "x") is None
        stored = [row.key_hash for row in session.query(type(found[0]))]
        assert key not in stored


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, u: create_user(s, "not-an-email"), "email"),
        (lambda s, u: create_user(s, "ann@example.com"), "email"),
        (lambda s, u: create_user(s, "c@example.com", password="short"), "password"),
        (lambda s, u: add_site(s, u, "exa mple.com"), "domain"),
        (lambda s, u: add_site(s, u, "ok.com", timezone="Mars/Olympus"), "timezone"),
    ],
)
def test_bad_input_names_the_field(
    control: ControlStore, call: Callable[[Session, User], object], field: str
) -> None:
    with control.session() as session:
        owner = create_user(session, "ann@example.com")
        with pytest.raises((AccountError, SiteError)) as caught:
            call(session, owner)
        assert isinstance(caught.value, AccountError | SiteError)
        assert caught.value.field == field


def test_a_store_at_head_is_recognised_without_alembic(control: ControlStore) -> None:
    """A start on a migrated store reads the version table instead of importing Alembic
    (~10 MB a server kept): the heads it finds are Alembic's own."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from jetrack.store import control as control_module

    config = Config()
    config.set_main_option("script_location", str(control_module.MIGRATIONS_DIR))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    assert control_module._revisions_at_head(control)
    with control.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    assert not control_module._revisions_at_head(control)
    with control.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        conn.execute(text("DROP TABLE alembic_version"))
    assert not control_module._revisions_at_head(control)  # no version table: Alembic decides
    with control.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.stamp(config, head)
    assert control_module._revisions_at_head(control)
