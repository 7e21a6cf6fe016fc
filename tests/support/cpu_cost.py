"""The CPU each test file costs, with the processes it starts (a `jetrack serve`, Chromium,
the ClickHouse endpoint): `pytest -p tests.support.cpu_cost --cpu-log=PATH` appends one JSON
line per file to PATH (each xdist worker to PATH.<worker>). docs/benchmarks.md says how the
suite's figures were measured with it.

A file's cost is the CPU of this test process and of its descendants (live ones read from
/proc, ended ones through the rusage of the parent that waited for them) from the start of
its first test to the start of the next file's first test (or the end of the session): its
module fixtures' teardown is in it, a session fixture's setup is in the first file to use
it. The process's own start and collection are a line of their own ("<start>").

With `--cpu-log-tests`, each test gets a line too (its "test" id; setup, call and teardown):
its CPU with the descendants, the test process's own ("self", what coverage slows down), wall
time and when it started ("at", seconds since the epoch: the workers' timeline)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest


def tree_cpu() -> float:
    """Seconds of CPU (user and system) of this process and all its descendants so far."""
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            times = child.cpu_times()
        except psutil.Error:  # ended meanwhile: its parent's rusage has it once reaped
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


class CpuLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.current = "<start>"
        self.tests = 0
        self.cpu = 0.0  # the "<start>" line: from the process's start
        self.wall = time.monotonic()

    def switch(self, name: str) -> None:
        """Write the line of the file that ran so far; `name` runs next."""
        cpu, wall = tree_cpu(), time.monotonic()
        line = {
            "file": self.current,
            "cpu": round(cpu - self.cpu, 3),
            "wall": round(wall - self.wall, 3),
            "tests": self.tests,
            "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
        }
        with open(self.path, "a") as handle:
            handle.write(json.dumps(line) + "\n")
        self.current, self.tests, self.cpu, self.wall = name, 0, cpu, wall


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cpu-log", default=None, help="append each test file's CPU here")
    parser.addoption(
        "--cpu-log-tests", action="store_true", help="and a line for each test (--cpu-log)"
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--cpu-log")
    if not path or config.pluginmanager.hasplugin("dsession"):  # xdist's controller
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    target = Path(f"{path}.{worker}" if worker else path).resolve()
    config.stash[_KEY] = CpuLog(target)


_KEY = pytest.StashKey[CpuLog]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> None:
    log = item.config.stash.get(_KEY, None)
    if log is None:
        return
    name = item.nodeid.split("::", 1)[0]
    if name != log.current:
        log.switch(name)
    log.tests += 1


@pytest.hookimpl(hookwrapper=True, specname="pytest_runtest_protocol")
def pytest_runtest_protocol_per_test(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    log = item.config.stash.get(_KEY, None)
    if log is None or not item.config.getoption("--cpu-log-tests"):
        yield
        return
    own, cpu, wall, started = os.times(), tree_cpu(), time.monotonic(), time.time()
    yield
    after = os.times()
    line = {
        "test": item.nodeid,
        "cpu": round(tree_cpu() - cpu, 3),
        "self": round(after.user + after.system - own.user - own.system, 3),
        "wall": round(time.monotonic() - wall, 3),
        "at": round(started, 3),
    }
    with open(log.path, "a") as handle:
        handle.write(json.dumps(line) + "\n")


def pytest_sessionfinish(session: pytest.Session) -> None:
    log = session.config.stash.get(_KEY, None)
    if log is not None:
        log.switch("<end>")
