"""The data dir: check it is usable and hold an exclusive lock on it while running."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from jetrack.config import ConfigError

LOCK_NAME = "jetrack.lock"


class DataDirLock:
    """An flock on <data dir>/jetrack.lock: chDB allows one process per path, so say so early."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_NAME
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        handle = open(self.path, "a+")  # noqa: SIM115 - held for the process lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ConfigError(
                f"JETRACK_DATA_DIR: {self.path.parent} is in use by another running Jetrack "
                f"(pid {holder}); stop it or choose another data dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data dir (0700) if missing; fail clearly if it cannot be written."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"JETRACK_DATA_DIR: cannot create {data_dir}: {exc.strerror}") from None
    if not data_dir.is_dir():
        raise ConfigError(f"JETRACK_DATA_DIR: {data_dir} is not a directory")
    if not os.access(data_dir, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigError(
            f"JETRACK_DATA_DIR: {data_dir} is not readable and writable by this user; "
            "fix its permissions or choose another directory"
        )
