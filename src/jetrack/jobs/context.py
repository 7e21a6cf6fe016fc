"""What a job handler gets: the stores, its checkpoint, and named steps that run once."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jetrack.jobs import queue
from jetrack.notify.mail import send_mail
from jetrack.store.stores import Stores

# Tests only: the name of a step after which the process stops for a long time, so a test
# can kill it there with SIGKILL. Not a JETRACK_ setting on purpose: it is no feature.
PAUSE_AFTER_STEP_ENV = "JT_TEST_PAUSE_AFTER_STEP"


@dataclass
class JobContext:
    stores: Stores
    job_id: int
    payload: dict[str, Any]
    # In the server the write buffer owns the journal; from the CLI nobody does.
    in_server: bool = False
    sent: list[str] = field(default_factory=list)

    def save(self, progress: int | None = None) -> None:
        queue.checkpoint(self.stores.control, self.job_id, self.payload, progress)

    def run_steps(self, steps: Sequence[tuple[str, Callable[[], None]]]) -> None:
        """Run each step not yet recorded as done, recording it right after it finished.
        Every step must be idempotent: a kill between its work and its record repeats it."""
        done: list[str] = self.payload.setdefault("done", [])
        for index, (name, work) in enumerate(steps, start=1):
            if name in done:
                continue
            work()
            done.append(name)
            self.save(progress=int(index * 100 / len(steps)))
            _maybe_pause(name)

    def mail(self, to: str, subject: str, text: str, html: str) -> bool:
        """Send a mail from the job's worker thread (which has no event loop of its own)."""
        self.sent.append(subject)
        return asyncio.run(send_mail(self.stores.settings, to, subject, text, html))


def _maybe_pause(step: str) -> None:
    if os.environ.get(PAUSE_AFTER_STEP_ENV) == step:
        print(f"job paused after step {step}", file=sys.stderr, flush=True)
        time.sleep(3600)
