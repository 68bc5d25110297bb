"""The layer rule holds on the tree, and the contract that checks it in CI catches a breach.

The contract is pyproject.toml's ``[tool.importlinter]``: each layer imports only from the
layers below it. A contract that passes whatever the code does would keep no map true, so the
breach is planted in a copy of the package and the same command must fail on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` as .ci/run runs it, on the package under ``root/src``."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
         "sys.exit(lint_imports_command())", "--no-cache"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture
def copy_of_the_package(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO / "src" / "deckgen",
        tmp_path / "src" / "deckgen",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_the_layer_contract() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "planted",
    [
        "from deckgen.workflow.lint import RULES\n",
        # A lazy import inside a function climbs as surely as one at the top.
        "def _rules() -> object:\n"
        "    from deckgen.workflow.lint import RULES\n\n"
        "    return RULES\n",
        # So does one made only for the type checker: the map is about what a module knows.
        "from typing import TYPE_CHECKING\n\n"
        "if TYPE_CHECKING:\n"
        "    from deckgen.workflow import lint\n",
    ],
    ids=["top-level", "inside-a-function", "for-type-checking"],
)
def test_an_upward_import_breaks_the_contract(copy_of_the_package: Path, planted: str) -> None:
    module = copy_of_the_package / "src" / "deckgen" / "source" / "yamlsource.py"
    module.write_text(module.read_text() + "\n\n" + planted)
    result = _lint_imports(copy_of_the_package)
    assert result.returncode != 0, result.stdout
    assert "Layers import downward only BROKEN" in result.stdout
    assert "deckgen.source.yamlsource -> deckgen.workflow.lint" in result.stdout


def test_a_stage_reaching_for_a_later_stage_breaks_the_pipeline_order(
    copy_of_the_package: Path,
) -> None:
    """The cache stores what the per-file stage makes; it must not need the stage itself (the
    two once imported each other)."""
    module = copy_of_the_package / "src" / "deckgen" / "pipeline" / "cache.py"
    module.write_text(
        module.read_text() + "\n\nfrom deckgen.pipeline.filestage import FileCompiler\n"
    )
    result = _lint_imports(copy_of_the_package)
    assert result.returncode != 0, result.stdout
    assert "The pipeline's stages in order BROKEN" in result.stdout
    assert "deckgen.pipeline.cache -> deckgen.pipeline.filestage" in result.stdout
