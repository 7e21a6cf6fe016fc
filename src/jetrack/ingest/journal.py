"""The write-ahead journal: an event is acknowledged only after it is appended here.

Segments are append-only files of length-prefixed records, each record one request's rows
(AES-256-GCM encrypted when encryption at rest is on). A segment is closed at each flush
and deleted once its rows are stored; segments left by a crash are replayed at start
(`jetrack.ingest.replay`). The file's suffix says how far storing it got: `.journal` never
tried, `.storing` its insert sent (committed or not), `.stored` its events in."""

from __future__ import annotations

import os
import secrets
import struct
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from jetrack.store.schema import EventRow, event_row

_LENGTH = struct.Struct(">I")
SUFFIX = ".journal"
# A segment whose events insert was sent: it may or may not have committed.
STORING_SUFFIX = ".storing"
# A segment whose events are in the event store, its visits' sessions rows maybe not yet.
STORED_SUFFIX = ".stored"
_LEFTOVER_SUFFIXES = (SUFFIX, STORING_SUFFIX, STORED_SUFFIX)


class JournalSegment:
    """One open segment file."""

    def __init__(self, directory: Path, cipher: AESGCM | None) -> None:
        self.name = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
        self.path = directory / (self.name + SUFFIX)
        self._cipher = cipher
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
        self.rows = 0
        # GCM nonces: 8 random bytes per segment + a 4-byte record counter. Unique under the
        # one key without a getrandom() call per record (segments collide ~1 in 2^64).
        self._nonce_prefix = secrets.token_bytes(8)
        self._records = 0

    def append(self, rows: Sequence[EventRow]) -> None:
        """One write() of one record: after it returns the rows survive a killed process."""
        payload = orjson.dumps(rows, default=tuple)  # each EventRow as its values
        if self._cipher is not None:
            nonce = self._nonce_prefix + self._records.to_bytes(4, "big")
            self._records += 1
            payload = nonce + self._cipher.encrypt(nonce, payload, None)
        os.write(self._fd, _LENGTH.pack(len(payload)) + payload)
        self.rows += len(rows)

    def close(self, sync: bool = True) -> None:
        if self._fd >= 0:
            if sync:
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1


class Journal:
    def __init__(self, directory: Path, key: bytes | None) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = directory
        self._cipher = AESGCM(key) if key is not None else None

    def open_segment(self) -> JournalSegment:
        return JournalSegment(self.directory, self._cipher)

    def leftover_segments(self) -> list[Path]:
        """Segments of earlier runs (stored or not), oldest first."""
        paths = [
            path for suffix in _LEFTOVER_SUFFIXES for path in self.directory.glob("*" + suffix)
        ]
        return sorted(paths, key=lambda path: path.stem)

    def mark_storing(self, path: Path) -> Path:
        """Record that the segment's events insert is about to be sent: a replay must ask
        the event store whether it committed (`jetrack.ingest.replay`)."""
        return _rename(path, STORING_SUFFIX)

    def mark_stored(self, path: Path) -> Path:
        """Record that the segment's events are stored: a replay must not insert them again.
        (The event store's de-duplication tokens do not survive a killed process.)"""
        return _rename(path, STORED_SUFFIX)

    def read_segment(self, path: Path) -> list[EventRow]:
        """Every complete record; a torn last record (never acknowledged) is ignored."""
        return [
            event_row(row)
            for record in self._records(path.read_bytes())
            for row in orjson.loads(record)
        ]

    def _records(self, data: bytes) -> Iterator[bytes]:
        offset = 0
        while offset + _LENGTH.size <= len(data):
            (length,) = _LENGTH.unpack_from(data, offset)
            start = offset + _LENGTH.size
            if start + length > len(data):
                return
            record = data[start : start + length]
            offset = start + length
            if self._cipher is not None:
                record = self._cipher.decrypt(record[:12], record[12:], None)
            yield record


def _rename(path: Path, suffix: str) -> Path:
    renamed = path.with_suffix(suffix)
    os.rename(path, renamed)
    return renamed
