"""Reading import files line by line, plain or gzip, with a position to resume from."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import IO, Any

from jetrack.imports import messages
from jetrack.imports.context import ImportContext, ImportRefused
from jetrack.imports.replay import forget_salts

GZIP_MAGIC = b"\x1f\x8b"


def import_files(context: ImportContext) -> list[Path]:
    """The files of a file import (params `paths`, or the uploaded file), all present."""
    paths = [Path(p) for p in context.params.get("paths") or [context.source_path] if p]
    missing = [str(path) for path in paths if not path.is_file()]
    if not paths or missing:
        forget_salts(context)  # an interrupted import whose file is gone never resumes
        raise ImportRefused(messages.NO_SUCH_FILE, files=", ".join(missing) or "none given")
    return paths


class LineFiles:
    """The lines of several files in order, streamed (one line in memory at a time).
    `position()` is the file and the byte offset (of the uncompressed text) after the
    last line given; `done()` how many bytes of the files as stored were read."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self.sizes = [path.stat().st_size for path in self.paths]
        self.total = sum(self.sizes)
        self._file = 0
        self._offset = 0
        self._raw: IO[bytes] | None = None
        self.skips: Counter[str] = Counter()

    def lines(self, start: dict[str, Any] | None) -> Generator[bytes]:
        first = int(start["file"]) if start else 0
        for index in range(first, len(self.paths)):
            self._file = index
            self._offset = int(start["offset"]) if start and index == first else 0
            with self.paths[index].open("rb") as raw:
                self._raw = raw
                zipped = raw.read(2) == GZIP_MAGIC
                raw.seek(0)
                stream: gzip.GzipFile | IO[bytes] = gzip.GzipFile(fileobj=raw) if zipped else raw
                stream.seek(self._offset)
                try:
                    for line in stream:
                        self._offset += len(line)
                        yield line
                finally:
                    self._raw = None
        self._file, self._offset = len(self.paths), 0

    def position(self) -> dict[str, Any]:
        return {"file": self._file, "offset": self._offset}

    def done(self) -> int:
        finished = sum(self.sizes[: self._file])
        raw = self._raw
        return finished + (raw.tell() if raw is not None and not raw.closed else 0)

    def skipped(self) -> Counter[str]:
        return self.skips
