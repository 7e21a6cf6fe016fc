"""Settings: environment, TOML, and one-line errors naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from jetrack.config import ConfigError, load_settings


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JETRACK_PORT", "9001")
    monkeypatch.setenv("JETRACK_TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.trusted_proxies == ["10.0.0.0/8", "fd00::/8"]
    assert settings.data_dir == Path("data")
    assert settings.encryption is True


def test_toml_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "jetrack.toml"
    config.write_text('port = 7000\nlog_level = "debug"\ntrusted_proxies = ["127.0.0.1/32"]\n')
    monkeypatch.setenv("JETRACK_CONFIG", str(config))
    monkeypatch.setenv("JETRACK_LOG_LEVEL", "error")
    settings = load_settings()
    assert settings.port == 7000
    assert settings.log_level == "error"
    assert settings.trusted_proxies == ["127.0.0.1/32"]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("JETRACK_PORT", "abc", "JETRACK_PORT: Input should be a valid integer"),
        ("JETRACK_PORT", "70000", "JETRACK_PORT: Input should be less than or equal to 65535"),
        (
            "JETRACK_LOG_LEVEL",
            "loud",
            "JETRACK_LOG_LEVEL: Input should be 'debug', 'info', 'warning' or 'error'",
        ),
        ("JETRACK_TRUSTED_PROXIES", "10.0.0.0/33", "JETRACK_TRUSTED_PROXIES:"),
        ("JETRACK_ENCRYPTION_KEY", "short", "JETRACK_ENCRYPTION_KEY: must be 64 hex characters"),
        ("JETRACK_SERVER", "gunicorn", "JETRACK_SERVER: Input should be 'uvicorn' or 'granian'"),
        ("JETRACK_PROT", "8000", "JETRACK_PROT: unknown setting"),
        (
            "JETRACK_MEMORY_LIMIT",
            "512X",
            "JETRACK_MEMORY_LIMIT: is not a size; write a number of bytes or e.g. 512M, 1G",
        ),
        ("JETRACK_MEMORY_LIMIT", "-1G", "JETRACK_MEMORY_LIMIT: is not a size"),
        ("JETRACK_MEMORY_LIMIT", "200M", "JETRACK_MEMORY_LIMIT: must be at least 256M"),
        # Several processes: chDB allows one per data dir, visits need Redis.
        ("JETRACK_WORKERS", "2", "JETRACK_WORKERS: several processes need the shared mode"),
        ("JETRACK_WORKERS", "0", "JETRACK_WORKERS: Input should be greater than or equal to 1"),
        ("JETRACK_REDIS_URL", "redis://127.0.0.1:6379/0", "JETRACK_REDIS_URL: the shared mode"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_secret_values_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JETRACK_ENCRYPTION_KEY", "not-a-key-but-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "not-a-key-but-secret" not in str(caught.value)


def test_tls_needs_both_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JETRACK_CERTFILE", "/tmp/cert.pem")
    with pytest.raises(ConfigError, match="set both"):
        load_settings()


def test_unreadable_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    monkeypatch.setenv("JETRACK_CONFIG", str(bad))
    with pytest.raises(ConfigError, match=r"JETRACK_CONFIG: .* is not valid TOML"):
        load_settings()


@pytest.mark.parametrize(
    ("value", "size"),
    [("512M", 512 * 2**20), ("1g", 2**30), ("1.5GiB", 3 * 2**29), ("300000000", 300_000_000)],
)
def test_memory_limit_sizes(monkeypatch: pytest.MonkeyPatch, value: str, size: int) -> None:
    monkeypatch.setenv("JETRACK_MEMORY_LIMIT", value)
    assert load_settings().memory_limit == size


def test_a_memory_limit_bounds_the_visits_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().max_live_visits == 100_000  # no limit: the default bound
    monkeypatch.setenv("JETRACK_MEMORY_LIMIT", "512M")
    assert load_settings().max_live_visits == 20_971  # a 16th of 512 MB at 1.6 KB a visit
    monkeypatch.setenv("JETRACK_MAX_LIVE_VISITS", "50000")
    assert load_settings().max_live_visits == 50_000  # set explicitly: kept
