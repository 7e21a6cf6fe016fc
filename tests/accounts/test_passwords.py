"""The throwaway hash that answers for unknown accounts costs what a real one costs."""

from __future__ import annotations

import subprocess
import sys

from argon2 import PasswordHasher

from jetrack.accounts import users
from tests.conftest import PRODUCT_HASHER


def test_dummy_hash_has_the_parameters_of_new_hashes() -> None:
    # Written out instead of hashed at import: it must stay a hash of the hasher's current
    # parameters (Argon2id, memory, time, parallelism), or the time spent on an unknown
    # account would differ from a known one's. Read in a process of its own: the tests'
    # process swaps both for cheap ones (tests/conftest.py).
    code = "from jetrack.accounts.users import DUMMY_HASH; print(DUMMY_HASH)"
    dummy = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert dummy.startswith("$argon2id$")
    assert not PRODUCT_HASHER.check_needs_rehash(dummy)
    assert not PasswordHasher().check_needs_rehash(dummy)
    assert PRODUCT_HASHER.verify(dummy, "not a password anyone uses")


def test_spend_hash_time_accepts_any_password() -> None:
    users.spend_hash_time("a wrong password")
    users.spend_hash_time("")
