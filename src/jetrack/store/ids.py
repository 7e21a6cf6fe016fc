"""Bit layouts of the stored ids: visit ids (start second above a sequence), visitor ids."""

from __future__ import annotations

# A visit's id: its start second above this many bits of a sequence (per process, or one
# shared by every process in the shared mode).
SEQUENCE_BITS = 31
_SEQUENCE_MASK = (1 << SEQUENCE_BITS) - 1

# A visitor id is a hash of this many bytes (jetrack.store.identity); cookie-mode ids,
# which stay the same across days, carry COOKIE_ID_FLAG above them, so a daily id is
# below it (jetrack.store.rollups adds up daily visitors only where every id is daily).
ID_BYTES = 4
COOKIE_ID_FLAG = 1 << (8 * ID_BYTES)


def session_id_at(start: int, sequence: int) -> int:
    """A visit's id: its start second above a sequence number.

    Ids of visits that start close together are close together, so the sessions table
    (sorted by start) stores them as small deltas: ~0.8 instead of ~2.3 bytes per event
    for random ids (docs/benchmarks.md). In the shared mode of several processes the
    sequence is one counter in Redis (`jetrack.ingest.shared_visits`): ids are unique
    across processes, as two visits of one second would need 2^31 visits between them to
    share a number. One process alone counts from a random point, so a restart gives one
    id to two visits of the same second with odds of 2^-31 per pair.
    Below 2^63 until the year 2106."""
    return (start << SEQUENCE_BITS) | (sequence & _SEQUENCE_MASK)


def visit_start_sql(session_id: str) -> str:
    """SQL of the start second (a Unix time) held in the visit id `session_id`."""
    return f"intDiv({session_id}, {1 << SEQUENCE_BITS})"
