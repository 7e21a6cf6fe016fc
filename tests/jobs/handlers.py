"""Job handlers for the tests, registered in jobs.runner.HANDLERS by kind. Each writes what
it did to the file named in its payload, so a test can count how often a step ran."""

from __future__ import annotations

from pathlib import Path

from jetrack.store.job_queue import JobContext


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so the runner does not catch it and
    the job stays running with its lease, as after a SIGKILL."""


def _log(context: JobContext, line: str) -> None:
    with Path(context.payload["log"]).open("a") as handle:
        handle.write(line + "\n")


def _first_time(context: JobContext) -> bool:
    """True the first time it is asked for this job's log (a marker file next to it)."""
    marker = Path(context.payload["log"] + ".marker")
    if marker.exists():
        return False
    marker.touch()
    return True


def flaky(context: JobContext) -> None:
    """Two steps; the second fails the first time it runs."""

    def two() -> None:
        if _first_time(context):
            raise RuntimeError("first try fails")
        _log(context, "two")

    context.run_steps([("one", lambda: _log(context, "one")), ("two", two)])


def dies(context: JobContext) -> None:
    """Two steps; the process "dies" in the second the first time it runs."""

    def two() -> None:
        if _first_time(context):
            raise Killed
        _log(context, "two")

    context.run_steps([("one", lambda: _log(context, "one")), ("two", two)])


def stops_the_process(context: JobContext) -> None:
    """Two steps; the process starts stopping during the first (a server shut down)."""

    def one() -> None:
        _log(context, "one")
        if _first_time(context):
            context.stopping.set()

    context.run_steps([("one", one), ("two", lambda: _log(context, "two"))])


def broken(context: JobContext) -> None:
    raise RuntimeError("broken for good")
