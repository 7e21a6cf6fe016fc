"""The control store: a SQLAlchemy engine (SQLCipher-encrypted SQLite or PostgreSQL) and
its Alembic migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from jetrack.config import ConfigError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class ControlStore:
    """Owns the engine and hands out sessions; one per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (DatabaseError, OperationalError):
            return False
        return True

    def close(self) -> None:
        self.engine.dispose()


def sqlite_engine(path: Path, key: bytes | None) -> Engine:
    if key is None:
        engine = create_engine(f"sqlite:///{path}")
    else:
        import sqlcipher3

        engine = create_engine(f"sqlite:///{path}", module=sqlcipher3.dbapi2)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if key is not None:
            # A raw key skips SQLCipher's per-connection PBKDF2 (the key is already random).
            cursor.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            cursor.execute("PRAGMA cipher_log_level = NONE")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.close()

    return engine


def open_control_store(
    *, data_dir: Path, database_url: str | None, key: bytes | None
) -> ControlStore:
    if database_url:
        engine = create_engine(database_url, pool_pre_ping=True)
    else:
        engine = sqlite_engine(data_dir / "control.db", key)
    store = ControlStore(engine)
    try:
        with engine.connect() as conn:
            conn.execute(
                text("SELECT count(*) FROM sqlite_master" if not database_url else "SELECT 1")
            )
    except DatabaseError as exc:
        engine.dispose()
        if "not a database" in str(exc):
            raise ConfigError(
                "JETRACK_ENCRYPTION_KEY: the control store cannot be decrypted with this key; "
                "give the original key (nothing was changed)"
            ) from None
        raise ConfigError(
            f"JETRACK_DATABASE_URL: cannot open the control store: {exc.orig}"
        ) from None
    return store


# PostgreSQL advisory lock held while a process migrates: processes of the shared mode
# that start together (`jetrack serve --workers`) migrate one after the other, and the
# later ones find nothing left to do.
_MIGRATION_LOCK = 0x4A54_4D49  # "JTMI"


@contextmanager
def migration_lock(store: ControlStore) -> Iterator[None]:
    """Migrations of several processes one at a time (on SQLite, one process holds the
    data dir anyway)."""
    if store.engine.dialect.name != "postgresql":
        yield
        return
    with store.engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
            conn.commit()


def _revisions_at_head(store: ControlStore) -> bool:
    """Whether the store is at the newest revision already, read without Alembic (~10 MB
    of modules and templates a server would otherwise keep after every start): the heads
    are the revisions of MIGRATIONS_DIR/versions that no other one revises."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = script.read_text()
        found = _REVISION.search(source)
        down = _DOWN_REVISION.search(source)
        if found is None or down is None:
            return False  # not a file this check understands: let Alembic decide
        revisions.add(found.group(1))
        revised.update(_QUOTED.findall(down.group(1)))
    heads = revisions - revised
    if not heads:
        return False
    try:
        with store.engine.connect() as conn:
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DatabaseError:
        return False  # no version table yet
    return current == heads


_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.M)
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")


def migrate_control(store: ControlStore) -> None:
    """Bring the control store to the newest Alembic revision."""
    if _revisions_at_head(store):
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
