"""The tracker build: every variant exists, stays within its gzip budget, and stays clean."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import subprocess
from pathlib import Path

import pytest

from jetrack.web.tracker_script import BUILD_DIR, EXTENSIONS, canonical_name

from .conftest import ROOT

# The promise: the script most sites load is at most 1,000 bytes gzipped.
BASE_BUDGET = 1000
# Browser APIs a privacy-first tracker has no business touching.
FINGERPRINTING = ["canvas", "getContext", "WebGL", "AudioContext", "plugins", "fonts", "mimeTypes"]


def gzip_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def manifest(build_dir: Path) -> dict[str, dict[str, int]]:
    data: dict[str, dict[str, int]] = json.loads((build_dir / "manifest.json").read_text())
    return data


def test_every_combination_of_extensions_is_built(tracker_build: tuple[Path, str]) -> None:
    expected = {
        canonical_name(".".join(["script", *combo, "js"]))
        for size in range(len(EXTENSIONS) + 1)
        for combo in itertools.combinations(EXTENSIONS, size)
    }
    built = {path.name for path in tracker_build[0].glob("*.js")}
    assert built == expected == set(manifest(tracker_build[0]))


def test_base_script_is_within_1000_bytes_gzipped(tracker_build: tuple[Path, str]) -> None:
    assert gzip_size(tracker_build[0] / "script.js") <= BASE_BUDGET


def test_every_variant_is_within_its_budget(tracker_build: tuple[Path, str]) -> None:
    build_dir = tracker_build[0]
    over = {
        name: (gzip_size(build_dir / name), entry["budget"])
        for name, entry in manifest(build_dir).items()
        if gzip_size(build_dir / name) > entry["budget"]
    }
    assert over == {}
    assert manifest(build_dir)["script.js"]["budget"] == BASE_BUDGET


def test_build_prints_raw_and_gzip_size_of_each_variant(tracker_build: tuple[Path, str]) -> None:
    build_dir, output = tracker_build
    for name, entry in manifest(build_dir).items():
        row = re.search(rf"^{re.escape(name)}\s+(\d+)\s+(\d+)\s+(\d+)$", output, re.MULTILINE)
        assert row, f"{name} missing from the build output"
        raw, gzipped, _ = map(int, row.groups())
        assert raw == len((build_dir / name).read_bytes()) == entry["raw"]
        assert gzipped == entry["gzip"]
        # Node's zlib and Python's may differ by a few bytes at the same level.
        assert abs(gzipped - gzip_size(build_dir / name)) <= gzipped * 0.03


def test_scripts_touch_no_fingerprinting_api_and_no_form_value(
    tracker_build: tuple[Path, str],
) -> None:
    for path in tracker_build[0].glob("*.js"):
        code = path.read_text()
        assert [api for api in FINGERPRINTING if api in code] == [], path.name
        assert not re.search(r"\.value\b", code), path.name
        assert "setItem" not in code and "sessionStorage" not in code, path.name


def test_only_cookie_variants_contain_cookie_code(tracker_build: tuple[Path, str]) -> None:
    for path in tracker_build[0].glob("*.js"):
        assert ("cookie" in path.read_text()) == (".cookie." in path.name), path.name


@pytest.mark.slow
def test_build_fails_over_budget(tmp_path: Path) -> None:
    """The budget check bites: a source padded with live code fails the build."""
    source = (ROOT / "tracker/src/tracker.ts").read_text()
    padded = tmp_path / "tracker"
    (padded / "src").mkdir(parents=True)
    (padded / "src/tracker.ts").write_text(
        source + "\n;(window as any).jt_pad = " + json.dumps(list(range(600))) + "\n"
    )
    (padded / "src/flags.d.ts").write_text((ROOT / "tracker/src/flags.d.ts").read_text())
    (padded / "build.mjs").write_text((ROOT / "tracker/build.mjs").read_text())
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    done = subprocess.run(
        ["node", str(padded / "build.mjs"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "OVER BUDGET" in done.stdout


@pytest.mark.slow
def test_typescript_source_type_checks() -> None:
    done = subprocess.run(
        [str(ROOT / "node_modules/.bin/tsc"), "-p", "tracker"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_npm_build_writes_the_served_directory() -> None:
    done = subprocess.run(
        ["npm", "run", "--silent", "build"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (BUILD_DIR / "script.js").is_file()
    assert gzip_size(BUILD_DIR / "script.js") <= BASE_BUDGET


@pytest.mark.slow
def test_a_rebuild_never_leaves_a_served_script_missing_or_partial(tmp_path: Path) -> None:
    """`npm run build` writes the directory a running server serves (and that tests on the
    other pytest worker read): during a rebuild every script stays whole."""
    out = tmp_path / "out"
    build = ["node", str(ROOT / "tracker/build.mjs"), "--out", str(out)]
    first = subprocess.run(build, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    scripts = {path: path.read_bytes() for path in out.glob("script*.js")}
    seen_wrong: list[str] = []
    rebuild = subprocess.Popen(build, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reads = 0
    while rebuild.poll() is None or reads == 0:
        for path, whole in scripts.items():
            try:
                if path.read_bytes() != whole:
                    seen_wrong.append(f"{path.name} partial")
            except FileNotFoundError:
                seen_wrong.append(f"{path.name} missing")
        reads += 1
    assert rebuild.returncode == 0
    assert seen_wrong == []
    assert not list(out.glob(".*partial"))  # no leftovers next to the scripts
