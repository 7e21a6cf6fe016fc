"""The import-linter contracts in pyproject.toml hold today and catch a new wrong import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the tree at `root` (its pyproject.toml and src/jetrack)."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_contracts() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The Python modules of src/jetrack and the contracts, in a scratch directory."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "src" / "jetrack",
        tmp_path / "src" / "jetrack",
        ignore=shutil.ignore_patterns("static", "templates", "__pycache__", "*.json", "data"),
    )
    return tmp_path


@pytest.mark.parametrize(
    ("module", "wrong_import", "complaint"),
    [
        # upwards: the bottom layer asks a domain package
        ("store/keys.py", "jetrack.stats.engine", "jetrack.store is not allowed to import"),
        # upwards past several layers, into the command line
        ("enrich/ua.py", "jetrack.cli", "jetrack.enrich is not allowed to import jetrack.cli"),
        # sideways between two independent domain packages
        ("billing/plans.py", "jetrack.support.tickets", "not allowed to import"),
        # the settings are the floor: they import nothing of jetrack
        ("config.py", "jetrack.store.keys", "jetrack.config is not allowed to import"),
    ],
)
def test_a_new_wrong_import_breaks_a_contract(
    tree_copy: Path, module: str, wrong_import: str, complaint: str
) -> None:
    assert lint_imports(tree_copy).returncode == 0  # the copy passes before the change
    path = tree_copy / "src" / "jetrack" / module
    path.write_text(path.read_text() + f"\nimport {wrong_import}  # deliberately wrong\n")
    result = lint_imports(tree_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    assert complaint in result.stdout
    assert wrong_import in result.stdout


def test_a_fixed_exception_must_leave_the_list(tree_copy: Path) -> None:
    """An ignored import that no longer exists fails, so a list of exceptions only shrinks:
    here an exception for an import the code does not have (as after a fix)."""
    pyproject = tree_copy / "pyproject.toml"
    text = pyproject.read_text()
    stale = '"jetrack.stats.sql -> jetrack.jobs.runner"'
    assert "ignore_imports = " not in text  # no exceptions today
    layers_end = text.index("]\n", text.index("layers = ["))
    pyproject.write_text(
        text[: layers_end + 2] + f"ignore_imports = [{stale}]\n" + text[layers_end + 2 :]
    )
    result = lint_imports(tree_copy)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "jetrack.stats.sql -> jetrack.jobs.runner" in result.stdout + result.stderr
