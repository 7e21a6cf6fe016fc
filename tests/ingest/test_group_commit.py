"""The group commit: every request of one event-loop turn is told once its rows are
journaled, or why they were not."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import cast

import pytest

from jetrack.ingest.buffer import WriteBuffer
from jetrack.ingest.journal import Journal
from jetrack.store.schema import EventRow
from jetrack.store.stores import Stores


def _row(page: str) -> EventRow:
    # The journal writes any tuple: only how many writes a turn makes matters here.
    return cast(EventRow, (1, 1_700_000_000, "pageview", 7, 9, "example.com", page))


def test_one_write_for_a_turn_and_every_request_told(stores: Stores, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal", None)
    told: list[tuple[str, BaseException | None]] = []

    async def turn() -> None:
        buffer = WriteBuffer(journal, stores.events, interval=60, max_events=1000)
        writes = 0
        append = buffer._segment.append

        def counted_append(rows: object) -> None:
            nonlocal writes
            writes += 1
            append(rows)  # type: ignore[arg-type]

        buffer._segment.append = counted_append  # type: ignore[method-assign]

        def failing(error: BaseException | None) -> None:
            told.append(("failing", error))
            raise RuntimeError("an answer that cannot be written")

        buffer.commit_then([_row("/a")], [], lambda error: told.append(("a", error)))
        buffer.commit_then([_row("/b")], [], failing)
        buffer.commit_then([_row("/c")], [], lambda error: told.append(("c", error)))
        await asyncio.sleep(0)  # the end of this turn: the group is written
        assert writes == 1
        assert [row[6] for row in buffer._batch.rows] == ["/a", "/b", "/c"]

    asyncio.run(turn())
    assert told == [("a", None), ("failing", None), ("c", None)]


def test_a_journal_that_cannot_be_written_tells_every_request(
    stores: Stores, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    told: list[BaseException | None] = []

    async def turn() -> None:
        buffer = WriteBuffer(
            Journal(tmp_path / "journal", None), stores.events, interval=60, max_events=1000
        )
        segment = buffer._segment
        real_fd, segment._fd = segment._fd, os.open(os.devnull, os.O_RDONLY)
        try:
            buffer.commit_then([_row("/a")], [], told.append)
            buffer.commit_then([_row("/b")], [], told.append)
            await asyncio.sleep(0)  # the end of this turn: the write fails
        finally:
            os.close(segment._fd)
            segment._fd = real_fd
        assert buffer._batch.rows == []  # nothing was accepted

    with caplog.at_level(logging.ERROR):
        asyncio.run(turn())
    assert len(told) == 2 and all(isinstance(error, OSError) for error in told)
