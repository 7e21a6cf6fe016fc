"""The Dockerfile and compose.yaml (Docker cannot run here): they parse, every JETRACK_*
setting they set exists, every service has a health check, and Jetrack waits for healthy
backends and is checked through /api/health."""

from __future__ import annotations

import re

import yaml

from jetrack.config import Settings
from tests.conftest import ROOT

SETTINGS = {f"JETRACK_{name.upper()}" for name in Settings.model_fields}


def test_compose_file_parses_and_sets_only_real_settings() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"jetrack", "clickhouse", "postgres", "redis"}
    for name, service in services.items():
        assert service["healthcheck"]["test"], name
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in compose["volumes"], (name, volume)
    jetrack = services["jetrack"]
    assert {k: v["condition"] for k, v in jetrack["depends_on"].items()} == {
        "postgres": "service_healthy",
        "clickhouse": "service_healthy",
        "redis": "service_healthy",
    }
    assert "/api/health" in " ".join(jetrack["healthcheck"]["test"])
    env = jetrack["environment"]
    assert set(env) <= SETTINGS, set(env) - SETTINGS
    assert env["JETRACK_DATABASE_URL"].startswith("postgresql+psycopg://jetrack:")
    assert "@postgres:5432/jetrack" in env["JETRACK_DATABASE_URL"]
    assert "@clickhouse:8123/jetrack" in env["JETRACK_CLICKHOUSE_URL"]
    # No secret is written into the file: each comes from the environment.
    for value in (*env.values(), *services["postgres"]["environment"].values()):
        if re.search(r"password|key", str(value), re.I):
            assert "${" in str(value), value


def test_dockerfile_builds_bundles_then_the_wheel_then_a_slim_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert [s.split(":")[0] for s in stages] == ["node", "python", "python"]
    assert "npm run --silent build" in text and "npm --prefix frontend run --silent build" in text
    assert "COPY --from=bundles /src/src/jetrack/static/build src/jetrack/static/build" in text
    runtime = text.split("\nFROM ")[-1]
    assert "node" not in runtime and "npm" not in runtime
    assert "/api/health" in runtime and 'CMD ["jetrack", "serve"]' in runtime
    assert set(re.findall(r"\b(JETRACK_[A-Z_]+)=", runtime)) <= SETTINGS
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "src/jetrack/static/build" in ignored and ".venv" in ignored
