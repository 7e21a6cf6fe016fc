"""The product hashes passwords with Argon2id at argon2-cffi's default cost; the tests'
process swaps in the lowest cost (tests/conftest.py), so this checks the product's own."""

from __future__ import annotations

import subprocess
import sys

from argon2 import PasswordHasher, extract_parameters

from tests.conftest import PRODUCT_HASHER


def test_the_product_hashes_at_argon2s_default_cost() -> None:
    default = PasswordHasher()
    assert PRODUCT_HASHER.type == default.type and PRODUCT_HASHER.type.name == "ID"
    for name in ("time_cost", "memory_cost", "parallelism", "hash_len", "salt_len"):
        assert getattr(PRODUCT_HASHER, name) == getattr(default, name), name
    assert (PRODUCT_HASHER.time_cost, PRODUCT_HASHER.memory_cost) == (3, 65536)


def test_a_process_without_the_tests_swap_hashes_at_that_cost() -> None:
    code = (
        "from jetrack.accounts.users import hash_password; print(hash_password('a long password'))"
    )
    made = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert made.startswith("$argon2id$")
    assert extract_parameters(made) == extract_parameters(PRODUCT_HASHER.hash("x"))
