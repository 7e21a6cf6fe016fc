"""The one typed settings object: read once at start from JETRACK_* variables and TOML."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

# Below this a memory limit cannot hold the interpreter, the engine and one dashboard query.
MIN_MEMORY_LIMIT = 256 * 2**20


class ConfigError(Exception):
    """A bad or missing setting; the message is one line naming it and what is valid."""


class Settings(BaseSettings):
    """Every setting Jetrack reads. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="JETRACK_", extra="forbid", frozen=True)

    data_dir: Path = Field(Path("data"), description="Directory for embedded storage.")
    host: str = Field("127.0.0.1", description="Address `jetrack serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `jetrack serve` listens on.")
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public URL, used in mails and snippets."
    )
    server: Literal["uvicorn", "granian"] = Field(
        "uvicorn",
        description="HTTP server: uvicorn (event requests answered from its parser) or granian.",
    )
    certfile: Path | None = Field(
        None, description="TLS certificate (PEM); enables HTTPS and HSTS."
    )
    keyfile: Path | None = Field(None, description="TLS private key (PEM).")
    geo_dir: Path = Field(
        Path("geo"),
        description="Directory with the DB-IP city databases (region and city); `make geo` fills it.",
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the control store; default SQLite in the data dir."
    )
    clickhouse_url: str | None = Field(
        None, description="ClickHouse server URL; default embedded chDB in the data dir."
    )
    clickhouse_cluster: str | None = Field(
        None,
        description="ClickHouse cluster name: event tables replicated and sharded ON CLUSTER.",
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL (redis://host:port/db): turns on the shared mode of several "
        "Jetrack processes (visits, API rate limits); needs JETRACK_CLICKHOUSE_URL and "
        "JETRACK_DATABASE_URL.",
    )
    redis_prefix: str = Field(
        "jetrack:",
        min_length=1,
        description="Prefix of Jetrack's Redis keys (several deployments may share a Redis).",
    )
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="Processes `jetrack serve` starts on one machine; above 1 needs the "
        "shared mode (JETRACK_REDIS_URL with a ClickHouse server and PostgreSQL).",
    )
    reuse_port: bool = Field(
        False,
        description="Listen with SO_REUSEPORT, so several processes share the port "
        "(`jetrack serve --workers` sets it for its processes).",
    )
    encryption: bool = Field(True, description="Encrypt embedded stores at rest (AES-256).")
    encryption_key: SecretStr | None = Field(
        None, description="64 hex characters (32 bytes): the at-rest key."
    )
    encryption_key_file: Path | None = Field(None, description="File holding the at-rest key.")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="CIDRs whose X-Forwarded-For is believed."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log verbosity."
    )
    query_timeout_seconds: float = Field(
        30.0, gt=0, description="Time limit of one analytics query."
    )
    query_max_rows: int = Field(100_000, gt=0, description="Row cap of one analytics query.")
    shared_query_timeout_seconds: float = Field(
        10.0, gt=0, description="Time limit of one query from a public shared link (no login)."
    )
    flush_interval_seconds: float = Field(
        1.0, gt=0, description="Write buffer: longest wait before a batch is stored."
    )
    flush_max_events: int = Field(
        5000, gt=0, description="Write buffer: batch size that triggers a flush."
    )
    session_timeout_minutes: int = Field(30, gt=0, description="Idle time that ends a visit.")
    max_live_visits: int = Field(
        100_000,
        ge=10,
        description="Visits kept whole in memory; beyond it the least recently active are packed.",
    )
    new_visitors_per_minute: int = Field(
        3000, gt=0, description="Visits one client address may start per minute."
    )
    batch_events_per_minute: int = Field(
        60_000, gt=0, description="Events POST /api/events takes per client address per minute."
    )
    api_rate_limit_per_hour: int = Field(
        600, gt=0, description="Stats API requests per key per hour."
    )
    retention_days: int = Field(
        0, ge=0, description="Default analytics retention in days; 0 keeps data forever."
    )
    erasure_grace_days: int = Field(
        7, ge=0, description="Undo window before an erasure becomes a hard purge."
    )
    signup_mode: Literal["open", "invite_only"] = Field(
        "open", description="Who may create an account."
    )
    smtp_host: str | None = Field(
        None,
        description=(
            "SMTP server for mail. Unset: no mail is sent, sign-ups are ready without"
            " confirmation and each mail's text is printed to the log instead."
        ),
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(None, description="SMTP user name.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Use STARTTLS with the SMTP server.")
    mail_from: str = Field("Jetrack <jetrack@localhost>", description="Sender address of mails.")
    webhook_allow_private: bool = Field(
        False,
        description=(
            "Let webhooks reach private, loopback and link-local addresses (an intranet"
            " receiver, tests). Off: such targets are refused, so a webhook cannot probe"
            " the server's own network."
        ),
    )
    contact_email: str = Field(
        "privacy@localhost", description="Contact address shown on the privacy pages."
    )
    extra_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins besides JETRACK_BASE_URL's that may post forms (CSRF check).",
    )
    memory_limit: int | None = Field(
        None,
        description=(
            "Memory the whole process may use, e.g. 512M or 1G (a container's limit): the"
            " embedded engine's caches, merges and queries are sized to fit and large"
            " queries spill to disk. Unset: no limit."
        ),
    )
    metrics_token: SecretStr | None = Field(
        None,
        description=(
            "Turns on GET /metrics for bearers of this token; unset (or empty): /metrics"
            " answers 404."
        ),
    )

    billing: bool = Field(
        False,
        description=(
            "Bill teams through Stripe (a hosted Jetrack): plans, quotas, checkout. Off (the"
            " default): nothing of billing appears and every team has the unlimited plan."
        ),
    )
    stripe_secret_key: SecretStr | None = Field(
        None, description="Stripe secret API key (sk_...); needed with JETRACK_BILLING."
    )
    stripe_webhook_secret: SecretStr | None = Field(
        None,
        description="Signing secret of the Stripe webhook endpoint (whsec_...); needed with "
        "JETRACK_BILLING.",
    )
    stripe_api_base: str | None = Field(
        None,
        description="Base URL of the Stripe API; unset: Stripe's own. Tests point it at a "
        "loopback server.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_cidrs(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @field_validator("extra_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for origin in value:
            if not re.fullmatch(r"https?://[^/?#\s]+", origin):
                raise ValueError(f"{origin!r} is not an origin; write scheme://host[:port]")
        return [origin.lower() for origin in value]

    @field_validator("memory_limit", mode="before")
    @classmethod
    def _parse_size(cls, value: Any) -> Any:
        if value is None or isinstance(value, int):
            size = value
        else:
            found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*", str(value), re.I)
            if found is None:
                raise ValueError("is not a size; write a number of bytes or e.g. 512M, 1G")
            unit = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[found.group(2).lower()]
            size = int(float(found.group(1)) * unit)
        if size is not None and size < MIN_MEMORY_LIMIT:
            raise ValueError(
                f"must be at least {MIN_MEMORY_LIMIT // 2**20}M: Jetrack needs that much"
                " for the interpreter, the engine and one dashboard query"
            )
        return size

    @field_validator("clickhouse_url")
    @classmethod
    def _check_clickhouse_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(
            r"(https?|clickhouses?)://([^@/\s]+@)?[^@/:\s]+(:\d{1,5})?(/\w*)?", value
        ):
            raise ValueError(
                "is not a ClickHouse HTTP URL; write http(s)://[user:password@]host[:port][/database]"
            )
        return value

    @field_validator("clickhouse_cluster")
    @classmethod
    def _check_cluster(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(
                "must be a cluster name from the servers' remote_servers (letters, digits, _)"
            )
        return value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_token_is_unset(cls, value: Any) -> Any:
        # An empty variable (`JETRACK_METRICS_TOKEN=` in a compose file) must not turn the
        # endpoint on for requests without a token.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("encryption_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value().strip()
            try:
                ok = len(bytes.fromhex(raw)) == 32
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(
                    "must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`"
                )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def events_dir(self) -> Path:
        return self.data_dir / "events"

    @property
    def shared(self) -> bool:
        """Several processes share visits, salts, limits and jobs (Redis, PostgreSQL)."""
        return self.redis_url is not None

    @property
    def tls(self) -> bool:
        return self.certfile is not None


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the optional TOML file named by JETRACK_CONFIG (keys without the prefix)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("JETRACK_CONFIG")
        if not path:
            return {}
        try:
            with open(path, "rb") as handle:
                return tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"JETRACK_CONFIG: cannot read {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"JETRACK_CONFIG: {path} is not valid TOML: {exc}") from exc


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; any problem becomes a one-line ConfigError."""
    known = {f"JETRACK_{name.upper()}" for name in Settings.model_fields} | {"JETRACK_CONFIG"}
    for name in sorted(os.environ):
        if name.startswith("JETRACK_") and name not in known:
            raise ConfigError(f"{name}: unknown setting (a typo?); see docs/configuration.md")
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "JETRACK_" + "_".join(str(part) for part in error["loc"][:1]).upper()
        if error["type"] == "extra_forbidden":
            raise ConfigError(f"{name}: unknown setting; see docs/configuration.md") from exc
        given = error.get("input")
        shown = "" if "key" in name.lower() or "password" in name.lower() else f" (got {given!r})"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}{shown}") from exc
    if settings.memory_limit and "max_live_visits" not in settings.model_fields_set:
        # Whole and packed visits take ~1.6 KB per whole visit at most: a 16th of the limit.
        visits = max(settings.memory_limit // (16 * 1600), 1000)
        settings = settings.model_copy(update={"max_live_visits": visits})
    if settings.clickhouse_cluster and not settings.clickhouse_url:
        raise ConfigError(
            "JETRACK_CLICKHOUSE_CLUSTER: a cluster needs JETRACK_CLICKHOUSE_URL (a server of it)"
        )
    if settings.redis_url is not None and (
        settings.clickhouse_url is None or settings.database_url is None
    ):
        raise ConfigError(
            "JETRACK_REDIS_URL: the shared mode of several processes needs a ClickHouse "
            "server (JETRACK_CLICKHOUSE_URL) and PostgreSQL (JETRACK_DATABASE_URL)"
        )
    if settings.workers > 1 and settings.redis_url is None:
        raise ConfigError(
            "JETRACK_WORKERS: several processes need the shared mode: embedded chDB allows "
            "one process per data dir, so set JETRACK_CLICKHOUSE_URL (a ClickHouse server), "
            "JETRACK_DATABASE_URL (PostgreSQL) and JETRACK_REDIS_URL, or serve one process"
        )
    if settings.billing and (
        settings.stripe_secret_key is None or settings.stripe_webhook_secret is None
    ):
        raise ConfigError(
            "JETRACK_BILLING: billing needs JETRACK_STRIPE_SECRET_KEY and "
            "JETRACK_STRIPE_WEBHOOK_SECRET (from the Stripe dashboard)"
        )
    if (settings.certfile is None) != (settings.keyfile is None):
        raise ConfigError("JETRACK_CERTFILE/JETRACK_KEYFILE: set both to serve TLS, or neither")
    return settings
