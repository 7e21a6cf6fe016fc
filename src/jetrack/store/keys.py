"""The at-rest key: find or create it, check it against the data dir, derive per-store keys."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from jetrack.config import ConfigError, Settings

log = logging.getLogger("jetrack.keys")

KEY_FILE_NAME = "encryption.key"
CHECK_FILE_NAME = "key.check"


@dataclass(frozen=True)
class AtRestKeys:
    """Independent 32-byte keys derived from the master key, one per store."""

    events: bytes
    control: bytes
    journal: bytes
    backup: bytes
    check: str  # the master key's fingerprint (key.check)


def _derive(master: bytes, purpose: str) -> bytes:
    return hmac.new(master, f"jetrack at-rest {purpose}".encode(), hashlib.sha256).digest()


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            f"JETRACK_ENCRYPTION_KEY_FILE: cannot read {path}: {exc.strerror}"
        ) from exc
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(
            f"JETRACK_ENCRYPTION_KEY_FILE: {path} must hold 64 hex characters (32 bytes)"
        )
    return key


def _has_data(data_dir: Path) -> bool:
    return (data_dir / "events").exists() or (data_dir / "control.db").exists()


def fingerprint(master: bytes) -> str:
    """What `key.check` holds: names the key without revealing it."""
    return hmac.new(master, b"jetrack key check v1", hashlib.sha256).hexdigest()


def given_master_key(settings: Settings) -> bytes | None:
    """The key from the settings or the data dir's key file; None when there is neither
    (nothing is generated)."""
    if settings.encryption_key is not None:
        return bytes.fromhex(settings.encryption_key.get_secret_value().strip())
    if settings.encryption_key_file is not None:
        return _read_key_file(settings.encryption_key_file)
    generated = settings.data_dir / KEY_FILE_NAME
    return _read_key_file(generated) if generated.exists() else None


def resolve_master_key(settings: Settings) -> bytes:
    """The key from the settings, or the generated key file; create one on first run."""
    given = given_master_key(settings)
    if given is not None:
        return given
    if _has_data(settings.data_dir):
        raise ConfigError(
            f"JETRACK_ENCRYPTION_KEY: {settings.data_dir} holds encrypted data but no key was given; "
            "set JETRACK_ENCRYPTION_KEY or JETRACK_ENCRYPTION_KEY_FILE"
        )
    key = secrets.token_bytes(32)
    generated = settings.data_dir / KEY_FILE_NAME
    fd = os.open(generated, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    log.warning(
        "generated a new at-rest encryption key in %s (mode 0600). Move it to a secret store and "
        "set JETRACK_ENCRYPTION_KEY_FILE; keep it apart from backups of the data dir: without it "
        "the data cannot be read, and with it anyone holding a backup can read it.",
        generated,
    )
    return key


def check_key(settings: Settings, master: bytes) -> None:
    """Refuse a key that differs from the one the data dir was created with."""
    check_file = settings.data_dir / CHECK_FILE_NAME
    expected = fingerprint(master)
    if check_file.exists():
        if not hmac.compare_digest(check_file.read_text().strip(), expected):
            raise ConfigError(
                f"JETRACK_ENCRYPTION_KEY: this key is not the one {settings.data_dir} was encrypted "
                "with; give the original key (nothing was changed)"
            )
        return
    if _has_data(settings.data_dir):
        raise ConfigError(
            f"JETRACK_ENCRYPTION: {settings.data_dir} holds data written without encryption; "
            "start with JETRACK_ENCRYPTION=false or use a new data dir"
        )
    check_file.write_text(expected + "\n")


def load_keys(settings: Settings) -> AtRestKeys | None:
    """Keys for the embedded stores, or None when encryption is switched off."""
    if not settings.encryption:
        if (settings.data_dir / CHECK_FILE_NAME).exists():
            raise ConfigError(
                f"JETRACK_ENCRYPTION: {settings.data_dir} is encrypted; set JETRACK_ENCRYPTION=true "
                "and give its key"
            )
        return None
    master = resolve_master_key(settings)
    check_key(settings, master)
    return AtRestKeys(
        events=_derive(master, "events"),
        control=_derive(master, "control"),
        journal=_derive(master, "journal"),
        backup=backup_key(master),
        check=fingerprint(master),
    )


def backup_key(master: bytes) -> bytes:
    """The key that seals backups (store/backup.py)."""
    return _derive(master, "backup")
