"""The wheel: built from the source tree, installed into a fresh virtualenv, `jetrack serve`
from it answers the tracker, the dashboard bundle and a page, with no Node.js on PATH."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
from pathlib import Path

import httpx
import pytest
import starlette

from tests.conftest import ROOT, TEST_KEY, free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]


def _build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of what the wheel is made of, so the test leaves no build/ or
    egg-info in the working tree (and two runs never share one)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("jetrack-*.whl")
    return wheel


def _venv_with_wheel(tmp_path: Path, wheel: Path) -> Path:
    """A fresh virtualenv with only the wheel installed; the dependencies come from this
    interpreter's site-packages through a plain path line (a .pth line adds a directory, it
    does not run that directory's own .pth files, so the editable install of src/ stays out)."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"),
            *("--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)),
        ],
        check=True,
        capture_output=True,
    )
    purelib = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    deps = Path(starlette.__file__).resolve().parents[1]
    assert deps != purelib and deps == Path(sysconfig.get_paths()["purelib"]).resolve()
    (purelib / "zz_test_dependencies.pth").write_text(f"{deps}\n")
    return env_dir


def test_wheel_serves_bundles_without_node(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    env_dir = _venv_with_wheel(tmp_path, wheel)
    bin_dir = env_dir / "bin"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    port = free_port()
    env = {
        "PATH": str(bin_dir),  # no node, no npm
        "HOME": str(tmp_path),
        "JETRACK_DATA_DIR": str(tmp_path / "data"),
        "JETRACK_ENCRYPTION_KEY": TEST_KEY,
        "JETRACK_PORT": str(port),
        "JETRACK_BASE_URL": f"http://127.0.0.1:{port}",
    }
    assert shutil.which("node", path=env["PATH"]) is None
    where = subprocess.check_output(
        [str(bin_dir / "python"), "-c", "import jetrack; print(jetrack.__file__)"],
        cwd=cwd,
        env=env,
        text=True,
    ).strip()
    installed = Path(where).parent
    assert installed.is_relative_to(env_dir), where
    assert not installed.is_relative_to(ROOT), where

    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(bin_dir / "jetrack"), "serve", "--host", "127.0.0.1"],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while True:
            assert process.poll() is None, log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, log_path.read_text()[-2000:]
            try:
                if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

        tracker = httpx.get(url + "/js/script.js", timeout=5)
        assert tracker.status_code == 200
        assert tracker.text == (installed / "static/build/tracker/script.js").read_text()

        manifest = json.loads(
            (installed / "static/build/dashboard/.vite/manifest.json").read_text()
        )
        bundle = manifest["src/main.tsx"]["file"]
        dashboard = httpx.get(f"{url}/static/build/dashboard/{bundle}", timeout=5)
        assert dashboard.status_code == 200
        assert dashboard.content == (installed / "static/build/dashboard" / bundle).read_bytes()

        page = httpx.get(url + "/login", timeout=5)
        assert page.status_code == 200 and "<form" in page.text
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Traceback" not in log_path.read_text()
    assert os.listdir(cwd) == []  # nothing written to the working directory
