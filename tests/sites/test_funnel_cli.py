"""`jetrack funnel add|list|delete` as an operator runs them: real processes on a real data
dir; steps named by goal id or display name; errors on one line naming the option."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sites.test_goal_cli import ann_data, data  # noqa: F401  (fixtures)
from tests.test_cli import invoke as run


@pytest.fixture
def goals(data: Path) -> dict[str, str]:  # noqa: F811  (the fixture above)
    for args in (["--page", "/pricing"], ["--event", "Signup"], ["--event", "Purchase"]):
        made = run(data, "goal", "add", "ann.example", *args)
        assert made.returncode == 0, made.stderr
    listed = run(data, "goal", "list", "ann.example").stdout.splitlines()
    return {line.split("\t")[1]: line.split("\t")[0] for line in listed}


def test_funnel_add_list_delete(data: Path, goals: dict[str, str]) -> None:  # noqa: F811
    added = run(data, "funnel", "add", "ann.example", "--name", "Checkout",
                "--step", "Visit /pricing", "--step", goals["Signup"], "--step", "Purchase")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Checkout (Visit /pricing -> Signup -> Purchase)" in added.stdout
    listed = run(data, "funnel", "list", "ann.example").stdout.splitlines()
    assert [line.split("\t")[1:] for line in listed] == [
        ["Checkout", "Visit /pricing -> Signup -> Purchase"]
    ]
    funnel_id = listed[0].split("\t")[0]
    deleted = run(data, "funnel", "delete", "ann.example", funnel_id)
    assert (deleted.returncode, deleted.stdout.strip()) == (0, f"deleted funnel {funnel_id}")
    assert run(data, "funnel", "list", "ann.example").stdout == ""


ERRORS = [
    (["--name", "One", "--step", "Signup"], "--step: a funnel has 2 to 8 steps"),
    (["--name", "X", "--step", "Signup", "--step", "Nope"], "--step: site ann.example has no goal 'Nope'"),
    (["--name", "X", "--step", "Signup", "--step", "Signup"], "--step: step 2 repeats"),
    (["--name", " ", "--step", "Signup", "--step", "Purchase"], "--name: must be 1 to 120"),
]  # fmt: skip


def test_funnel_errors_are_one_line(data: Path, goals: dict[str, str]) -> None:  # noqa: F811
    for args, message in ERRORS:
        result = run(data, "funnel", "add", "ann.example", *args)
        assert result.returncode != 0
        assert result.stderr.startswith("jetrack: error:") and message in result.stderr, args
    assert run(data, "funnel", "delete", "ann.example", "99").stderr.startswith(
        "jetrack: error: FUNNEL_ID: site ann.example has no funnel 99"
    )
    assert run(data, "funnel", "list", "ann.example").stdout == ""
