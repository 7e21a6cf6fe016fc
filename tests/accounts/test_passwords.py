"""The throwaway hash that answers for unknown accounts costs what a real one costs."""

from __future__ import annotations

from argon2 import PasswordHasher

from jetrack.accounts import users


def test_dummy_hash_has_the_parameters_of_new_hashes() -> None:
    # Written out instead of hashed at import: it must stay a hash of the hasher's current
    # parameters (Argon2id, memory, time, parallelism), or the time spent on an unknown
    # account would differ from a known one's.
    assert not users._hasher.check_needs_rehash(users.DUMMY_HASH)
    assert not PasswordHasher().check_needs_rehash(users.DUMMY_HASH)
    assert users.DUMMY_HASH.startswith("$argon2id$")
    assert users._hasher.verify(users.DUMMY_HASH, "not a password anyone uses")


def test_spend_hash_time_accepts_any_password() -> None:
    users.spend_hash_time("a wrong password")
    users.spend_hash_time("")
