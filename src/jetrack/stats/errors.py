"""The one error a stats query raises: a message naming the bad field and what is valid."""

from __future__ import annotations


class QueryError(Exception):
    """A query that cannot be answered; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
