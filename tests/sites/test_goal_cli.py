"""`jetrack goal add|list|delete` and `jetrack api-key create --scope` as an operator runs
them, on a real data dir; in this process (tests/test_cli.py runs the real processes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_cli import invoke as run


@pytest.fixture(scope="module")
def ann_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with Ann's account and site, made once per module."""
    data = tmp_path_factory.mktemp("ann") / "data"  # the commands migrate the control store
    made = run(data, "user", "create", "ann@example.com", "--password-stdin",
               stdin="correct horse battery\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert run(data, "site", "add", "ann.example", "--owner", "ann@example.com").returncode == 0
    return data


@pytest.fixture
def data(ann_data: Path, tmp_path: Path) -> Path:
    """A fresh copy of Ann's data dir for each test."""
    return Path(shutil.copytree(ann_data, tmp_path / "data"))


def test_goal_add_list_delete(data: Path) -> None:
    page = run(data, "goal", "add", "ann.example", "--page", "/docs/**")
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("added goal ") and "Visit /docs/**" in page.stdout
    event = run(data, "goal", "add", "ann.example", "--event", "Signup", "--name", "Pro",
                "--prop", "plan=pro")  # fmt: skip
    assert event.returncode == 0, event.stderr
    listed = run(data, "goal", "list", "ann.example").stdout.splitlines()
    assert [line.split("\t")[1:] for line in listed] == [
        ["Pro", "event Signup plan=pro"],
        ["Visit /docs/**", "page /docs/**"],
    ]
    goal_id = listed[0].split("\t")[0]
    deleted = run(data, "goal", "delete", "ann.example", goal_id)
    assert (deleted.returncode, deleted.stdout.strip()) == (0, f"deleted goal {goal_id}")
    assert len(run(data, "goal", "list", "ann.example").stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["goal", "add", "ann.example"], "give either --page PATH or --event NAME"),
        (["goal", "add", "ann.example", "--page", "/a", "--event", "E"], "give either"),
        (["goal", "add", "ann.example", "--page", "docs"], "page_path: must start with /"),
        (
            ["goal", "add", "ann.example", "--event", "E", "--prop", "plan"],
            "--prop: write KEY=VALUE",
        ),
        (["goal", "add", "nope.example", "--event", "E"], "no site nope.example"),
        (["goal", "delete", "ann.example", "99"], "has no goal 99"),
        (["goal", "list", "nope.example"], "no site nope.example"),
        (["goal", "add", "ann.example", "--event", "E", "--currency", "EURO"],
         "currency: must be a three-letter ISO 4217 currency code"),
        (["goal", "add", "ann.example", "--page", "/a", "--currency", "EUR"],
         "currency: only custom event goals have a currency"),
    ],
)  # fmt: skip
def test_goal_errors_are_one_line(data: Path, args: list[str], message: str) -> None:
    result = run(data, *args)
    assert result.returncode != 0
    assert result.stderr.startswith("jetrack: error:") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_duplicate_goal_is_refused(data: Path) -> None:
    assert run(data, "goal", "add", "ann.example", "--event", "Signup").returncode == 0
    again = run(data, "goal", "add", "ann.example", "--event", "Signup", "--name", "Other")
    assert again.returncode != 0 and "this goal already exists as 'Signup'" in again.stderr


def test_api_key_scopes(data: Path) -> None:
    sites = run(data, "api-key", "create", "--user", "ann@example.com", "--name", "prov",
                "--scope", "sites:provision:*")  # fmt: skip
    assert sites.returncode == 0 and sites.stdout.startswith("jt_")
    bad = run(data, "api-key", "create", "--user", "ann@example.com", "--name", "x",
              "--scope", "admin:*")  # fmt: skip
    assert bad.returncode != 0


def test_a_revenue_goal_has_a_currency(data: Path) -> None:
    added = run(data, "goal", "add", "ann.example", "--event", "Purchase", "--currency", "eur")
    assert added.returncode == 0, added.stderr
    assert run(data, "goal", "list", "ann.example").stdout.split("\t")[1:] == [
        "Purchase", "event Purchase", "revenue in EUR\n",
    ]  # fmt: skip
