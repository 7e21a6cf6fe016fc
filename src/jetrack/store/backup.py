"""Backups of an embedded data dir: one file, a tar stream sealed in AES-256-GCM chunks
with a key derived from the instance's master key, written and restored under the data
dir lock (so no `jetrack serve` writes meanwhile)."""

from __future__ import annotations

import hmac
import io
import json
import os
import secrets
import shutil
import struct
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jetrack.config import ConfigError, Settings
from jetrack.store.datadir import LOCK_NAME, DataDirLock, prepare_data_dir
from jetrack.store.keys import KEY_FILE_NAME, backup_key, fingerprint, given_master_key, load_keys

MAGIC = b"JETRACK-BACKUP/1"
CHUNK = 1 << 20
# Never in a backup: the lock is the running process's, and the key must be kept apart
# from the backups it opens.
LEFT_OUT = frozenset({LOCK_NAME, KEY_FILE_NAME})
RESTORING = ".restoring"


class BackupError(Exception):
    """The backup file is unreadable, damaged, or made with another key."""


@dataclass(frozen=True)
class BackupSummary:
    files: int
    bytes_in: int
    encrypted: bool


class _Sealer(io.RawIOBase):
    """A write-only stream that seals what it gets in numbered chunks. The chunk number and
    a last-chunk flag are in each nonce and AAD, so chunks cannot be reordered, dropped or
    cut off at the end without the restore noticing."""

    def __init__(self, out: IO[bytes], header: bytes, key: bytes | None) -> None:
        self._out, self._header, self._key = out, header, key
        self._aead = AESGCM(key) if key else None
        self._buffer = bytearray()
        self._count = 0
        self.bytes_in = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        self._buffer += view
        self.bytes_in += len(view)
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(view)

    def finish(self) -> None:
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _emit(self, plain: bytes, *, last: bool) -> None:
        body = plain
        if self._aead is not None:
            nonce, aad = _nonce_aad(self._header, self._count, last)
            body = self._aead.encrypt(nonce, plain, aad)
        self._out.write(struct.pack(">?I", last, len(body)) + body)
        self._count += 1


class _Opener(io.RawIOBase):
    """The reading side of _Sealer: each chunk is authenticated before a byte of it is used."""

    def __init__(self, source: IO[bytes], header: bytes, key: bytes | None) -> None:
        self._source, self._header = source, header
        self._aead = AESGCM(key) if key else None
        self._chunks = self._read_chunks()
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def _read_chunks(self) -> Iterator[bytes]:
        count = 0
        while True:
            head = self._source.read(5)
            if len(head) < 5:
                raise BackupError("the backup file is cut short")
            last, size = struct.unpack(">?I", head)
            body = self._source.read(size)
            if len(body) < size:
                raise BackupError("the backup file is cut short")
            if self._aead is not None:
                nonce, aad = _nonce_aad(self._header, count, last)
                try:
                    body = self._aead.decrypt(nonce, body, aad)
                except InvalidTag:
                    raise BackupError("the backup file is damaged or was changed") from None
            count += 1
            yield body
            if last:
                if self._source.read(1):
                    raise BackupError("the backup file has data after its end")
                return

    def readinto(self, target: Any) -> int:
        while not self._pending:
            try:
                self._pending = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _nonce_aad(header: bytes, count: int, last: bool) -> tuple[bytes, bytes]:
    nonce = struct.pack(">I?", count, last) + header[-7:]
    return nonce, header + struct.pack(">I?", count, last)


def _backed_up(data_dir: Path, skip: Path) -> Iterator[Path]:
    """Every path under the data dir but those LEFT_OUT and `skip` (the backup file being
    written, should it be inside)."""
    root = data_dir.resolve()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in LEFT_OUT or relative.parts[0] == RESTORING or path == skip:
            continue
        yield path


def write_backup(settings: Settings, target: Path) -> BackupSummary:
    """Write a backup of the data dir to `target` (a new file). Raises ConfigError when the
    data dir is in use or the key is not the data dir's, BackupError when `target` cannot
    be written."""
    if settings.database_url or settings.clickhouse_url:
        raise ConfigError(
            "JETRACK_DATABASE_URL/JETRACK_CLICKHOUSE_URL: `jetrack backup` copies the embedded "
            "stores; back up PostgreSQL and ClickHouse with their own tools"
        )
    if target.exists():
        raise ConfigError(f"{target} exists; give a new file name")
    prepare_data_dir(settings.data_dir)
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    try:
        keys = load_keys(settings)
        header = _header(keys.check if keys else None)
        partial = target.with_name(target.name + ".partial")
        try:
            # A new file for this user only (O_EXCL: never another's file or a link).
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise BackupError(
                f"{partial} exists (a backup that was interrupted?); delete it and try again"
            ) from None
        except OSError as exc:
            raise BackupError(f"cannot write {partial}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + struct.pack(">I", len(header)) + header)
                sealer = _Sealer(out, header, keys.backup if keys else None)
                files = _archive(settings.data_dir, sealer, skip=partial.resolve())
                sealer.finish()
                out.flush()
                os.fsync(out.fileno())
            partial.rename(target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BackupError(f"cannot write {target}: {exc.strerror}") from None
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return BackupSummary(files, sealer.bytes_in, keys is not None)
    finally:
        lock.release()


def _archive(data_dir: Path, sealer: _Sealer, *, skip: Path) -> int:
    """Tar the data dir into the sealer (no compression: the stores' files are encrypted
    or compressed already); the number of files."""
    files = 0
    with tarfile.open(fileobj=sealer, mode="w|") as archive:
        root = data_dir.resolve()
        for path in _backed_up(data_dir, skip):
            archive.add(path, arcname=str(path.relative_to(root)), recursive=False)
            files += path.is_file()
    return files


def _header(master_check: str | None) -> bytes:
    body = {
        "format": 1,
        "cipher": "aes-256-gcm" if master_check else "none",
        "key_check": master_check,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    # 7 random bytes end the header: with a chunk's number and last flag, its nonce (the
    # backup key is the same for every backup of an instance).
    return json.dumps(body, sort_keys=True).encode() + secrets.token_bytes(7)


def _read_header(source: IO[bytes]) -> tuple[bytes, dict[str, Any]]:
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a Jetrack backup file")
    try:
        (size,) = struct.unpack(">I", source.read(4))
        header = source.read(size)
        return header, json.loads(header[:-7])
    except (struct.error, ValueError):
        raise BackupError("the backup file's header is damaged") from None


def restore_backup(settings: Settings, source_path: Path) -> int:
    """Restore a backup into the configured data dir, which must hold no data. Returns the
    number of files restored."""
    prepare_data_dir(settings.data_dir)
    present = [p.name for p in settings.data_dir.iterdir() if p.name not in LEFT_OUT]
    if present:
        raise ConfigError(
            f"JETRACK_DATA_DIR: {settings.data_dir} is not empty ({', '.join(sorted(present)[:3])}); "
            "restore into a new data dir"
        )
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    staging = settings.data_dir / RESTORING
    try:
        with open(source_path, "rb") as source:
            header, fields = _read_header(source)
            key = _backup_key(settings, fields)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(mode=0o700)
            with tarfile.open(fileobj=_Opener(source, header, key), mode="r|") as archive:
                archive.extractall(staging, filter="data")
        restored = sum(1 for p in staging.rglob("*") if p.is_file())
        for entry in staging.iterdir():
            entry.rename(settings.data_dir / entry.name)
        staging.rmdir()
        load_keys(settings)  # the restored key.check against the key given
        return restored
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"cannot restore: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        lock.release()


def _backup_key(settings: Settings, fields: dict[str, Any]) -> bytes | None:
    if fields.get("cipher") == "none":
        if settings.encryption:
            raise ConfigError(
                "JETRACK_ENCRYPTION: this backup is of a data dir without encryption; restore "
                "it with JETRACK_ENCRYPTION=false"
            )
        return None
    if not settings.encryption:
        raise ConfigError("JETRACK_ENCRYPTION: this backup is encrypted; set it to true")
    master = given_master_key(settings)
    if master is None:
        raise ConfigError(
            "JETRACK_ENCRYPTION_KEY: give the key of the instance the backup was made from "
            f"(JETRACK_ENCRYPTION_KEY, JETRACK_ENCRYPTION_KEY_FILE or {KEY_FILE_NAME} in the data dir)"
        )
    if not hmac.compare_digest(str(fields.get("key_check")), fingerprint(master)):
        raise ConfigError(
            "JETRACK_ENCRYPTION_KEY: this is not the key the backup was made with "
            "(nothing was restored)"
        )
    return backup_key(master)
